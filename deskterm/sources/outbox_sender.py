"""Delivering the outbox: claim a due reply, send it, record the result, file a copy in Sent.

Order of durable steps for one reply (each its own transaction):
1. claim (status `sending`, lease) - a crash before or during sending leaves the row to be
   retried when the lease ends, with the same bytes and Message-ID;
2. SMTP; 3. mark `sent` with the server's reply and any refused recipients;
4. APPEND to the IMAP Sent folder unless a mail with that Message-ID is already there,
   then mark the copy made - so the Sent folder never gets it twice.
Temporary errors (4xx, timeouts) retry with backoff; permanent ones (5xx, refused login)
mark the row failed with a one-line reason the ticket shows.
"""

from __future__ import annotations

import imaplib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from imapclient.exceptions import IMAPClientError

from deskterm.secrets import SecretError, get_secret
from deskterm.sources.base import OutgoingReply, Source, SourceError
from deskterm.sources.mail.imap import connect
from deskterm.sources.mail.settings import MailAccountSettings, MailSettingsError, mail_settings
from deskterm.sources.mail.smtp import send_raw
from deskterm.store.db import Store
from deskterm.store.outbox import OutboxRow, claim_due, copies_due, mark_copied, mark_failed_attempt, mark_sent

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: list[str] = field(default_factory=list)
    copies: int = 0


