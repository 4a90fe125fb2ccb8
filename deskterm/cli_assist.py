"""`deskterm assist`: classify, evaluate, train, run the assist pass, draft, suggest.

Everything the ticket screen's assist shows can be had here too (explanations, drafts,
suggestions from past replies, an LLM draft), for scripts and for checking quality.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from deskterm.cli_args import action_parser
from deskterm.config import Config, current_agent
from deskterm.domain.sanitize import clean_line, clean_text
from deskterm.domain.triage import INTENTS

if TYPE_CHECKING:
    from deskterm.domain.classify import Classification
    from deskterm.domain.intent_model import LinearModel

HELP = """examples:
  deskterm assist eval                      # the bundled labelled sets (cross-validated for the model)
  deskterm assist eval --set mine.jsonl --mistakes
  deskterm assist eval --train labelled.jsonl --set holdout.jsonl   # train on one file, test on another
  deskterm assist classify "Wo bleibt mein Paket?"
  deskterm assist classify --ticket 42
  deskterm assist train                     # learn from the intents your agents set (plus the bundled sets)
  deskterm assist run                       # classify/route/draft whatever is queued (sync does this)
  deskterm assist draft --ticket 42         # the draft from order data; --llm asks the configured LLM
  deskterm assist suggest --ticket 42       # similar answered tickets and their replies"""


class AssistCliError(Exception):
    """One line for the user."""


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    assist = sub.add_parser("assist", help="assisted triage: classify, evaluate, train, draft, suggest",
                            formatter_class=argparse.RawDescriptionHelpFormatter, epilog=HELP)
    actions = assist.add_subparsers(dest="assist_command", metavar="ACTION", required=True)
    evaluate = action_parser(actions, "eval", help="precision, recall and F1 per intent on a labelled set")
    evaluate.add_argument("--set", dest="sets", action="append", type=Path, default=None,
                          help="JSON Lines {text, intent[, language, needs_answer, urgent]} (repeatable; default: "
                               "the bundled sets)")
    evaluate.add_argument("--train", dest="train", action="append", type=Path, default=None,
                          help="train a model on these files first and evaluate that model (needs scikit-learn)")
    evaluate.add_argument("--rules", action="store_true", help="the rules alone, without any model")
    evaluate.add_argument("--folds", type=int, default=5, help="cross-validation folds when the model was trained "
                                                               "on the evaluated messages (default 5)")
    evaluate.add_argument("--mistakes", action="store_true", help="list every misclassified message")
    evaluate.add_argument("--json", action="store_true")
    classify = action_parser(actions, "classify", help="classify a text (or '-' for stdin) or a ticket, and say why")
    classify.add_argument("text", nargs="?", default=None)
    classify.add_argument("--ticket", type=int, default=None)
    classify.add_argument("--json", action="store_true")
    train = action_parser(actions, "train", help="train an intent model on the intents agents set (needs "
                                                 "scikit-learn: pip install 'deskterm[ml]')")
    train.add_argument("--set", dest="sets", action="append", type=Path, default=None,
                       help="also learn from these labelled files")
    train.add_argument("--no-bundled", action="store_true", help="leave out the bundled labelled sets")
    train.add_argument("--no-store", action="store_true", help="leave out the profile's labelled tickets")
    train.add_argument("--out", type=Path, default=None, help="where to write the model (default: beside the "
                                                              "profile's store, where the assist picks it up)")
    train.add_argument("--reset", action="store_true", help="delete the profile's own model (the bundled one "
                                                            "is used again)")
    action_parser(actions, "run", help="classify, route and draft the tickets waiting for it (sync does this too)")
    draft = action_parser(actions, "draft", help="the assist's draft for a ticket (from order data), or --llm")
    draft.add_argument("--ticket", type=int, required=True)
    draft.add_argument("--llm", action="store_true", help="ask the configured LLM (names, addresses, order "
                                                          "numbers replaced by placeholders first)")
    draft.add_argument("--save", action="store_true", help="keep it as the ticket's reply draft")
    suggest = action_parser(actions, "suggest", help="answered tickets most like this one, with their replies")
    suggest.add_argument("--ticket", type=int, required=True)
    suggest.add_argument("--limit", type=int, default=3)


def run(args: argparse.Namespace, config: Config, store_path: Path | None) -> int:
    command = args.assist_command
    if command == "eval":
        return _eval(args, store_path)
    if command == "classify" and args.ticket is None:
        return _classify_text(args, store_path)
    if command == "train":
        return _train(args, store_path)
    if store_path is None:
        raise AssistCliError("no profile: run 'deskterm demo' or pass --profile NAME")
    if command == "classify":
        return _classify_ticket(args, store_path)
    if command == "run":
        return _run(config, store_path)
    if command == "draft":
        return _draft(args, config, store_path)
    return _suggest(args, config, store_path)


