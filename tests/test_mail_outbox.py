"""Replies through the outbox: a real SMTP server (aiosmtpd) and the real Dovecot Sent folder."""

from __future__ import annotations

import sqlite3
from email import message_from_bytes
from pathlib import Path

import pytest

from deskterm.sources.outbox_sender import OutboxSender
from deskterm.store.db import Store
from deskterm.store.outbox import OutboxError, queue_mail_reply
from tests.helpers.dovecot import Dovecot
from tests.helpers.smtp_server import SmtpServer
from tests.mail_servers import SELLER, Mailbox, mail, new_mailbox
from tests.test_mail_relay import AMAZON_DE


def _one(path: Path, sql: str, *args: object) -> tuple:  # type: ignore[type-arg]
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchone()
    finally:
        conn.close()


@pytest.fixture
def smtp() -> SmtpServer:
    with SmtpServer() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def box(dovecot: Dovecot, tmp_path: Path, smtp: SmtpServer) -> Mailbox:
    return new_mailbox(dovecot, tmp_path / "p.sqlite3", smtp_port=smtp.port)


def _queue(box: Mailbox, body: str = "Guten Tag, das Paket ist unterwegs.", *, now: int = 1_796_000_000) -> str:
    with Store.open(box.store_path) as store:
        ticket = store.conn.execute("SELECT id FROM tickets ORDER BY id LIMIT 1").fetchone()[0]
        return queue_mail_reply(store, ticket, body, from_addr=SELLER, from_name="Lindenhof Shop", now=now).message_id


def _deliver(box: Mailbox, now: float = 1_796_000_000):  # type: ignore[no-untyped-def]
    with Store.open(box.store_path) as store:
        return OutboxSender(store, clock=lambda: now).deliver_due()


def _sent_copies(box: Mailbox, message_id: str) -> int:
    client = box.client()
    try:
        client.select_folder("Sent", readonly=True)
        return len(client.search(["HEADER", "Message-ID", f"<{message_id}>"]))
    finally:
        client.logout()


def test_reply_is_sent_once_and_filed_in_sent_once(box: Mailbox, smtp: SmtpServer) -> None:
    box.append(mail(1))
    box.sync()
    message_id = _queue(box)
    report = _deliver(box)
    assert (report.sent, report.copies, report.failed) == (1, 1, [])
    assert [r.message_id for r in smtp.handler.received] == [message_id]
    sent = message_from_bytes(smtp.handler.received[0].data)
    assert sent["In-Reply-To"] == "<m1@example.org>" and sent["References"] == "<m1@example.org>"
    assert sent["To"] == "Erika Kunde <kunde@example.org>" and sent["Subject"] == "Re: Frage zur Lieferung"
    assert _sent_copies(box, message_id) == 1

    # Running the sender again sends nothing and files nothing.
    again = _deliver(box, now=1_796_000_100)
    assert (again.sent, again.copies) == (0, 0)
    assert len(smtp.handler.received) == 1 and _sent_copies(box, message_id) == 1
    # The copy synced back from Sent is the same message row, not a second reply.
    box.sync()
    assert _one(box.store_path, "SELECT count(*) FROM messages WHERE external_id = ?", message_id) == (1,)
    assert _one(box.store_path, "SELECT count(*), sum(message_count) FROM tickets") == (1, 2)
    assert _one(box.store_path, "SELECT status, server_reply FROM outbox") == ("sent", "250 2.0.0 Ok: queued")


def test_reply_to_amazon_goes_to_the_relay_alias_on_the_buyers_thread(box: Mailbox, smtp: SmtpServer) -> None:
    box.append(AMAZON_DE)
    box.sync()
    _queue(box, "Guten Tag Frau Hoffmann, die Sendung ist unterwegs.")
    _deliver(box)
    sent = message_from_bytes(smtp.handler.received[0].data)
    assert smtp.handler.received[0].recipients == ["q7k2m9x4w1e5r8t@marketplace.amazon.de"]
    assert sent["In-Reply-To"] == "<0100018c2a1b-relay-2@eu-west-1.amazonses.com>"
    assert "302-4796134-7773947" in sent["Subject"]


@pytest.mark.parametrize("name", ["Eve =?utf-8?q?X=0D=0ABcc=3A_victim=40evil.test?=",
                                  "Eve =?utf-8?q?X=0D=0ABcc:_victim@evil.test?="])
def test_buyer_controlled_names_and_subjects_cannot_add_headers(box: Mailbox, smtp: SmtpServer, name: str) -> None:
    box.append(mail(1, name=name, subject="=?utf-8?q?Hallo=0D=0ABcc=3A_spy=40evil.test=0D=0A=0D=0Abody?="))
    box.sync()
    _queue(box)
    _deliver(box)
    received = smtp.handler.received[0]
    sent = message_from_bytes(received.data)
    assert sent["Bcc"] is None and sent.get_all("To") == [sent["To"]]
    assert received.recipients == ["kunde@example.org"]
    assert b"\nBcc:" not in received.data


def test_temporary_error_retries_with_backoff_and_permanent_error_is_shown(box: Mailbox, smtp: SmtpServer) -> None:
    box.append(mail(1))
    box.sync()
    _queue(box)
    smtp.handler.reply_data = "451 4.3.0 Try again later"
    report = _deliver(box)
    assert (report.sent, report.retrying) == (0, 1)
    status, attempts, next_at, error = _one(box.store_path, "SELECT status, attempts, next_attempt_at, last_error "
                                                             "FROM outbox")
    assert (status, attempts) == ("queued", 1) and next_at > 1_796_000_000 and error.startswith("SMTP 127.0.0.1: 451")
    assert _deliver(box).sent == 0  # not due yet
    smtp.handler.reply_data = "554 5.7.1 Message rejected"
    report = _deliver(box, now=next_at)
    assert report.failed == ["SMTP 127.0.0.1: 554 5.7.1 Message rejected"]
    assert _one(box.store_path, "SELECT status FROM outbox") == ("failed",)
    assert smtp.handler.received == []


def test_partly_refused_recipients_are_recorded(box: Mailbox, smtp: SmtpServer, tmp_path: Path) -> None:
    box.append(mail(1))
    box.sync()
    with Store.open(box.store_path) as store:
        # a reply with two recipients: rewrite the queued row's envelope
        _queue(box)
        store.conn.execute("UPDATE outbox SET to_addrs = '[\"kunde@example.org\", \"gone@example.org\"]'")
    smtp.handler.refuse["gone@example.org"] = "550 5.1.1 No such user"
    report = _deliver(box)
    assert report.sent == 1
    assert _one(box.store_path, "SELECT refused FROM outbox") == ('{"gone@example.org": "550 5.1.1 No such user"}',)


def test_queueing_needs_a_body_and_an_address(box: Mailbox) -> None:
    box.append(mail(1))
    box.sync()
    with pytest.raises(OutboxError, match="empty"):
        _queue(box, "   ")
