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

import hashlib
import heapq
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import add
from pathlib import Path

MODEL_VERSION = 1
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
    classes: tuple[str, ...]
    idf: dict[str, float]
    weights: dict[str, tuple[float, ...]]  # n-gram -> one weight per class (only n-grams that matter)
    intercepts: tuple[float, ...]
    trained_on: frozenset[str]  # fingerprints of the training texts
    name: str = "model"

    def predict(self, features: Sequence[str]) -> tuple[str, dict[str, float], list[tuple[str, float]]]:
        """(intent, probability per intent, the features that spoke most for it)."""
        idf, scaled = self.idf, self._scaled
        total = [0.0] * len(self.classes)
        norm_sq = 0.0
        present: list[tuple[str, float]] = []
        for gram, count in Counter(features).items():
            weight = idf.get(gram)
            if weight is None:
                continue
            tf = 1.0 if count == 1 else 1.0 + math.log(count)
            norm_sq += (tf * weight) ** 2
            row = scaled.get(gram)
            if row is not None:
                present.append((gram, tf))
                total = list(map(add, total, row)) if count == 1 else [a + tf * w for a, w in zip(total, row)]
        norm = math.sqrt(norm_sq) or 1.0
        logits = [b + t / norm for b, t in zip(self.intercepts, total)]
        top = max(logits)
        exp = [math.exp(v - top) for v in logits]
        sum_exp = sum(exp)
        probabilities = {c: e / sum_exp for c, e in zip(self.classes, exp)}
        best = max(range(len(self.classes)), key=logits.__getitem__)
        strongest = heapq.nlargest(12, ((tf * scaled[g][best] / norm, g.strip()) for g, tf in present))
        chosen: dict[str, float] = {}
        for weight, gram in strongest:
            if len(chosen) >= 5 or weight <= 0:
                break
            if not any(gram in other for other in chosen):
                chosen[gram] = round(weight, 3)
        return self.classes[best], probabilities, list(chosen.items())

    @cached_property
    def _scaled(self) -> dict[str, tuple[float, ...]]:
        """Each n-gram's weights times its idf: one vector addition per n-gram at prediction."""
        return {g: tuple(self.idf[g] * w for w in row) for g, row in self.weights.items() if g in self.idf}

    def was_trained_on(self, text: str) -> bool:
        return fingerprint(text) in self.trained_on

    def to_json(self) -> str:
        return json.dumps({"version": MODEL_VERSION, "classes": list(self.classes), "intercepts": list(self.intercepts),
                           "idf": self.idf, "weights": {g: list(w) for g, w in self.weights.items()},
                           "trained_on": sorted(self.trained_on)}, ensure_ascii=False, separators=(",", ":"))


def load_model(path: Path, *, name: str = "model") -> LinearModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the intent model ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != MODEL_VERSION:
        raise ModelError(f"{path}: not an intent model of version {MODEL_VERSION}; train it again")
    classes = tuple(data["classes"])
    weights = {g: tuple(w) for g, w in data["weights"].items() if len(w) == len(classes)}
    return LinearModel(classes, dict(data["idf"]), weights, tuple(data["intercepts"]),
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
    vocabulary = vectorizer.vocabulary_
    idf = {g: round(float(vectorizer.idf_[i]), 4) for g, i in vocabulary.items()}
    weights: dict[str, tuple[float, ...]] = {}
    for gram, index in vocabulary.items():
        row = tuple(round(float(coef[c][index]), 3) for c in range(len(classes)))
        if max(abs(v) for v in row) >= 0.05:
            weights[gram] = row
    remembered = frozenset(fingerprint(t) for t in raw_texts)
    return LinearModel(classes, idf, weights, intercepts, remembered, name)
