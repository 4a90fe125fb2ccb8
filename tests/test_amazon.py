"""Amazon SP-API: LWA, Orders 2026-01-01 and Messaging actions against the sandbox, the
sandbox against Amazon's published models, and the models' own examples through the parser."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskterm.sandbox.amazon import AmazonSandbox
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sources.amazon import AmazonSource, parse_actions, parse_order
from deskterm.sources.engine import SyncEngine
from deskterm.store.db import Store
from tests.conftest import ANCHOR
from tests.helpers.contracts import load_spec, validate

ORDERS_SPEC, MESSAGING_SPEC = "amazon-orders-2026-01-01.json", "amazon-messaging-v1.json"


@pytest.fixture
def sandbox() -> Iterator[AmazonSandbox]:
    # The world ends before "now", so every order is older than Amazon's two-minute limit.
    with AmazonSandbox(DemoWorld(anchor=ANCHOR, tickets=300)) as server:
        yield server  # type: ignore[misc]


def _source(sandbox: AmazonSandbox, *, page_size: int = 10, sleeps: list[float] | None = None,
            secret: str | None = None) -> AmazonSource:
    return AmazonSource("amazon-de", "Amazon.de", base_url=sandbox.base_url,
                        token_url=sandbox.base_url + "/auth/o2/token", client_id=sandbox.client_id,
                        client_secret=secret or sandbox.client_secret, refresh_token=sandbox.refresh_token,
                        page_size=page_size, history_days=90, sleep=(sleeps.append if sleeps is not None else time.sleep),
                        clock=lambda: ANCHOR.timestamp() + 86400)


def _orders(path: Path) -> int:
    with Store.open(path, create=False) as store:
        return int(store.conn.execute("SELECT count(*) FROM orders").fetchone()[0])


def test_full_sync_with_next_tokens_then_from_the_high_water_mark(sandbox: AmazonSandbox, tmp_path: Path) -> None:
    sandbox.clock = lambda: ANCHOR.timestamp() + 86400
    path = tmp_path / "s.sqlite3"
    source = _source(sandbox)
    assert len(sandbox.orders) > 30
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None and _orders(path) == len(sandbox.orders)
    searches = sandbox.requests_to("GET", "/orders/2026-01-01/orders")
    assert len(searches) >= 4 and sum(1 for r in searches if r.arg("paginationToken")) >= 3
    first = searches[0]
    assert first.arg("lastUpdatedAfter") and first.arg("marketplaceIds") == "A1PA6795UKMFR9"
    # The next sync starts at Amazon's lastUpdatedBefore (two minutes before its clock).
    [run] = SyncEngine(path, [source]).run_once()
    again = sandbox.requests_to("GET", "/orders/2026-01-01/orders")[-1]
    assert run.error is None and again.arg("lastUpdatedAfter") == "2026-12-05T09:28:00Z"
    with Store.open(path, create=False) as store:
        order = next(iter(sandbox.orders.values()))
        stored = store.conn.execute("SELECT total_cents FROM orders WHERE number = ?", (order["orderId"],)).fetchone()
        tracking = store.conn.execute("SELECT count(*) FROM shipments WHERE tracking_number <> ''").fetchone()[0]
    assert stored[0] == int(order["proceeds"]["grandTotal"]["amount"].replace(".", "")) and tracking > 0


def test_quota_exceeded_backs_off_and_a_dead_token_is_replaced(sandbox: AmazonSandbox, tmp_path: Path) -> None:
    sandbox.clock = lambda: ANCHOR.timestamp() + 86400
    sleeps: list[float] = []
    source = _source(sandbox, page_size=50, sleeps=sleeps)
    source.pull("orders", None)
    sandbox.faults.expire_tokens = True
    sandbox.faults.rate_limited = 2
    [run] = SyncEngine(tmp_path / "s.sqlite3", [source]).run_once()
    assert run.error is None and len(sleeps) == 2 and _orders(tmp_path / "s.sqlite3") == len(sandbox.orders)
    assert len(sandbox.requests_to("POST", "/auth/o2/token")) == 2
    [run] = SyncEngine(tmp_path / "t.sqlite3", [_source(sandbox, secret="wrong")]).run_once()
    assert run.error is not None and run.error.startswith("Amazon: login refused (401)")


def test_messaging_actions_are_offered_per_order(sandbox: AmazonSandbox) -> None:
    order_id = next(iter(sandbox.orders))
    actions = _source(sandbox).messaging_actions(order_id)
    assert ("unexpectedProblem", "Unerwartetes Problem melden") in actions and len(actions) == 3
    sandbox.actions = ("confirmDeliveryDetails",)
    assert _source(sandbox).messaging_actions(order_id) == [("confirmDeliveryDetails", "Lieferdetails bestätigen")]


def test_every_sandbox_answer_fits_the_published_models(sandbox: AmazonSandbox, tmp_path: Path) -> None:
    sandbox.clock = lambda: ANCHOR.timestamp() + 86400
    source = _source(sandbox, page_size=40)
    SyncEngine(tmp_path / "s.sqlite3", [source]).run_once()
    order_id = next(iter(sandbox.orders))
    client = source.api.client
    for path, params, spec in [(f"/orders/2026-01-01/orders/{order_id}", {}, ORDERS_SPEC),
                               ("/orders/2026-01-01/orders", {"lastUpdatedAfter": "2026-11-01T00:00:00Z",
                                                               "maxResultsPerPage": "5"}, ORDERS_SPEC),
                               ("/orders/2026-01-01/orders", {"lastUpdatedAfter": "2099-01-01T00:00:00Z"},
                                ORDERS_SPEC),
                               (f"/messaging/v1/orders/{order_id}", {"marketplaceIds": "A1PA6795UKMFR9"},
                                MESSAGING_SPEC)]:
        request = client.build_request("GET", path, params=params)
        source.api.auth.apply(request)
        answer = client.send(request)
        assert answer.headers.get("x-amzn-RequestId")
        validate(spec, "GET", path, answer.status_code, answer.json())


def test_the_models_own_examples_parse_with_the_client() -> None:
    spec = load_spec(ORDERS_SPEC)
    parsed = 0
    for path, item in spec["paths"].items():
        examples = item["get"]["responses"]["200"].get("examples", {}).get("application/json", {})
        for order in examples.get("orders", []) + ([examples["order"]] if "order" in examples else []):
            record = parse_order(order)
            assert record.number == order["orderId"] and record.items
            parsed += 1
    assert parsed >= 2
    messaging = load_spec(MESSAGING_SPEC)["paths"]["/messaging/v1/orders/{amazonOrderId}"]["get"]["responses"]["200"]
    example = parse_actions(messaging["examples"]["application/hal+json"])
    assert example == [("negativeFeedbackRemoval", "Bitte um Entfernung negativer Bewertung")]
    sandbox_cases = [case["response"] for case in messaging["x-amzn-api-sandbox"]["static"]]
    assert all(parse_actions(case) for case in sandbox_cases)


def test_typed_messages_are_checked_then_sent(sandbox: AmazonSandbox) -> None:
    from deskterm.sources.base import SourceError

    order_id = next(iter(sandbox.orders))
    source = _source(sandbox)
    with pytest.raises(SourceError, match="e-mail addresses"):
        source.send_typed_message(order_id, "unexpectedProblem", "Bitte an info@shop.de schreiben")
    with pytest.raises(SourceError, match="attachments"):
        source.send_typed_message(order_id, "sendInvoice", "Rechnung")
    assert sandbox.requests_to("POST", "/messaging/v1/orders/{id}/messages/{action}") == []  # nothing was sent
    source.send_typed_message(order_id, "confirmDeliveryDetails", "Ihr Paket kommt morgen zwischen 10 und 12 Uhr.")
    assert sandbox.sent_messages == [(order_id, "confirmDeliveryDetails",
                                      "Ihr Paket kommt morgen zwischen 10 und 12 Uhr.")]
    sandbox.actions = ("unexpectedProblem",)  # no longer permitted: Amazon refuses, one line
    with pytest.raises(SourceError, match="Amazon: access denied"):
        source.send_typed_message(order_id, "confirmDeliveryDetails", "Noch einmal")


async def test_the_ticket_screen_offers_amazons_permitted_messages(tmp_path: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    from deskterm.cli import build_app
    from deskterm.config import Config
    from deskterm.sandbox import runtime
    from deskterm.screens.pickers import ChoiceScreen, PromptScreen
    from deskterm.screens.ticket import TicketScreen
    from deskterm.sources.registry import register_demo_accounts, sources_for_store
    from tests.test_app import wait_for

    runtime.stop_all()
    path = tmp_path / "demo.sqlite3"
    try:
        with Store.open(path) as store:
            register_demo_accounts(store, anchor=ANCHOR, tickets=80, marketplaces=True)
            SyncEngine(path, sources_for_store(store)).run_once()
            ticket_id = store.conn.execute(
                "SELECT t.id FROM tickets t JOIN orders o ON o.id = t.order_id WHERE o.external_id LIKE 'amazon:%' "
                "ORDER BY t.id LIMIT 1").fetchone()[0]
            settings = json.loads(store.conn.execute("SELECT settings FROM accounts WHERE key = 'amazon-orders'"
                                                     ).fetchone()[0])
        server = runtime.sandbox_for("amazon", settings)
        app = build_app(store=Store.open(path, create=False), profile="demo", config=Config(), where=isolated_home,
                        clock=time.time)
        async with app.run_test(size=(160, 48)) as pilot:
            app.open_ticket(ticket_id)
            await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
            await pilot.press("1")
            await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
            await pilot.press(*"Ihr Paket kommt morgen.", "enter")
            await wait_for(pilot, lambda: bool(server.sent_messages))  # type: ignore[attr-defined]
            await wait_for(pilot, lambda: any("Amazon-Nachricht" in m.body_text
                                              for m in app.screen.messages))  # type: ignore[attr-defined]
        assert server.sent_messages[0][2] == "Ihr Paket kommt morgen."  # type: ignore[attr-defined]
    finally:
        runtime.stop_all()


def test_get_order_fetches_one_order_with_its_data(sandbox: AmazonSandbox) -> None:
    order_id = next(iter(sandbox.orders))
    record = _source(sandbox).get_order(order_id)
    assert record.number == order_id and record.items and record.customer is not None
    assert sandbox.requests_to("GET", "/orders/2026-01-01/orders/{id}")[0].arg("includedData") == \
        "BUYER,RECIPIENT,FULFILLMENT,PACKAGES,PROCEEDS"
