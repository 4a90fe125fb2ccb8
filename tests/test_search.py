"""Full-text search: every query class finds what it should, newest first, safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskterm.store.db import Store
from deskterm.store.search import QueryError, build_fts_query, search_tickets


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


def test_results_are_newest_first_and_page(conn) -> None:  # type: ignore[no-untyped-def]
    first = search_tickets(conn, "bestellung", limit=5)
    assert len(first.ticket_ids) == 5 and first.next_before is not None
    second = search_tickets(conn, "bestellung", limit=5, before=first.next_before)
    assert not set(first.ticket_ids) & set(second.ticket_ids)


@pytest.mark.parametrize("query", ['"', "*", "AND", "paket OR", "NOT", "   "])
def test_bad_queries_get_a_clear_error(conn, query: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError):
        search_tickets(conn, query)


@pytest.mark.parametrize("query", ["a:b", "(paket", "paket)", "NEAR(a b)", "^paket", "x\"y", "[bold]x[/]", "-paket"])
def test_fts_syntax_in_user_text_is_taken_literally(conn, query: str) -> None:  # type: ignore[no-untyped-def]
    search_tickets(conn, query)  # no sqlite error
    assert build_fts_query(query).startswith('"')
