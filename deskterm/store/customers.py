"""One customer across channels: applying the identity rules, merging, undoing merges.

`resolve_touched` runs inside a sync batch's transaction, over the tickets and orders that
batch wrote, so merges commit together with the data that caused them and a re-run over
the same data changes nothing. The rules themselves live in `domain/identity.py`.

A merge moves the identities of one customer to another; tickets and orders follow the
identity they came through (`identity_id`), which is what makes `unmerge` exact, even for
tickets that arrived after the merge. An undone merge is remembered as a rejected
suggestion so the next sync does not merge the pair again.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from deskterm.domain.identity import AUTOMATIC, Decision, Rule, decide
from deskterm.domain.orders import find_order_references
from deskterm.store.audit import append_audit
from deskterm.store.gdpr_register import flag_requests


@dataclass(frozen=True, slots=True)
class MergeRow:
    id: int
    at: int
    kept: int
    merged: int
    rule: str
    reason: str
    undone_at: int | None


@dataclass(frozen=True, slots=True)
class SuggestionRow:
    id: int
    customer_a: int
    customer_b: int
    rule: str
    reason: str
    other_name: str


class MergeError(ValueError):
    """A merge or unmerge that cannot be done; one line for the user."""


def root_customer(conn: sqlite3.Connection, customer_id: int) -> int:
    """Follow `merged_into` to the customer that now holds the identities."""
    seen = set()
    while customer_id not in seen:
        seen.add(customer_id)
        row = conn.execute("SELECT merged_into FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if row is None or row[0] is None:
            return customer_id
        customer_id = int(row[0])
    return customer_id


def _kept_apart(conn: sqlite3.Connection, a: int, b: int) -> bool:
    low, high = sorted((a, b))
    return conn.execute(
        "SELECT 1 FROM merge_suggestions WHERE customer_a = ? AND customer_b = ? AND status = 'rejected' LIMIT 1",
        (low, high),
    ).fetchone() is not None


def apply_decision(conn: sqlite3.Connection, decision: Decision, *, now: int, actor: str = "sync") -> None:
    """Merge (strong rules) or record a suggestion (weak rules), unless the pair was kept apart."""
    a, b = root_customer(conn, decision.keep), root_customer(conn, decision.merge)
    if a == b or _kept_apart(conn, a, b):
        return
    decision = decide(a, b, decision.rule, decision.reason.split(": ", 1)[-1])
    if decision.automatic:
        merge_customers(conn, decision, now=now, actor=actor)
    else:
        conn.execute(
            "INSERT OR IGNORE INTO merge_suggestions(customer_a, customer_b, rule, reason, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (decision.keep, decision.merge, str(decision.rule), decision.reason, now),
        )


def merge_customers(conn: sqlite3.Connection, decision: Decision, *, now: int, actor: str) -> int:
    """Move `decision.merge`'s identities, tickets and orders to `decision.keep`; return the merge id."""
    keep, merge = decision.keep, decision.merge
    if keep == merge:
        raise MergeError("a customer cannot be merged with itself")
    identities = [r[0] for r in conn.execute("SELECT id FROM identities WHERE customer_id = ? ORDER BY id", (merge,))]
    conn.execute("UPDATE identities SET customer_id = ? WHERE customer_id = ?", (keep, merge))
    conn.execute("UPDATE tickets SET customer_id = ? WHERE customer_id = ?", (keep, merge))
    conn.execute("UPDATE orders SET customer_id = ? WHERE customer_id = ?", (keep, merge))
    conn.execute("UPDATE customers SET merged_into = ? WHERE id = ?", (keep, merge))
    conn.execute(
        "UPDATE merge_suggestions SET status = 'accepted' WHERE status = 'open' AND customer_a = ? AND customer_b = ?",
        tuple(sorted((keep, merge))),
    )
    cur = conn.execute(
        "INSERT INTO customer_merges(at, kept, merged, rule, reason, identities) VALUES (?, ?, ?, ?, ?, ?)",
        (now, keep, merge, str(decision.rule), decision.reason, json.dumps(identities)),
    )
    merge_id = int(cur.lastrowid or 0)
    append_audit(conn, now, actor, "customer.merge", f"customer:{keep}",
           {"merge_id": merge_id, "merged": merge, "rule": str(decision.rule)})  # no names: the log is permanent
    return merge_id


