"""Kaufland Seller API v2: the client against the sandbox over loopback, and the sandbox
against Kaufland's published model."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.kaufland import KauflandSandbox
from deskterm.sources.base import OutgoingReply, SourceError
from deskterm.sources.engine import SyncEngine
from deskterm.sources.kaufland import KauflandSource, sign
from deskterm.sources.outbox_sender import deliver_if_due
from deskterm.store.db import Store
from deskterm.store.replies import queue_reply
from deskterm.store.sync_writes import ensure_account
from deskterm.sources.registry import sources_for_store
from tests.conftest import ANCHOR
from tests.helpers.contracts import validate

SPEC = "kaufland-seller-api-v2.json"
CLIENT, SECRET = "c" * 32, "s" * 64


@pytest.fixture
def sandbox() -> Iterator[KauflandSandbox]:
    with KauflandSandbox(DemoWorld(anchor=ANCHOR, tickets=200), client_key=CLIENT, secret_key=SECRET) as server:
        yield server  # type: ignore[misc]


def _source(sandbox: KauflandSandbox, *, secret: str = SECRET, page_size: int = 10,
            sleeps: list[float] | None = None) -> KauflandSource:
    return KauflandSource("kaufland-de", "Kaufland.de", base_url=sandbox.base_url, client_key=CLIENT,
                          secret_key=secret, page_size=page_size,
                          sleep=(sleeps.append if sleeps is not None else time.sleep))


def _synced_account(sandbox: KauflandSandbox, path: Path) -> None:
    """A profile with the Kaufland account in its settings (as the app and CLI build it), synced
    (again, when it exists)."""
    with Store.open(path) as store:
        ensure_account(store, "kaufland-de", "kaufland", "Kaufland.de", now=0,
                       settings={"source": "kaufland", "base_url": sandbox.base_url, "client_key": CLIENT,
                                 "secret_key": SECRET})
        [source] = sources_for_store(store)
    SyncEngine(path, [source]).run_once()
    source.close()


def _counts(path: Path) -> tuple[int, int, int]:
    with Store.open(path, create=False) as store:
        return tuple(store.conn.execute(  # type: ignore[return-value]
            "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages), (SELECT count(*) FROM orders)"
        ).fetchone())


def test_the_signature_follows_the_documented_recipe() -> None:
    """An independent computation of the documented formula (method, URL, body, timestamp)."""
    url = "https://sellerapi.kaufland.com/v2/tickets/messages?limit=30&sort=ts_created_iso%3Aasc"
    expected = hmac.new(b"secret", f"GET\n{url}\n\n1700000000".encode(), hashlib.sha256).hexdigest()
    assert sign("secret", "GET", url, "", "1700000000") == expected


def test_full_sync_in_pages_then_incremental(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    source = _source(sandbox, page_size=10)
    messages = sum(len(t.messages) for t in sandbox.tickets.values())
    assert messages > 30, "at least three pages"
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None
    tickets, stored, orders = _counts(path)
    assert (tickets, stored) == (len(sandbox.tickets), messages) and orders > 0
    pages = sandbox.requests_to("GET", "/v2/tickets/messages")
    assert len(pages) >= 3 and all(r.arg("limit") == "10" for r in pages)
    # Nothing new: one request, nothing written.
    before = len(sandbox.log)
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None and len(sandbox.log) - before == 1 and _counts(path)[1] == messages
    # A buyer writes again: only that message (and its ticket) is fetched.
    ticket = next(iter(sandbox.tickets))
    sandbox.add_buyer_message(ticket, "Hallo, gibt es schon eine Sendungsnummer?")
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None and _counts(path)[1] == messages + 1
    with Store.open(path, create=False) as store:
        row = store.conn.execute("SELECT t.status, t.unread, t.subject, t.order_ref FROM tickets t "
                                 "WHERE t.external_id = ?", (f"kaufland:{ticket}",)).fetchone()
    assert row[1] == 1 and row[2]


def test_money_is_integer_cents_and_orders_carry_items(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SyncEngine(path, [_source(sandbox, page_size=50)]).run_once()
    unit = next(iter(sandbox.units.values()))
    with Store.open(path, create=False) as store:
        total, currency = store.conn.execute("SELECT total_cents, currency FROM orders WHERE number = ?",
                                             (unit["id_order"],)).fetchone()
        items = store.conn.execute("SELECT sum(quantity * unit_price_cents) FROM order_items WHERE order_id = "
                                   "(SELECT id FROM orders WHERE number = ?)", (unit["id_order"],)).fetchone()[0]
    units = [u for u in sandbox.units.values() if u["id_order"] == unit["id_order"]]
    assert isinstance(total, int) and currency == "EUR"
    assert items == sum(u["price"] for u in units)
    assert total == items + units[0]["shipping_rate"]


def test_429_waits_as_long_as_retry_after_says(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    sandbox.faults.rate_limited, sandbox.faults.retry_after = 2, 1
    started = time.monotonic()
    [run] = SyncEngine(tmp_path / "s.sqlite3", [_source(sandbox, page_size=100)]).run_once()
    assert run.error is None and time.monotonic() - started >= 2.0  # two waits of one second, really slept
    statuses = [r for r in sandbox.log if r.path == "/v2/tickets/messages"]
    assert len(statuses) >= 3


def test_server_errors_are_retried_then_reported(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    sleeps: list[float] = []
    sandbox.faults.server_errors = 2
    [run] = SyncEngine(tmp_path / "a.sqlite3", [_source(sandbox, sleeps=sleeps)]).run_once()
    assert run.error is None and len(sleeps) == 2 and sleeps[1] > sleeps[0]  # backed off, then went through
    sandbox.faults.server_errors = 100
    [run] = SyncEngine(tmp_path / "b.sqlite3", [_source(sandbox, sleeps=sleeps)]).run_once()
    assert run.error is not None and "server error 503 after 5 tries" in run.error and "\n" not in run.error
    assert _counts(tmp_path / "b.sqlite3") == (0, 0, 0)


def test_a_wrong_secret_is_named(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    [run] = SyncEngine(tmp_path / "s.sqlite3", [_source(sandbox, secret="x" * 64)]).run_once()
    assert run.error == "Kaufland: signature rejected, check the secret key"
    bad_key = KauflandSource("kaufland-de", "K", base_url=sandbox.base_url, client_key="wrong", secret_key=SECRET)
    [run] = SyncEngine(tmp_path / "s.sqlite3", [bad_key]).run_once()
    assert run.error == "Kaufland: client key unknown, check the client key"


def test_malformed_json_is_reported_and_nothing_is_written(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    source = _source(sandbox, page_size=10)
    SyncEngine(path, [source]).run_once()
    before = _counts(path)
    sandbox.add_buyer_message(next(iter(sandbox.tickets)), "Noch eine Frage")
    sandbox.faults.malformed = 1
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is not None and "not valid JSON; nothing was saved" in run.error
    assert _counts(path) == before
    [run] = SyncEngine(path, [source]).run_once()  # the next sync picks it up from the same cursor
    assert run.error is None and _counts(path)[1] == before[1] + 1


def test_a_reply_reaches_the_sandbox_once_and_is_stored_once(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    """Through the profile's own account settings, as the app and `deskterm sync` do."""
    path = tmp_path / "s.sqlite3"
    _synced_account(sandbox, path)
    with Store.open(path, create=False) as store:
        ticket_id, external = store.conn.execute(
            "SELECT id, external_id FROM tickets WHERE awaiting_since IS NOT NULL ORDER BY id LIMIT 1").fetchone()
        queue_reply(store, ticket_id, "Guten Tag, Ihr Paket ist unterwegs.", now=int(time.time()))
    report = deliver_if_due(path, clock=time.time)
    assert report is not None and not report.failed
    posts = sandbox.requests_to("POST", "/v2/tickets/{id}/messages")
    assert len(posts) == 1 and posts[0].json() == {"text": "Guten Tag, Ihr Paket ist unterwegs."}
    _synced_account(sandbox, path)  # the reply comes back as a seller message
    with Store.open(path, create=False) as store:
        copies = store.conn.execute("SELECT count(*), max(external_id) FROM messages WHERE ticket_id = ? "
                                    "AND body_text = ?", (ticket_id, "Guten Tag, Ihr Paket ist unterwegs.")).fetchone()
        awaiting = store.conn.execute("SELECT awaiting_since FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0]
    assert copies[0] == 1 and copies[1].startswith("kaufland-msg:")
    assert awaiting is None  # the clock stopped


def test_a_retried_reply_is_not_posted_twice(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    """After a crash between the POST and recording it, the retry finds the first try."""
    source = _source(sandbox)
    ticket = next(iter(sandbox.tickets))
    reply = OutgoingReply(f"kaufland:{ticket}", "m-1@deskterm", "Wir kümmern uns darum.", attempt=1,
                          queued_at=None)
    source.send(reply)
    retried = OutgoingReply(reply.ticket_external_id, reply.message_id, reply.body_text, attempt=2,
                            queued_at=None)
    source.send(retried)
    assert len(sandbox.requests_to("POST", "/v2/tickets/{id}/messages")) == 1


def test_every_sandbox_answer_fits_the_published_model(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    import httpx

    source = _source(sandbox, page_size=25)
    SyncEngine(tmp_path / "s.sqlite3", [source]).run_once()
    ticket = next(iter(sandbox.tickets))
    for path, params in [(f"/v2/tickets/{ticket}", {"embedded": "buyer,order_units,messages,product"}),
                         ("/v2/order-units", {"limit": "5"}), ("/v2/tickets/messages", {"limit": "100"}),
                         ("/v2/tickets/messages", {"limit": "1000"}), ("/v2/tickets/0019999999", {})]:
        answer = source.api.client.send(_signed(source, "GET", path, params))
        validate(SPEC, "GET", path, answer.status_code, answer.json())
    checked = 0
    for request in list(sandbox.log):  # and what the sync itself received, replayed
        replay = source.api.client.send(_signed(source, request.method, request.path, dict(request.query)))
        validate(SPEC, request.method, request.path, replay.status_code, replay.json())
        checked += 1
    assert checked > 3
    refused = httpx.get(sandbox.base_url + "/v2/tickets/messages", headers={"User-Agent": "x"})
    validate(SPEC, "GET", "/v2/tickets/messages", 401, refused.json())


def _signed(source: KauflandSource, method: str, path: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
    request = source.api.client.build_request(method, path, params=params)
    source.api.auth.apply(request)
    return request


def test_cursor_garbage_is_a_clear_error(sandbox: KauflandSandbox) -> None:
    with pytest.raises(SourceError, match="cursor .* is not readable"):
        _source(sandbox).pull("messages", "not json")


def test_resolving_a_kaufland_ticket_closes_it_there_once(sandbox: KauflandSandbox, tmp_path: Path) -> None:
    from deskterm.store import triage

    path = tmp_path / "s.sqlite3"
    _synced_account(sandbox, path)
    with Store.open(path, create=False) as store:
        first, second = [r[0] for r in store.conn.execute("SELECT id FROM tickets ORDER BY id LIMIT 2")]
        external = store.conn.execute("SELECT external_id FROM tickets WHERE id = ?", (first,)).fetchone()[0]
        with store.transaction() as conn:
            triage.set_status(conn, [first], "resolved", agent="jana", now=int(time.time()))
            triage.set_status(conn, [second], "resolved", agent="jana", now=int(time.time()))
            triage.undo_last(conn, agent="jana", now=int(time.time()))  # the second close is taken back
    deliver_if_due(path)
    deliver_if_due(path)
    closes = sandbox.requests_to("PATCH", "/v2/tickets/{id}/close")
    assert [r.path for r in closes] == [f"/v2/tickets/{external.removeprefix('kaufland:')}/close"]
    assert sandbox.tickets[external.removeprefix("kaufland:")].status == "seller_closed"
    with Store.open(path, create=False) as store:
        assert store.conn.execute("SELECT status FROM channel_actions").fetchall() == [("done",)]
