"""Full-text search over messages (FTS5), newest first.

Ranking by relevance costs O(matches) (seconds for a common word at a million messages),
so results come newest first: FTS5 walks its doclists by descending rowid and stops after
one page, which keeps every query class fast however large the store grows.

User text is never passed to FTS5 as syntax: each word becomes a quoted string (a trailing
`*` makes it a prefix), and only the bare words AND, OR and NOT act as operators.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from deskterm.domain.query import QueryError

_TOKEN_RE = re.compile(r'"[^"]*"?\*?|\S+')
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_MAX_TERMS = 32
_MAX_ROUNDS = 6


@dataclass(frozen=True, slots=True)
class SearchPage:
    ticket_ids: list[int]
    next_before: int | None  # pass as `before` for the next page; None when exhausted


def build_fts_query(text: str) -> str:
    """Translate what the user typed into a safe FTS5 MATCH expression."""
    parts: list[str] = []
    expect_term = True
    terms = 0
    for token in _TOKEN_RE.findall(text.strip()):
        if token in _OPERATORS:
            if expect_term:
                raise QueryError(f"'{token}' needs a word before and after it")
            parts.append(token)
            expect_term = True
            continue
        prefix = token.endswith("*")
        word = token.rstrip("*")
        if word.startswith('"'):
            word = word[1:-1] if word.endswith('"') and len(word) > 1 else word[1:]
        word = word.strip()
        if not word:
            continue
        if not expect_term:
            parts.append("AND")
        parts.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
        expect_term = False
        terms += 1
        if terms > _MAX_TERMS:
            raise QueryError(f"too many search words (at most {_MAX_TERMS})")
    if not parts:
        raise QueryError("type at least one word to search for")
    if expect_term:
        raise QueryError(f"'{parts[-1]}' needs a word after it")
    return " ".join(parts)


def search_tickets(
    conn: sqlite3.Connection, text: str, *, limit: int = 50, before: int | None = None
) -> SearchPage:
    """Tickets whose messages match `text`, newest matching message first."""
    expression = build_fts_query(text)
    seen: dict[int, None] = {}
    cursor = before
    batch = max(limit * 2, 100)
    try:
        for _ in range(_MAX_ROUNDS):
            if cursor is None:
                rows = conn.execute(
                    "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                    (expression, batch),
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? AND rowid < ? "
                    "ORDER BY rowid DESC LIMIT ?",
                    (expression, cursor, batch),
                ).fetchall()
            if not rows:
                return SearchPage(list(seen), None)
            message_ids = [r[0] for r in rows]
            marks = ",".join("?" * len(message_ids))
            owners = dict(conn.execute(f"SELECT id, ticket_id FROM messages WHERE id IN ({marks})", message_ids))
            for message_id in message_ids:
                ticket_id = owners.get(message_id)
                if ticket_id is not None:
                    seen.setdefault(ticket_id, None)
                    if len(seen) >= limit:
                        return SearchPage(list(seen), message_id)
            cursor = message_ids[-1]
            if len(rows) < batch:
                return SearchPage(list(seen), None)
    except sqlite3.OperationalError as exc:
        raise QueryError(f"search failed: {exc}") from None
    return SearchPage(list(seen), cursor)
