"""Zalando and OTTO: orders-only channels against their sandboxes over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.otto import OttoSandbox
from deskterm.sandbox.zalando import MERCHANT_ID, ZalandoSandbox
from deskterm.sources.base import OutgoingReply, SendNotSupported
from deskterm.sources.engine import SyncEngine
from deskterm.sources.otto import OttoSource
from deskterm.sources.zalando import ZalandoSource
from deskterm.store.db import Store
from tests.conftest import ANCHOR
from tests.helpers.contracts import validate

WORLD = DemoWorld(anchor=ANCHOR, tickets=400)


@pytest.fixture
def zalando() -> Iterator[ZalandoSandbox]:
    with ZalandoSandbox(WORLD, per_minute=600) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def otto() -> Iterator[OttoSandbox]:
    with OttoSandbox(WORLD) as server:
        yield server  # type: ignore[misc]


def _zalando(sandbox: ZalandoSandbox, *, page_size: int = 5, secret: str | None = None,
             sleeps: list[float] | None = None) -> ZalandoSource:
    return ZalandoSource("zalando-de", "Zalando", base_url=sandbox.base_url, merchant_id=MERCHANT_ID,
                         client_id=sandbox.client_id, client_secret=secret or sandbox.client_secret,
                         page_size=page_size, sleep=(sleeps.append if sleeps is not None else time.sleep))


def _otto(sandbox: OttoSandbox, *, page_size: int = 5, secret: str | None = None) -> OttoSource:
    return OttoSource("otto-de", "OTTO", base_url=sandbox.base_url, client_id=sandbox.client_id,
                      client_secret=secret or sandbox.client_secret, page_size=page_size, history_days=90,
                      clock=lambda: ANCHOR.timestamp())


def _orders(path: Path) -> dict[str, tuple[int, int]]:
    with Store.open(path, create=False) as store:
        return {r[0]: (r[1], r[2]) for r in store.conn.execute(
            "SELECT o.number, o.total_cents, (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) "
            "FROM orders o")}


def test_zalando_pages_includes_and_the_exclusive_high_water_mark(zalando: ZalandoSandbox, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    source = _zalando(zalando)
    assert len(zalando.orders) > 15
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None
    stored = _orders(path)
    assert len(stored) == len(zalando.orders)
    pages = zalando.requests_to("GET", "/merchants/{id}/orders")
    assert len(pages) >= 4 and {r.arg("page[number]") for r in pages} >= {"0", "1", "2"}
    for entry in zalando.orders.values():
        attributes = entry["order"]["attributes"]
        total = round((attributes["order_lines_price_amount"] + attributes["shipping_costs"]["amount"]) * 100)
        assert stored[attributes["order_number"]] == (total, len(entry["items"]))
    [run] = SyncEngine(path, [source]).run_once()  # nothing newer: last_updated_after is exclusive
    last = zalando.requests_to("GET", "/merchants/{id}/orders")[-1]
    assert run.error is None and last.arg("last_updated_after") and len(_orders(path)) == len(zalando.orders)


def test_zalando_429_retry_after_token_expiry_and_bad_credentials(zalando: ZalandoSandbox, tmp_path: Path) -> None:
    sleeps: list[float] = []
    source = _zalando(zalando, sleeps=sleeps)
    source.pull("orders", None)
    zalando.faults.rate_limited, zalando.faults.retry_after = 1, 3
    zalando.faults.expire_tokens = True
    [run] = SyncEngine(tmp_path / "s.sqlite3", [source]).run_once()
    assert run.error is None and sleeps == [3.0]
    assert len(zalando.requests_to("POST", "/auth/token")) == 2
    [run] = SyncEngine(tmp_path / "t.sqlite3", [_zalando(zalando, secret="wrong")]).run_once()
    assert run.error is not None and run.error.startswith("Zalando: login refused (401)")
    with pytest.raises(SendNotSupported):
        source.send(OutgoingReply("zalando:x", "m", "Hallo"))


def test_zalando_answers_fit_the_published_model(zalando: ZalandoSandbox, tmp_path: Path) -> None:
    source = _zalando(zalando, page_size=10)
    SyncEngine(tmp_path / "s.sqlite3", [source]).run_once()
    for request in list(zalando.log):
        if request.path == "/auth/token":
            continue
        replay = source.api.client.build_request("GET", request.path, params=request.query)
        source.api.auth.apply(replay)
        answer = source.api.client.send(replay)
        validate("zalando-orders-v1.yml", "GET", request.path.replace(MERCHANT_ID, "m"), answer.status_code,
                 answer.json())
    zalando.faults.rate_limited = 1
    limited = source.api.client.send(_authorized(source, f"/merchants/{MERCHANT_ID}/orders"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] and limited.headers["X-Flow-Id"]
    validate("zalando-orders-v1.yml", "GET", "/merchants/m/orders", 429, limited.json())


def _authorized(source, path: str):  # type: ignore[no-untyped-def]
    request = source.api.client.build_request("GET", path)
    source.api.auth.apply(request)
    return request


def test_otto_follows_next_links_keeps_cents_and_tracking(otto: OttoSandbox, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    source = _otto(otto)
    assert len(otto.orders) > 15
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None and len(_orders(path)) == len(otto.orders)
    pages = otto.requests_to("GET", "/v4/orders")
    assert len(pages) >= 4 and sum(1 for r in pages if r.arg("nextcursor")) >= 3
    with Store.open(path, create=False) as store:
        tracked = store.conn.execute("SELECT count(*) FROM shipments WHERE carrier = 'DHL'").fetchone()[0]
        sample = next(iter(otto.orders.values()))
        total = store.conn.execute("SELECT total_cents FROM orders WHERE number = ?",
                                   (sample["orderNumber"],)).fetchone()[0]
    expected = round(sum(p["itemValueGrossPrice"]["amount"] for p in sample["positionItems"]) * 100 +
                     sum(f["deliveryFeeAmount"]["amount"] for f in sample["initialDeliveryFees"]) * 100)
    assert tracked > 0 and total == expected
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is None and otto.requests_to("GET", "/v4/orders")[-1].arg("fromDate")
    [run] = SyncEngine(tmp_path / "t.sqlite3", [_otto(otto, secret="wrong")]).run_once()
    assert run.error is not None and run.error.startswith("OTTO: login refused (401)")


def test_otto_shipments_fit_the_published_model(otto: OttoSandbox) -> None:
    source = _otto(otto)
    answer = source.api.request("GET", "/v1/shipments", params={"limit": 5})
    validate("otto-shipments-v1.yml", "GET", "/v1/shipments", 200, answer.data)
    assert len(answer.data["resources"]) == 5 and answer.data["links"][0]["rel"] == "next"
