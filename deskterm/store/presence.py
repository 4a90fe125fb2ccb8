"""Who else has a ticket open, for small teams sharing one store (SSH on one host, or one file).

An agent's app records "viewing" when it shows a ticket and "replying" while the composer
is open, and refreshes `seen_at` every HEARTBEAT_SECONDS. Others read the rows of their
ticket (primary-key range, a few rows); a row not refreshed for STALE_SECONDS counts as
gone, so an app killed without cleaning up stops showing within a minute.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

HEARTBEAT_SECONDS = 10
STALE_SECONDS = 45


@dataclass(frozen=True, slots=True)
class Presence:
    agent: str
    activity: str  # "viewing" or "replying"
    since: int


def enter(conn: sqlite3.Connection, agent: str, ticket_id: int, activity: str, now: int) -> None:
    """Record that `agent` looks at (or replies to) `ticket_id`; other tickets of the agent end."""
    conn.execute("DELETE FROM presence WHERE agent = ? AND ticket_id <> ?", (agent, ticket_id))
    conn.execute(
        "INSERT INTO presence(agent, ticket_id, activity, since, seen_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(agent, ticket_id) DO UPDATE SET "
        "since = CASE WHEN activity = excluded.activity THEN since ELSE excluded.since END, "
        "activity = excluded.activity, seen_at = excluded.seen_at",
        (agent, ticket_id, activity, now, now))


def heartbeat(conn: sqlite3.Connection, agent: str, now: int) -> None:
    conn.execute("UPDATE presence SET seen_at = ? WHERE agent = ?", (now, agent))


def leave(conn: sqlite3.Connection, agent: str, ticket_id: int | None = None) -> None:
    if ticket_id is None:
        conn.execute("DELETE FROM presence WHERE agent = ?", (agent,))
    else:
        conn.execute("DELETE FROM presence WHERE agent = ? AND ticket_id = ?", (agent, ticket_id))


def others_on(conn: sqlite3.Connection, ticket_id: int, agent: str, now: int) -> list[Presence]:
    """Other agents on this ticket who were seen recently, replying ones first."""
    rows = conn.execute(
        "SELECT agent, activity, since FROM presence WHERE ticket_id = ? AND agent <> ? AND seen_at >= ? "
        "ORDER BY activity = 'replying' DESC, since LIMIT 5", (ticket_id, agent, now - STALE_SECONDS)).fetchall()
    return [Presence(*r) for r in rows]


def expire(conn: sqlite3.Connection, now: int) -> int:
    """Delete rows nobody refreshed (housekeeping; readers already ignore them)."""
    return conn.execute("DELETE FROM presence WHERE seen_at < ?", (now - STALE_SECONDS,)).rowcount


def replied_since(conn: sqlite3.Connection, ticket_id: int, since: int, agent: str) -> str | None:
    """The name of another agent whose reply on this ticket was written after `since`."""
    row = conn.execute("SELECT agent FROM messages WHERE ticket_id = ? AND direction = 'out' AND sent_at >= ? "
                       "AND agent IS NOT NULL AND agent <> ? ORDER BY sent_at DESC LIMIT 1",
                       (ticket_id, since, agent)).fetchone()
    return str(row[0]) if row else None
