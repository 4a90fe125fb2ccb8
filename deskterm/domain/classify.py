"""Assisted triage: what a buyer's message asks for, in which language, how urgent, and
whether it needs an answer at all; local, fast and explainable.

The rule classifier weighs the cues of domain/classify_lexicon.py in the buyer's own text
(quoted history removed), adds the data-protection detector of domain/gdpr_requests.py, and
returns the winning intent with the cues that decided it, so the ticket can show *why*.
A model retrained from the seller's own labels (domain/intent_model.py) can replace the
intent decision; language, urgency and needs-answer stay rule-based.

Pure functions, no I/O: the store's assist pass (store/assist.py) and `deskterm assist`
call them. About 0.1–0.5 ms per message (benchmarks/bench_classify.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from collections.abc import Sequence
from typing import Protocol

from deskterm.domain.classify_lexicon import (FUZZY_STOPWORDS, LANGUAGE_WORDS, MIN_SCORE, PHRASES, STEMS,
                                              URGENCY_ANGER, URGENCY_DEADLINE, URGENCY_LABELS, URGENCY_LEGAL)
from deskterm.domain.gdpr_requests import detect_request
from deskterm.domain.intent_model import ngrams
from deskterm.domain.quotes import own_text
from deskterm.domain.triage import INTENTS

MAX_TEXT = 4000  # characters of the buyer's own text that are read (a pasted novel is not slower)

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "’": "'", "`": "'", "´": "'"})
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z][a-z'-]+")


def normalise(text: str) -> str:
    """Lower case, umlauts spelled out, other accents dropped ("où" -> "ou"), whitespace
    collapsed: the form every cue is written in."""
    folded = text.casefold().translate(_UMLAUTS)
    if not folded.isascii():
        folded = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return _SPACES.sub(" ", folded).strip()


@dataclass(frozen=True, slots=True)
class Cue:
    """One piece of evidence: `text` (what was found in the message) spoke for `intent`."""

    intent: str
    text: str
    weight: float


@dataclass(frozen=True, slots=True)
class Classification:
    intent: str
    scores: dict[str, float]  # every intent with evidence, highest first
    cues: tuple[Cue, ...]  # evidence for the winning intent, strongest first
    language: str  # de, en, fr, it, nl, es, pl, tr, or "und" (undetermined)
    language_words: tuple[str, ...]
    urgency: int  # 0 normal, 1 raised, 2 urgent
    urgency_reasons: tuple[str, ...]
    needs_answer: bool
    no_answer_reason: str = ""
    model: str = "rules"
    secondary: str | None = None  # a second request in the same message (mixed intents)
    confidence: float = 0.0  # share of the winning score among all evidence

    @property
    def label(self) -> str:
        return INTENTS.get(self.intent, self.intent)

    def explain(self, limit: int = 4) -> str:
        """One line for the ticket header: why this intent (the strongest cues)."""
        words = ", ".join(dict.fromkeys(cue.text for cue in self.cues[:limit]))
        return f"{self.label} ({words})" if words else self.label


class IntentModel(Protocol):
    """A trained intent model (domain/intent_model.py): scores and the features that decided."""

    @property
    def name(self) -> str: ...

    def predict(self, features: Sequence[str]) -> tuple[str, dict[str, float], list[tuple[str, float]]]: ...


@dataclass(frozen=True, slots=True)
class _Compiled:
    phrases: tuple[tuple[str, re.Pattern[str], float, tuple[str, ...] | None], ...]
    stems: re.Pattern[str]
    stem_weights: dict[str, tuple[tuple[str, float], ...]]
    fuzzy: dict[str, tuple[str, ...]]  # stem or stem-with-one-letter-deleted -> stems
    stem_lengths: tuple[int, ...]
    urgency: tuple[tuple[int, re.Pattern[str], tuple[str, ...] | None], ...] = field(default=())


_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 '-/#:,")


def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Literal pieces one of which any match of `pattern` must contain (None: cannot tell).

    Each top-level alternative contributes its longest run of plain characters outside
    groups, classes and quantifiers; if some alternative has none, None. Lets a pattern be
    skipped with a fast substring test when the text cannot match it.
    """
    alternatives: list[list[str]] = [[]]
    run, depth, i = "", 0, 0

    def close_run() -> None:
        nonlocal run
        if len(run.strip()) >= 2:
            alternatives[-1].append(run)
        run = ""

    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            close_run()
            i += 2
            continue
        if char == "[":
            close_run()
            end = pattern.find("]", i + 2)
            i = end + 1 if end > 0 else len(pattern)
            continue
        if char == "(":
            close_run()
            depth += 1
        elif char == ")":
            close_run()
            depth -= 1
        elif char == "|" and depth == 0:
            close_run()
            alternatives.append([])
        elif char in "?*{":
            run = run[:-1]  # a quantifier makes the character before it optional
            close_run()
            if char == "{":
                end = pattern.find("}", i)
                i = end + 1 if end > 0 else len(pattern)
                continue
        elif char == "+":
            close_run()
        elif depth == 0 and char in _LITERAL:
            run += char
        else:
            close_run()
        i += 1
    close_run()
    if any(not runs for runs in alternatives):
        return None
    return tuple(max(runs, key=len) for runs in alternatives)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _compile() -> _Compiled:
    phrases = tuple((intent, re.compile(pattern), weight, required_literals(pattern))
                    for intent, items in PHRASES.items() for pattern, weight in items)
    stem_weights: dict[str, list[tuple[str, float]]] = {}
    for intent, items in STEMS.items():
        for stem, weight in items:
            stem_weights.setdefault(stem, []).append((intent, weight))
    ordered = sorted(stem_weights, key=len, reverse=True)  # longest first: "rueckerstattung" before "erstatt"
    stems = re.compile("|".join(re.escape(s) for s in ordered))
    fuzzy: dict[str, set[str]] = {}
    for stem in ordered:
        if len(stem) >= 5 and " " not in stem:
            for variant in {stem} | _deletes(stem):
                fuzzy.setdefault(variant, set()).add(stem)
    urgency = tuple((level, re.compile(pattern), required_literals(pattern)) for level, patterns in
                    ((2, URGENCY_LEGAL), (1, URGENCY_ANGER), (1, URGENCY_DEADLINE)) for pattern in patterns)
    return _Compiled(phrases, stems, {k: tuple(v) for k, v in stem_weights.items()},
                     {k: tuple(sorted(v)) for k, v in fuzzy.items()},
                     tuple(sorted({len(s) for s in ordered if len(s) >= 5})), urgency)