def unmerge(conn: sqlite3.Connection, merge_id: int, *, now: int, actor: str) -> None:
    """Undo a merge exactly: identities, and every ticket and order that came through them, go back."""
    row = conn.execute("SELECT kept, merged, identities, undone_at FROM customer_merges WHERE id = ?",
                       (merge_id,)).fetchone()
    if row is None:
        raise MergeError(f"no merge {merge_id}")
    kept, merged, raw, undone = row
    if undone is not None:
        raise MergeError(f"merge {merge_id} was already undone")
    identities = json.loads(raw)
    marks = ",".join("?" * len(identities)) or "NULL"
    conn.execute(f"UPDATE identities SET customer_id = ? WHERE id IN ({marks})", (merged, *identities))
    conn.execute(f"UPDATE tickets SET customer_id = ? WHERE identity_id IN ({marks})", (merged, *identities))
    conn.execute(f"UPDATE orders SET customer_id = ? WHERE identity_id IN ({marks})", (merged, *identities))
    conn.execute("UPDATE customers SET merged_into = NULL WHERE id = ?", (merged,))
    conn.execute("UPDATE customer_merges SET undone_at = ? WHERE id = ?", (now, merge_id))
    low, high = sorted((kept, merged))
    conn.execute(
        "INSERT INTO merge_suggestions(customer_a, customer_b, rule, reason, status, created_at) "
        "VALUES (?, ?, 'kept_apart', 'vom Team getrennt', 'rejected', ?) "
        "ON CONFLICT(customer_a, customer_b, rule) DO UPDATE SET status = 'rejected'",
        (low, high, now),
    )
    append_audit(conn, now, actor, "customer.unmerge", f"customer:{kept}", {"merge_id": merge_id, "restored": merged})


def answer_suggestion(conn: sqlite3.Connection, suggestion_id: int, *, accept: bool, now: int, actor: str) -> None:
    row = conn.execute("SELECT customer_a, customer_b, rule, reason, status FROM merge_suggestions WHERE id = ?",
                       (suggestion_id,)).fetchone()
    if row is None or row[4] != "open":
        raise MergeError(f"no open suggestion {suggestion_id}")
    a, b, rule, reason = row[:4]
    conn.execute("UPDATE merge_suggestions SET status = ? WHERE id = ?",
                 ("accepted" if accept else "rejected", suggestion_id))
    if accept:
        keep, merge = sorted((root_customer(conn, a), root_customer(conn, b)))
        if keep != merge:
            merge_customers(conn, Decision(keep, merge, Rule(rule), reason), now=now, actor=actor)
    else:
        append_audit(conn, now, actor, "customer.suggestion_rejected", f"customer:{a}", {"other": b, "rule": rule})


def answer_link_suggestion(conn: sqlite3.Connection, suggestion_id: int, *, accept: bool, now: int,
                           actor: str) -> None:
    row = conn.execute("SELECT ticket_id, order_id, reference, status FROM order_link_suggestions WHERE id = ?",
                       (suggestion_id,)).fetchone()
    if row is None or row[3] != "open":
        raise MergeError(f"no open order suggestion {suggestion_id}")
    ticket_id, order_id, reference, _ = row
    if accept:
        conn.execute("UPDATE order_link_suggestions SET status = 'rejected' WHERE ticket_id = ? AND status = 'open'",
                     (ticket_id,))
        conn.execute("UPDATE order_link_suggestions SET status = 'accepted' WHERE id = ?", (suggestion_id,))
        conn.execute("UPDATE tickets SET order_id = ?, order_ref = ? WHERE id = ?", (order_id, reference, ticket_id))
        _link_customers_by_order(conn, [ticket_id], now=now, actor=actor)
    else:
        conn.execute("UPDATE order_link_suggestions SET status = 'rejected' WHERE id = ?", (suggestion_id,))
    append_audit(conn, now, actor, "ticket.order_link_" + ("accepted" if accept else "rejected"), f"ticket:{ticket_id}",
           {"order_id": order_id, "reference": reference})


# -- the pass a sync batch runs ----------------------------------------------------------


def resolve_touched(conn: sqlite3.Connection, *, tickets: Iterable[int], orders: Iterable[int], now: int,
                    messages_after: int = 0) -> None:
    """Link tickets to orders named in their messages, then apply the identity rules.

    `messages_after`: message rows up to this id were checked for data-protection requests
    by an earlier batch; only newer ones are read again.
    """
    tickets = sorted(tickets)
    flag_requests(conn, tickets, messages_after=messages_after)
    _link_orders_from_text(conn, tickets)
    _link_customers_by_order(conn, tickets, now=now, actor="sync")
    for order_id in sorted(orders):
        _order_contact_rules(conn, order_id, now=now)


