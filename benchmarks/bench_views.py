"""Views, the search language and triage on a big store (issue 6 figures).

    python benchmarks/bench_views.py benchmarks/data/w1m.sqlite3

Measures, 20 runs each (median / p95), on the store as it is (a copy is not needed: the
triage actions are undone at the end):
  view switch     each built-in view: its row provider and the first screen of 45 rows
                  (cold block cache) - what pressing 1..6 costs on the event loop; the
                  search-backed views (Meine, Zurückgestellt) are parse + run_query + the
                  first screen, which the app does in a worker
  query           parse_query + run_query for typical searches, `channel:amazon due:<4h`
                  first (the issue's figure), each with its result count: as `/` runs them
                  (newest 500) and as marking by query (`T`) and saved views do (up to 5,000)
  triage          resolve 200 tickets selected by a query, then undo (one transaction each)
  report          `deskterm report` for 7 / 30 / 90 days (once each)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import timed  # noqa: E402

from deskterm.domain.query import parse_query  # noqa: E402
from deskterm.domain.views import BUILTIN_VIEWS  # noqa: E402
from deskterm.store.db import Store  # noqa: E402
from deskterm.store.query import RESULT_LIMIT, SEARCH_LIMIT, run_query  # noqa: E402
from deskterm.widgets.rows import DueRows, IdRows, InboxRows, QueueRows  # noqa: E402

QUERIES = (
    "channel:amazon due:<4h",
    "is:overdue",
    "channel:ebay,kaufland is:unread -status:resolved",
    "paket",
    "paket channel:amazon due:<1d",
    "from:müller",
    "order:302*",
    "-status:resolved -tag:vip sort:due",
)


def first_screen(rows) -> None:  # type: ignore[no-untyped-def]
    for index in range(min(45, rows.total)):
        rows.get(index)


def main() -> None:
    path = Path(sys.argv[1])
    with Store.open(path, create=False) as store:
        conn = store.conn
        now = int(time.time())
        result: dict[str, object] = {"store": str(path),
                                     "tickets": conn.execute("SELECT count(*) FROM tickets").fetchone()[0],
                                     "messages": conn.execute("SELECT max(id) FROM messages").fetchone()[0]}
        providers = {"inbox": lambda: QueueRows(conn), "due": lambda: DueRows(conn), "all": lambda: InboxRows(conn),
                     "resolved": lambda: InboxRows(conn, status="resolved")}
        from deskterm.store import triage

        # Give "Meine" and "Zurückgestellt" something to show: 2,000 tickets assigned to the
        # benchmark's agent, 500 snoozed (both undone at the end).
        some = [r[0] for r in conn.execute("SELECT id FROM tickets WHERE status = 'open' ORDER BY id LIMIT 2000")]
        with store.transaction() as tx:
            triage.assign(tx, some, "bench", agent="bench", now=now)
            triage.set_status(tx, some[::4], "snoozed", agent="bench", now=now, snoozed_until=now + 86400)
        views = {}
        for view in BUILTIN_VIEWS:
            if view.provider:
                views[view.name] = timed(lambda v=view: first_screen(providers[v.provider]()))
            else:
                views[view.name] = timed(lambda v=view: first_screen(IdRows(conn, run_query(
                    conn, parse_query(v.query, now=now, agent="bench"), now=now, agent="bench").ticket_ids)))
        result["view_switch"] = views
        result["view_sizes"] = {"Meine": len(some), "Zurückgestellt": len(some[::4])}
        for name, limit in (("query", SEARCH_LIMIT), ("query_all", RESULT_LIMIT)):
            queries = {}
            for text in QUERIES:
                found = run_query(conn, parse_query(text, now=now), now=now, limit=limit)
                queries[text] = {**timed(lambda t=text: run_query(conn, parse_query(t, now=now), now=now, limit=limit)),
                                 "results": len(found.ticket_ids), "more": found.more}
            result[name] = queries

        ids = run_query(conn, parse_query("channel:amazon is:overdue", now=now), now=now, limit=200).ticket_ids
        start = time.perf_counter()
        with store.transaction() as tx:
            triage.set_status(tx, ids, "resolved", agent="bench", now=now)
        resolved = time.perf_counter() - start
        start = time.perf_counter()
        with store.transaction() as tx:
            triage.undo_last(tx, agent="bench", now=now)
        undone = time.perf_counter() - start
        result["triage_200"] = {"resolve_ms": round(resolved * 1000, 1), "undo_ms": round(undone * 1000, 1)}
        with store.transaction() as tx:  # the snooze, then the assignment
            triage.undo_last(tx, agent="bench", now=now)
            triage.undo_last(tx, agent="bench", now=now)

        from deskterm.store.reports import build_report

        reports = {}
        for days in (7, 30, 90):
            start = time.perf_counter()
            build_report(conn, now=now, days=days)
            reports[f"{days}_days_s"] = round(time.perf_counter() - start, 2)
        result["report"] = reports
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
