"""Snapshots of every screen (clock frozen, cursor blink off). Update with --snapshot-update."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from deskterm.cli import build_app
from deskterm.config import Config
from deskterm.paths import Locations
from deskterm.store.db import Store
from tests.conftest import FROZEN_NOW

SIZE = (160, 48)


FIXED_WHERE = Locations(Path("/home/agent/.local/share/deskterm"), Path("/home/agent/.config/deskterm"),
                        Path("/home/agent/.local/state/deskterm"))  # fixed: some screens show these paths


def _app(store_path: Path | None, where):  # type: ignore[no-untyped-def]
    where = where or FIXED_WHERE
    store = Store.open(store_path, create=False) if store_path else None
    return build_app(store=store, profile="demo" if store else None, config=Config(), where=where,
                     clock=lambda: FROZEN_NOW, poll_seconds=3600)


async def _no_blink(pilot) -> None:  # type: ignore[no-untyped-def]
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


def test_inbox(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, press=["j", "j"])


def test_ticket(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, press=["j", "j", "enter"])


def test_ticket_with_quotes(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    app = _app(demo_store, isolated_home)
    with Store.open(demo_store, create=False) as store:
        position = store.conn.execute(
            "SELECT count(*) FROM tickets WHERE (last_message_at, id) > (SELECT last_message_at, id FROM tickets "
            "WHERE id = (SELECT ticket_id FROM messages WHERE body_quoted <> '' ORDER BY id LIMIT 1))").fetchone()[0]
    assert snap_compare(app, terminal_size=SIZE, press=["6", *(["j"] * position), "enter", "z"])


def test_search(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    async def search(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("slash", *"rücksendung", "enter")
        for _ in range(100):
            if pilot.app.screen.search_query:
                break
            await pilot.pause(0.02)
        await _no_blink(pilot)

    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, run_before=search)


def test_help(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, press=["question_mark"])


def test_welcome(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(None, FIXED_WHERE), terminal_size=SIZE, press=["a"])


def test_gdpr_centre(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_gdpr_register import _store_with_request

    _store_with_request(tmp_path / "g.sqlite3").close()

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("D")
        for _ in range(100):
            if "Gespeichert zu Kunde" in str(pilot.app.screen.query_one("#gdpr-detail-body").render()):
                break
            await pilot.pause(0.02)
        await _no_blink(pilot)

    assert snap_compare(_app(tmp_path / "g.sqlite3", None), terminal_size=SIZE, run_before=settle)


def test_timeline(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, press=["enter", "t"])


def test_accounts(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    async def open_form(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("A", "a")
        await _no_blink(pilot)

    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, run_before=open_form)


def test_mail_ticket_with_failed_reply_and_large_mail(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Amazon relay mail on its marketplace channel, a reply that failed, a header-only mail."""
    from deskterm.model import Batch, MailLocation
    from deskterm.sources.mail.records import mail_record
    from deskterm.store.outbox import queue_mail_reply
    from deskterm.store.sync_writes import apply_batch, ensure_account
    from tests.test_mail_relay import AMAZON_DE, AMAZON_EN

    path = tmp_path / "m.sqlite3"
    with Store.open(path) as store:
        settings = {"source": "imap", "imap": {"host": "127.0.0.1", "port": 9, "security": "tls",  # never reached
                                               "user": "service", "password_ref": "keyring:deskterm/mail:imap"}}
        account = ensure_account(store, "mail", "email", "Shop-Postfach", settings=settings, now=0)
        own = ("service@lindenhof.example",)
        records = [mail_record(AMAZON_EN, own_addresses=own, location=MailLocation("INBOX", 1, 1)),
                   mail_record(AMAZON_DE, own_addresses=own, location=MailLocation("INBOX", 1, 2),
                               partial_size=31_000_000)]
        apply_batch(store, account, "INBOX", Batch(cursor="1", mails=records), now=int(FROZEN_NOW))
        ticket = store.conn.execute("SELECT id FROM tickets").fetchone()[0]
        row = queue_mail_reply(store, ticket, "Guten Tag Frau Hoffmann,\nwir prüfen die Sendung.",
                               from_addr=own[0], from_name="Lindenhof", now=int(FROZEN_NOW))
        store.conn.execute("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?",
                           ("SMTP mail.lindenhof.example: 554 5.7.1 sender address rejected", row.id))
    assert snap_compare(_app(path, None), terminal_size=SIZE, press=["enter"])


