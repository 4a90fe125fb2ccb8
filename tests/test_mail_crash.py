"""Crash tests for the e-mail channel: a sync of 200 mails killed at 20+ points, and the
outbox sender killed at connect, after DATA and after the server's 250."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deskterm.store.db import Store
from deskterm.store.outbox import LEASE_SECONDS, queue_mail_reply
from tests.conftest import REPO
from tests.helpers.dovecot import PASSWORD, Dovecot
from tests.helpers.smtp_server import SmtpServer
from tests.mail_servers import SELLER, Mailbox, mail, new_mailbox
from tests.test_mail_relay import AMAZON_DE, AMAZON_EN

SECRETS_ENV = {"DESKTERM_TEST_SECRETS": json.dumps({"deskterm/mail:imap": PASSWORD, "deskterm/mail:smtp": ""})}
MAIL_TABLES = ("tickets", "messages", "attachments", "mail_keys", "mail_locations", "customers", "identities",
               "sync_state")


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={**os.environ, **SECRETS_ENV})


def _dump(path: Path) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in MAIL_TABLES}
    finally:
        conn.close()


def _two_hundred_mails(box: Mailbox) -> None:
    """Conversations of 1-4 mails, replies in Sent, relay mail, an attachment, a broken one."""
    client = box.client()
    n = 0
    conversation = 0
    while n < 196:
        conversation += 1
        root = f"c{conversation}@example.org"
        for step in range(min(1 + conversation % 4, 196 - n)):
            n += 1
            refs = "" if step == 0 else f"<{root}>"
            mid = root if step == 0 else f"c{conversation}-{step}@example.org"
            outgoing = step % 2 == 1
            raw = mail(n, subject=("Re: " if step else "") + f"Anfrage {conversation}", message_id=mid,
                       in_reply_to=root if step else None, references=refs,
                       sender=SELLER if outgoing else f"kunde{conversation}@example.org",
                       to=f"kunde{conversation}@example.org" if outgoing else SELLER,
                       body=f"Nachricht {n} zu Bestellung {conversation}.\n\nAm Montag schrieb jemand:\n> alt")
            client.append("Sent" if outgoing else "INBOX", raw)
    client.append("INBOX", AMAZON_EN)
    client.append("INBOX", AMAZON_DE)
    client.append("INBOX", b"From: <broken@example.org>\r\nSubject: =?x-unknown?q?kaputt?=\r\n"
                           b"Content-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n--wrong\r\nbody\r\n")
    client.append("INBOX", b"From: a@example.org\r\nMessage-ID: <att@example.org>\r\nSubject: Foto\r\n"
                           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
                           b"Siehe Foto\r\n--b\r\nContent-Type: image/png; name=\"kaputt.png\"\r\n"
                           b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n")
    total = sum(client.folder_status(f, [b"MESSAGES"])[b"MESSAGES"] for f in ("INBOX", "Sent"))
    client.logout()
    assert total == 200


@pytest.mark.slow
def test_mail_sync_killed_at_twenty_points_resumes_to_the_same_store(dovecot: Dovecot, tmp_path: Path) -> None:
    template = tmp_path / "template.sqlite3"
    box = new_mailbox(dovecot, template, batch_messages=10)
    _two_hundred_mails(box)
    reference = tmp_path / "reference.sqlite3"
    reference.write_bytes(template.read_bytes())
    result = _run("tests.helpers.crash_sync", str(reference), "0")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert not plan["errors"] and len(plan["commits"]) >= 20
    expected = _dump(reference)
    assert len(expected["messages"]) == 200
    writes, commits = plan["writes"], plan["commits"]
    points = {1, writes // 2, writes}
    for commit in commits[::max(1, len(commits) // 8)]:
        points |= {commit - 1, commit, commit + 1}
    points |= {writes * k // 10 for k in range(1, 10)}
    points = {p for p in points if 1 <= p <= writes}
    assert len(points) >= 20
    for kill_at in sorted(points):
        store = tmp_path / f"k{kill_at}.sqlite3"
        store.write_bytes(template.read_bytes())
        crashed = _run("tests.helpers.crash_sync", str(store), str(kill_at))
        assert crashed.returncode == -signal.SIGKILL, f"write {kill_at}: {crashed.stderr[-500:]}"
        resumed = _run("tests.helpers.crash_sync", str(store), "0")
        assert resumed.returncode == 0, resumed.stderr
        assert _dump(store) == expected, f"store differs after a kill at write {kill_at}"
        store.unlink()


NOW = 1_796_000_000


@pytest.fixture
def outbox_box(dovecot: Dovecot, tmp_path: Path):  # type: ignore[no-untyped-def]
    with SmtpServer() as smtp:
        box = new_mailbox(dovecot, tmp_path / "p.sqlite3", smtp_port=smtp.port)
        box.append(mail(1))
        box.sync()
        with Store.open(box.store_path) as store:
            ticket = store.conn.execute("SELECT id FROM tickets").fetchone()[0]
            row = queue_mail_reply(store, ticket, "Ihre Sendung ist unterwegs.", from_addr=SELLER, now=NOW)
        yield box, smtp, row.message_id


def _sender(box: Mailbox, now: int, marker: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.helpers.crash_outbox", str(box.store_path), str(now),
                             *([marker] if marker else [])], cwd=REPO, env={**os.environ, **SECRETS_ENV},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _killer(holder: dict[str, subprocess.Popen[str]]):  # type: ignore[no-untyped-def]
    def kill() -> None:
        process = holder.get("p")
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
        holder.pop("p", None)
    return kill


def _finish(box: Mailbox, smtp: SmtpServer, message_id: str) -> None:
    """Re-run the sender after the lease ran out: the reply is sent; every copy has one Message-ID."""
    rerun = _sender(box, NOW + LEASE_SECONDS + 1)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    conn = sqlite3.connect(box.store_path)
    assert conn.execute("SELECT status FROM outbox").fetchone() == ("sent",)
    conn.close()
    assert smtp.handler.received, "the reply was lost"
    assert {r.message_id for r in smtp.handler.received} == {message_id}
    client = box.client()
    client.select_folder("Sent", readonly=True)
    assert len(client.search(["HEADER", "Message-ID", f"<{message_id}>"])) == 1
    client.logout()


def test_sender_killed_at_connect_sends_on_the_next_run(outbox_box) -> None:  # type: ignore[no-untyped-def]
    box, smtp, message_id = outbox_box
    holder: dict[str, subprocess.Popen[str]] = {}
    smtp.handler.on_connect = _killer(holder)
    holder["p"] = _sender(box, NOW)
    holder["p"].wait(timeout=60) if "p" in holder else None
    time.sleep(0.2)
    assert smtp.handler.received == []
    smtp.handler.on_connect = None
    _finish(box, smtp, message_id)
    assert len(smtp.handler.received) == 1


def test_sender_killed_after_data_never_loses_the_reply(outbox_box) -> None:  # type: ignore[no-untyped-def]
    box, smtp, message_id = outbox_box
    holder: dict[str, subprocess.Popen[str]] = {}
    smtp.handler.on_data = _killer(holder)  # the server still accepts what it got: the worst case
    holder["p"] = _sender(box, NOW)
    deadline = time.monotonic() + 30
    while "p" in holder and time.monotonic() < deadline:
        time.sleep(0.05)
    smtp.handler.on_data = None
    _finish(box, smtp, message_id)
    assert len(smtp.handler.received) == 2  # a duplicate, and it carries the same Message-ID


def test_sender_killed_after_250_before_marking_sent(outbox_box) -> None:  # type: ignore[no-untyped-def]
    box, smtp, message_id = outbox_box
    crashed = _sender(box, NOW, "SET status = 'sent'")
    crashed.communicate(timeout=60)
    assert crashed.returncode == -signal.SIGKILL
    assert len(smtp.handler.received) == 1
    _finish(box, smtp, message_id)
    assert len(smtp.handler.received) in (1, 2)
