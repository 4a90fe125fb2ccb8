"""Full-text search through the search language: every query class finds what it should,
newest activity first, and user text never becomes FTS5 or SQL syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskterm.domain.query import QueryError, parse_query
from deskterm.store.db import Store
from deskterm.store.query import QueryResult, run_query
from tests.conftest import FROZEN_NOW


def search_tickets(conn, text: str, *, limit: int = 50) -> QueryResult:  # type: ignore[no-untyped-def]
    return run_query(conn, parse_query(text, now=FROZEN_NOW), now=int(FROZEN_NOW), limit=limit)


@pytest.fixture
def conn(demo_store: Path):  # type: ignore[no-untyped-def]
    store = Store.open(demo_store, create=False)
    yield store.conn
    store.close()


def _ticket_texts(conn, ids: list[int]) -> list[str]:  # type: ignore[no-untyped-def]
    return [" ".join(r[0] for r in conn.execute(
        "SELECT subject || ' ' || body_text || ' ' || sender_name || ' ' || sender_addr FROM messages "
        "WHERE ticket_id = ?", (i,))).lower() for i in ids]


def test_word_prefix_phrase_and_and(conn) -> None:  # type: ignore[no-untyped-def]
    for query, check in [
        ("rechnung", lambda t: "rechnung" in t),
        ("bestell*", lambda t: "bestell" in t),
        ('"nicht angekommen"', lambda t: "nicht angekommen" in t),
        ("paket AND dhl", lambda t: "paket" in t and "dhl" in t),
        ("beschädigt", lambda t: "beschädigt" in t or "beschadigt" in t),
        ("größe OR spülmaschinenfest", lambda t: "spülmaschinenfest" in t or "größe" in t),
    ]:
        page = search_tickets(conn, query, limit=20)
        assert page.ticket_ids, query
        assert all(check(t) for t in _ticket_texts(conn, page.ticket_ids)), query


def test_order_number_and_sender_find_their_ticket(conn) -> None:  # type: ignore[no-untyped-def]
    ticket_id, order_ref = conn.execute(
        "SELECT t.id, t.order_ref FROM tickets t JOIN messages m ON m.ticket_id = t.id "
        "WHERE t.channel = 'amazon' AND m.body_text LIKE '%' || t.order_ref || '%' LIMIT 1").fetchone()
    assert ticket_id in search_tickets(conn, order_ref).ticket_ids
    alias = conn.execute("SELECT sender_addr FROM messages WHERE sender_addr LIKE '%@marketplace.amazon.de' "
                         "LIMIT 1").fetchone()[0]
    assert search_tickets(conn, alias).ticket_ids


def test_results_are_newest_first_and_cut_at_the_limit(conn) -> None:  # type: ignore[no-untyped-def]
    first = search_tickets(conn, "bestellung", limit=5)
    assert len(first.ticket_ids) == 5 and first.more
    every = search_tickets(conn, "bestellung", limit=1000)
    assert not every.more and len(every.ticket_ids) > 5
    activity = [conn.execute("SELECT last_message_at, id FROM tickets WHERE id = ?", (i,)).fetchone()
                for i in every.ticket_ids]
    assert activity == sorted(activity, reverse=True)


@pytest.mark.parametrize("query", ['"', "*", "AND", "paket OR", "NOT", "   "])
def test_bad_queries_get_a_clear_error(conn, query: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError):
        search_tickets(conn, query)


@pytest.mark.parametrize("query", ['"a:b"', "(paket", "paket)", "NEAR(a b)", "^paket", "x\"y", "[bold]x[/]", "-paket",
                                   "'; DROP TABLE tickets; --", "from:\"o'brien\""])
def test_fts_and_sql_syntax_in_user_text_is_taken_literally(conn, query: str) -> None:  # type: ignore[no-untyped-def]
    search_tickets(conn, query)  # no sqlite error
    parsed = parse_query(query, now=FROZEN_NOW)
    assert all(part.startswith('"') or part in ("AND", "OR", "NOT") for part in parsed.words.split(" ") if part)
    assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] > 0


def test_an_unknown_filter_says_how_to_search_for_the_text(conn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match='als Text suchen: "a:b"'):
        search_tickets(conn, "a:b")
