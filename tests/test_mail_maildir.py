"""The Maildir source (mbsync / offlineimap users): sync, incremental, flags, deletion."""

from __future__ import annotations

import mailbox
import os
import sqlite3
from pathlib import Path

from deskterm.accounts import add_mail_account
from deskterm.sources.engine import SyncEngine
from deskterm.sources.mail.settings import MailAccountSettings
from deskterm.sources.registry import sources_for_store
from deskterm.store.db import Store
from tests.mail_servers import SELLER, mail


def _setup(tmp_path: Path) -> tuple[Path, mailbox.Maildir]:
    root = tmp_path / "Mail"
    box = mailbox.Maildir(str(root), create=True)
    box.add_folder("Sent")
    store = tmp_path / "p.sqlite3"
    with Store.open(store) as opened:
        add_mail_account(opened, "local", "Lokal", MailAccountSettings(None, None, (SELLER,), maildir=str(root)),
                         imap_password="", test_connection=False)
    return store, box


def _sync(store: Path) -> list:  # type: ignore[type-arg]
    with Store.open(store) as opened:
        sources = sources_for_store(opened)
    return SyncEngine(store, sources).run_once()


def _q(store: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    conn = sqlite3.connect(store)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_maildir_sync_incremental_flags_and_deletion(tmp_path: Path) -> None:
    store, box = _setup(tmp_path)
    keys = [box.add(mail(n, subject=f"Frage {n}")) for n in range(3)]
    box.get_folder("Sent").add(mail(9, subject="Re: Frage 0", sender=SELLER, to="kunde@example.org",
                                    in_reply_to="m0@example.org", references="<m0@example.org>"))
    assert [r.error for r in _sync(store)] == [None]
    assert _q(store, "SELECT count(*) FROM tickets") == [(3,)]
    assert _q(store, "SELECT message_count FROM tickets WHERE subject = 'Frage 0'") == [(2,)]

    keys.append(box.add(mail(4, subject="Frage 4")))
    _sync(store)
    assert _q(store, "SELECT count(*) FROM messages") == [(5,)]

    assert _q(store, "SELECT unread FROM tickets WHERE subject = 'Frage 0'") == [(1,)]
    message = box.get_message(keys[0])  # read in another client: mbsync renames the file to :2,S
    message.set_subdir("cur")
    message.add_flag("S")
    box[keys[0]] = message
    os.utime(Path(box._path) / "cur")  # make sure the directory's mtime moves within this second
    _sync(store)
    assert _q(store, "SELECT unread FROM tickets WHERE subject = 'Frage 0'") == [(0,)]
    assert _q(store, "SELECT unread FROM tickets WHERE subject = 'Frage 1'") == [(1,)]
    assert ("\\Seen",) in _q(store, "SELECT flags FROM mail_locations")

    box.remove(keys[1])
    _sync(store)
    assert _q(store, "SELECT count(*) FROM messages") == [(5,)]  # kept in the store
    assert _q(store, "SELECT count(*) FROM mail_locations") == [(4,)]


def test_unchanged_maildir_opens_no_file(tmp_path: Path) -> None:
    store, box = _setup(tmp_path)
    for n in range(4):
        box.add(mail(n))
    _sync(store)
    before = _q(store, "SELECT cursor FROM sync_state ORDER BY stream")
    runs = _sync(store)
    assert [r.messages for r in runs] == [0]
    assert _q(store, "SELECT cursor FROM sync_state ORDER BY stream") == before


def test_an_account_with_broken_settings_reports_and_the_others_still_sync(tmp_path: Path) -> None:
    store, box = _setup(tmp_path)
    box.add(mail(1))
    with Store.open(store) as opened:
        opened.conn.execute("INSERT INTO accounts(key, channel, name, settings, created_at) "
                            "VALUES ('kaputt', 'email', 'Kaputt', '{\"source\": \"imap\"}', 0)")
    runs = {r.account_key: r.error for r in _sync(store)}
    assert runs["local"] is None
    assert runs["kaputt"] == "kaputt: mail account has neither an IMAP server nor a Maildir"
    assert _q(store, "SELECT count(*) FROM messages") == [(1,)]
    assert _q(store, "SELECT last_error FROM source_status s JOIN accounts a ON a.id = s.account_id "
                     "WHERE a.key = 'kaputt'") == [(runs["kaputt"],)]