_RULES = _compile()


@lru_cache(maxsize=65536)
def _typo_of(token: str) -> str | None:
    """The stem a word starts with, allowing one wrong, missing or extra letter (None: none)."""
    if len(token) < 5 or token in FUZZY_STOPWORDS:
        return None
    for length in _RULES.stem_lengths:
        for size in (length - 1, length, length + 1):
            if size < 4 or size > len(token):
                continue
            prefix = token[:size]
            for candidate in (prefix, *_deletes(prefix)):
                stems = _RULES.fuzzy.get(candidate)
                if stems:
                    for stem in stems:
                        if abs(len(stem) - size) <= 1 and stem != prefix and stem[0] == token[0]:
                            return stem
    return None


def _intent_evidence(text: str) -> dict[str, list[Cue]]:
    found: dict[str, list[Cue]] = {}
    for intent, pattern, weight, needed in _RULES.phrases:
        if needed is not None:
            for piece in needed:
                if piece in text:
                    break
            else:
                continue
        match = pattern.search(text)
        if match:
            found.setdefault(intent, []).append(Cue(intent, match.group(0).strip()[:40], weight))
    exact_spans: list[tuple[int, int]] = []
    seen_stems: set[str] = set()
    for match in _RULES.stems.finditer(text):
        exact_spans.append(match.span())
        stem = match.group(0)
        if stem in seen_stems:
            continue
        seen_stems.add(stem)
        for intent, weight in _RULES.stem_weights[stem]:
            found.setdefault(intent, []).append(Cue(intent, stem, weight))
    for word in _WORD.finditer(text):
        if any(start < word.end() and word.start() < end for start, end in exact_spans):
            continue
        typo = _typo_of(word.group(0))
        if typo is None or typo in seen_stems:
            continue
        seen_stems.add(typo)
        for intent, weight in _RULES.stem_weights[typo]:
            found.setdefault(intent, []).append(Cue(intent, f"{word.group(0)} (~{typo})", weight * 0.8))
    return found


def detect_language(text: str) -> tuple[str, tuple[str, ...]]:
    """The language with the most of its common words in `text` (normalised), and those words."""
    words = _WORD.findall(text)
    best, best_words = "und", ()
    for language, common in LANGUAGE_WORDS.items():
        hits = tuple(dict.fromkeys(w for w in words if w in common))
        if len(hits) > len(best_words):
            best, best_words = language, hits
    return best, best_words[:5]


