"""Build a benchmark store from the demo world generator.

    python benchmarks/build_store.py --tickets 100000 --mean-messages 11.1 --out benchmarks/data/w1m.sqlite3

Tickets are written in time order (as a live sync would receive them), in chunks of one
transaction per account, through the same `apply_batch` path the sync engine uses; FTS is
rebuilt once at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from deskterm.model import Batch
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sources.registry import register_demo_accounts
from deskterm.store.bulk import fts_deferred
from deskterm.store.db import Store
from deskterm.store.sync_writes import apply_batch

ANCHOR = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def build(out: Path, *, tickets: int, mean_messages: float, seed: int = 2026, chunk: int = 2000) -> dict[str, float]:
    if out.exists():
        raise SystemExit(f"{out} exists; remove it first")
    started = time.perf_counter()
    world = DemoWorld(anchor=ANCHOR, tickets=tickets, seed=seed, span_days=365, mean_messages=mean_messages,
                      customers=max(40, tickets // 3))
    messages = 0
    with Store.open(out) as store:
        register_demo_accounts(store, anchor=ANCHOR, tickets=tickets, seed=seed)
        account_ids = dict(store.conn.execute("SELECT key, id FROM accounts"))
        with fts_deferred(store):
            for start in range(0, tickets, chunk):
                per_account: dict[str, Batch] = defaultdict(lambda: Batch(cursor=None))
                for index in range(start, min(tickets, start + chunk)):
                    conv = world.conversation(index)
                    batch = per_account[conv.account.key]
                    batch.customers.append(conv.customer)
                    if conv.order:
                        batch.orders.append(conv.order)
                    batch.tickets.append(conv.ticket)
                    batch.messages.extend(conv.messages)
                    batch.cursor = str(index + 1)
                for key, batch in per_account.items():
                    messages += apply_batch(store, account_ids[key], "bulk", batch, now=int(ANCHOR.timestamp())).messages
                done = min(tickets, start + chunk)
                rate = messages / (time.perf_counter() - started)
                print(f"\r{done:,}/{tickets:,} tickets, {messages:,} messages, {rate:,.0f} msg/s", end="", file=sys.stderr)
            print("\nrebuilding the full-text index...", file=sys.stderr)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.conn.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    return {"tickets": tickets, "messages": messages, "seconds": elapsed, "bytes": out.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--mean-messages", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = build(args.out, tickets=args.tickets, mean_messages=args.mean_messages, seed=args.seed)
    print(f"built {args.out}: {result['tickets']:,} tickets, {result['messages']:,} messages, "
          f"{result['bytes'] / 2**20:,.0f} MiB in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
