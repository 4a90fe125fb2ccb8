"""Replying as an agent does it: `r`, `::` + a template filled from the order, ctrl+s, and
the reply reaching a real SMTP server once; gaps and channel rules that block sending;
a template that reaches for Python internals; a draft that survives a killed app."""

from __future__ import annotations

import mailbox
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from pathlib import Path

import pytest
from textual.widgets import Static, TextArea

from deskterm.accounts import add_mail_account
from deskterm.cli import build_app
from deskterm.config import Config, ReplyConfig
from deskterm.model import Batch, IdentityRef, MailLocation, OrderItemRecord, OrderRecord, ShipmentRecord
from deskterm.screens.compose import ComposeScreen, TemplatePicker
from deskterm.screens.ticket import TicketScreen
from deskterm.sources.mail.records import mail_record
from deskterm.sources.mail.settings import MailAccountSettings, ServerSettings
from deskterm.store.db import Store
from deskterm.store.sync_writes import apply_batch
from tests.conftest import REPO
from tests.helpers.smtp_server import SmtpServer
from tests.mail_servers import SELLER, mail
from tests.test_app import wait_for

ORDER = "LH-2026-10001"


def shop_store(tmp_path: Path, smtp_port: int, *, with_shipment: bool = True) -> Path:
    """A mail account (Maildir in, SMTP out) with one buyer mail about an order with a parcel."""
    path = tmp_path / "shop.sqlite3"
    mailbox.Maildir(str(tmp_path / "Mail"), create=True)
    settings = MailAccountSettings(None, ServerSettings("127.0.0.1", smtp_port, "plain", "", "", allow_plaintext=True,
                                                        timeout=10), (SELLER,), maildir=str(tmp_path / "Mail"))
    placed = datetime(2026, 11, 28, 10, tzinfo=timezone.utc)
    order = OrderRecord(
        external_id="o1", number=ORDER, customer=IdentityRef("email", "kunde@example.org"), status="shipped",
        placed_at=placed, total_cents=4990, ship_to={"name": "Erika Kunde", "salutation": "Frau", "postcode": "10115"},
        items=(OrderItemRecord(1, "TOPF-24", "Edelstahltopf 24 cm", 1, 4990),),
        shipments=(ShipmentRecord("s1", "DHL", "00340434161094042557", "in_transit", placed),) if with_shipment else ())
    with Store.open(path) as store:
        account = add_mail_account(store, "mail", "Lindenhof", settings, imap_password="", test_connection=False)
        record = mail_record(mail(1, subject=f"Wo bleibt Bestellung {ORDER}?"), own_addresses=(SELLER,),
                             location=MailLocation("INBOX", 0, 1))
        apply_batch(store, account, None, Batch(cursor=None, orders=[order], mails=[record]), now=int(time.time()))
    return path


def _awaiting(tmp_path: Path) -> int | None:
    conn = sqlite3.connect(tmp_path / "shop.sqlite3")
    try:
        return conn.execute("SELECT awaiting_since FROM tickets").fetchone()[0]
    finally:
        conn.close()


def _app(path: Path, where, *, undo: int = 0, templates: Path | None = None):  # type: ignore[no-untyped-def]
    config = Config(reply=ReplyConfig(undo_seconds=undo), path=(templates.parent / "config.toml") if templates else None)
    return build_app(store=Store.open(path, create=False), profile="shop", config=config, where=where)


async def _open_composer(pilot) -> ComposeScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: app.inbox is not None and app.inbox.ticket_list.rows.total >= 1)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
    await pilot.press("r")
    await wait_for(pilot, lambda: isinstance(app.screen, ComposeScreen) and bool(app.screen.templates))
    return app.screen


