"""TLS as users run it: implicit TLS and STARTTLS to the real Dovecot, STARTTLS and implicit
TLS to the SMTP server, certificates verified against a test CA; an untrusted certificate
is refused in one line."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller

from deskterm.accounts import AccountError, add_mail_account
from deskterm.sources.mail.settings import MailAccountSettings, ServerSettings
from deskterm.sources.mail.smtp import send_raw
from deskterm.store.db import Store
from tests.helpers.dovecot import PASSWORD, Dovecot, free_port
from tests.helpers.smtp_server import RecordingHandler
from tests.mail_servers import SELLER, Mailbox, mail


def _imap(server: Dovecot, user: str, security: str, *, trusted: bool = True) -> ServerSettings:
    port = server.tls_port if security == "tls" else server.port
    return ServerSettings("127.0.0.1", port, security, user, "", timeout=10,
                          ca_file=str(server.ca_file) if trusted else "")


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_imap_over_tls_syncs(dovecot: Dovecot, tmp_path: Path, security: str) -> None:
    user = dovecot.add_user()
    box = Mailbox(dovecot, user, tmp_path / "p.sqlite3")
    box.append(mail(1))
    with Store.open(box.store_path) as store:
        add_mail_account(store, "mail", "TLS", MailAccountSettings(_imap(dovecot, user, security), None, (SELLER,)),
                         imap_password=PASSWORD)
    assert [r.error for r in box.sync()] == [None]
    with Store.open(box.store_path) as store:
        assert store.conn.execute("SELECT count(*) FROM messages").fetchone() == (1,)


def test_an_untrusted_certificate_is_refused_in_one_line(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.add_user()
    settings = MailAccountSettings(_imap(dovecot, user, "tls", trusted=False), None, (SELLER,))
    with Store.open(tmp_path / "p.sqlite3") as store, pytest.raises(AccountError) as failure:
        add_mail_account(store, "mail", "TLS", settings, imap_password=PASSWORD)
    message = str(failure.value)
    assert message.startswith("IMAP 127.0.0.1: TLS failed") and "CERTIFICATE_VERIFY_FAILED" in message
    assert "\n" not in message


@pytest.fixture(scope="module")
def smtp_ca() -> trustme.CA:
    return trustme.CA()


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_smtp_over_tls_sends(smtp_ca: trustme.CA, tmp_path: Path, security: str) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    smtp_ca.issue_cert("127.0.0.1").configure_cert(server_context)
    smtp_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    handler = RecordingHandler()
    port = free_port()
    if security == "starttls":
        controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_context,
                                require_starttls=True)
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=server_context)
    controller.start()
    try:
        settings = ServerSettings("127.0.0.1", port, security, "", "", timeout=10, ca_file=str(tmp_path / "ca.pem"))
        result = send_raw(settings, "", SELLER, ["kunde@example.org"], mail(1))
    finally:
        controller.stop()
    assert result.server_reply.startswith("250") and len(handler.received) == 1
