"""Find and erase one person's data (GDPR Art. 15/17), with legal holds and suppression.

`find_person` counts everything held about a person (the customer and every customer
merged into it). `plan_erasure` is the dry run: what would be deleted and what must be
kept, and why. `erase_person` carries the plan out in the caller's transaction;
`scrub_files` afterwards removes the traces SQLite keeps outside the live rows (FTS5
segments, the WAL, freed pages).

Erased identities are remembered as salted hashes only, so a later sync skips the old
conversations while new contact after the erasure is still accepted.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deskterm.domain.retention import LETTER_REASON, RetentionPolicy
from deskterm.store.audit import append_audit
from deskterm.store.customers import root_customer


class ErasureError(ValueError):
    """An erasure that cannot be planned or run; one line for the admin."""


@dataclass(slots=True)
class PersonData:
    """Counts of everything held about one person (what `find` shows before anything happens)."""

    customers: list[int]
    identities: dict[str, int] = field(default_factory=dict)
    tickets: dict[str, int] = field(default_factory=dict)
    messages: int = 0
    attachments: int = 0
    attachment_bytes: int = 0
    orders: int = 0
    orders_held: int = 0
    shipments: int = 0
    returns: int = 0
    refunds: int = 0
    cancellations: int = 0
    outbox: int = 0
    merges: int = 0
    suggestions: int = 0
    audit_entries: int = 0
    exports: int = 0
    requests: int = 0
    consents: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class ErasurePlan:
    customers: list[int]
    data: PersonData
    held_orders: list[tuple[int, str, str, int]]  # id, number, reason, delete_after
    deleted_orders: list[int]
    tickets: list[int]
    identities: list[tuple[str, str]]
    policy: RetentionPolicy = field(default_factory=RetentionPolicy)
    held_letters: int = 0  # messages about an order kept as commercial letters

    def receipt(self) -> dict[str, object]:
        """What was erased and what was kept and why; no erased content in it."""
        return {
            "erased": {
                "customers": len(self.customers), "identities": sum(self.data.identities.values()),
                "tickets": len(self.tickets), "messages": self.data.messages, "attachments": self.data.attachments,
                "orders": len(self.deleted_orders), "outbox": self.data.outbox,
            },
            "kept": [{"order": number, "reason": reason, "delete_after": delete_after}
                     for _, number, reason, delete_after in self.held_orders]
                    + ([{"messages": self.held_letters, "reason": LETTER_REASON,
                         "delete_after": f"{self.policy.letter_years} Jahre nach Ende des Jahres der Nachricht"}]
                       if self.held_letters else []),
        }


def person_group(conn: sqlite3.Connection, customer_id: int) -> list[int]:
    """The customer that holds the identities, and every customer merged into it."""
    if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
        raise ErasureError(f"no customer {customer_id}")
    root = root_customer(conn, customer_id)
    rows = conn.execute(
        "WITH RECURSIVE grp(id) AS (SELECT ? UNION SELECT c.id FROM customers c JOIN grp ON c.merged_into = grp.id) "
        "SELECT id FROM grp ORDER BY id", (root,)).fetchall()
    return [r[0] for r in rows]


def _marks(ids: Sequence[object]) -> str:
    return ",".join("?" * len(ids)) or "NULL"


def find_person(conn: sqlite3.Connection, customer_id: int, *, policy: RetentionPolicy | None = None) -> PersonData:
    policy = policy or RetentionPolicy()
    group = person_group(conn, customer_id)
    m = _marks(group)
    data = PersonData(group)
    data.identities = dict(conn.execute(
        f"SELECT kind, count(*) FROM identities WHERE customer_id IN ({m}) GROUP BY kind", group).fetchall())
    data.tickets = dict(conn.execute(
        f"SELECT channel, count(*) FROM tickets WHERE customer_id IN ({m}) GROUP BY channel", group).fetchall())
    tickets = [r[0] for r in conn.execute(f"SELECT id FROM tickets WHERE customer_id IN ({m})", group)]
    t = _marks(tickets)
    data.messages = conn.execute(f"SELECT count(*) FROM messages WHERE ticket_id IN ({t})", tickets).fetchone()[0]
    data.attachments, data.attachment_bytes = conn.execute(
        f"SELECT count(*), coalesce(sum(a.size), 0) FROM attachments a JOIN messages msg ON msg.id = a.message_id "
        f"WHERE msg.ticket_id IN ({t})", tickets).fetchone()
    data.outbox = conn.execute(f"SELECT count(*) FROM outbox WHERE ticket_id IN ({t})", tickets).fetchone()[0]
    orders = conn.execute(
        f"SELECT id, status, payment_status, placed_at FROM orders WHERE customer_id IN ({m}) "
        "AND restricted_reason IS NULL", group).fetchall()
    data.orders = len(orders)
    data.orders_held = sum(1 for _, s, p, at in orders if policy.hold(status=s, payment_status=p, placed_at=at))
    o = _marks([r[0] for r in orders])
    order_ids = [r[0] for r in orders]
    for name, table in (("shipments", "shipments"), ("returns", "returns"), ("refunds", "refunds"),
                        ("cancellations", "cancellations")):
        setattr(data, name, conn.execute(f"SELECT count(*) FROM {table} WHERE order_id IN ({o})",
                                         order_ids).fetchone()[0])
    data.merges = conn.execute(
        f"SELECT count(*) FROM customer_merges WHERE kept IN ({m}) OR merged IN ({m})", group * 2).fetchone()[0]
    data.suggestions = conn.execute(
        f"SELECT count(*) FROM merge_suggestions WHERE customer_a IN ({m}) OR customer_b IN ({m})",
        group * 2).fetchone()[0]
    data.exports = len(_exports_of(conn, group))
    data.requests = conn.execute(f"SELECT count(*) FROM gdpr_requests WHERE customer_id IN ({m})", group).fetchone()[0]
    data.consents = conn.execute(f"SELECT count(*) FROM consents WHERE customer_id IN ({m})", group).fetchone()[0]
    targets = [f"customer:{c}" for c in group] + [f"ticket:{i}" for i in tickets] + [f"order:{i}" for i in order_ids]
    data.audit_entries = sum(
        conn.execute(f"SELECT count(*) FROM audit_log WHERE target IN ({_marks(chunk)})", chunk).fetchone()[0]
        for chunk in (targets[i:i + 500] for i in range(0, len(targets), 500)))
    return data


def plan_erasure(conn: sqlite3.Connection, customer_id: int, *, policy: RetentionPolicy | None = None) -> ErasurePlan:
    policy = policy or RetentionPolicy()
    data = find_person(conn, customer_id, policy=policy)
    group = data.customers
    m = _marks(group)
    held, deleted = [], []
    for order_id, number, status, payment, placed in conn.execute(
            f"SELECT id, number, status, payment_status, placed_at FROM orders WHERE customer_id IN ({m}) "
            "AND restricted_reason IS NULL ORDER BY id", group):
        hold = policy.hold(status=status, payment_status=payment, placed_at=placed)
        if hold:
            held.append((order_id, number, *hold))
        else:
            deleted.append(order_id)
    tickets = [r[0] for r in conn.execute(f"SELECT id FROM tickets WHERE customer_id IN ({m}) ORDER BY id", group)]
    identities = conn.execute(f"SELECT kind, value FROM identities WHERE customer_id IN ({m}) ORDER BY id",
                              group).fetchall()
    letters = 0
    if policy.letter_years:
        letters = conn.execute(
            f"SELECT count(*) FROM messages WHERE ticket_id IN ({_marks(tickets)}) AND ticket_id IN "
            "(SELECT id FROM tickets WHERE order_id IS NOT NULL)", tickets).fetchone()[0]
    return ErasurePlan(group, data, held, deleted, tickets, [tuple(r) for r in identities], policy, letters)


def _exports_of(conn: sqlite3.Connection, group: list[int]) -> list[tuple[int, str]]:
    members = set(group)
    return [(export_id, path) for export_id, customers, path in conn.execute("SELECT id, customers, path FROM exports")
            if members & set(json.loads(customers))]


def identity_hash(conn: sqlite3.Connection, kind: str, value: str) -> str:
    salt = conn.execute("SELECT value FROM store_meta WHERE key = 'identity_salt'").fetchone()[0]
    return hashlib.sha256(f"{salt}\0{kind}\0{value}".encode()).hexdigest()


def erase_person(conn: sqlite3.Connection, plan: ErasurePlan, *, now: int, actor: str) -> dict[str, object]:
    """Delete everything in the plan, restrict held orders, remember the identities; return the receipt."""
    group, tickets = plan.customers, plan.tickets
    m, t = _marks(group), _marks(tickets)
    for kind, value in plan.identities:
        conn.execute("INSERT OR REPLACE INTO erased_identities(hash, erased_at) VALUES (?, ?)",
                     (identity_hash(conn, kind, value), now))
    if plan.held_letters:
        # Commercial letters: moved out of `messages` (so out of search and views), kept until their date.
        for row in conn.execute(
                f"SELECT t.order_id, t.channel, m.direction, m.sender_name, m.sender_addr, m.sent_at, m.subject, "
                f"m.body_text FROM messages m JOIN tickets t ON t.id = m.ticket_id "
                f"WHERE m.ticket_id IN ({t}) AND t.order_id IS NOT NULL", tickets).fetchall():
            hold = plan.policy.letter_hold(row[5])
            assert hold is not None
            conn.execute("INSERT INTO held_messages(order_id, channel, direction, sender_name, sender_addr, sent_at, "
                         "subject, body_text, reason, delete_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (*row, *hold))
    conn.execute(f"DELETE FROM messages WHERE ticket_id IN ({t})", tickets)  # FTS rows go via the delete trigger
    conn.execute(f"DELETE FROM tickets WHERE id IN ({t})", tickets)
    deleted = plan.deleted_orders
    conn.execute(f"DELETE FROM orders WHERE id IN ({_marks(deleted)})", deleted)
    for order_id, _number, reason, delete_after in plan.held_orders:
        # Keep what the invoice needs (items, amounts, billing address, refunds); drop the rest.
        conn.execute("DELETE FROM shipments WHERE order_id = ?", (order_id,))
        conn.execute("DELETE FROM returns WHERE order_id = ?", (order_id,))
        conn.execute("UPDATE tickets SET order_id = NULL WHERE order_id = ?", (order_id,))
        conn.execute("UPDATE orders SET customer_id = NULL, identity_id = NULL, buyer_email = '', buyer_phone = '', "
                     "name_postcode = '', restricted_reason = ?, delete_after = ? WHERE id = ?",
                     (reason, delete_after, order_id))
    exports = _exports_of(conn, group)
    for export_id, path in exports:  # the ZIPs deskterm wrote for this person go too
        Path(path).unlink(missing_ok=True)
        conn.execute("DELETE FROM exports WHERE id = ?", (export_id,))
    conn.execute(f"DELETE FROM customer_merges WHERE kept IN ({m}) OR merged IN ({m})", group * 2)
    conn.execute(f"UPDATE customers SET merged_into = NULL WHERE id IN ({m})", group)
    conn.execute(f"DELETE FROM customers WHERE id IN ({m})", group)  # identities and suggestions cascade
    receipt = plan.receipt()
    receipt["erased"]["exports"] = len(exports)  # type: ignore[index]
    cur = conn.execute("INSERT INTO erasures(at, actor, receipt) VALUES (?, ?, ?)",
                       (now, actor, _json(receipt)))
    receipt["erasure_id"] = int(cur.lastrowid or 0)
    append_audit(conn, now, actor, "gdpr.erase", f"customer:{group[0]}",
                 {"erasure_id": receipt["erasure_id"], "customers": group, "held_orders": len(plan.held_orders)})
    return receipt


def scrub_files(conn: sqlite3.Connection, *, vacuum: bool = False) -> dict[str, object]:
    """After an erasure commits: purge deleted terms from FTS5, empty the WAL, optionally VACUUM.

    SQLite 3.40 has no FTS5 secure-delete, so 'optimize' rewrites the index without the
    deleted entries; secure_delete=ON (verified at open) zeroes freed pages.
    """
    conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
    if vacuum:
        conn.execute("VACUUM")
    busy, wal_frames, checkpointed = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return {"fts_optimized": True, "vacuumed": vacuum, "wal_truncated": busy == 0,
            "wal_note": "" if busy == 0 else "another connection is reading; run 'deskterm gdpr scrub' again"}


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
