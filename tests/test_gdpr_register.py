"""The GDPR register: flags from buyer text, due dates and extensions, consent, retention, the screen."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskterm.cli import build_app
from deskterm.config import Config, UiConfig
from deskterm.domain.gdpr_requests import _PATTERNS, RequestKind, add_months, detect_request
from deskterm.domain.retention import RetentionPolicy
from deskterm.model import Batch, Channel, CustomerRecord, Direction, IdentityRef, MessageRecord, OrderRecord, TicketRecord
from deskterm.paths import Locations
from deskterm.screens.gdpr import GdprScreen
from deskterm.store.audit import verify_audit
from deskterm.store.db import Store
from deskterm.store.gdpr import erase_person, plan_erasure
from deskterm.store.gdpr_register import (
    RegisterError,
    close_request,
    extend_request,
    has_consent,
    open_flags,
    open_requests,
    plan_retention,
    record_consent,
    register_from_flag,
    reminders,
    run_retention,
    verify_requester,
    withdraw_consent,
)
from deskterm.store.sync_writes import apply_batch, ensure_account
from tests.conftest import ANCHOR, FROZEN_NOW

NOW = int(ANCHOR.timestamp())
DAY = 86_400


@pytest.mark.parametrize(("text", "kind"), [
    ("Hiermit verlange ich Auskunft nach Art. 15 DSGVO.", RequestKind.ACCESS),
    ("Welche Daten speichern Sie über mich? Auskunft über alle meine Daten bitte", RequestKind.ACCESS),
    ("Bitte um Löschung meiner Daten.", RequestKind.ERASURE),
    ("löschen Sie bitte alle meine persönlichen Daten", RequestKind.ERASURE),
    ("Please delete my data and close my account.", RequestKind.ERASURE),
    ("I'd like a copy of my personal data (subject access request).", RequestKind.ACCESS),
    ("Ich möchte mein Recht auf Datenübertragbarkeit nutzen", RequestKind.PORTABILITY),
    ("Ich widerspreche der Verarbeitung meiner Daten für Werbung", RequestKind.OBJECTION),
])
def test_requests_in_buyer_text_are_recognised(text: str, kind: RequestKind) -> None:
    found = detect_request(text)
    assert found is not None and found.kind == kind


@pytest.mark.parametrize("text", ["Wo ist mein Paket?", "Das Smart 15 Zoll Tablet", "Artikel 17 im Katalog",
                                  "Bitte löschen Sie meine Bestellung"])
def test_ordinary_messages_are_not_flagged(text: str) -> None:
    assert detect_request(text) is None


@given(st.lists(st.sampled_from(["Art. 17", "art 15", "löschen", "Lösung", "meine", "alle", "Daten", "data", "my",
                                  "delete", "erase", "account", "information", "personal", "Auskunft", "über",
                                  "welche", "mir", "Widerspruch", "widerspreche", "der", "Verarbeitung", "object",
                                  "to", "processing", "copy", "of", "Paket", "Bestellung", "Recht", "auf", "vergessen",
                                  "right", "be", "forgotten", "Datenübertragbarkeit", "access", "request", "zu"]),
                max_size=12))
def test_the_cheap_first_pass_never_hides_a_request(words: list[str]) -> None:
    text = " ".join(words)
    slow = next(((kind, p.search(text).group(0)) for kind, p in _PATTERNS if p.search(text)), None)  # type: ignore[union-attr]
    fast = detect_request(text)
    assert (fast.kind, fast.phrase) == slow if fast else slow is None


def test_due_dates_follow_calendar_months() -> None:
    jan31 = int(datetime(2026, 1, 31, 12, tzinfo=timezone.utc).timestamp())
    assert datetime.fromtimestamp(add_months(jan31, 1), timezone.utc).date().isoformat() == "2026-02-28"
    assert datetime.fromtimestamp(add_months(jan31, 3), timezone.utc).date().isoformat() == "2026-04-30"


def _store_with_request(path: Path) -> Store:
    who = IdentityRef("email", "erika@gmx.de")
    batch = Batch(cursor="1", customers=[CustomerRecord(who, "Erika")],
                  orders=[OrderRecord("LH-1", "LH-1", who, "delivered", ANCHOR - timedelta(days=9 * 365), 990,
                                      payment_status="paid")],
                  tickets=[TicketRecord("t1", Channel.EMAIL, who, "Datenschutz", ANCHOR)],
                  messages=[MessageRecord("m1", "t1", Direction.IN, "Erika", who.value, ANCHOR, "Datenschutz",
                                          "Hallo, hiermit verlange ich Auskunft nach Art. 15 DSGVO. Erika")])
    store = Store.open(path)
    apply_batch(store, ensure_account(store, "mail", "email", "Mail", now=0), "s", batch, now=NOW)
    return store


def test_flag_register_extend_verify_close(tmp_path: Path) -> None:
    store = _store_with_request(tmp_path / "s.sqlite3")
    conn = store.conn
    flags = open_flags(conn)
    assert [(f.kind, f.phrase) for f in flags] == [("access", "Auskunft nach Art. 15")]
    assert reminders(conn, NOW) == (0, 0, 1)
    with store.transaction() as tx:
        request_id = register_from_flag(tx, flags[0].ticket_id, now=NOW, actor="jana")
    request = open_requests(conn)[0]
    assert request.id == request_id and request.due_at == add_months(NOW, 1) and request.customer_id is not None
    assert reminders(conn, NOW + 25 * DAY) == (1, 0, 0)
    assert reminders(conn, NOW + 40 * DAY) == (0, 1, 0)
    with pytest.raises(RegisterError, match="reason"), store.transaction() as tx:
        extend_request(tx, request_id, "  ", now=NOW, actor="jana")
    with store.transaction() as tx:
        assert extend_request(tx, request_id, "drei Marktplätze", now=NOW + DAY, actor="jana") == add_months(NOW, 3)
    with pytest.raises(RegisterError, match="verify"), store.transaction() as tx:
        close_request(tx, request_id, done=True, now=NOW, actor="jana")
    with store.transaction() as tx:
        verify_requester(tx, request_id, verified=True, evidence="Bestellnummer + PLZ", now=NOW, actor="jana")
        close_request(tx, request_id, done=True, now=NOW + 2 * DAY, actor="jana")
    assert open_requests(conn) == []
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["gdpr.request_registered", "gdpr.request_extended", "gdpr.requester_verified",
                       "gdpr.request_done"]
    assert verify_audit(conn).ok
    store.close()


def test_consent_is_recorded_checked_and_withdrawn(tmp_path: Path) -> None:
    store = _store_with_request(tmp_path / "s.sqlite3")
    customer = store.conn.execute("SELECT id FROM customers").fetchone()[0]
    assert not has_consent(store.conn, customer, "feedback")
    with store.transaction() as tx:
        record_consent(tx, customer, purpose="feedback", text="Dürfen wir Sie um eine Bewertung bitten?", version="2",
                       channel="email", evidence="message m1", now=NOW, actor="jana")
    assert has_consent(store.conn, customer, "feedback") and not has_consent(store.conn, customer, "marketing")
    with store.transaction() as tx:
        assert withdraw_consent(tx, customer, "feedback", now=NOW + 1, actor="jana") == 1
    assert not has_consent(store.conn, customer, "feedback")
    store.close()


def test_retention_deletes_held_orders_after_their_period_and_old_resolved_tickets(tmp_path: Path) -> None:
    store = _store_with_request(tmp_path / "s.sqlite3")
    customer = store.conn.execute("SELECT id FROM customers").fetchone()[0]
    with store.transaction() as tx:
        erase_person(tx, plan_erasure(tx, customer), now=NOW, actor="admin")
    policy = RetentionPolicy(invoice_years=8, ticket_years=6)
    held = store.conn.execute("SELECT delete_after FROM orders").fetchone()[0]
    assert plan_retention(store.conn, held - 1, policy).expired_orders == []
    plan = plan_retention(store.conn, held, policy)
    assert len(plan.expired_orders) == 1
    with store.transaction() as tx:
        assert run_retention(tx, plan, now=held, actor="admin")["restricted_orders_past_delete_after"] == 1
    assert store.conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
    assert store.conn.execute("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0] == "gdpr.retention_run"
    store.close()


async def test_gdpr_screen_from_flag_to_erasure(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    _store_with_request(path).close()
    where = Locations(tmp_path / "data", tmp_path / "config", tmp_path / "state")
    app = build_app(store=Store.open(path, create=False), profile="t", config=Config(ui=UiConfig(agent="jana")),
                    where=where, clock=lambda: FROZEN_NOW, poll_seconds=3600)

    async def until(pilot, predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline
            await pilot.pause(0.05)

    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("D")
        screen = app.screen
        assert isinstance(screen, GdprScreen) and len(screen.items) == 1 and screen.items[0].flag
        detail = lambda: str(screen.query_one("#gdpr-detail-body").render())  # noqa: E731
        await until(pilot, lambda: "Gespeichert zu Kunde" in detail())
        await pilot.press("a")
        await until(pilot, lambda: bool(screen.items) and screen.items[0].request is not None)
        await pilot.press("v", *"Bestellnummer bestaetigt", "enter")
        await until(pilot, lambda: screen.items[0].request.verification == "verified")
        await pilot.press("x")
        await pilot.press("enter")  # accept the suggested path
        await until(pilot, lambda: "Export geschrieben" in detail())
        assert list((tmp_path / "data" / "exports").glob("*.zip"))
        await pilot.press("E")
        assert "Vorschau" in detail() and "bis 01.01.20" in detail()
        await pilot.press("y")
        await until(pilot, lambda: "Gelöscht" in detail())
        assert not list((tmp_path / "data" / "exports").glob("*.zip")), "the export goes with the erasure"
    with Store.open(path, create=False) as store:
        assert store.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 0
        assert store.conn.execute("SELECT count(*) FROM orders WHERE restricted_reason IS NOT NULL").fetchone()[0] == 1
        assert verify_audit(store.conn).ok


async def test_a_request_can_be_registered_from_any_ticket_via_the_palette(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    _store_with_request(path).close()
    app = build_app(store=Store.open(path, create=False), profile="t", config=Config(ui=UiConfig(agent="jana")),
                    where=Locations(tmp_path / "d", tmp_path / "c", tmp_path / "s"), clock=lambda: FROZEN_NOW,
                    poll_seconds=3600)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["DSGVO-Anfrage anlegen: Berichtigung (Art. 16)"].callback()
        deadline = time.monotonic() + 5
        while not open_requests(app.store.conn):  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
    with Store.open(path, create=False) as store:
        request = open_requests(store.conn)[0]
        assert request.kind == "rectification" and request.ticket_id is not None and request.customer_id is not None
        assert request.due_at == add_months(int(FROZEN_NOW), 1)
