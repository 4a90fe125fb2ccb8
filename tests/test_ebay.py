"""eBay: OAuth, Message API and Sell Fulfillment against the sandbox over loopback, and the
sandbox against eBay's published models."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.ebay import SELLER, EbaySandbox
from deskterm.sources.base import OutgoingReply, SourceError
from deskterm.sources.ebay import EbaySource, cents
from deskterm.sources.engine import SyncEngine
from deskterm.sources.outbox_sender import deliver_if_due
from deskterm.sources.registry import sources_for_store
from deskterm.store.db import Store
from deskterm.store.replies import queue_reply
from deskterm.store.sync_writes import ensure_account
from tests.conftest import ANCHOR
from tests.helpers.contracts import validate

MESSAGE_SPEC, ORDER_SPEC = "ebay-commerce-message-v1.json", "ebay-sell-fulfillment-v1.json"


@pytest.fixture
def sandbox() -> Iterator[EbaySandbox]:
    with EbaySandbox(DemoWorld(anchor=ANCHOR, tickets=300)) as server:
        yield server  # type: ignore[misc]


def _source(sandbox: EbaySandbox, *, page_size: int = 10, refresh: str = "demo-refresh",
            sleeps: list[float] | None = None) -> EbaySource:
    return EbaySource("ebay-de", "eBay.de", base_url=sandbox.base_url, client_id=sandbox.client_id,
                      client_secret=sandbox.client_secret, refresh_token=refresh, seller=SELLER, page_size=page_size,
                      sleep=(sleeps.append if sleeps is not None else time.sleep))


def _counts(path: Path) -> tuple[int, int, int]:
    with Store.open(path, create=False) as store:
        return tuple(store.conn.execute(  # type: ignore[return-value]
            "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages), (SELECT count(*) FROM orders)"
        ).fetchone())


def test_full_sync_in_pages_then_incremental(sandbox: EbaySandbox, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    source = _source(sandbox)
    messages = sum(len(c.messages) for c in sandbox.conversations.values())
    assert len(sandbox.conversations) > 30 and len(sandbox.orders) > 20
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None
    assert _counts(path) == (len(sandbox.conversations), messages, len(sandbox.orders))
    assert len(sandbox.requests_to("GET", "/commerce/message/v1/conversation")) >= 4
    assert len(sandbox.requests_to("GET", "/sell/fulfillment/v1/order")) >= 3
    assert len(sandbox.requests_to("POST", "/identity/v1/oauth2/token")) == 1
    conversation = next(iter(sandbox.conversations))
    sandbox.add_buyer_message(conversation, "Wann wird verschickt?")
    before = len(sandbox.requests_to("GET", "/commerce/message/v1/conversation/{id}"))
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None and _counts(path)[1] == messages + 1
    fetched = len(sandbox.requests_to("GET", "/commerce/message/v1/conversation/{id}")) - before
    assert fetched <= 3, "only conversations with new messages (and the boundary) are read again"


def test_a_token_that_runs_out_mid_sync_is_replaced(sandbox: EbaySandbox, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    source = _source(sandbox, page_size=5)
    batch = source.pull("messages", None)
    sandbox.faults.expire_tokens = True
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None and batch.has_more
    assert len(sandbox.requests_to("POST", "/identity/v1/oauth2/token")) == 2
    assert _counts(path)[0] == len(sandbox.conversations)


def test_bad_credentials_and_429_and_5xx(sandbox: EbaySandbox, tmp_path: Path) -> None:
    [run] = SyncEngine(tmp_path / "a.sqlite3", [_source(sandbox, refresh="revoked")]).run_once()
    assert run.error is not None and "login refused" in run.error and "refresh token" in run.error
    sandbox.faults.rate_limited, sandbox.faults.retry_after = 1, 1
    started = time.monotonic()
    [run] = SyncEngine(tmp_path / "b.sqlite3", [_source(sandbox, page_size=50)]).run_once()
    assert run.error is None and time.monotonic() - started >= 1.0
    sleeps: list[float] = []
    failing = _source(sandbox, sleeps=sleeps)
    failing.api.auth.refresh(None)  # logged in; then the API itself fails
    sandbox.faults.server_errors = 100
    [run] = SyncEngine(tmp_path / "c.sqlite3", [failing]).run_once()
    assert run.error == "eBay: server error 500 after 5 tries; the next sync retries" and len(sleeps) == 4
    sandbox.faults.server_errors = 0
    sandbox.faults.fail_always = 500  # the token endpoint too: tried three times, then one line
    [run] = SyncEngine(tmp_path / "d.sqlite3", [_source(sandbox, sleeps=sleeps)]).run_once()
    assert run.error == "eBay: the token endpoint answered 500 (3 tries); the next sync retries"
    sandbox.faults.fail_always = 0


def test_malformed_json_writes_nothing(sandbox: EbaySandbox, tmp_path: Path) -> None:
    sandbox.faults.malformed = 1
    path = tmp_path / "s.sqlite3"
    [run] = SyncEngine(path, [_source(sandbox)]).run_once()
    assert run.error is not None and "not valid JSON" in run.error
    assert _counts(path) == (0, 0, 0)


def test_money_strings_become_integer_cents() -> None:
    assert cents({"value": "19.99", "currency": "EUR"}) == 1999
    assert cents({"value": "0.1", "currency": "EUR"}) == 10
    with pytest.raises(SourceError, match="not a number"):
        cents({"value": "neunzehn"})


def test_a_reply_reaches_ebay_once_is_stored_once_and_links_are_refused(sandbox: EbaySandbox, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Store.open(path) as store:
        ensure_account(store, "ebay-de", "ebay", "eBay.de", now=0, settings={
            "source": "ebay", "base_url": sandbox.base_url, "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret, "refresh_token": sandbox.refresh_token, "seller": SELLER})
        [source] = sources_for_store(store)
    SyncEngine(path, [source]).run_once()
    text = "Guten Tag, der Artikel geht heute mit DHL raus."
    with Store.open(path, create=False) as store:
        ticket_id = store.conn.execute("SELECT id FROM tickets WHERE awaiting_since IS NOT NULL ORDER BY id "
                                       "LIMIT 1").fetchone()[0]
        queue_reply(store, ticket_id, text, now=int(time.time()))
    report = deliver_if_due(path)
    assert report is not None and not report.failed
    posts = sandbox.requests_to("POST", "/commerce/message/v1/send_message")
    assert len(posts) == 1 and posts[0].json()["messageText"] == text
    [marked] = sandbox.requests_to("POST", "/commerce/message/v1/update_conversation")  # answered: read on eBay
    assert marked.json()["read"] is True
    SyncEngine(path, [source]).run_once()
    with Store.open(path, create=False) as store:
        copies = store.conn.execute("SELECT count(*) FROM messages WHERE ticket_id = ? AND body_text = ?",
                                    (ticket_id, text)).fetchone()[0]
    assert copies == 1
    with pytest.raises(SourceError, match="e-mail addresses or links"):
        _source(sandbox).send(OutgoingReply("ebay:C-000001", "m@x", "Schreiben Sie an info@shop.de", attempt=1))
    assert len(sandbox.requests_to("POST", "/commerce/message/v1/send_message")) == 1  # nothing sent


def test_every_sandbox_answer_fits_the_published_models(sandbox: EbaySandbox, tmp_path: Path) -> None:
    source = _source(sandbox, page_size=20)
    SyncEngine(tmp_path / "s.sqlite3", [source]).run_once()
    source.send(OutgoingReply(f"ebay:{next(iter(sandbox.conversations))}", "m@x", "Danke für Ihre Geduld.",
                              attempt=1))
    checked = 0
    for request in list(sandbox.log):
        if request.path.startswith("/identity"):
            continue
        spec = MESSAGE_SPEC if request.path.startswith("/commerce") else ORDER_SPEC
        replay = source.api.client.build_request(request.method, request.path, params=dict(request.query),
                                                 content=request.body or None)
        source.api.auth.apply(replay)
        answer = source.api.client.send(replay)
        assert 200 <= answer.status_code < 300, (request.path, answer.status_code)
        validate(spec, request.method, request.path, answer.status_code, answer.json() if answer.content else None)
        checked += 1
    assert checked > 5


def test_get_order_reads_one_order(sandbox: EbaySandbox) -> None:
    number = next(iter(sandbox.orders))
    source = _source(sandbox)
    record = source.get_order(number)
    assert record.number == number and record.total_cents == cents(sandbox.orders[number]["pricingSummary"]["total"])
    request = source.api.client.build_request("GET", f"/sell/fulfillment/v1/order/{number}")
    source.api.auth.apply(request)
    validate(ORDER_SPEC, "GET", f"/sell/fulfillment/v1/order/{number}", 200, source.api.client.send(request).json())
