"""Find, dry-run and erase one customer with about 500 messages on a built store.

    python benchmarks/bench_gdpr.py benchmarks/data/w1m.sqlite3 [--vacuum]

Works on a copy of the store (the original is not changed). Each step is timed on its
own: find (counts), plan (dry run), erase (one transaction), scrub (FTS5 optimize + WAL
truncate), and VACUUM separately when asked.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from datetime import datetime, timedelta, timezone

from deskterm.model import Batch, Channel, Direction, IdentityRef, MessageRecord, TicketRecord
from deskterm.store.db import Store
from deskterm.store.sync_writes import apply_batch
from deskterm.store.gdpr import erase_person, find_person, plan_erasure, scrub_files


def pick_customer(store: Store, target: int) -> tuple[int, int]:
    """The customer with the most messages, topped up to `target` through the sync path.

    The generated stores' busiest customer has a few hundred messages; the missing ones
    arrive as further conversations on that customer's own identity, as a sync would add them.
    """
    customer, count = store.conn.execute(
        "SELECT customer_id, sum(message_count) AS n FROM tickets WHERE customer_id IS NOT NULL "
        "GROUP BY customer_id ORDER BY n DESC LIMIT 1").fetchone()
    kind, value, channel, account = store.conn.execute(
        "SELECT i.kind, i.value, t.channel, t.account_id FROM identities i JOIN tickets t ON t.identity_id = i.id "
        "WHERE i.customer_id = ? LIMIT 1", (customer,)).fetchone()
    who = IdentityRef(kind, value)
    at = datetime(2026, 11, 30, tzinfo=timezone.utc)
    n = 0
    while count < target:
        batch = Batch(cursor=None, tickets=[TicketRecord(f"bench-top-up-{n}", Channel(channel), who, "Nachfrage", at)])
        for k in range(min(10, target - count)):
            batch.messages.append(MessageRecord(f"bench-top-up-{n}-{k}", f"bench-top-up-{n}", Direction.IN, "Kunde",
                                                value, at + timedelta(minutes=k), "Nachfrage",
                                                f"Noch eine Frage zu meiner Bestellung, Nachricht {k}."))
        count += apply_batch(store, account, "bench", batch, now=int(at.timestamp())).messages
        n += 1
    return int(customer), int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--vacuum", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deskterm-gdpr-bench-")) / args.store.name
    shutil.copy(args.store, work)
    result: dict[str, object] = {"store": str(args.store)}
    try:
        with Store.open(work) as store:  # migrates a copy made by an older schema
            result["total_messages"] = store.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            customer, messages = pick_customer(store, args.messages)
            result["customer_messages"] = messages
            start = time.perf_counter()
            found = find_person(store.conn, customer)
            t_find = time.perf_counter()
            plan = plan_erasure(store.conn, customer)
            t_plan = time.perf_counter()
            with store.transaction() as conn:
                receipt = erase_person(conn, plan, now=int(time.time()), actor="bench")
            t_erase = time.perf_counter()
            scrub = scrub_files(store.conn)
            t_scrub = time.perf_counter()
            result.update({
                "found": {"tickets": sum(found.tickets.values()), "messages": found.messages, "orders": found.orders},
                "kept_orders": len(receipt["kept"]),  # type: ignore[arg-type]
                "seconds": {"find": round(t_find - start, 3), "dry_run": round(t_plan - t_find, 3),
                            "erase": round(t_erase - t_plan, 3), "scrub_fts_optimize_and_wal": round(t_scrub - t_erase, 3)},
                "wal_truncated": scrub["wal_truncated"],
            })
            if args.vacuum:
                start = time.perf_counter()
                store.conn.execute("VACUUM")
                result["seconds"]["vacuum"] = round(time.perf_counter() - start, 3)  # type: ignore[index]
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
