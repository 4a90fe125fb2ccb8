"""Which customer message a ticket's response clock runs from (`tickets.awaiting_since`).

The clock runs from the first customer message after the last reply that actually left:
a reply still in the outbox (undo window, retries) or an internal note does not stop it;
a reply synced from the Sent folder or marked sent by the outbox does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

_AWAITING = """
SELECT min(m.sent_at) FROM messages m
WHERE m.ticket_id = :t AND m.direction = 'in' AND m.sent_at > coalesce((
    SELECT max(r.sent_at) FROM messages r
    WHERE r.ticket_id = :t AND r.direction = 'out'
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_row = r.id AND o.message_row IS NOT NULL
                      AND o.status <> 'sent')), 0)
"""


def refresh_awaiting(conn: sqlite3.Connection, tickets: Iterable[int]) -> None:
    """Recompute `awaiting_since` for these tickets (bounded by each ticket's index range)."""
    for ticket_id in tickets:
        since = conn.execute(_AWAITING, {"t": ticket_id}).fetchone()[0]
        conn.execute("UPDATE tickets SET awaiting_since = ? WHERE id = ? AND awaiting_since IS NOT ?",
                     (since, ticket_id, since))
