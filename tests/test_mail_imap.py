"""The IMAP source against a real Dovecot on 127.0.0.1: initial and incremental sync, flags,
expunge, UIDVALIDITY change, placeholders for large mail, IDLE, and conversation keys."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from deskterm.sources.engine import SyncEngine
from deskterm.sources.registry import sources_for_store
from deskterm.store.db import Store
from tests.helpers.dovecot import Dovecot
from tests.mail_servers import Mailbox, mail, new_mailbox
from tests.test_mail_relay import AMAZON_DE, AMAZON_EN



def _rows(path: Path, sql: str, *args: object) -> list[tuple]:  # type: ignore[type-arg]
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _count(path: Path, table: str) -> int:
    return int(_rows(path, f"SELECT count(*) FROM {table}")[0][0])


def test_initial_and_incremental_sync_thread_by_references(mailbox: Mailbox) -> None:
    mailbox.append(mail(1))
    mailbox.append(mail(2, subject="Rechnung bitte", sender="b@example.org", name="Bernd"))
    mailbox.append(mail(3, subject="Re: Frage zur Lieferung", in_reply_to="m1@example.org",
                        references="<m1@example.org>", sender="service@shop.example.test"), folder="Sent")
    runs = mailbox.sync()
    assert [r.error for r in runs] == [None]
    assert _count(mailbox.store_path, "tickets") == 2
    tickets = dict(_rows(mailbox.store_path, "SELECT subject, message_count FROM tickets"))
    assert tickets == {"Frage zur Lieferung": 2, "Rechnung bitte": 1}
    assert _rows(mailbox.store_path, "SELECT direction FROM messages WHERE external_id = 'm3@example.org'") == [("out",)]

    # A follow-up that only references the seller's reply joins the same ticket.
    mailbox.append(mail(4, subject="AW: Frage zur Lieferung", in_reply_to="m3@example.org",
                        references="<m1@example.org> <m3@example.org>"))
    mailbox.sync()
    assert _count(mailbox.store_path, "tickets") == 2
    assert dict(_rows(mailbox.store_path, "SELECT subject, message_count FROM tickets"))["Frage zur Lieferung"] == 3

    # Nothing changed: the re-sync adds nothing (that it writes nothing at all is the next test).
    conn = sqlite3.connect(mailbox.store_path)
    changes_before = conn.execute("SELECT sum(n) FROM (SELECT count(*) n FROM messages UNION ALL "
                                  "SELECT count(*) FROM mail_locations)").fetchone()
    mailbox.sync()
    assert conn.execute("SELECT sum(n) FROM (SELECT count(*) n FROM messages UNION ALL "
                        "SELECT count(*) FROM mail_locations)").fetchone() == changes_before
    conn.close()


def test_unchanged_resync_writes_nothing_but_the_status_row(mailbox: Mailbox) -> None:
    for n in range(5):
        mailbox.append(mail(n))
    mailbox.sync()
    with Store.open(mailbox.store_path) as store:
        sources = sources_for_store(store)
    writes: list[str] = []

    def opener(path: Path) -> Store:
        store = Store.open(path)
        store.conn.set_trace_callback(
            lambda sql: writes.append(sql) if sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE") else None)
        return store

    runs = SyncEngine(mailbox.store_path, sources, opener=opener).run_once()
    assert [r.messages for r in runs] == [0]
    assert writes and all("source_status" in sql for sql in writes), writes


def test_parent_arriving_after_two_replies_merges_their_tickets(mailbox: Mailbox) -> None:
    # Two replies that each reference only the parent: apart until the parent arrives.
    mailbox.append(mail(2, subject="Re: Rücksendung", in_reply_to="p@example.org", references="<p@example.org>"))
    mailbox.append(mail(3, subject="Re: Rücksendung", message_id="other@example.org", in_reply_to="q@example.org",
                        references="<q@example.org>"))
    mailbox.sync()
    assert _count(mailbox.store_path, "tickets") == 2
    mailbox.append(mail(1, subject="Rücksendung", message_id="q@example.org", in_reply_to="p@example.org",
                        references="<p@example.org>"))
    mailbox.sync()
    assert _rows(mailbox.store_path, "SELECT count(*), sum(message_count) FROM tickets") == [(1, 3)]
    assert _count(mailbox.store_path, "messages") == 3


def test_flag_changes_follow_the_server(mailbox: Mailbox) -> None:
    mailbox.append(mail(1))
    mailbox.sync()
    assert _rows(mailbox.store_path, "SELECT unread FROM tickets") == [(1,)]
    client = mailbox.client()
    client.select_folder("INBOX")
    client.add_flags(client.search(["ALL"]), [b"\\Seen"])
    mailbox.sync()
    assert _rows(mailbox.store_path, "SELECT unread FROM tickets") == [(0,)]
    assert _rows(mailbox.store_path, "SELECT flags FROM mail_locations") == [("\\Seen",)]
    client.remove_flags(client.search(["ALL"]), [b"\\Seen"])
    client.logout()
    mailbox.sync()
    assert _rows(mailbox.store_path, "SELECT unread FROM tickets") == [(1,)]


def test_expunged_mail_keeps_the_message_and_forgets_the_location(mailbox: Mailbox) -> None:
    for n in range(3):
        mailbox.append(mail(n, subject=f"Frage {n}"))
    mailbox.sync()
    client = mailbox.client()
    client.select_folder("INBOX")
    uid = client.search(["HEADER", "Message-ID", "<m1@example.org>"])
    client.delete_messages(uid)
    client.expunge()
    client.logout()
    mailbox.sync()
    assert _count(mailbox.store_path, "messages") == 3  # a mail deleted on the server stays in the store
    assert _count(mailbox.store_path, "mail_locations") == 2
    mailbox.append(mail(9, subject="Neu"))
    mailbox.sync()
    assert _count(mailbox.store_path, "mail_locations") == 3


def test_uidvalidity_change_rekeys_without_duplicates(dovecot: Dovecot, tmp_path: Path) -> None:
    box = new_mailbox(dovecot, tmp_path / "p.sqlite3", folders=("INBOX", "Support"), create_folders=("Support",))
    for n in range(4):
        box.append(mail(n, subject=f"Frage {n}"), folder="Support")
    box.sync()
    old = _rows(box.store_path, "SELECT DISTINCT uidvalidity FROM mail_locations")
    tickets_before = _rows(box.store_path, "SELECT id, subject FROM tickets ORDER BY id")
    client = box.client()
    client.delete_folder("Support")
    client.create_folder("Support")
    client.logout()
    time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
    for n in range(4):
        box.append(mail(n, subject=f"Frage {n}"), folder="Support")
    box.append(mail(7, subject="Frage 7"), folder="Support")
    runs = box.sync()
    assert [r.error for r in runs] == [None]
    new = _rows(box.store_path, "SELECT DISTINCT uidvalidity FROM mail_locations")
    assert new != old and len(new) == 1
    assert _count(box.store_path, "messages") == 5
    assert _rows(box.store_path, "SELECT id, subject FROM tickets ORDER BY id")[:4] == tickets_before
    assert _count(box.store_path, "mail_locations") == 5


def test_large_mail_is_a_placeholder_until_fetched(dovecot: Dovecot, tmp_path: Path) -> None:
    from deskterm.sources.mail.fetch import fetch_whole_message

    box = new_mailbox(dovecot, tmp_path / "p.sqlite3", max_message_bytes=2048)
    box.append(mail(1, body="Großer Anhang folgt.\n" + "x" * 5000))
    box.sync()
    body, partial = _rows(box.store_path, "SELECT body_text, partial FROM messages JOIN mail_locations l "
                                          "ON l.message_id = messages.id")[0]
    assert "nicht automatisch geladen" in body and partial == 1
    with Store.open(box.store_path) as store:
        message_row = store.conn.execute("SELECT id FROM messages").fetchone()[0]
        fetch_whole_message(store, message_row)
    body, partial = _rows(box.store_path, "SELECT body_text, partial FROM messages JOIN mail_locations l "
                                          "ON l.message_id = messages.id")[0]
    assert body.startswith("Großer Anhang folgt.") and partial == 0
    box.sync()  # a later sync keeps the full body
    assert _rows(box.store_path, "SELECT body_text FROM messages")[0][0].startswith("Großer Anhang")


def test_amazon_relay_mail_over_imap_gets_channel_and_order(mailbox: Mailbox) -> None:
    mailbox.append(AMAZON_EN)
    mailbox.append(AMAZON_DE)
    mailbox.sync()
    rows = _rows(mailbox.store_path, "SELECT channel, order_ref, message_count FROM tickets")
    assert rows == [("amazon", "302-4796134-7773947", 2)]
    bodies = [r[0] for r in _rows(mailbox.store_path, "SELECT body_text FROM messages ORDER BY sent_at")]
    assert bodies[0].startswith("Hello, my parcel") and "commMgrTok" not in bodies[0]


def test_idle_brings_new_mail_within_two_seconds(mailbox: Mailbox) -> None:
    mailbox.append(mail(1))
    with Store.open(mailbox.store_path) as store:
        sources = sources_for_store(store)
    engine = SyncEngine(mailbox.store_path, sources)
    stop = threading.Event()
    watcher = threading.Thread(target=engine.watch, args=(300.0, stop), daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + 10
        while _count(mailbox.store_path, "messages") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # let the watcher enter IDLE
        appended = time.monotonic()
        mailbox.append(mail(2, subject="Neue Frage"))
        while _count(mailbox.store_path, "messages") < 2 and time.monotonic() - appended < 5:
            time.sleep(0.02)
        elapsed = time.monotonic() - appended
    finally:
        stop.set()
        watcher.join(timeout=10)
        for source in sources:
            source.close()
    assert _count(mailbox.store_path, "messages") == 2
    assert elapsed < 2.0, f"new mail took {elapsed:.2f} s"
    assert not watcher.is_alive()
