"""Bounded, indexed reads for the screens: inbox windows, one ticket's thread, counts.

Every function here costs O(rows returned) (plus, for a deep OFFSET jump, a walk of the
covering index), never O(store), so the UI may call them on the event loop.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from deskterm.domain.sla import SOON_SECONDS

_ROW_COLUMNS = (
    "id, channel, customer_name, subject, order_ref, last_message_at, status, unread, message_count, awaiting_since, "
    "sla_due_at, priority, assignee, snoozed_until"
)
_N_COLUMNS = 14


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One line of the inbox (raw, unsanitised values from the store)."""

    id: int
    channel: str
    customer_name: str
    subject: str
    order_ref: str
    last_message_at: int
    status: str
    unread: bool
    message_count: int
    awaiting_since: int | None = None  # first unanswered customer message: the response clock's start
    sla_due_at: int | None = None  # when that clock runs out (NULL: answered, resolved or paused)
    priority: int = 0  # 2 urgent, 1 high, 0 normal, -1 low
    assignee: str | None = None
    snoozed_until: int | None = None

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.last_message_at, self.id)


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    direction: str
    sender_name: str
    sender_addr: str
    sent_at: int
    subject: str
    body_text: str
    body_quoted: str
    parse_warning: str | None
    delivery: str | None = None  # outbox state of a reply: queued, sending, sent, failed
    delivery_error: str | None = None
    refused: str | None = None  # JSON {recipient: reason} for partly refused replies
    partial: bool = False  # a large mail stored as headers only (`deskterm mail fetch`)


@dataclass(frozen=True, slots=True)
class TicketDetail:
    row: TicketRow
    account_name: str
    order_id: int | None
    account_key: str = ""


def _row(values: tuple) -> TicketRow:  # type: ignore[type-arg]
    return TicketRow(values[0], values[1], values[2], values[3], values[4], values[5], values[6], bool(values[7]),
                     values[8], values[9], values[10], values[11], values[12], values[13])


def _status_clause(status: str | None) -> tuple[str, tuple[object, ...]]:
    return ("WHERE status = ?", (status,)) if status else ("", ())


def count_tickets(conn: sqlite3.Connection, status: str | None = None) -> int:
    """Tickets in total or of one status, from the trigger-kept counts table (O(1))."""
    where, args = _status_clause(status)
    return int(conn.execute(f"SELECT coalesce(sum(n), 0) FROM ticket_counts {where}", args).fetchone()[0])


def ticket_window(
    conn: sqlite3.Connection, offset: int, limit: int, *, total: int, status: str | None = None
) -> list[TicketRow]:
    """Rows [offset, offset+limit) of the inbox, newest activity first.

    Deep offsets walk the index from whichever end is nearer.
    """
    offset = max(0, offset)
    if offset >= total:
        return []
    where, args = _status_clause(status)
    if offset <= total // 2:
        sql = (f"SELECT {_ROW_COLUMNS} FROM tickets {where} "
               "ORDER BY last_message_at DESC, id DESC LIMIT ? OFFSET ?")
        return [_row(r) for r in conn.execute(sql, (*args, limit, offset))]
    end = min(total, offset + limit)
    from_end = total - end
    sql = (f"SELECT {_ROW_COLUMNS} FROM tickets {where} "
           "ORDER BY last_message_at ASC, id ASC LIMIT ? OFFSET ?")
    rows = [_row(r) for r in conn.execute(sql, (*args, end - offset, from_end))]
    rows.reverse()
    return rows


def ticket_window_after(
    conn: sqlite3.Connection, key: tuple[int, int], limit: int, *, status: str | None = None
) -> list[TicketRow]:
    """Keyset page: the `limit` rows that follow the row with sort key `key`."""
    if status:
        sql = (f"SELECT {_ROW_COLUMNS} FROM tickets WHERE status = ? AND (last_message_at, id) < (?, ?) "
               "ORDER BY last_message_at DESC, id DESC LIMIT ?")
        args: tuple[object, ...] = (status, key[0], key[1], limit)
    else:
        sql = (f"SELECT {_ROW_COLUMNS} FROM tickets WHERE (last_message_at, id) < (?, ?) "
               "ORDER BY last_message_at DESC, id DESC LIMIT ?")
        args = (key[0], key[1], limit)
    return [_row(r) for r in conn.execute(sql, args)]


