"""A small linear intent model: character n-grams, TF-IDF, multinomial logistic regression.

Character n-grams of each word (2 to 5 letters, word edges marked) carry typos, compounds
and inflections that word rules miss ("Rückerstatung", "Sendungsverfolgungsnummer").
Training needs scikit-learn (`pip install 'deskterm[ml]'`) and runs offline; the trained
weights are saved as JSON and applied here in plain Python, so classifying needs no ML
library, loads no pickle, and can say which n-grams decided.

A model remembers SHA-256 fingerprints of the texts it was trained on, so an evaluation on
those same texts is noticed (and cross-validated instead of flattering the model).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import json
import math
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import add
from pathlib import Path

MODEL_VERSION = 2  # 2: vocabulary list and float32 arrays (base64) instead of per-n-gram lists
NGRAM_MIN, NGRAM_MAX = 2, 5
BUNDLED_MODEL = Path(__file__).parent / "data" / "assist" / "intent_model.json"


class ModelError(Exception):
    """A model that cannot be trained or read; one line saying why."""


@lru_cache(maxsize=65536)
def _word_grams(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    length = len(padded)
    return tuple(padded[i:i + n] for n in range(NGRAM_MIN, min(NGRAM_MAX, length) + 1) for i in range(length - n + 1))


def ngrams(text: str) -> list[str]:
    """Character n-grams of every word, padded with a space on each side (" rück", "ück ")."""
    grams: list[str] = []
    for word in text.split():
        grams.extend(_word_grams(word))
    return grams


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class LinearModel:
    """The n-gram vocabulary, each n-gram's idf, and its weights per class pre-multiplied by
    the idf, as float32 arrays (a few MiB in memory, where per-n-gram tuples took 16)."""

    classes: tuple[str, ...]
    vocabulary: dict[str, int]  # n-gram -> row
    idf: array  # float32, one per row
    scaled: array  # float32, rows x classes: weight * idf
    intercepts: tuple[float, ...]
    trained_on: frozenset[str]  # fingerprints of the training texts
    name: str = "model"

    def predict(self, features: Sequence[str]) -> tuple[str, dict[str, float], list[tuple[str, float]]]:
        """(intent, probability per intent, the features that spoke most for it)."""
        vocabulary, idf, scaled = self.vocabulary, self.idf, self.scaled
        width = len(self.classes)
        total = [0.0] * width
        norm_sq = 0.0
        present: list[tuple[str, int, float]] = []
        for gram, count in Counter(features).items():
            row = vocabulary.get(gram)
            if row is None:
                continue
            tf = 1.0 if count == 1 else 1.0 + math.log(count)
            norm_sq += (tf * idf[row]) ** 2
            present.append((gram, row, tf))
            weights = scaled[row * width:(row + 1) * width]
            total = list(map(add, total, weights)) if count == 1 else [a + tf * w for a, w in zip(total, weights)]
        norm = math.sqrt(norm_sq) or 1.0
        logits = [b + t / norm for b, t in zip(self.intercepts, total)]
        top = max(logits)
        exp = [math.exp(v - top) for v in logits]
        sum_exp = sum(exp)
        probabilities = {c: e / sum_exp for c, e in zip(self.classes, exp)}
        best = max(range(width), key=logits.__getitem__)
        strongest = heapq.nlargest(12, ((tf * scaled[row * width + best] / norm, g.strip()) for g, row, tf in present))
        chosen: dict[str, float] = {}
        for weight, gram in strongest:
            if len(chosen) >= 5 or weight <= 0:
                break
            if not any(gram in other for other in chosen):
                chosen[gram] = round(weight, 3)
        return self.classes[best], probabilities, list(chosen.items())

    def was_trained_on(self, text: str) -> bool:
        return fingerprint(text) in self.trained_on

    def to_json(self) -> str:
        grams = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return json.dumps({"version": MODEL_VERSION, "classes": list(self.classes), "intercepts": list(self.intercepts),
                           "vocabulary": grams, "idf": _pack(self.idf), "scaled": _pack(self.scaled),
                           "trained_on": sorted(self.trained_on)}, ensure_ascii=False, separators=(",", ":"))


def _pack(values: array) -> str:
    return base64.b64encode(values.tobytes()).decode("ascii")


def _unpack(text: str, length: int) -> array:
    values = array("f")
    values.frombytes(base64.b64decode(text))
    if len(values) != length:
        raise ValueError(f"expected {length} numbers, found {len(values)}")
    return values


def load_model(path: Path, *, name: str = "model") -> LinearModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the intent model ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != MODEL_VERSION:
        raise ModelError(f"{path}: not an intent model of version {MODEL_VERSION}; train it again")
    try:
        classes = tuple(data["classes"])
        grams = list(data["vocabulary"])
        idf = _unpack(data["idf"], len(grams))
        scaled = _unpack(data["scaled"], len(grams) * len(classes))
        intercepts = tuple(float(v) for v in data["intercepts"])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ModelError(f"{path}: the intent model is damaged ({exc}); train it again") from None
    return LinearModel(classes, {g: i for i, g in enumerate(grams)}, idf, scaled, intercepts,
                       frozenset(data.get("trained_on", ())), name)


def _identity(features: list[str]) -> list[str]:
    return features


def train(features: Sequence[list[str]], labels: Sequence[str], *, raw_texts: Sequence[str],
          name: str = "model") -> LinearModel:
    """Fit the model on each message's features (scikit-learn needed). `raw_texts`: the
    messages as given, remembered by fingerprint so evaluations can tell training data apart."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    except ImportError:
        raise ModelError("training needs scikit-learn: pip install 'deskterm[ml]'") from None
    if len(set(labels)) < 2:
        raise ModelError("training needs examples of at least two intents")
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
    matrix = vectorizer.fit_transform(list(features))
    classifier = LogisticRegression(C=20, max_iter=3000, class_weight="balanced")
    classifier.fit(matrix, list(labels))
    classes = tuple(str(c) for c in classifier.classes_)
    coef = classifier.coef_
    if len(classes) == 2:  # a binary model has one row: class 1 against class 0
        coef = [[-v for v in coef[0]], list(coef[0])]
        intercepts: tuple[float, ...] = (-float(classifier.intercept_[0]), float(classifier.intercept_[0]))
    else:
        intercepts = tuple(float(v) for v in classifier.intercept_)
    grams = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    idf = array("f", (float(vectorizer.idf_[i]) for i in range(len(grams))))
    scaled = array("f", (float(coef[c][i]) * idf[i] for i in range(len(grams)) for c in range(len(classes))))
    remembered = frozenset(fingerprint(t) for t in raw_texts)
    return LinearModel(classes, {g: i for i, g in enumerate(grams)}, idf, scaled, intercepts, remembered, name)
