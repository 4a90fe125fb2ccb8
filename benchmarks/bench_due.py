"""The "due" view and the countdown tick on a big store (issue 6 figures).

    python benchmarks/bench_due.py benchmarks/data/w1m.sqlite3

Measures, 20 runs each (median / p95):
  due view switch   DueRows(conn) and its first screen of rows (cold block cache)
  due counts        the header's overdue / due-within-4-h counts
  tick              repainting the 45 visible lines of the ticket list (what the
                    once-a-minute countdown timer triggers), in a headless app
  recompute         all stored deadlines after an SLA config change (once)
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import timed  # noqa: E402

from deskterm.store.db import Store  # noqa: E402
from deskterm.store.inbox import due_counts  # noqa: E402
from deskterm.widgets.rows import DueRows  # noqa: E402


async def tick_cost(path: Path) -> dict[str, float]:
    from deskterm.cli import build_app
    from deskterm.config import Config
    from deskterm.paths import locations

    app = build_app(store=Store.open(path, create=False), profile="bench", config=Config(), where=locations(),
                    poll_seconds=3600)
    async with app.run_test(size=(160, 48)) as pilot:
        while app.inbox is None:
            await pilot.pause(0.05)
        await pilot.press("f")
        await pilot.pause(0.2)
        ticket_list = app.inbox.ticket_list
        height = ticket_list.size.height
        return timed(lambda: [ticket_list.render_line(y) for y in range(height)])


def main() -> None:
    path = Path(sys.argv[1])
    with Store.open(path, create=False) as store:
        conn = store.conn
        now = int(time.time())
        total = conn.execute("SELECT count(*) FROM tickets WHERE sla_due_at IS NOT NULL").fetchone()[0]

        def switch() -> None:
            rows = DueRows(conn)
            for index in range(min(45, rows.total)):
                rows.get(index)

        result = {"store": str(path), "running_clocks": total,
                  "due_view_switch": timed(switch), "due_counts": timed(lambda: due_counts(conn, now))}
        from deskterm.domain.sla import configure
        from deskterm.store.awaiting import recompute_due

        configure("", {"amazon": {"hours": 23}})
        start = time.perf_counter()
        with store.transaction() as tx:
            changed = recompute_due(tx)
        result["recompute_after_config_change"] = {"seconds": round(time.perf_counter() - start, 2),
                                                   "changed": changed}
        configure()
        with store.transaction() as tx:
            recompute_due(tx)
    result["tick_visible_lines"] = asyncio.run(tick_cost(path))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
