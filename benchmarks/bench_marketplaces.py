"""A full sync of the demo world's marketplace accounts from the sandboxes (issue 4 figure).

    python benchmarks/bench_marketplaces.py [--tickets 600] [--runs 3]

Starts the five emulators on 127.0.0.1 with the demo world (the `deskterm demo` size by
default), records one account per marketplace in a fresh store and runs the real sync
engine over the real clients: wall time per source and in total, requests made (including
token requests), what was stored. Rate limits are the emulators' own (Amazon's searchOrders
burst of 20 is enough for the demo world). Median of `--runs`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deskterm.sandbox.amazon import AmazonSandbox  # noqa: E402
from deskterm.sandbox.demo_world import DemoWorld  # noqa: E402
from deskterm.sandbox.ebay import SELLER, EbaySandbox  # noqa: E402
from deskterm.sandbox.kaufland import KauflandSandbox  # noqa: E402
from deskterm.sandbox.otto import OttoSandbox  # noqa: E402
from deskterm.sandbox.zalando import MERCHANT_ID, ZalandoSandbox  # noqa: E402
from deskterm.sources.engine import SyncEngine  # noqa: E402
from deskterm.sources.registry import sources_for_store  # noqa: E402
from deskterm.store.db import Store  # noqa: E402
from deskterm.store.sync_writes import ensure_account  # noqa: E402


def one_run(world: DemoWorld) -> dict[str, object]:
    with KauflandSandbox(world) as kaufland, EbaySandbox(world) as ebay, AmazonSandbox(world) as amazon, \
            ZalandoSandbox(world) as zalando, OttoSandbox(world) as otto, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        accounts = {
            "kaufland-de": ("kaufland", kaufland, {"client_key": kaufland.client_key,
                                                    "secret_key": kaufland.secret_key}),
            "ebay-de": ("ebay", ebay, {"client_id": ebay.client_id, "client_secret": ebay.client_secret,
                                       "refresh_token": ebay.refresh_token, "seller": SELLER}),
            "amazon-de": ("amazon", amazon, {"token_url": amazon.base_url + "/auth/o2/token",
                                             "client_id": amazon.client_id, "client_secret": amazon.client_secret,
                                             "refresh_token": amazon.refresh_token}),
            "zalando-de": ("zalando", zalando, {"merchant_id": MERCHANT_ID, "client_id": zalando.client_id,
                                                "client_secret": zalando.client_secret}),
            "otto-de": ("otto", otto, {"client_id": otto.client_id, "client_secret": otto.client_secret}),
        }
        with Store.open(path) as store:
            for key, (kind, sandbox, credentials) in accounts.items():
                ensure_account(store, key, kind, key, now=0,
                               settings={"source": kind, "base_url": sandbox.base_url, **credentials})
            sources = sources_for_store(store)
        per_source = {}
        started = time.perf_counter()
        for source in sources:
            begin = time.perf_counter()
            [run] = SyncEngine(path, [source]).run_once()
            sandbox = accounts[source.account_key][1]
            per_source[source.account_key] = {"seconds": round(time.perf_counter() - begin, 3),
                                              "requests": len(sandbox.log), "error": run.error,
                                              "batches": run.batches, "messages": run.messages}
            source.close()
        total = time.perf_counter() - started
        with Store.open(path, create=False) as store:
            stored = dict(zip(("tickets", "messages", "orders"), store.conn.execute(
                "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages), "
                "(SELECT count(*) FROM orders)").fetchone()))
    return {"seconds": round(total, 3), "requests": sum(int(s["requests"]) for s in per_source.values()),
            "per_source": per_source, "stored": stored}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from datetime import datetime, timezone

    world = DemoWorld(anchor=datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc), tickets=args.tickets)
    runs = [one_run(world) for _ in range(args.runs)]
    median = sorted(runs, key=lambda r: float(r["seconds"]))[len(runs) // 2]  # type: ignore[arg-type]
    print(json.dumps({"tickets": args.tickets, "runs": [r["seconds"] for r in runs],
                      "median_seconds": statistics.median(float(r["seconds"]) for r in runs),  # type: ignore[arg-type]
                      "median_run": median}, indent=2))


if __name__ == "__main__":
    main()
