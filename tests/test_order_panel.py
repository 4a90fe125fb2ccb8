"""The order panel and timeline, driven like a user, and their snapshots."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from deskterm.cli import build_app
from deskterm.config import Config, UiConfig
from deskterm.model import (
    Batch,
    Channel,
    CustomerRecord,
    Direction,
    IdentityRef,
    MessageRecord,
    OrderItemRecord,
    OrderRecord,
    ReturnRecord,
    ShipmentEventRecord,
    ShipmentRecord,
    TicketRecord,
)
from deskterm.paths import Locations
from deskterm.screens.ticket import TicketScreen
from deskterm.screens.timeline import TimelineScreen
from deskterm.store.db import Store
from deskterm.store.sync_writes import apply_batch, ensure_account
from deskterm.domain.format import euro, mask
from tests.conftest import ANCHOR, FROZEN_NOW

SIZE = (160, 48)
WHERE = Locations(Path("/nonexistent/data"), Path("/nonexistent/config"), Path("/nonexistent/state"))
AMAZON_BUYER = IdentityRef("amazon_relay", "k3j9x0m2p7q1w5e@marketplace.amazon.de")
KAUFLAND_BUYER = IdentityRef("kaufland_buyer", "KL700123")


def _amazon_in_transit() -> Batch:
    shipped = ANCHOR - timedelta(days=2)
    events = (ShipmentEventRecord(shipped, "pre-transit", "Die Sendung wurde elektronisch angekündigt.", "Dortmund"),
              ShipmentEventRecord(shipped + timedelta(hours=9), "transit",
                                  "Die Sendung wurde im Start-Paketzentrum bearbeitet.", "Dortmund"),
              ShipmentEventRecord(shipped + timedelta(hours=20), "transit",
                                  "Die Sendung wurde im Ziel-Paketzentrum bearbeitet.", "Neuss"))
    order = OrderRecord(
        "302-4796134-7773947", "302-4796134-7773947", AMAZON_BUYER, "shipped", ANCHOR - timedelta(days=3), 6488,
        payment_status="paid",
        ship_to={"name": "Sabine Hoffmann", "street": "Lindenstraße 12", "postcode": "40213", "city": "Düsseldorf",
                 "country": "DE"},
        items=(OrderItemRecord(1, "LH-TF-750", "Edelstahl Trinkflasche 750 ml, doppelwandig", 2, 2499),
               OrderItemRecord(2, "LH-SR-TW", "Spülbürsten-Set Buche, 3 Stück", 1, 990)),
        shipments=(ShipmentRecord("s1", "DHL", "00340434161234567890", "transit", shipped, events),),
        delivery_from=ANCHOR - timedelta(days=1), delivery_to=ANCHOR + timedelta(days=1),
    )
    ticket = TicketRecord("amz-1", Channel.AMAZON, AMAZON_BUYER, "Lieferstatus Bestellung 302-4796134-7773947",
                          ANCHOR - timedelta(hours=3), order_ref="302-4796134-7773947")
    message = MessageRecord("amz-1-m1", "amz-1", Direction.IN, "Sabine Hoffmann - Amazon Marketplace",
                            AMAZON_BUYER.value, ANCHOR - timedelta(hours=3), ticket.subject,
                            "Guten Tag,\n\nwo ist mein Paket? Laut Amazon sollte es gestern kommen.\n\nGruß\nSabine")
    return Batch(cursor="1", customers=[CustomerRecord(AMAZON_BUYER, "Sabine Hoffmann")], orders=[order],
                 tickets=[ticket], messages=[message])


def _kaufland_returning() -> Batch:
    ship_to = {"name": "Uwe Günther", "street": "Bergstraße 7", "postcode": "01067", "city": "Dresden",
               "country": "DE"}
    orders = [
        OrderRecord("MB7UWLD", "MB7UWLD", KAUFLAND_BUYER, "delivered", ANCHOR - timedelta(days=9), 4990,
                    payment_status="paid", ship_to=ship_to,
                    items=(OrderItemRecord(1, "LH-PF-28", "Gusseisen Pfanne 28 cm, vorgeeinbrannt", 1, 4990),),
                    returns=(ReturnRecord("r1", "eingegangen", ANCHOR - timedelta(days=1), "Beschichtung löst sich"),)),
        OrderRecord("MK2X9QA", "MK2X9QA", KAUFLAND_BUYER, "delivered", ANCHOR - timedelta(days=60), 2890,
                    payment_status="paid", ship_to=ship_to,
                    items=(OrderItemRecord(1, "LH-KM-12", "Keramik Müslischalen 4er-Set, salbeigrün", 1, 2890),)),
        OrderRecord("MZ4T7PL", "MZ4T7PL", KAUFLAND_BUYER, "delivered", ANCHOR - timedelta(days=200), 1790,
                    payment_status="paid", ship_to=ship_to,
                    items=(OrderItemRecord(1, "LH-KT-5", "Küchentücher Leinen 5er-Pack", 1, 1790),)),
    ]
    ticket = TicketRecord("kl-1", Channel.KAUFLAND, KAUFLAND_BUYER, "Reklamation Bestellung MB7UWLD",
                          ANCHOR - timedelta(hours=5), order_ref="MB7UWLD")
    message = MessageRecord("kl-1-m1", "kl-1", Direction.IN, "Uwe Günther", KAUFLAND_BUYER.value,
                            ANCHOR - timedelta(hours=5), ticket.subject,
                            "Die Pfanne ist zurückgeschickt, wann bekomme ich mein Geld?")
    return Batch(cursor="1", customers=[CustomerRecord(KAUFLAND_BUYER, "Uwe Günther")], orders=orders,
                 tickets=[ticket], messages=[message])


def _store(path: Path, batch: Batch, channel: Channel) -> Path:
    with Store.open(path) as store:
        account = ensure_account(store, str(channel), str(channel), channel.label + " Shop", now=0)
        apply_batch(store, account, "s", batch, now=int(ANCHOR.timestamp()))
    return path


def _app(path: Path):  # type: ignore[no-untyped-def]
    return build_app(store=Store.open(path, create=False), profile="panel", config=Config(ui=UiConfig(agent="jana")),
                     where=WHERE, clock=lambda: FROZEN_NOW, poll_seconds=3600)


def test_money_and_masking() -> None:
    assert euro(123456) == "1.234,56 €" and euro(5) == "0,05 €" and euro(-990) == "-9,90 €"
    assert mask("Lindenstraße 12") == "L" + "*" * 11 + " 12"


def test_snapshot_amazon_order_with_dhl_parcel_in_transit(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _store(tmp_path / "a.sqlite3", _amazon_in_transit(), Channel.AMAZON)
    assert snap_compare(_app(path), terminal_size=SIZE, press=["enter"])


def test_snapshot_returning_kaufland_customer_with_three_orders_and_a_return(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _store(tmp_path / "k.sqlite3", _kaufland_returning(), Channel.KAUFLAND)
    assert snap_compare(_app(path), terminal_size=SIZE, press=["enter"])


async def _wait(pilot, predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await pilot.pause(0.05)


async def test_panel_keys_reveal_cycle_toggle_and_timeline(tmp_path: Path) -> None:
    path = _store(tmp_path / "k.sqlite3", _kaufland_returning(), Channel.KAUFLAND)
    app = _app(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        body = lambda: str(screen.query_one("#order-panel-body").render())  # noqa: E731
        assert "Bestellung MB7UWLD (verknüpft)  1/3" in body()
        assert "Wiederkehrend · 3 Bestellungen · Umsatz 96,70 €" in body()
        assert "Retoure eingegangen" in body() and "B********* 7" in body() and "Bergstraße" not in body()
        await pilot.press("v")
        assert "Bergstraße 7" in body()
        await _wait(pilot, lambda: _audit(path) == [("jana", "order.address_revealed")])
        await pilot.press("right_square_bracket")
        assert "Bestellung MK2X9QA  2/3" in body()
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert "Bestellung MZ4T7PL  3/3" in body()
        await pilot.press("p")
        assert not screen.query_one("#order-panel").display
        await pilot.press("p")
        assert screen.query_one("#order-panel").display
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TimelineScreen) and len(app.screen.entries) == 1
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)


def _audit(path: Path) -> list[tuple[str, str]]:
    with Store.open(path, create=False) as store:
        return store.conn.execute("SELECT actor, action FROM audit_log ORDER BY id").fetchall()


async def test_merge_suggestion_accepted_and_undone_with_keys(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    amazon = _amazon_in_transit()
    ebay_buyer = IdentityRef("ebay_user", "sabine_hof")
    ebay_order = OrderRecord("12-34567-89012", "12-34567-89012", ebay_buyer, "delivered", ANCHOR - timedelta(days=30),
                             1990, ship_to={"name": "Sabine Hoffmann", "postcode": "40213", "city": "Düsseldorf"})
    ebay = Batch(cursor="1", customers=[CustomerRecord(ebay_buyer, "Sabine Hoffmann")], orders=[ebay_order],
                 tickets=[TicketRecord("e1", Channel.EBAY, ebay_buyer, "Frage", ANCHOR - timedelta(days=20))])
    _store(path, amazon, Channel.AMAZON)
    _store(path, ebay, Channel.EBAY)
    app = _app(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        body = lambda: str(screen.query_one("#order-panel-body").render())  # noqa: E731
        assert "Möglicherweise dieselbe Person: Sabine Hoffmann" in body()
        await pilot.press("m")
        await _wait(pilot, lambda: "Zusammengeführt" in body())
        assert "2 Bestellungen" in body() and "eBay" in body()
        await pilot.press("u")
        await _wait(pilot, lambda: "Zusammengeführt" not in body())
        assert "1 Bestellung " in body()
    assert [a for _, a in _audit(path)] == ["customer.merge", "customer.unmerge"]
