"""Assisted triage speed on a big store (issue 10 figure: 10,000 messages in <= 10 s).

    python benchmarks/bench_classify.py benchmarks/data/w1m.sqlite3 > benchmarks/classify-<date>.json

Measures, on the newest 10,000 buyer messages of the store (subject + text, as the assist
pass reads them):
  rules     classify() with the rules alone
  model     classify() with the bundled model (what a fresh install runs), 3 runs, in a
            fresh process state each time is not attempted: the caches (word n-grams,
            typo lookups) warm up within the run, as they do in the sync worker
  pass      the assist pass itself on a copy of a 10k-ticket slice: run_assist over 10,000
            queued tickets (classify + store the result + route + drafts), one transaction
            per ticket, on a temporary copy of W10k
Also the model's load time. Medians of 3 runs in seconds.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deskterm.domain.classify import classify  # noqa: E402
from deskterm.domain.intent_model import BUNDLED_MODEL, load_model  # noqa: E402
from deskterm.store.db import Store  # noqa: E402

MESSAGES = 10_000


def _runs(work, runs: int = 3) -> dict[str, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(samples), 2), "max_s": round(max(samples), 2),
            "per_message_ms": round(statistics.median(samples) * 1000 / MESSAGES, 3)}


def main() -> None:
    path = Path(sys.argv[1])
    with Store.open(path, create=False) as store:
        rows = store.conn.execute("SELECT subject, body_text FROM messages WHERE direction = 'in' "
                                  "ORDER BY id DESC LIMIT ?", (MESSAGES,)).fetchall()
    assert len(rows) == MESSAGES, f"the store has only {len(rows)} buyer messages"
    started = time.perf_counter()
    model = load_model(BUNDLED_MODEL)
    load_s = time.perf_counter() - started
    result: dict[str, object] = {
        "store": str(path), "messages": len(rows), "mean_chars": round(sum(len(b) for _, b in rows) / len(rows), 1),
        "model_load_s": round(load_s, 3),
        "rules": _runs(lambda: [classify(body, subject) for subject, body in rows]),
        "model": _runs(lambda: [classify(body, subject, model=model) for subject, body in rows]),
    }
    result["assist_pass"] = _pass_on_copy(path)
    print(json.dumps(result, indent=2))


def _pass_on_copy(path: Path) -> dict[str, object]:
    """run_assist over 10,000 queued tickets on a temporary copy (the store is not changed)."""
    from deskterm.assist_setup import assist_context
    from deskterm.config import Config

    folder = Path(tempfile.mkdtemp())
    try:
        copy = folder / "copy.sqlite3"
        source = path.with_name("w10k.sqlite3") if path.with_name("w10k.sqlite3").exists() else path
        shutil.copy(source, copy)
        with Store.open(copy, create=False) as store:
            with store.transaction() as conn:
                conn.execute("DELETE FROM assist_queue")
                conn.execute("DELETE FROM ticket_assist")  # as if never assisted (an app session may have)
                conn.execute("DELETE FROM drafts")
                conn.execute("INSERT INTO assist_queue(ticket_id) SELECT id FROM tickets ORDER BY id DESC LIMIT ?",
                             (MESSAGES,))
                queued = conn.execute("SELECT count(*) FROM assist_queue").fetchone()[0]
            context = assist_context(Config(), None)
            from deskterm.store.assist import run_assist

            started = time.perf_counter()
            totals = {"classified": 0, "drafted": 0}
            while True:
                done = run_assist(store, context, now=int(time.time()), limit=1000)
                totals["classified"] += done.classified
                totals["drafted"] += done.drafted
                if not done.remaining or not done.classified:
                    break
            elapsed = time.perf_counter() - started
        return {"store": str(source), "tickets": queued, **totals, "seconds": round(elapsed, 2),
                "per_ticket_ms": round(elapsed * 1000 / max(1, totals["classified"]), 3)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