def _model(store_path: Path | None, rules_only: bool = False) -> LinearModel | None:
    from deskterm.store.assist import active_model

    return None if rules_only else active_model(store_path)


def _print_classification(found: Classification, as_json: bool) -> None:
    from deskterm.domain.classify import URGENCY_LABELS
    from deskterm.domain.classify_lexicon import LANGUAGE_NAMES

    if as_json:
        print(json.dumps({"intent": found.intent, "secondary": found.secondary, "language": found.language,
                          "urgency": found.urgency, "needs_answer": found.needs_answer, "model": found.model,
                          "confidence": found.confidence, "scores": found.scores,
                          "cues": [[c.text, c.weight] for c in found.cues],
                          "urgency_reasons": list(found.urgency_reasons)}, ensure_ascii=False))
        return
    print(f"Anliegen:     {found.label}" + (f" (auch: {INTENTS[found.secondary]})" if found.secondary else ""))
    print(f"  weil:       {clean_line(', '.join(f'{c.text} ({c.weight:+g})' for c in found.cues[:6])) or '-'}")
    print(f"  entschieden von: {'Regeln' if found.model == 'rules' else found.model}, Sicherheit {found.confidence:.0%}")
    print(f"Sprache:      {LANGUAGE_NAMES.get(found.language, found.language)}"
          + (f" ({clean_line(', '.join(found.language_words))})" if found.language_words else ""))
    print(f"Dringlichkeit: {URGENCY_LABELS[found.urgency]}"
          + (f" ({clean_line(', '.join(found.urgency_reasons))})" if found.urgency_reasons else ""))
    print(f"Antwort nötig: {'ja' if found.needs_answer else 'nein: ' + found.no_answer_reason}")


def _classify_text(args: argparse.Namespace, store_path: Path | None) -> int:
    from deskterm.domain.classify import classify

    text = sys.stdin.read() if args.text in (None, "-") else args.text
    if not text.strip():
        raise AssistCliError("nothing to classify: give a text, '-' for stdin, or --ticket N")
    _print_classification(classify(text, model=_model(store_path)), args.json)
    return 0


def _classify_ticket(args: argparse.Namespace, store_path: Path) -> int:
    from deskterm.store.assist import classify_ticket
    from deskterm.store.db import Store

    with Store.open(store_path, create=False) as store:
        found = classify_ticket(store.conn, args.ticket, _model(store_path))
    if found is None:
        raise AssistCliError(f"ticket {args.ticket} has no buyer message (or does not exist)")
    _print_classification(found, args.json)
    return 0


def _eval(args: argparse.Namespace, store_path: Path | None) -> int:
    from deskterm.domain.assist_eval import (BUNDLED_SET, HOLDOUT_SETS, cross_validate, evaluate, load_examples,
                                             train_on)
    from deskterm.domain.classify import classify
    from deskterm.domain.intent_model import ModelError

    paths = args.sets or [BUNDLED_SET, *HOLDOUT_SETS]
    examples = [e for path in paths for e in load_examples(path)]
    method: str
    model: LinearModel | None
    if args.train:
        training = [e for path in args.train for e in load_examples(path)]
        trained = model = train_on(training, name="trainiert")
        overlap = sum(trained.was_trained_on(e.text) for e in examples)
        report = evaluate(examples, classifier=lambda text, subject: classify(text, subject, model=trained))
        method = f"model trained on {len(training)} messages from {', '.join(p.name for p in args.train)}" + (
            f" (WARNING: {overlap} evaluated messages were in the training data)" if overlap else "")
    else:
        model = _model(store_path, args.rules)
        overlap = sum(model.was_trained_on(e.text) for e in examples) if model is not None else 0
        if model is None:
            report = evaluate(examples)
            method = "rules only"
        elif overlap:
            try:
                report = cross_validate(examples, folds=max(2, args.folds))
                method = (f"{args.folds}-fold cross-validation: the active model ({model.name}) was trained on "
                          f"{overlap} of these messages, so each fold is classified by a model trained without it")
            except ModelError as exc:
                report = evaluate(examples)
                method = f"rules only ({exc}; the model was trained on these messages, its own figures would flatter it)"
        else:
            report = evaluate(examples, classifier=lambda text, subject: classify(text, subject, model=model))
            method = f"active model ({model.name}), none of these messages in its training data"
    if args.json:
        print(json.dumps({"method": method, "sets": [str(p) for p in paths], **report.as_json()}, ensure_ascii=False,
                         indent=2))
        return 0
    print(f"{report.examples} messages from {', '.join(p.name for p in paths)}; {method}")
    print(f"{'Anliegen':<22}{'n':>5}{'Präzision':>11}{'Recall':>8}{'F1':>7}")
    for score in report.per_intent:
        print(f"{score.intent:<22}{score.support:>5}{score.precision:>11.3f}{score.recall:>8.3f}{score.f1:>7.3f}")
    print(f"macro-F1 {report.macro_f1:.3f}   accuracy {report.accuracy:.3f}")
    extras = [f"language {report.language_accuracy:.3f}" if report.language_accuracy is not None else "",
              f"needs-answer {report.needs_answer_accuracy:.3f}" if report.needs_answer_accuracy is not None else "",
              f"urgent precision {report.urgent_precision:.3f} recall {report.urgent_recall:.3f}"
              if report.urgent_precision is not None and report.urgent_recall is not None else ""]
    print("   ".join(e for e in extras if e))
    if report.confusions:
        print("most confused: " + ", ".join(f"{e}→{p} {n}" for (e, p), n in report.confusions.most_common(5)))
    if args.mistakes:
        for example, found in report.mistakes:
            print(f"- {example.intent} → {found.intent}: {clean_line(example.text)[:120]}")
    return 0