def _link_orders_from_text(conn: sqlite3.Connection, tickets: list[int]) -> None:
    for ticket_id in tickets:
        row = conn.execute("SELECT order_id FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None or row[0] is not None:
            continue
        text = " ".join(r[0] for r in conn.execute(
            "SELECT subject || ' ' || body_text FROM messages WHERE ticket_id = ? AND direction = 'in' "
            "ORDER BY sent_at, id LIMIT 20", (ticket_id,)))
        candidates: dict[int, str] = {}
        for reference in find_order_references(text):
            for (order_id,) in conn.execute("SELECT id FROM orders WHERE number = ? AND restricted_reason IS NULL "
                                            "LIMIT 3", (reference.number,)):
                candidates.setdefault(int(order_id), reference.number)
        if len(candidates) == 1:
            (order_id, number), = candidates.items()
            conn.execute("UPDATE tickets SET order_id = ?, order_ref = ? WHERE id = ?", (order_id, number, ticket_id))
        else:
            for order_id, number in candidates.items():
                conn.execute("INSERT OR IGNORE INTO order_link_suggestions(ticket_id, order_id, reference) "
                             "VALUES (?, ?, ?)", (ticket_id, order_id, number))


def _link_customers_by_order(conn: sqlite3.Connection, tickets: list[int], *, now: int, actor: str) -> None:
    for ticket_id in tickets:
        row = conn.execute(
            "SELECT t.customer_id, o.customer_id, o.number FROM tickets t JOIN orders o ON o.id = t.order_id "
            "WHERE t.id = ?", (ticket_id,)).fetchone()
        if row and row[0] is not None and row[1] is not None and row[0] != row[1]:
            apply_decision(conn, decide(row[0], row[1], Rule.SAME_ORDER, row[2]), now=now, actor=actor)


def _order_contact_rules(conn: sqlite3.Connection, order_id: int, *, now: int) -> None:
    row = conn.execute("SELECT customer_id, buyer_email, buyer_phone, name_postcode, number FROM orders WHERE id = ?",
                       (order_id,)).fetchone()
    if row is None or row[0] is None:
        return
    customer, email, phone, key, number = row
    for kind, value, rule in (("email", email, Rule.SAME_EMAIL), ("phone", phone, Rule.SAME_PHONE)):
        if not value:
            continue
        owner = conn.execute("SELECT customer_id FROM identities WHERE kind = ? AND value = ?", (kind, value)).fetchone()
        if owner is None:
            conn.execute("INSERT INTO identities(customer_id, kind, value) VALUES (?, ?, ?)", (customer, kind, value))
        elif owner[0] != customer:
            apply_decision(conn, decide(owner[0], customer, rule, value), now=now)
    if key:
        for (other,) in conn.execute(
            # `name_postcode <> ''` lets SQLite use the partial index for a bound parameter.
            "SELECT DISTINCT customer_id FROM orders WHERE name_postcode = ? AND name_postcode <> '' "
            "AND customer_id IS NOT NULL AND customer_id <> ? LIMIT 5", (key, customer)).fetchall():
            name, postcode = key.split("|", 1)
            apply_decision(conn, decide(other, customer, Rule.NAME_POSTCODE, f"{name.title()}, {postcode}"), now=now)


# -- reads for screens and the CLI ------------------------------------------------------


def merges_of(conn: sqlite3.Connection, customer_id: int) -> list[MergeRow]:
    rows = conn.execute(
        "SELECT id, at, kept, merged, rule, reason, undone_at FROM customer_merges "
        "WHERE (kept = ? OR merged = ?) ORDER BY id DESC LIMIT 20", (customer_id, customer_id)).fetchall()
    return [MergeRow(*r) for r in rows]


def open_suggestions(conn: sqlite3.Connection, customer_id: int) -> list[SuggestionRow]:
    rows = conn.execute(
        "SELECT s.id, s.customer_a, s.customer_b, s.rule, s.reason, c.display_name FROM merge_suggestions s "
        "JOIN customers c ON c.id = CASE WHEN s.customer_a = ? THEN s.customer_b ELSE s.customer_a END "
        "WHERE s.status = 'open' AND (s.customer_a = ? OR s.customer_b = ?) ORDER BY s.id LIMIT 10",
        (customer_id, customer_id, customer_id)).fetchall()
    return [SuggestionRow(*r) for r in rows]


__all__ = ["AUTOMATIC", "MergeError", "answer_link_suggestion", "answer_suggestion", "apply_decision",
           "merge_customers", "merges_of", "open_suggestions", "resolve_touched", "root_customer", "unmerge"]
