"""A ticket's response clock in the store: where it starts (`awaiting_since`) and when it
runs out (`sla_due_at`, indexed for sorting and counting).

The clock runs from the first customer message after the last reply that actually left:
a reply still in the outbox (undo window, retries), an internal note or an automatic reply
sent by an assist policy (`messages.auto`) does not stop it;
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
    WHERE r.ticket_id = :t AND r.direction = 'out' AND r.auto = 0
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_row = r.id AND o.message_row IS NOT NULL
                      AND o.status <> 'sent')), 0)
"""


def due_for(channel: str, status: str, awaiting_since: int | None, no_response_needed: str | None = None, *,
            account_key: str = "", paused_seconds: int = 0) -> int | None:
    """The deadline of a ticket's clock (None: no clock running). A snoozed ticket's clock
    keeps running: the marketplace does not know it was snoozed."""
    policy = policy_for(channel, account_key)
    if policy is None or awaiting_since is None or status == "resolved" or no_response_needed:
        return None
    state = clock(policy, awaiting_since=datetime.fromtimestamp(awaiting_since, timezone.utc),
                  waiting_for_customer=status == "pending", paused_seconds=paused_seconds)
    return int(state.due.timestamp()) if state.due is not None else None


_TICKET_CLOCK = """
SELECT t.channel, t.status, t.no_response_needed, a.key, t.awaiting_since, t.sla_paused_seconds
FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?
"""


def refresh_awaiting(conn: sqlite3.Connection, tickets: Iterable[int]) -> None:
    """Recompute the clock of these tickets (bounded by each ticket's index range). A clock
    that starts anew (another first unanswered message) forgets earlier paused time."""
    for ticket_id in tickets:
        row = conn.execute(_TICKET_CLOCK, (ticket_id,)).fetchone()
        if row is None:
            continue
        channel, status, no_response, account_key, old_since, paused = row
        since = conn.execute(_AWAITING, {"t": ticket_id}).fetchone()[0]
        if since != old_since:
            paused = 0
        due = due_for(channel, status, since, no_response, account_key=account_key, paused_seconds=paused)
        conn.execute("UPDATE tickets SET awaiting_since = ?, sla_due_at = ?, sla_paused_seconds = ? WHERE id = ? "
                     "AND (awaiting_since IS NOT ? OR sla_due_at IS NOT ? OR sla_paused_seconds IS NOT ?)",
                     (since, due, paused, ticket_id, since, due, paused))


def recompute_due(conn: sqlite3.Connection) -> int:
    """Deadlines of every running clock under the policies in force (after a config change);
    remembers which policies they were computed with. Returns how many changed."""
    changed = 0
    has_pause = bool(conn.execute("SELECT 1 FROM pragma_table_info('tickets') WHERE name = 'sla_paused_seconds'")
                     .fetchone())  # the v9 migration runs this before v10 added the column
    paused_column = "t.sla_paused_seconds" if has_pause else "0"
    rows = conn.execute(f"SELECT t.id, t.channel, t.status, t.awaiting_since, t.no_response_needed, t.sla_due_at, "
                        f"a.key, {paused_column} FROM tickets t JOIN accounts a ON a.id = t.account_id "
                        "WHERE t.awaiting_since IS NOT NULL OR t.sla_due_at IS NOT NULL").fetchall()
    for ticket_id, channel, status, since, no_response, old, account_key, paused in rows:
        due = due_for(channel, status, since, no_response, account_key=account_key, paused_seconds=paused)
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