def _train(args: argparse.Namespace, store_path: Path | None) -> int:
    from deskterm.domain.assist_eval import BUNDLED_SET, HOLDOUT_SETS, Example, load_examples, train_on
    from deskterm.store.assist import labelled_history, model_path_for
    from deskterm.store.db import Store

    if store_path is None and not (args.no_store and args.out):
        raise AssistCliError("no profile: pass --profile NAME, or --no-store with --out FILE")
    out = args.out or model_path_for(store_path)  # type: ignore[arg-type]
    if args.reset:
        existed = out.exists()
        out.unlink(missing_ok=True)
        print(f"removed {out}" if existed else "no own model to remove")
        return 0
    examples: list[Example] = []
    own = 0
    if not args.no_store and store_path is not None:
        with Store.open(store_path, create=False) as store:
            history = labelled_history(store.conn)
        own = len(history)
        examples.extend(Example(text, intent, subject) for subject, text, intent in history)
    if not args.no_bundled:
        examples.extend(e for path in (BUNDLED_SET, *HOLDOUT_SETS) for e in load_examples(path))
    for path in args.sets or ():
        examples.extend(load_examples(path))
    if len({e.intent for e in examples}) < 2:
        raise AssistCliError("not enough labelled messages: label tickets with 'deskterm triage intent' or the "
                             "ticket screen's 'i', or give --set FILE")
    started = time.perf_counter()
    model = train_on(examples, name="eigenes Modell")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(".tmp")
    temporary.write_text(model.to_json(), encoding="utf-8")
    temporary.replace(out)
    print(f"trained on {len(examples)} messages ({own} labelled by your agents) in "
          f"{time.perf_counter() - started:.1f} s; saved {out}")
    print("check it with 'deskterm assist eval' (cross-validated) and on a set of your own with --set")
    return 0


def _run(config: Config, store_path: Path) -> int:
    from deskterm.assist_setup import assist_after_sync, assist_context

    result = assist_after_sync(store_path, assist_context(config, store_path), budget_seconds=3600)
    print(f"{result.classified} classified, {result.routed} routed, {result.drafted} drafts, "
          f"{result.auto_sent} automatic replies, {result.remaining} still queued")
    for error in result.errors[:10]:
        print(f"error: {clean_line(error)}", file=sys.stderr)
    return 1 if result.errors else 0


def _draft(args: argparse.Namespace, config: Config, store_path: Path) -> int:
    from deskterm.assist_setup import assist_context
    from deskterm.sources.llm import llm_draft
    from deskterm.store.assist_drafts import template_draft
    from deskterm.store.db import Store
    from deskterm.store.replies import save_draft

    context = assist_context(config, store_path)
    with Store.open(store_path, create=False) as store:
        if args.llm:
            draft = llm_draft(store.conn, args.ticket, config.assist.llm, agent=current_agent(config),
                              shop=config.reply.shop_name)
        else:
            draft = template_draft(store.conn, args.ticket, context)
        print(clean_text(draft.text))
        for note in draft.notes:
            print(f"({clean_line(note)})", file=sys.stderr)
        if args.save:
            with store.transaction() as conn:
                save_draft(conn, args.ticket, "reply", draft.text, now=int(time.time()))
            print("saved as the ticket's reply draft ('r' on the ticket opens it)", file=sys.stderr)
    return 0


def _suggest(args: argparse.Namespace, config: Config, store_path: Path) -> int:
    from deskterm.store.db import Store
    from deskterm.store.suggestions import similar_answers

    with Store.open(store_path, create=False) as store:
        found = similar_answers(store.conn, args.ticket, limit=args.limit, agent=current_agent(config),
                                shop=config.reply.shop_name)
    if not found:
        print("no similar answered tickets found")
        return 0
    for suggestion in found:
        print(f"--- ticket {suggestion.ticket_id} (score {suggestion.score:.1f}): "
              f"{clean_line(suggestion.question)[:100]}")
        print(clean_text(suggestion.adapted))
    return 0