class OutboxSender:
    """Sends due replies of the store's mail accounts."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time,
                 secret: Callable[[str], str] = get_secret) -> None:
        self.store = store
        self.clock = clock
        self.secret = secret
        self._settings: dict[int, MailAccountSettings | None] = {}
        self._sources: dict[int, Source] = {}

    def _account(self, account_id: int) -> MailAccountSettings | None:
        if account_id not in self._settings:
            row = self.store.conn.execute("SELECT settings FROM accounts WHERE id = ?", (account_id,)).fetchone()
            raw = json.loads(row[0] or "{}") if row else {}
            try:
                self._settings[account_id] = mail_settings(raw) if raw.get("source") in ("imap", "maildir") else None
            except MailSettingsError:
                self._settings[account_id] = None
        return self._settings[account_id]

    def deliver_due(self, *, limit: int = 50) -> DeliveryReport:
        report = DeliveryReport()
        try:
            for _ in range(limit):
                row = claim_due(self.store, int(self.clock()))
                if row is None:
                    break
                self._send(row, report)
            for row in copies_due(self.store):
                self._file_copy(row, report)
            self._channel_actions(report)
        finally:
            for source in self._sources.values():
                source.close()
            self._sources.clear()
        return report

    def _channel_actions(self, report: DeliveryReport, *, max_attempts: int = 5) -> None:
        """Queued channel actions (closing a Kaufland ticket): done once; a temporary failure
        stays queued for the next round, a permanent one is recorded with its reason."""
        rows = self.store.conn.execute(
            "SELECT c.id, c.action, t.account_id, t.external_id FROM channel_actions c JOIN tickets t "
            "ON t.id = c.ticket_id WHERE c.status = 'queued' ORDER BY c.id LIMIT 50").fetchall()
        for action_id, action, account_id, external_id in rows:
            try:
                source = self._source(account_id)
                getattr(source, f"{action}_ticket")(external_id)
            except (SourceError, AttributeError) as exc:
                temporary = getattr(exc, "temporary", False)
                with self.store.transaction() as tx:
                    tx.execute("UPDATE channel_actions SET attempts = attempts + 1, last_error = ?, "
                               "status = CASE WHEN ? AND attempts + 1 < ? THEN 'queued' ELSE 'failed' END "
                               "WHERE id = ?", (str(exc)[:300], temporary, max_attempts, action_id))
                if not temporary:
                    report.failed.append(str(exc))
                continue
            with self.store.transaction() as tx:
                tx.execute("UPDATE channel_actions SET status = 'done', attempts = attempts + 1, done_at = ? "
                           "WHERE id = ?", (int(self.clock()), action_id))

    def _source(self, account_id: int) -> Source:
        """The channel's own source, for replies that do not go out by SMTP."""
        if not self._sources:
            from deskterm.sources.registry import sources_for_store

            keys = dict(self.store.conn.execute("SELECT key, id FROM accounts"))
            self._sources = {keys[s.account_key]: s for s in sources_for_store(self.store) if s.account_key in keys}
        source = self._sources.get(account_id)
        if source is None:
            raise SourceError("no source can send for this account", temporary=False)
        return source

    def _send(self, row: OutboxRow, report: DeliveryReport) -> None:
        settings = self._account(row.account_id)
        try:
            if settings is None:  # a marketplace or DM channel: its source sends
                ticket = self.store.conn.execute(
                    "SELECT t.external_id, t.last_customer_message_at, i.value FROM tickets t "
                    "LEFT JOIN identities i ON i.id = t.identity_id WHERE t.id = ?", (row.ticket_id,)).fetchone()
                body, created = self.store.conn.execute("SELECT body_text, created_at FROM outbox WHERE id = ?",
                                                        (row.id,)).fetchone()
                # claim_due counted this try already; the row shows the tries before it.
                receipt = self._source(row.account_id).send(OutgoingReply(
                    ticket[0] if ticket else "", row.message_id, body, attempt=row.attempts + 1,
                    queued_at=datetime.fromtimestamp(created, timezone.utc),
                    customer_last_at=datetime.fromtimestamp(ticket[1], timezone.utc) if ticket and ticket[1] else None,
                    recipient_id=str(ticket[2] or "") if ticket else ""))
                mark_sent(self.store, row.id, now=int(self.clock()), server_reply=f"ok {receipt.external_id}",
                          refused={})
                report.sent += 1
                return
            if settings.smtp is None:
                raise SourceError("this account has no SMTP server configured", temporary=False)
            password = self.secret(settings.smtp.password_ref)
            result = send_raw(settings.smtp, password, row.from_addr, row.to_addrs, row.raw)
        except (SourceError, SecretError) as exc:
            temporary = isinstance(exc, SourceError) and exc.temporary
            state = mark_failed_attempt(self.store, row.id, now=int(self.clock()), error=str(exc), temporary=temporary)
            if state == "failed":
                report.failed.append(str(exc))
            else:
                report.retrying += 1
            log.warning("reply %s not sent (%s): %s", row.id, state, exc)
            return
        mark_sent(self.store, row.id, now=int(self.clock()), server_reply=result.server_reply, refused=result.refused)
        report.sent += 1

    def _file_copy(self, row: OutboxRow, report: DeliveryReport) -> None:
        settings = self._account(row.account_id)
        if settings is None or settings.imap is None or not settings.sent_folder or not row.raw:
            mark_copied(self.store, row.id, now=int(self.clock()))  # nowhere to file it: nothing to retry
            return
        try:
            client = connect(settings.imap, self.secret(settings.imap.password_ref))
            try:
                client.select_folder(settings.sent_folder)
                if not client.search(["HEADER", "Message-ID", f"<{row.message_id}>"]):
                    client.append(settings.sent_folder, row.raw, flags=[b"\\Seen"])
            finally:
                client.logout()
        except (SourceError, SecretError, OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
            log.warning("copy of reply %s to Sent failed, will retry: %s", row.id, str(exc)[:200])
            return
        mark_copied(self.store, row.id, now=int(self.clock()))
        report.copies += 1


def deliver_if_due(store_path: Path, *, clock: Callable[[], float] = time.time) -> DeliveryReport | None:
    """Open the store, and send what is due (None when nothing is: one indexed check)."""
    from deskterm.store.outbox import outbox_has_work

    with Store.open(store_path, create=False) as store:
        if not outbox_has_work(store.conn, int(clock())):
            return None
        return OutboxSender(store, clock=clock).deliver_due()
