"""Measuring the classifier on a labelled set: precision, recall and F1 per intent.

A labelled set is JSON Lines, one message per line:

    {"text": "...", "intent": "return", "language": "de", "needs_answer": true, "urgent": false}

Only `text` and `intent` are required; `subject` is optional. The bundled set
(data/assist/labelled.jsonl, 356 messages written by hand independently of the demo
generator) is used when no file is given.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deskterm.domain.classify import Classification, analyse, classify, model_features
from deskterm.domain.intent_model import LinearModel, fingerprint, train
from deskterm.domain.triage import INTENTS

BUNDLED_SET = Path(__file__).parent / "data" / "assist" / "labelled.jsonl"
# Written after the rules were frozen (holdout: after the first round, holdout2: after the
# second); the bundled model is trained on labelled + holdout, holdout2 stays unseen.
HOLDOUT_SETS = (Path(__file__).parent / "data" / "assist" / "holdout.jsonl",
                Path(__file__).parent / "data" / "assist" / "holdout2.jsonl")


class LabelledSetError(ValueError):
    """A labelled set that cannot be read; one line naming the file and line."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    subject: str = ""
    language: str | None = None
    needs_answer: bool | None = None
    urgent: bool | None = None


def load_examples(path: Path) -> list[Example]:
    examples: list[Example] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelledSetError(f"{path}: cannot read ({exc})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelledSetError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str) or data.get("intent") not in INTENTS:
            raise LabelledSetError(f"{path}:{number}: needs \"text\" and an \"intent\" of: {', '.join(INTENTS)}")
        examples.append(Example(data["text"], data["intent"], str(data.get("subject", "")), data.get("language"),
                                data.get("needs_answer"), data.get("urgent")))
    if not examples:
        raise LabelledSetError(f"{path}: no examples")
    return examples


@dataclass(frozen=True, slots=True)
class IntentScore:
    intent: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass(slots=True)
class EvalReport:
    examples: int
    per_intent: list[IntentScore]
    macro_f1: float
    accuracy: float
    language_accuracy: float | None
    needs_answer_accuracy: float | None
    urgent_precision: float | None
    urgent_recall: float | None
    mistakes: list[tuple[Example, Classification]] = field(default_factory=list)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def recall_of(self, intent: str) -> float:
        return next((s.recall for s in self.per_intent if s.intent == intent), 0.0)

    def as_json(self) -> dict[str, object]:
        return {
            "examples": self.examples, "macro_f1": self.macro_f1, "accuracy": self.accuracy,
            "language_accuracy": self.language_accuracy, "needs_answer_accuracy": self.needs_answer_accuracy,
            "urgent_precision": self.urgent_precision, "urgent_recall": self.urgent_recall,
            "per_intent": {s.intent: {"support": s.support, "precision": s.precision, "recall": s.recall, "f1": s.f1}
                           for s in self.per_intent},
            "confusions": [{"expected": e, "predicted": p, "count": n} for (e, p), n in self.confusions.most_common()],
        }


def _ratio(a: int, b: int) -> float:
    return round(a / b, 3) if b else 0.0


def evaluate(examples: Iterable[Example], *, classifier: Callable[[str, str], Classification] | None = None,
             results: dict[int, Classification] | None = None) -> EvalReport:
    """Score a classifier on examples (`results`: classifications already made, by example id)."""
    run = classifier or (lambda text, subject: classify(text, subject))
    pairs = [(example, results[id(example)] if results is not None else run(example.text, example.subject))
             for example in examples]
    true_pos: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    report = EvalReport(len(pairs), [], 0.0, 0.0, None, None, None, None)
    language_hits = language_total = answer_hits = answer_total = 0
    urgent_tp = urgent_pred = urgent_true = 0
    for example, result in pairs:
        actual[example.intent] += 1
        predicted[result.intent] += 1
        if result.intent == example.intent:
            true_pos[example.intent] += 1
        else:
            report.mistakes.append((example, result))
            report.confusions[(example.intent, result.intent)] += 1
        if example.language is not None:
            language_total += 1
            language_hits += result.language == example.language
        if example.needs_answer is not None:
            answer_total += 1
            answer_hits += result.needs_answer == example.needs_answer
        if example.urgent is not None:
            urgent_true += example.urgent
            urgent_pred += result.urgency > 0
            urgent_tp += example.urgent and result.urgency > 0
    scores = []
    for intent in INTENTS:
        if not actual[intent] and not predicted[intent]:
            continue
        precision = _ratio(true_pos[intent], predicted[intent])
        recall = _ratio(true_pos[intent], actual[intent])
        f1 = round(2 * precision * recall / (precision + recall), 3) if precision + recall else 0.0
        scores.append(IntentScore(intent, actual[intent], precision, recall, f1))
    report.per_intent = scores
    labelled = [s for s in scores if s.support]
    report.macro_f1 = round(sum(s.f1 for s in labelled) / len(labelled), 3) if labelled else 0.0
    report.accuracy = _ratio(sum(true_pos.values()), len(pairs))
    report.language_accuracy = _ratio(language_hits, language_total) if language_total else None
    report.needs_answer_accuracy = _ratio(answer_hits, answer_total) if answer_total else None
    if urgent_true or urgent_pred:
        report.urgent_precision = _ratio(urgent_tp, urgent_pred)
        report.urgent_recall = _ratio(urgent_tp, urgent_true)
    return report


# -- training and honest measurement of trained models ------------------------------------


def example_features(text: str, subject: str = "") -> list[str]:
    """The features a trained model reads for one message (see classify.model_features)."""
    _own, normal, evidence = analyse(text, subject)
    scores = {intent: sum(c.weight for c in cues) for intent, cues in evidence.items()}
    return model_features(normal, scores)


def train_on(examples: Sequence[Example], *, name: str = "model") -> LinearModel:
    """Train an intent model on labelled examples (scikit-learn needed)."""
    return train([example_features(e.text, e.subject) for e in examples], [e.intent for e in examples],
                 raw_texts=[e.text for e in examples], name=name)


def cross_validate(examples: Sequence[Example], *, folds: int = 5) -> EvalReport:
    """Train on all folds but one, classify the held-out fold, for every fold: the honest
    figure for a model on the very set it would be trained on. Folds are fixed (by text
    fingerprint within each intent), so a run can be repeated."""
    ordered = sorted(examples, key=lambda e: (e.intent, fingerprint(e.text)))
    fold_of = {id(e): i % folds for i, e in enumerate(ordered)}
    results: dict[int, Classification] = {}
    for fold in range(folds):
        training = [e for e in ordered if fold_of[id(e)] != fold]
        model = train_on(training, name=f"cv{fold}")
        for example in ordered:
            if fold_of[id(example)] == fold:
                results[id(example)] = classify(example.text, example.subject, model=model)
    return evaluate(ordered, classifier=None, results=results)