def test_compose_with_template_and_gap(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The composer after inserting a template whose shipment is missing: the gap is marked."""
    from tests.test_compose import shop_store

    path = shop_store(tmp_path, 9, with_shipment=False)

    async def compose(pilot) -> None:  # type: ignore[no-untyped-def]
        from deskterm.screens.compose import ComposeScreen, TemplatePicker

        await pilot.press("enter", "r")
        for _ in range(200):
            if isinstance(pilot.app.screen, ComposeScreen) and pilot.app.screen.templates:
                break
            await pilot.pause(0.02)
        await pilot.press("colon", "colon")
        for _ in range(100):
            if isinstance(pilot.app.screen, TemplatePicker):
                break
            await pilot.pause(0.02)
        await pilot.press("w", "o", "enter")
        await pilot.pause(0.3)
        pilot.app.clear_notifications()
        for area in pilot.app.screen.query("TextArea"):
            area.cursor_blink = False
        await pilot.pause(0.1)

    assert snap_compare(_app(path, None), terminal_size=SIZE, run_before=compose)


def test_outbox(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from deskterm.store.outbox import queue_mail_reply
    from tests.test_compose import shop_store

    path = shop_store(tmp_path, 9)
    with Store.open(path) as store:
        ticket = store.conn.execute("SELECT id FROM tickets").fetchone()[0]
        first = queue_mail_reply(store, ticket, "Erste Antwort", from_addr="service@shop.example.test",
                                 now=int(FROZEN_NOW))
        queue_mail_reply(store, ticket, "Zweite Antwort", from_addr="service@shop.example.test", now=int(FROZEN_NOW))
        store.conn.execute("UPDATE outbox SET status = 'failed', attempts = 3, "
                           "last_error = 'SMTP mail.example: 550 5.1.1 mailbox unavailable' WHERE id = ?", (first.id,))
        store.conn.execute("UPDATE outbox SET next_attempt_at = ? WHERE id <> ?", (int(FROZEN_NOW) + 10**9, first.id))
    assert snap_compare(_app(path, None), terminal_size=SIZE, press=["O"])


def _triaged(store_path: Path) -> list[int]:
    """Two tickets snoozed, one urgent and assigned with tags, and Anna replying to it."""
    from deskterm.store import presence, triage

    now = int(FROZEN_NOW)
    with Store.open(store_path, create=False) as store, store.transaction() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM tickets WHERE status = 'open' AND sla_due_at IS NOT NULL "
                                          "ORDER BY sla_due_at, id LIMIT 4")]
        triage.set_status(conn, ids[2:4], "snoozed", agent="jana", now=now, snoozed_until=now + 3 * 3600)
        triage.set_priority(conn, ids[:1], 2, agent="jana", now=now)
        triage.set_priority(conn, ids[1:2], 1, agent="jana", now=now)
        triage.assign(conn, ids[:1], "Jana", agent="jana", now=now)
        triage.tag(conn, ids[:1], ["vip", "rückfrage"], agent="jana", now=now)
        presence.enter(conn, "Anna", ids[0], "replying", now)
    return ids


def test_triage_menu_over_marked_tickets(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    _triaged(demo_store)
    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, press=["x", "j", "x", "semicolon"])


def test_snoozed_view(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    _triaged(demo_store)

    async def snoozed(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("4")
        for _ in range(100):
            if pilot.app.screen.ticket_list.rows.total == 2:
                break
            await pilot.pause(0.02)

    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, run_before=snoozed)


def test_ticket_with_assignment_and_presence(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    _triaged(demo_store)
    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, press=["enter"])


def test_report(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    async def report(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("R")
        for _ in range(200):
            if "Erste Antwort" in str(pilot.app.screen.query_one("#report-body").render()):
                break
            await pilot.pause(0.02)

    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, run_before=report)


def _assisted_ticket_position(store_path: Path) -> int:
    """Run the assist pass (with the demo's routing) and find the first Amazon ticket with a
    DHL parcel: its position in view 6 (all tickets, newest first)."""
    from deskterm.domain.reply_rules import load_rules
    from deskterm.domain.templates import load_templates
    from deskterm.sandbox.demo_config import DEMO_ROUTES
    from deskterm.store.assist import AssistContext, active_model, run_assist
    from deskterm.domain.assist_policy import AssistSettings

    templates, _ = load_templates()
    context = AssistContext(AssistSettings(routes=DEMO_ROUTES), active_model(None), {t.key: t for t in templates},
                            "Jana", "Lindenhof Haushaltswaren", load_rules(None))
    with Store.open(store_path, create=False) as store:
        run_assist(store, context, now=int(FROZEN_NOW), limit=1000)
        ticket = store.conn.execute(
            "SELECT t.id FROM tickets t JOIN shipments s ON s.order_id = t.order_id JOIN ticket_assist a "
            "ON a.ticket_id = t.id WHERE t.channel = 'amazon' AND s.carrier = 'DHL' AND a.intent = "
            "'where_is_my_order' ORDER BY t.id LIMIT 1").fetchone()[0]
        return int(store.conn.execute(
            "SELECT count(*) FROM tickets WHERE (last_message_at, id) > (SELECT last_message_at, id FROM tickets "
            "WHERE id = ?)", (ticket,)).fetchone()[0])


def test_ticket_with_the_assists_reading(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    """The header's assist line: intent and the cues that decided, language, urgency, the draft."""
    position = _assisted_ticket_position(demo_store)
    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE,
                        press=["6", *(["j"] * position), "enter"])


def test_suggestions_from_past_replies(snap_compare, demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    """ctrl+g in the composer: similar answered tickets, the adapted reply previewed."""
    position = _assisted_ticket_position(demo_store)

    async def suggest(pilot) -> None:  # type: ignore[no-untyped-def]
        from deskterm.screens.assist import SuggestionPicker
        from deskterm.screens.compose import ComposeScreen

        await pilot.press("6", *(["j"] * position), "enter", "r")
        for _ in range(200):
            if isinstance(pilot.app.screen, ComposeScreen):
                break
            await pilot.pause(0.02)
        await pilot.press("ctrl+g")
        for _ in range(200):
            if isinstance(pilot.app.screen, SuggestionPicker):
                break
            await pilot.pause(0.02)
        pilot.app.clear_notifications()
        for area in pilot.app.query("TextArea"):
            area.cursor_blink = False
        await pilot.pause(0.2)

    assert snap_compare(_app(demo_store, isolated_home), terminal_size=SIZE, run_before=suggest)