def tickets_by_ids(conn: sqlite3.Connection, ids: list[int]) -> list[TicketRow]:
    """Rows for a list of ids (e.g. a search result page), in the given order."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    found = {r[0]: _row(r) for r in conn.execute(f"SELECT {_ROW_COLUMNS} FROM tickets WHERE id IN ({marks})", ids)}
    return [found[i] for i in ids if i in found]


def ticket_detail(conn: sqlite3.Connection, ticket_id: int) -> TicketDetail | None:
    row = conn.execute(
        f"SELECT {', '.join('t.' + c.strip() for c in _ROW_COLUMNS.split(','))}, a.name, t.order_id, a.key "
        "FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?",
        (ticket_id,),
    ).fetchone()
    if row is None:
        return None
    return TicketDetail(_row(row[:_N_COLUMNS]), row[_N_COLUMNS], row[_N_COLUMNS + 1], row[_N_COLUMNS + 2])


def ticket_messages(conn: sqlite3.Connection, ticket_id: int, *, limit: int = 200) -> list[MessageRow]:
    """The newest `limit` messages of a ticket, oldest first."""
    rows = conn.execute(
        "SELECT m.id, m.direction, m.sender_name, m.sender_addr, m.sent_at, m.subject, m.body_text, m.body_quoted, "
        "m.parse_warning, o.status, o.last_error, o.refused, "
        "EXISTS (SELECT 1 FROM mail_locations l WHERE l.message_id = m.id AND l.partial = 1) "
        "FROM messages m LEFT JOIN outbox o ON o.message_row = m.id AND o.message_row IS NOT NULL "
        "WHERE m.ticket_id = ? ORDER BY m.sent_at DESC, m.id DESC LIMIT ?",
        (ticket_id, limit),
    ).fetchall()
    rows.reverse()
    return [MessageRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], bool(r[12]))
            for r in rows]


def mark_read(conn: sqlite3.Connection, ticket_id: int) -> None:
    conn.execute("UPDATE tickets SET unread = 0 WHERE id = ? AND unread = 1", (ticket_id,))


def channel_counts(conn: sqlite3.Connection, status: str = "open") -> dict[str, int]:
    """Tickets of one status per channel, from the counts table (O(channels))."""
    return dict(conn.execute(
        "SELECT channel, n FROM ticket_counts WHERE status = ? AND n > 0", (status,)
    ).fetchall())


def ticket_tags(conn: sqlite3.Connection, ticket_id: int) -> list[str]:
    return [r[0] for r in conn.execute("SELECT tag FROM ticket_tags WHERE ticket_id = ? ORDER BY tag LIMIT 20",
                                       (ticket_id,))]


# -- the "due" view: running clocks, soonest deadline first (partial index tickets_due) ----
# Snoozed tickets are out of sight until they wake; counts subtract them through the small
# snooze index instead of checking every running clock's status.


def _snoozed_due(conn: sqlite3.Connection, upper: int | None = None, lower: int | None = None) -> int:
    # INDEXED BY: left alone, the planner walks the (large) deadline index instead.
    sql = ("SELECT count(*) FROM tickets INDEXED BY tickets_snoozed "
           "WHERE snoozed_until IS NOT NULL AND sla_due_at IS NOT NULL")
    args: list[int] = []
    if lower is not None:
        sql += " AND sla_due_at >= ?"
        args.append(lower)
    if upper is not None:
        sql += " AND sla_due_at < ?"
        args.append(upper)
    return int(conn.execute(sql, args).fetchone()[0])


def count_due(conn: sqlite3.Connection) -> int:
    total = conn.execute("SELECT count(*) FROM tickets WHERE sla_due_at IS NOT NULL").fetchone()[0]
    return int(total) - _snoozed_due(conn)


def due_counts(conn: sqlite3.Connection, now: int, soon_seconds: int = SOON_SECONDS) -> tuple[int, int]:
    """(overdue, due within `soon_seconds`) among tickets not snoozed: range counts on the index."""
    overdue = conn.execute("SELECT count(*) FROM tickets WHERE sla_due_at IS NOT NULL AND sla_due_at < ?",
                           (now,)).fetchone()[0]
    soon = conn.execute("SELECT count(*) FROM tickets WHERE sla_due_at IS NOT NULL AND sla_due_at >= ? "
                        "AND sla_due_at < ?", (now, now + soon_seconds)).fetchone()[0]
    return (int(overdue) - _snoozed_due(conn, upper=now),
            int(soon) - _snoozed_due(conn, upper=now + soon_seconds, lower=now))


def due_window(conn: sqlite3.Connection, offset: int, limit: int) -> list[TicketRow]:
    return [_row(r) for r in conn.execute(
        f"SELECT {_ROW_COLUMNS} FROM tickets WHERE sla_due_at IS NOT NULL AND status <> 'snoozed' "
        "ORDER BY sla_due_at, id LIMIT ? OFFSET ?", (limit, max(0, offset)))]


def due_window_after(conn: sqlite3.Connection, key: tuple[int, int], limit: int) -> list[TicketRow]:
    """Keyset page after the row with (sla_due_at, id) = `key`."""
    return [_row(r) for r in conn.execute(
        f"SELECT {_ROW_COLUMNS} FROM tickets WHERE sla_due_at IS NOT NULL AND status <> 'snoozed' "
        "AND (sla_due_at, id) > (?, ?) ORDER BY sla_due_at, id LIMIT ?", (key[0], key[1], limit))]


# -- the rest of the inbox: unresolved tickets without a running clock, newest first ------
# (partial index tickets_inbox_rest; the inbox view shows the due part first, then this).

_REST = "status IN ('open', 'pending') AND sla_due_at IS NULL"


def count_rest(conn: sqlite3.Connection, due: int) -> int:
    """Unresolved, unsnoozed tickets without a clock: the counts table minus the due part."""
    return max(0, count_tickets(conn, "open") + count_tickets(conn, "pending") - due)


def rest_window(conn: sqlite3.Connection, offset: int, limit: int) -> list[TicketRow]:
    return [_row(r) for r in conn.execute(
        f"SELECT {_ROW_COLUMNS} FROM tickets WHERE {_REST} ORDER BY last_message_at DESC, id DESC LIMIT ? OFFSET ?",
        (limit, max(0, offset)))]


def rest_window_after(conn: sqlite3.Connection, key: tuple[int, int], limit: int) -> list[TicketRow]:
    return [_row(r) for r in conn.execute(
        f"SELECT {_ROW_COLUMNS} FROM tickets WHERE {_REST} AND (last_message_at, id) < (?, ?) "
        "ORDER BY last_message_at DESC, id DESC LIMIT ?", (key[0], key[1], limit))]