def _urgency(text: str, raw: str) -> tuple[int, tuple[str, ...]]:
    level, reasons = 0, []
    signals = 0
    for weight, pattern, needed in _RULES.urgency:
        if needed is not None and not any(piece in text for piece in needed):
            continue
        match = pattern.search(text)
        if match:
            signals += 1
            level = max(level, weight)
            reasons.append(match.group(0))
    shouting = [w for w in re.findall(r"\b[A-ZÄÖÜ]{5,}\b", raw) if w not in ("DSGVO", "GDPR", "DHL", "PLZ", "ASAP")]
    if shouting:
        signals += 1
        level = max(level, 1)
        reasons.append(shouting[0])
    if signals >= 2:
        level = 2
    return level, tuple(reasons[:4])


_THANKS_ONLY = re.compile(r"\b(?:danke|dank|thanks?|thank you|erledigt|alles (?:klar|bestens)|super|top|perfe[ck]t|"
                          r"gerne wieder|got it)\b")


RULE_FEATURE = "§"  # prefix of the rule features a trained model sees beside the n-grams


def model_features(normal: str, scores: dict[str, float]) -> list[str]:
    """What a trained model reads: the character n-grams of the normalised text and the
    rules' verdicts (one "§intent" per point of rule score), so it learns when to trust them."""
    features = ngrams(normal)
    for intent, score in scores.items():
        if score > 0:
            features.extend([RULE_FEATURE + intent] * max(1, round(score)))
    return features


def analyse(text: str, subject: str = "") -> tuple[str, str, dict[str, list[Cue]]]:
    """(the buyer's own text, its normalised form, the rules' evidence per intent)."""
    own = own_text(text)[:MAX_TEXT]
    normal = normalise(f"{subject}\n{own}" if subject else own)
    evidence = _intent_evidence(normal)
    request = detect_request(own)
    if request is not None:
        evidence.setdefault("gdpr", []).append(Cue("gdpr", request.phrase.strip()[:40], 6.0))
    return own, normal, evidence


def classify(text: str, subject: str = "", *, model: IntentModel | None = None) -> Classification:
    """Classify one buyer message (its subject helps). With a trained `model` the model
    decides the intent from n-grams and the rules' verdicts; the cues shown are the rules'
    words for that intent, or (when the rules found none) the n-grams that weighed most. Language, urgency and
    needs-answer are always the rules'."""
    own, normal, evidence = analyse(text, subject)
    scores = {intent: round(sum(c.weight for c in cues), 2) for intent, cues in evidence.items()}
    ranked = sorted(((s, i) for i, s in scores.items() if s > 0 and i != "other"), reverse=True)
    intent = ranked[0][1] if ranked and ranked[0][0] >= MIN_SCORE else "other"
    if intent != "other" and scores.get("other", 0) > ranked[0][0]:
        intent = "other"
    model_name = "rules"
    cues = tuple(sorted(evidence.get(intent, ()), key=lambda c: -c.weight))
    if model is not None:
        intent, probabilities, features = model.predict(model_features(normal, scores))
        scores = {k: round(v, 3) for k, v in sorted(probabilities.items(), key=lambda kv: -kv[1]) if v >= 0.01}
        words = tuple(sorted((c for c in evidence.get(intent, ()) if c.weight > 0), key=lambda c: -c.weight))
        grams = tuple(Cue(intent, f"„{f}“", round(w, 2)) for f, w in features if not f.startswith(RULE_FEATURE))
        cues = words or grams[:4]  # words a person can read; the n-grams only when the rules had none
        model_name = model.name
        ranked = sorted(((s, i) for i, s in scores.items() if i != "other"), reverse=True)
    threshold = 3.0 if model_name == "rules" else 0.25
    secondary = next((i for s, i in ranked if i != intent and s >= threshold), None)
    positive = sum(s for s in scores.values() if s > 0)
    confidence = round(scores.get(intent, 0) / positive, 2) if positive else 0.0
    language, language_words = detect_language(normal)
    urgency, reasons = _urgency(normal, own)
    needs_answer, why_not = True, ""
    if intent == "auto_reply":
        needs_answer, why_not = False, "Automatische Nachricht oder Werbung"
    elif intent == "other" and _THANKS_ONLY.search(normal) and "?" not in own and len(own) < 300:
        needs_answer, why_not = False, "Dankesnachricht, keine Frage"
    ordered = dict(sorted(scores.items(), key=lambda kv: -kv[1]))
    return Classification(intent, ordered, cues, language, language_words, urgency, reasons, needs_answer, why_not,
                          model_name, secondary, confidence)


__all__ = ["Classification", "Cue", "IntentModel", "URGENCY_LABELS", "analyse", "classify", "detect_language",
           "model_features", "normalise"]
