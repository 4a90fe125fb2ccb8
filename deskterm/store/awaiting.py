"""A ticket's response clock in the store: where it starts (`awaiting_since`) and when it
runs out (`sla_due_at`, indexed for sorting and counting).

The clock runs from the first customer message after the last reply that actually left:
a reply still in the outbox (undo window, retries) or an internal note does not stop it;
a reply synced from the Sent folder or marked sent by the outbox does. The deadline
follows the channel's policy in force (domain.sla); it is NULL when nothing is awaited,
the ticket is resolved, or the clock is paused while waiting for the customer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone

from deskterm.domain.sla import clock, policy_for, signature

_AWAITING = """
SELECT min(m.sent_at) FROM messages m
WHERE m.ticket_id = :t AND m.direction = 'in' AND m.sent_at > coalesce((
    SELECT max(r.sent_at) FROM messages r
    WHERE r.ticket_id = :t AND r.direction = 'out'
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_row = r.id AND o.message_row IS NOT NULL
                      AND o.status <> 'sent')), 0)
"""


def due_for(channel: str, status: str, awaiting_since: int | None, no_response_needed: str | None = None) -> int | None:
    policy = policy_for(channel)
    if policy is None or awaiting_since is None or status == "resolved" or no_response_needed:
        return None
    state = clock(policy, awaiting_since=datetime.fromtimestamp(awaiting_since, timezone.utc),
                  waiting_for_customer=status == "pending")
    return int(state.due.timestamp()) if state.due is not None else None


def refresh_awaiting(conn: sqlite3.Connection, tickets: Iterable[int]) -> None:
    """Recompute the clock of these tickets (bounded by each ticket's index range)."""
    for ticket_id in tickets:
        row = conn.execute("SELECT channel, status, no_response_needed FROM tickets WHERE id = ?",
                           (ticket_id,)).fetchone()
        if row is None:
            continue
        since = conn.execute(_AWAITING, {"t": ticket_id}).fetchone()[0]
        due = due_for(row[0], row[1], since, row[2])
        conn.execute("UPDATE tickets SET awaiting_since = ?, sla_due_at = ? WHERE id = ? "
                     "AND (awaiting_since IS NOT ? OR sla_due_at IS NOT ?)", (since, due, ticket_id, since, due))


def recompute_due(conn: sqlite3.Connection) -> int:
    """Deadlines of every running clock under the policies in force (after a config change);
    remembers which policies they were computed with. Returns how many changed."""
    changed = 0
    rows = conn.execute("SELECT id, channel, status, awaiting_since, no_response_needed, sla_due_at FROM tickets "
                        "WHERE awaiting_since IS NOT NULL OR sla_due_at IS NOT NULL").fetchall()
    for ticket_id, channel, status, since, no_response, old in rows:
        due = due_for(channel, status, since, no_response)
        if due != old:
            conn.execute("UPDATE tickets SET sla_due_at = ? WHERE id = ?", (due, ticket_id))
            changed += 1
    conn.execute("INSERT INTO store_meta(key, value) VALUES ('sla_signature', ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (signature(),))
    return changed


def due_is_current(conn: sqlite3.Connection) -> bool:
    """Were the stored deadlines computed with the policies in force now?"""
    row = conn.execute("SELECT value FROM store_meta WHERE key = 'sla_signature'").fetchone()
    return row is not None and row[0] == signature()
