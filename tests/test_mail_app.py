"""The e-mail channel in the app: add an IMAP account on the accounts screen (tested first,
password to the keyring), see its mail, get new mail pushed by IDLE, see a failed reply
and a placeholder for a large mail on the ticket."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import keyring

from deskterm.cli import build_app
from deskterm.config import Config
from deskterm.screens.accounts import AccountsScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.store.db import Store
from deskterm.store.outbox import queue_mail_reply
from tests.helpers.dovecot import PASSWORD, Dovecot
from tests.mail_servers import SELLER, Mailbox, mail, new_mailbox
from tests.test_app import wait_for


def _count(path: Path, sql: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


async def test_add_an_imap_account_on_screen_then_idle_brings_new_mail(dovecot: Dovecot, tmp_path: Path,
                                                                      isolated_home) -> None:  # type: ignore[no-untyped-def]
    user = dovecot.add_user()
    box = Mailbox(dovecot, user, tmp_path / "shop.sqlite3")
    box.append(mail(1, subject="Wo ist mein Paket?"))
    Store.open(box.store_path).close()
    app = build_app(store=Store.open(box.store_path, create=False), profile="shop", config=Config(),
                    where=isolated_home)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("A")
        assert isinstance(app.screen, AccountsScreen)
        await pilot.press("a")
        for field, value in (("key", "mail"), ("address", SELLER), ("host", "127.0.0.1"), ("port", str(dovecot.port)),
                             ("user", user), ("password", "falsch")):
            app.screen.query_one(f"#acc-{field}").value = value
        app.screen.query_one("#acc-security").value = "plain"
        await pilot.press("ctrl+s")
        result = app.screen.query_one("#accounts-result")
        await wait_for(pilot, lambda: "unverschlüsselten" in str(result.render()) or "refusing" in str(result.render()))
        app.screen.query_one("#acc-plaintext").value = True
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "refused" in str(result.render()))  # wrong password: nothing saved
        assert _count(box.store_path, "SELECT count(*) FROM accounts") == 0
        app.screen.query_one("#acc-password").value = PASSWORD
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "gespeichert" in str(result.render()))
        assert keyring.get_password("deskterm", "mail:imap") == PASSWORD
        await wait_for(pilot, lambda: _count(box.store_path, "SELECT count(*) FROM messages") == 1)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.inbox is not None and app.inbox.ticket_list.rows.total == 1)

        await pilot.pause(1.0)  # the push worker is in IDLE now
        appended = time.monotonic()
        box.append(mail(2, subject="Noch eine Frage"))
        await wait_for(pilot, lambda: app.inbox.ticket_list.rows.total == 2, timeout=5)
        assert time.monotonic() - appended < 2.5
    assert not [w for w in app.workers if w.group == "push" and w.is_running]


async def test_ticket_shows_a_failed_reply_and_a_large_mail_placeholder(dovecot: Dovecot, tmp_path: Path,
                                                                       isolated_home) -> None:  # type: ignore[no-untyped-def]
    box = new_mailbox(dovecot, tmp_path / "p.sqlite3", max_message_bytes=2048)
    box.append(mail(1, body="Anbei das Foto.\n" + "x" * 5000))
    box.sync()
    with Store.open(box.store_path) as store:
        ticket = store.conn.execute("SELECT id FROM tickets").fetchone()[0]
        row = queue_mail_reply(store, ticket, "Danke, wir prüfen das.", from_addr=SELLER, now=int(time.time()))
        store.conn.execute("UPDATE outbox SET status = 'failed', last_error = 'SMTP mail.example: 554 rejected' "
                           "WHERE id = ?", (row.id,))
    app = build_app(store=Store.open(box.store_path, create=False), profile="p", config=Config(), where=isolated_home)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.inbox is not None and app.inbox.ticket_list.rows.total == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await pilot.pause(0.2)
        text = "\n".join(str(block) for block in app.screen.query_one("#thread")._blocks)
        assert "✗ nicht gesendet: SMTP mail.example: 554 rejected" in text
        assert "nur Kopfzeilen geladen" in text
        await pilot.press("f")
        await wait_for(pilot, lambda: _count(box.store_path, "SELECT count(*) FROM mail_locations WHERE partial = 1")
                       == 0)
        await wait_for(pilot, lambda: "Anbei das Foto" in "\n".join(
            str(b) for b in app.screen.query_one("#thread")._blocks))
