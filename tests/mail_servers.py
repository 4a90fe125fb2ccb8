"""Fixtures for the e-mail channel: one real Dovecot per session, a fresh mailbox per test,
a profile store with that mailbox added as an account (password in the test keyring)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from imapclient import IMAPClient

from deskterm.accounts import add_mail_account
from deskterm.sources.engine import SyncEngine
from deskterm.sources.mail.settings import MailAccountSettings, ServerSettings
from deskterm.sources.registry import sources_for_store
from deskterm.store.db import Store
from tests.helpers.dovecot import PASSWORD, Dovecot, dovecot_binary

SELLER = "service@shop.example.test"


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if dovecot_binary() is None:
        pytest.skip("dovecot is not installed; scripts/test installs dovecot-imapd (apt-get) when run as root")
    server = Dovecot.start(Path(tempfile.mkdtemp(prefix="deskterm-dovecot-")))
    yield server
    server.stop()


@dataclass
class Mailbox:
    server: Dovecot
    user: str
    store_path: Path
    account_key: str = "mail"

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.server.port, ssl=False, timeout=10)
        client.login(self.user, PASSWORD)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple[bytes, ...] = ()) -> None:
        client = self.client()
        try:
            client.append(folder, raw, flags=flags)
        finally:
            client.logout()

    def sync(self) -> list:  # type: ignore[type-arg]
        with Store.open(self.store_path) as store:
            sources = sources_for_store(store)
        runs = SyncEngine(self.store_path, sources).run_once()
        for source in sources:
            source.close()
        return runs


def imap_settings(server: Dovecot, user: str, *, smtp_port: int | None = None, **extra: object) -> MailAccountSettings:
    imap = ServerSettings("127.0.0.1", server.port, "plain", user, "", allow_plaintext=True, timeout=10)
    smtp = ServerSettings("127.0.0.1", smtp_port, "plain", "", "", allow_plaintext=True, timeout=10) \
        if smtp_port else None
    return MailAccountSettings(imap, smtp, (SELLER,), **extra)  # type: ignore[arg-type]


def new_mailbox(server: Dovecot, store_path: Path, *, smtp_port: int | None = None,
                create_folders: tuple[str, ...] = (), **extra: object) -> Mailbox:
    user = server.add_user()
    box = Mailbox(server, user, store_path)
    if create_folders:
        client = box.client()
        for folder in create_folders:
            client.create_folder(folder)
        client.logout()
    with Store.open(store_path) as store:
        add_mail_account(store, "mail", "Shop-Postfach", imap_settings(server, user, smtp_port=smtp_port, **extra),
                         imap_password=PASSWORD, smtp_password="")
    return box


@pytest.fixture
def mailbox(dovecot: Dovecot, tmp_path: Path) -> Mailbox:
    return new_mailbox(dovecot, tmp_path / "profile.sqlite3")


BASE_DATE = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def mail(n: int, *, subject: str = "Frage zur Lieferung", sender: str = "kunde@example.org",
         name: str = "Erika Kunde", to: str = SELLER, in_reply_to: str | None = None, references: str = "",
         body: str = "Hallo, wo bleibt mein Paket?", message_id: str | None = None, extra: str = "",
         date: datetime | None = None) -> bytes:
    """A small realistic mail; n makes ids and dates distinct."""
    mid = message_id if message_id is not None else f"m{n}@example.org"
    when = date or BASE_DATE + timedelta(minutes=n)
    headers = [f"From: {name} <{sender}>", f"To: {to}", f"Subject: {subject}", f"Date: {format_datetime(when)}"]
    if mid:
        headers.append(f"Message-ID: <{mid}>")
    if in_reply_to:
        headers.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        headers.append(f"References: {references}")
    headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    if extra:
        headers.append(extra)
    return ("\r\n".join(headers) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode("utf-8")
