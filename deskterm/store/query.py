"""Run a parsed search (domain/query.py) against the store: ticket ids in the query's order.

Filters become a WHERE clause on `tickets` with bound parameters (never user text in the
SQL). Free words go through FTS5 newest match first, a bounded number of rounds, with the
filters applied to each round's owners, so a common word plus a narrow filter stays fast
and a result set is cut at `limit` (`more` says so). Runs in a worker: a query over many
tickets may take tens of milliseconds.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import cast

from deskterm.domain.query import Filter, Query, QueryError

RESULT_LIMIT = 5000
SEARCH_LIMIT = 500  # what the inbox's `/` shows at once (newest first, "+" when there is more)
_FTS_FIRST_WINDOW = 400  # messages in a text search's first round (at least twice the limit); then x10, x50

_ORDER = {
    "activity": "t.last_message_at DESC, t.id DESC",
    "due": "t.sla_due_at IS NULL, t.sla_due_at, t.last_message_at DESC, t.id DESC",
    "wake": "t.snoozed_until IS NULL, t.snoozed_until, t.id",
}


@dataclass(frozen=True, slots=True)
class QueryResult:
    ticket_ids: list[int]
    more: bool  # the result was cut at the limit (or the text search stopped early)


# is:<value> -> (SQL, which parameter it takes: "now", "agent" or none)
_IS_SQL: dict[str, tuple[str, str]] = {
    "unread": ("t.unread = 1", ""),
    "read": ("t.unread = 0", ""),
    "overdue": ("(t.sla_due_at IS NOT NULL AND t.sla_due_at < ?)", "now"),
    "due": ("t.sla_due_at IS NOT NULL", ""),
    "snoozed": ("t.status = 'snoozed'", ""),
    "mine": ("t.assignee = ? COLLATE NOCASE", "agent"),
    "unassigned": ("t.assignee IS NULL", ""),
    "assigned": ("t.assignee IS NOT NULL", ""),
    "open": ("t.status IN ('open', 'pending')", ""),
    "resolved": ("t.status = 'resolved'", ""),
}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _in(column: str, values: tuple[object, ...], args: list[object], *, nocase: bool = False) -> str:
    present = [v for v in values if v is not None]
    parts = []
    if present:
        collate = " COLLATE NOCASE" if nocase else ""
        parts.append(f"{column}{collate} IN ({','.join('?' * len(present))})")
        args.extend(present)
    if len(present) < len(values):
        parts.append(f"{column} IS NULL")
    return "(" + " OR ".join(parts) + ")"


def _clause(item: Filter, args: list[object], *, now: int, agent: str) -> str:
    key, values = item.key, item.values
    if key in ("channel", "status", "priority", "intent"):
        return _in(f"t.{key}", values, args)
    if key in ("assignee", "queue"):
        return _in(f"t.{key}", values, args, nocase=True)
    if key == "tag":
        args.extend(values)
        return (f"EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag IN "
                f"({','.join('?' * len(values))}))")
    if key == "due":
        op, bound = cast(tuple[str, int], values[0])
        args.append(bound)
        return f"(t.sla_due_at IS NOT NULL AND t.sla_due_at {'<' if op == '<' else '>='} ?)"
    if key == "before":
        args.append(values[0])
        return "t.last_message_at < ?"
    if key == "after":
        args.append(values[0])
        return "t.last_message_at >= ?"
    if key == "from":
        pattern = _like(str(values[0]))
        args.extend((pattern, pattern))
        return ("(t.customer_name LIKE ? ESCAPE '\\' OR t.customer_id IN "
                "(SELECT i.customer_id FROM identities i WHERE i.value LIKE ? ESCAPE '\\'))")
    if key == "order":
        parts = []
        for value in values:
            text = str(value)
            if text.endswith("*"):
                parts.append("t.order_ref LIKE ? ESCAPE '\\'")
                args.append(_like(text.rstrip("*"))[1:])
            else:
                parts.append("t.order_ref = ?")
                args.append(text)
        return "(" + " OR ".join(parts) + ")"
    if key == "is":
        parts = []
        for value in values:
            sql, parameter = _IS_SQL[str(value)]
            parts.append(sql)
            if parameter == "now":
                args.append(now)
            elif parameter == "agent":
                args.append(agent)
        return "(" + " OR ".join(parts) + ")"
    raise QueryError(f"filter {key}: not supported")  # parse_query never produces one


def where_clause(query: Query, *, now: int, agent: str = "") -> tuple[str, list[object]]:
    """The filters as `cond AND cond …` over `tickets t`, with their parameters."""
    args: list[object] = []
    parts = []
    for item in query.filters:
        clause = _clause(item, args, now=now, agent=agent)
        parts.append(f"NOT coalesce({clause}, 0)" if item.negated else clause)
    return (" AND ".join(parts) or "1"), args


def _clock_required(query: Query) -> bool:
    """Does every match have a running clock (a positive due: or is:overdue/is:due filter)?"""
    return any(not f.negated and (f.key == "due" or (f.key == "is" and set(f.values) <= {"overdue", "due"}))
               for f in query.filters)


def run_query(conn: sqlite3.Connection, query: Query, *, now: int, agent: str = "",
              limit: int = RESULT_LIMIT) -> QueryResult:
    """Ticket ids matching `query`, in its sort order, at most `limit`."""
    where, args = where_clause(query, now=now, agent=agent)
    order = _ORDER[query.sort]
    if query.sort == "due" and _clock_required(query):
        order = "t.sla_due_at, t.id"  # the deadline index yields this order: no sort, LIMIT stops early
    try:
        if query.words:
            return _with_words(conn, query, where, args, order, limit)
        if query.negated_words:
            where += (" AND t.id NOT IN (SELECT m.ticket_id FROM messages m WHERE m.id IN "
                      "(SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?))")
            args.append(" OR ".join(query.negated_words))
        rows = conn.execute(f"SELECT t.id FROM tickets t WHERE {where} ORDER BY {order} LIMIT ?",
                            (*args, limit + 1)).fetchall()
    except sqlite3.OperationalError as exc:
        raise QueryError(f"Suche nicht ausführbar: {exc}") from None
    ids = [r[0] for r in rows]
    return QueryResult(ids[:limit], len(ids) > limit)


def _with_words(conn: sqlite3.Connection, query: Query, where: str, args: list[object], order: str,
                limit: int) -> QueryResult:
    """Walk matching messages newest first, keep tickets that pass the filters, then sort.

    Each round asks FTS5 for a larger window (one doclist merge per round: a prefix such
    as `bestell*` costs the same for 400 rows as for 10); it stops as soon as `limit`
    tickets are found, so a plain search costs one round and a narrow filter a few."""
    expression = query.words + "".join(f" NOT {w}" for w in query.negated_words)
    found: dict[int, None] = {}
    cursor: int | None = None
    more = False
    first = max(_FTS_FIRST_WINDOW, 2 * limit)
    for batch in (first, first * 10, first * 50):
        bound = "" if cursor is None else "AND rowid < ? "
        params: tuple[object, ...] = (expression,) if cursor is None else (expression, cursor)
        message_ids = [r[0] for r in conn.execute(
            f"SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? {bound}ORDER BY rowid DESC LIMIT ?",
            (*params, batch))]
        for start in range(0, len(message_ids), 500):
            chunk = message_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            owners = dict(conn.execute(
                f"SELECT m.id, m.ticket_id FROM messages m JOIN tickets t ON t.id = m.ticket_id "
                f"WHERE m.id IN ({marks}) AND {where}", (*chunk, *args)).fetchall())
            for message_id in chunk:
                ticket_id = owners.get(message_id)
                if ticket_id is not None:
                    found.setdefault(ticket_id, None)
        if len(found) > limit:
            more = True
            break
        if len(message_ids) < batch:
            break
        cursor = message_ids[-1]
    else:
        more = True
    ids = list(found)[:limit]
    if not ids:
        return QueryResult([], more)
    marks = ",".join("?" * len(ids))
    ordered = [r[0] for r in conn.execute(f"SELECT t.id FROM tickets t WHERE t.id IN ({marks}) ORDER BY {order}", ids)]
    return QueryResult(ordered, more)