async def _insert(pilot, shortcut: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("colon", "colon")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TemplatePicker))
    await pilot.press(*shortcut, "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ComposeScreen))
    await pilot.pause(0.1)


async def test_template_filled_from_the_order_is_sent_once(tmp_path: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    with SmtpServer() as smtp:
        app = _app(shop_store(tmp_path, smtp.port), isolated_home)
        async with app.run_test(size=(160, 48)) as pilot:
            assert _awaiting(tmp_path) is not None  # the buyer's mail started the response clock
            composer = await _open_composer(pilot)
            await _insert(pilot, "wo")
            text = composer.query_one("#compose-body", TextArea).text
            assert text.startswith("Sehr geehrte Frau Kunde,")
            assert ORDER in text and "28.11.2026" in text and "00340434161094042557" in text
            assert "piececode=00340434161094042557" in text and "⟦" not in text
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
            await wait_for(pilot, lambda: len(smtp.handler.received) == 1, timeout=10)
            await wait_for(pilot, lambda: _awaiting(tmp_path) is None)  # the reply left: the clock stopped
            await wait_for(pilot, lambda: "beantwortet" in app.screen.query_one("#ticket-header").render().plain)
            await pilot.pause(2.5)  # a second delivery pass would show up here
        assert len(smtp.handler.received) == 1
        sent = message_from_bytes(smtp.handler.received[0].data)
        assert sent["To"] == "Erika Kunde <kunde@example.org>" and sent["In-Reply-To"] == "<m1@example.org>"
    conn = sqlite3.connect(tmp_path / "shop.sqlite3")
    assert conn.execute("SELECT status, set_status FROM outbox").fetchone() == ("sent", "pending")
    assert conn.execute("SELECT status FROM tickets").fetchone() == ("pending",)  # the template's status
    assert conn.execute("SELECT tag FROM ticket_tags").fetchall() == [("versand",)]  # and its tags
    assert conn.execute("SELECT count(*) FROM drafts").fetchone() == (0,)


async def test_a_missing_shipment_is_a_highlighted_gap_that_blocks_sending(tmp_path: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    with SmtpServer() as smtp:
        app = _app(shop_store(tmp_path, smtp.port, with_shipment=False), isolated_home)
        async with app.run_test(size=(160, 48)) as pilot:
            composer = await _open_composer(pilot)
            await _insert(pilot, "wo")
            assert "⟦shipment.tracking_number fehlt⟧" in composer.query_one("#compose-body", TextArea).text
            problems = composer.query_one("#compose-problems", Static).render()
            gap_styles = [str(span.style) for span in problems.spans
                          if problems.plain[span.start:span.end] == "⟦shipment.carrier fehlt⟧"]
            assert gap_styles and "reverse" in gap_styles[0]  # the gap itself is highlighted in the preview
            assert "Lücken füllen" in problems.plain
            await pilot.press("ctrl+s")
            await pilot.pause(0.5)
            assert isinstance(app.screen, ComposeScreen)  # still here: nothing was sent
        assert sqlite3.connect(tmp_path / "shop.sqlite3").execute("SELECT count(*) FROM outbox").fetchone() == (0,)
        assert smtp.handler.received == []


async def test_a_template_reaching_for_python_internals_is_refused(tmp_path: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "cfg" / "templates"
    folder.mkdir(parents=True)
    (folder / "trick.toml").write_text('name = "Trick"\nshortcut = "tr"\n[variants.de]\n'
                                       "body = \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"\n")
    with SmtpServer() as smtp:
        app = _app(shop_store(tmp_path, smtp.port), isolated_home, templates=folder)
        async with app.run_test(size=(160, 48)) as pilot:
            composer = await _open_composer(pilot)
            await _insert(pilot, "tr")
            assert composer.query_one("#compose-body", TextArea).text == ""
            messages = [str(n.message) for n in app._notifications]
            assert any("Vorlage abgelehnt: access to '__class__' is not allowed" in m for m in messages), messages


async def test_channel_rules_block_a_link_on_amazon_but_not_on_the_web_shop(demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    with Store.open(demo_store, create=False) as store:
        tickets = dict(store.conn.execute(
            "SELECT channel, id FROM tickets WHERE channel IN ('amazon', 'email') ORDER BY last_message_at DESC"))
    text = "Die Sendung finden Sie unter https://www.dhl.de/verfolgen?x=1"
    app = _app(demo_store, isolated_home)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.inbox is not None and app.inbox.ticket_list.rows.total > 0)
        for channel, expected in (("amazon", "Amazon: keine Links erlaubt (https://www.dhl.de/verfolgen?x=1)"),
                                  ("email", None)):
            app.open_ticket(tickets[channel])
            await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ComposeScreen) and bool(app.screen.rules))
            composer = app.screen
            composer.query_one("#compose-body", TextArea).load_text(text)
            assert (composer.problems(text) == [expected]) if expected else composer.problems(text) == []
            await pilot.press("ctrl+s")
            if expected:
                await wait_for(pilot, lambda: expected in composer.query_one("#compose-problems", Static).render().plain)
                assert isinstance(app.screen, ComposeScreen)
                await pilot.press("escape")
            else:
                await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
            await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
            await pilot.press("q")
    conn = sqlite3.connect(demo_store)
    queued = conn.execute("SELECT t.channel FROM outbox o JOIN tickets t ON t.id = o.ticket_id").fetchall()
    assert queued == [("email",)]
    assert conn.execute("SELECT body FROM drafts d JOIN tickets t ON t.id = d.ticket_id "
                        "WHERE t.channel = 'amazon'").fetchone() == (text,)


DRAFT_SCRIPT = """
import asyncio, os, signal, sys
from pathlib import Path
from deskterm.cli import build_app
from deskterm.config import Config
from deskterm.paths import locations
from deskterm.store.db import Store

async def main():
    app = build_app(store=Store.open(Path(sys.argv[1]), create=False), profile="shop", config=Config(),
                    where=locations())
    async with app.run_test(size=(120, 40)) as pilot:
        while app.inbox is None or app.inbox.ticket_list.rows.total == 0:
            await pilot.pause(0.05)
        await pilot.press("enter", "r")
        await pilot.pause(0.5)
        await pilot.press(*"Guten Tag, Ihr Paket kommt morgen.")
        await pilot.pause(1.5)  # the draft is saved after a short pause in typing
        print("typed", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_a_draft_survives_a_killed_app(tmp_path: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    path = shop_store(tmp_path, 9)
    result = subprocess.run([sys.executable, "-c", DRAFT_SCRIPT, str(path)], capture_output=True, text=True,
                            timeout=60, cwd=REPO, env=os.environ.copy())
    assert result.returncode == -signal.SIGKILL and "typed" in result.stdout, result.stderr[-2000:]
    app = _app(path, isolated_home)
    async with app.run_test(size=(160, 48)) as pilot:
        composer = await _open_composer(pilot)
        assert composer.query_one("#compose-body", TextArea).text == "Guten Tag, Ihr Paket kommt morgen."


def test_notes_and_replies_still_in_the_outbox_do_not_stop_the_clock(tmp_path: Path) -> None:
    from deskterm.store.outbox import mark_sent
    from deskterm.store.replies import add_note, queue_reply, undo_send

    path = shop_store(tmp_path, 9)
    with Store.open(path) as store:
        ticket = store.conn.execute("SELECT id FROM tickets").fetchone()[0]
        started = _awaiting(tmp_path)
        assert started is not None
        add_note(store, ticket, "Intern: Lager fragen", author="Jana", now=int(time.time()))
        assert _awaiting(tmp_path) == started
        queued = queue_reply(store, ticket, "Kommt morgen.", now=int(time.time()), undo_seconds=10)
        assert _awaiting(tmp_path) == started  # still in the undo window
        assert undo_send(store, queued.id, now=int(time.time()))
        assert _awaiting(tmp_path) == started
        queued = queue_reply(store, ticket, "Kommt morgen.", now=int(time.time()))
        mark_sent(store, queued.id, now=int(time.time()), server_reply="250 ok", refused={})
        assert _awaiting(tmp_path) is None
        # the buyer writes again: a new clock from that message
        later = mail(2, subject="Re: noch da?", in_reply_to="m1@example.org", references="<m1@example.org>",
                     date=datetime.now(timezone.utc) + timedelta(minutes=5))
        account = store.conn.execute("SELECT id FROM accounts").fetchone()[0]
        apply_batch(store, account, None, Batch(cursor=None, mails=[mail_record(later, own_addresses=(SELLER,))]),
                    now=int(time.time()))
        assert _awaiting(tmp_path) is not None and _awaiting(tmp_path) > started


def test_the_external_editor_edits_the_draft(tmp_path: Path) -> None:
    from deskterm.screens.compose import edit_in_editor

    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\nprintf "\\nMit freundlichen Grüßen" >> "$1"\n')
    script.chmod(0o755)
    assert edit_in_editor("Guten Tag,", [str(script)]) == "Guten Tag,\nMit freundlichen Grüßen"
    failing = tmp_path / "fail.sh"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    with pytest.raises(subprocess.CalledProcessError):
        edit_in_editor("x", [str(failing)])


def test_a_draft_and_tags_follow_when_a_late_parent_merges_two_tickets(tmp_path: Path) -> None:
    from deskterm.store.replies import load_draft, save_draft

    path = shop_store(tmp_path, 9)
    with Store.open(path) as store:
        account = store.conn.execute("SELECT id FROM accounts").fetchone()[0]
        replies = [mail_record(mail(n, subject="Re: Rücksendung", message_id=f"r{n}@example.org",
                                    in_reply_to=parent, references=f"<{parent}>"), own_addresses=(SELLER,))
                   for n, parent in ((2, "p@example.org"), (3, "q@example.org"))]
        apply_batch(store, account, None, Batch(cursor=None, mails=replies), now=int(time.time()))
        first, second = [r[0] for r in store.conn.execute(
            "SELECT ticket_id FROM messages WHERE external_id IN ('r2@example.org', 'r3@example.org') ORDER BY 1")]
        assert first != second
        with store.transaction() as conn:
            save_draft(conn, second, "reply", "Entwurf zur zweiten Nachricht", now=1)
            conn.execute("INSERT INTO ticket_tags(ticket_id, tag) VALUES (?, 'retoure')", (second,))
        bridge = mail_record(mail(4, subject="Rücksendung", message_id="q@example.org", in_reply_to="p@example.org",
                                  references="<p@example.org>"), own_addresses=(SELLER,))
        apply_batch(store, account, None, Batch(cursor=None, mails=[bridge]), now=int(time.time()))
        survivor = store.conn.execute("SELECT ticket_id FROM messages WHERE external_id = 'r3@example.org'").fetchone()[0]
        assert survivor == first
        draft = load_draft(store.conn, survivor, "reply")
        assert draft is not None and draft.body == "Entwurf zur zweiten Nachricht"
        assert store.conn.execute("SELECT tag FROM ticket_tags WHERE ticket_id = ?", (survivor,)).fetchall() == [
            ("retoure",)]
