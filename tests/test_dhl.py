"""DHL tracking: the client and the round against the sandbox, the sandbox against DHL's
published model, status changes on the order panel, unknown numbers and the quota."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.dhl import DhlSandbox
from deskterm.sources.dhl import DhlClient, track_due
from deskterm.store.db import Store
from deskterm.store.order_context import order_detail
from deskterm.store.tracking import REPOLL_SECONDS, UNKNOWN_RETRY_SECONDS, due_shipments, quota
from deskterm.widgets.order_panel import PanelData, panel_content
from tests.conftest import ANCHOR
from tests.helpers.contracts import validate

SPEC = "dhl-tracking-unified-v1.json"
NOW = ANCHOR.timestamp() + 3600


@pytest.fixture
def sandbox() -> Iterator[DhlSandbox]:
    with DhlSandbox(DemoWorld(anchor=ANCHOR, tickets=120), clock=lambda: NOW) as server:
        yield server  # type: ignore[misc]


def _open_dhl(path: Path) -> list[tuple[int, str, int]]:
    with Store.open(path, create=False) as store:
        return [tuple(r) for r in store.conn.execute(  # type: ignore[misc]
            "SELECT id, tracking_number, order_id FROM shipments WHERE carrier = 'DHL' AND status <> 'delivered' "
            "ORDER BY id")]


def test_answers_fit_the_published_model(sandbox: DhlSandbox) -> None:
    client = DhlClient(sandbox.base_url, sandbox.api_key)
    number = next(iter(sandbox.parcels))
    for tracking, status in ((number, 200), ("00340000000000000000", 404)):
        request = client.api.client.build_request("GET", "/track/shipments", params={"trackingNumber": tracking})
        client.api.auth.apply(request)
        answer = client.api.client.send(request)
        assert answer.status_code == status
        validate(SPEC, "GET", "/track/shipments", status, answer.json())


def test_a_status_change_reaches_the_order_panel_in_german(sandbox: DhlSandbox, demo_store: Path) -> None:
    open_parcels = _open_dhl(demo_store)
    assert open_parcels, "the demo store has DHL parcels on their way"
    shipment_id, number, order_id = open_parcels[0]
    client = DhlClient(sandbox.base_url, sandbox.api_key)
    with Store.open(demo_store, create=False) as store:
        first = track_due(store, client, now=lambda: NOW, sleep=lambda s: None, pace=0, limit=100)
    assert first.updated == len(open_parcels) and not first.errors
    sandbox.advance(number, "delivered", "Die Sendung wurde erfolgreich zugestellt.", "Regensburg")
    later = NOW + REPOLL_SECONDS + 1
    with Store.open(demo_store, create=False) as store:
        again = track_due(store, client, now=lambda: later, sleep=lambda s: None, pace=0, limit=100)
        detail = order_detail(store.conn, order_id)
    assert again.updated >= 1 and detail is not None
    text = panel_content(PanelData(order=detail)).plain
    assert "zugestellt" in text and "Die Sendung wurde erfolgreich zugestellt. (Regensburg)" in text


def test_an_unknown_number_is_a_visible_state_not_an_error(sandbox: DhlSandbox, demo_store: Path) -> None:
    shipment_id, number, order_id = _open_dhl(demo_store)[0]
    del sandbox.parcels[number]
    client = DhlClient(sandbox.base_url, sandbox.api_key)
    with Store.open(demo_store, create=False) as store:
        result = track_due(store, client, now=lambda: NOW, sleep=lambda s: None, pace=0)
        detail = order_detail(store.conn, order_id)
    assert result.unknown == 1 and not result.errors
    assert detail is not None and "DHL kennt die Nummer (noch) nicht" in panel_content(PanelData(order=detail)).plain
    with Store.open(demo_store, create=False) as store:  # asked again a day later, not with the others
        later = [s for s, _ in due_shipments(store.conn, int(NOW) + REPOLL_SECONDS + 1, 1000)]
        next_day = [s for s, _ in due_shipments(store.conn, int(NOW) + UNKNOWN_RETRY_SECONDS + 1, 1000)]
    assert shipment_id not in later and shipment_id in next_day


def test_the_quota_backs_off_without_a_storm_and_without_waiting(demo_store: Path) -> None:
    with DhlSandbox(DemoWorld(anchor=ANCHOR, tickets=120), daily_quota=3, clock=lambda: NOW) as sandbox:
        client = DhlClient(sandbox.base_url, sandbox.api_key)
        sleeps: list[float] = []
        started = time.monotonic()
        with Store.open(demo_store, create=False) as store:
            result = track_due(store, client, now=lambda: NOW, sleep=sleeps.append, pace=5.0)
            state = quota(store.conn, int(NOW))
        assert time.monotonic() - started < 2.0, "a 429 ends the round at once"
        assert result.updated == 3 and result.backoff_until > NOW and state.backoff_until == result.backoff_until
        assert sleeps == [5.0, 5.0, 5.0], "DHL's pace between calls"
        assert len(sandbox.log) == 4  # three answers and the one 429
        with Store.open(demo_store, create=False) as store:  # during the backoff: no request at all
            quiet = track_due(store, client, now=lambda: NOW + 60, sleep=sleeps.append, pace=5.0)
        assert quiet.asked == 0 and len(sandbox.log) == 4
        with Store.open(demo_store, create=False) as store:  # and the order panel says so
            order_id = store.conn.execute("SELECT order_id FROM shipments WHERE carrier = 'DHL' "
                                          "AND status <> 'delivered' LIMIT 1").fetchone()[0]
            detail = order_detail(store.conn, order_id, now=NOW + 60)
        assert detail is not None and "DHL-Tageskontingent aufgebraucht" in panel_content(PanelData(order=detail)).plain


def test_a_wrong_key_is_named(sandbox: DhlSandbox, demo_store: Path) -> None:
    client = DhlClient(sandbox.base_url, "wrong")
    with Store.open(demo_store, create=False) as store:
        result = track_due(store, client, now=lambda: NOW, sleep=lambda s: None, pace=0, limit=2)
    assert result.errors and result.errors[0] == "DHL: API key refused; check the DHL key in the keyring"
