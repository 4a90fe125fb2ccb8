"""The outbox: replies waiting to leave, with the exact bytes and Message-ID fixed up front.

`queue_mail_reply` writes, in one transaction, the outgoing message on the ticket, the
conversation key of its Message-ID (so the copy that comes back from Sent lands on the
same message row) and the outbox row with the finished RFC 5322 bytes. The sender claims
due rows with a lease, so two senders never send one row at the same time, and a row left
`sending` by a crashed sender is retried when its lease ends: a reply is never lost, and a
duplicate, if the crash came after the server accepted it, carries the same Message-ID.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from email.utils import format_datetime, formataddr, make_msgid
from datetime import datetime, timezone

from deskterm.domain.sanitize import clean_line
from deskterm.store.awaiting import refresh_awaiting
from deskterm.store.db import Store
from deskterm.store.triage import change_status

LEASE_SECONDS = 300
MAX_ATTEMPTS = 10
_CONTENT_ID_SUFFIX = "@deskterm.invalid"  # ids parse.py made up for mails without one


class OutboxError(Exception):
    """A reply cannot be queued; one line saying why."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    ticket_id: int
    account_id: int
    message_id: str
    from_addr: str
    to_addrs: list[str]
    raw: bytes
    attempts: int
    status: str
    sent_copy_at: int | None


def _reply_subject(subject: str) -> str:
    subject = clean_line(subject or "").strip()
    lowered = subject.casefold()
    if lowered.startswith(("re:", "aw:")):
        return subject
    return f"Re: {subject}" if subject else "Re: Ihre Nachricht"


def build_reply(*, from_addr: str, from_name: str, to_addr: str, to_name: str, subject: str, body: str,
                in_reply_to: str | None, references: list[str], message_id: str, date: datetime) -> bytes:
    """RFC 5322 bytes of a plain-text reply. Names and subjects come from buyers: control
    characters and line breaks are removed before they reach a header, so nothing can add one."""
    from email.message import EmailMessage  # ~10 ms of imports: not for the app's outbox poll
    from email.policy import SMTP

    mail = EmailMessage(policy=SMTP)
    mail["From"] = formataddr((clean_line(from_name), from_addr))
    mail["To"] = formataddr((clean_line(to_name), to_addr))
    mail["Subject"] = _reply_subject(subject)
    mail["Date"] = format_datetime(date)
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        mail["References"] = " ".join(f"<{r}>" for r in references)
    mail["Auto-Submitted"] = "no"
    mail.set_content(body.replace("\r\n", "\n"), charset="utf-8", cte="quoted-printable")
    return mail.as_bytes()


def _references(conn: sqlite3.Connection, ticket_id: int) -> list[str]:
    ids = [r[0] for r in conn.execute(
        "SELECT external_id FROM messages WHERE ticket_id = ? ORDER BY sent_at, id", (ticket_id,))
        if r[0] and not r[0].endswith(_CONTENT_ID_SUFFIX) and "~" not in r[0]]
    return ids[:1] + ids[1:][-9:] if len(ids) > 10 else ids  # first + last nine, as mail clients trim


def queue_mail_reply(store: Store, ticket_id: int, body: str, *, from_addr: str, from_name: str = "",
                     now: int) -> OutboxRow:
    """Queue a reply to the ticket's newest incoming mail (a relay alias stays the recipient)."""
    if not body.strip():
        raise OutboxError("the reply is empty")
    conn = store.conn
    ticket = conn.execute("SELECT account_id, subject FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    if ticket is None:
        raise OutboxError(f"no ticket {ticket_id}")
    account_id, subject = int(ticket[0]), ticket[1]
    last_in = conn.execute(
        "SELECT external_id, sender_name, sender_addr, subject FROM messages WHERE ticket_id = ? AND direction = 'in' "
        "ORDER BY sent_at DESC, id DESC LIMIT 1", (ticket_id,)).fetchone()
    if last_in is None or not last_in[2]:
        raise OutboxError("this ticket has no incoming mail with an address to answer")
    parent_id, to_name, to_addr, parent_subject = last_in
    domain = from_addr.rsplit("@", 1)[-1] if "@" in from_addr else "deskterm.local"
    message_id = make_msgid(domain=domain)[1:-1]
    in_reply_to = None if parent_id.endswith(_CONTENT_ID_SUFFIX) or "~" in parent_id else parent_id
    sent_at = datetime.fromtimestamp(now, timezone.utc)
    raw = build_reply(from_addr=from_addr, from_name=from_name, to_addr=to_addr, to_name=to_name,
                      subject=parent_subject or subject, body=body, in_reply_to=in_reply_to,
                      references=_references(conn, ticket_id), message_id=message_id, date=sent_at)
    with store.transaction() as tx:
        cur = tx.execute(
            "INSERT INTO messages(account_id, external_id, ticket_id, direction, sender_name, sender_addr, sent_at, "
            "subject, body_text) VALUES (?, ?, ?, 'out', ?, ?, ?, ?, ?)",
            (account_id, message_id, ticket_id, from_name, from_addr, now, _reply_subject(parent_subject or subject),
             body))
        message_row = int(cur.lastrowid or 0)
        tx.execute("INSERT OR IGNORE INTO mail_keys(account_id, key, ticket_id) VALUES (?, ?, ?)",
                   (account_id, message_id, ticket_id))
        cur = tx.execute(
            "INSERT INTO outbox(ticket_id, account_id, message_id, body_text, status, created_at, next_attempt_at, "
            "from_addr, to_addrs, raw, message_row) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
            (ticket_id, account_id, message_id, body, now, now, from_addr, json.dumps([to_addr]), raw, message_row))
        outbox_id = int(cur.lastrowid or 0)
        tx.execute("UPDATE tickets SET message_count = message_count + 1, last_message_at = max(last_message_at, ?), "
                   "unread = 0 WHERE id = ?", (now, ticket_id))
    return OutboxRow(outbox_id, ticket_id, account_id, message_id, from_addr, [to_addr], raw, 0, "queued", None)


def _row(values: tuple) -> OutboxRow:  # type: ignore[type-arg]
    return OutboxRow(int(values[0]), int(values[1]), int(values[2]), values[3], values[4], json.loads(values[5] or "[]"),
                     bytes(values[6] or b""), int(values[7]), values[8], values[9])


_COLUMNS = "id, ticket_id, account_id, message_id, from_addr, to_addrs, raw, attempts, status, sent_copy_at"


def outbox_has_work(conn: sqlite3.Connection, now: int) -> bool:
    """Anything due to send or to file in Sent (a few indexed lookups; fine on the UI thread)."""
    return conn.execute(
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?) "
        "OR EXISTS (SELECT 1 FROM outbox WHERE status = 'sending' AND lease_until <= ?) "
        "OR EXISTS (SELECT 1 FROM outbox INDEXED BY outbox_copy_due "
        "WHERE status = 'sent' AND sent_copy_at IS NULL AND raw IS NOT NULL) "
        "OR EXISTS (SELECT 1 FROM channel_actions WHERE status = 'queued')",
        (now, now)).fetchone() is not None


def claim_due(store: Store, now: int, *, account_ids: list[int] | None = None) -> OutboxRow | None:
    """Take the next due reply for sending (queued, or `sending` whose sender's lease ran out)."""
    accounts = "" if account_ids is None else f" AND account_id IN ({','.join(str(int(a)) for a in account_ids)})"
    with store.transaction() as tx:
        row = tx.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE ((status = 'queued' AND next_attempt_at <= ?) "
            f"OR (status = 'sending' AND lease_until <= ?)){accounts} ORDER BY next_attempt_at, id LIMIT 1",
            (now, now)).fetchone()
        if row is None:
            return None
        tx.execute("UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = ? WHERE id = ?",
                   (now + LEASE_SECONDS, row[0]))
    return _row(row)


def mark_sent(store: Store, outbox_id: int, *, now: int, server_reply: str, refused: dict[str, str]) -> None:
    """The reply left; a status the template asked for (e.g. resolved) now applies."""
    with store.transaction() as tx:
        tx.execute("UPDATE outbox SET status = 'sent', sent_at = ?, server_reply = ?, refused = ?, last_error = NULL, "
                   "lease_until = 0 WHERE id = ?",
                   (now, server_reply, json.dumps(refused) if refused else None, outbox_id))
        ticket = tx.execute("SELECT ticket_id, set_tags, set_status FROM outbox WHERE id = ?",
                            (outbox_id,)).fetchone()
        if ticket is not None:
            if ticket[2]:
                change_status(tx, ticket[0], ticket[2], now)
            refresh_awaiting(tx, [ticket[0]])  # the reply left: the response clock stops
            tx.executemany("INSERT OR IGNORE INTO ticket_tags(ticket_id, tag) VALUES (?, ?)",
                           [(ticket[0], tag) for tag in json.loads(ticket[1] or "[]")])


def mark_failed_attempt(store: Store, outbox_id: int, *, now: int, error: str, temporary: bool) -> str:
    """Record a failed attempt; temporary failures retry with backoff until MAX_ATTEMPTS."""
    with store.transaction() as tx:
        attempts = tx.execute("SELECT attempts FROM outbox WHERE id = ?", (outbox_id,)).fetchone()[0]
        if temporary and attempts < MAX_ATTEMPTS:
            delay = min(3600, 30 * 2 ** max(0, attempts - 1))
            tx.execute("UPDATE outbox SET status = 'queued', next_attempt_at = ?, last_error = ?, lease_until = 0 "
                       "WHERE id = ?", (now + delay, error, outbox_id))
            return "queued"
        tx.execute("UPDATE outbox SET status = 'failed', last_error = ?, lease_until = 0 WHERE id = ?",
                   (error, outbox_id))
        return "failed"


def mark_copied(store: Store, outbox_id: int, *, now: int) -> None:
    with store.transaction() as tx:
        tx.execute("UPDATE outbox SET sent_copy_at = ? WHERE id = ?", (now, outbox_id))


def copies_due(store: Store) -> list[OutboxRow]:
    """Sent mail replies whose copy is not yet in the IMAP Sent folder."""
    return [_row(r) for r in store.conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE status = 'sent' AND sent_copy_at IS NULL AND raw IS NOT NULL "
        "ORDER BY id LIMIT 100")]


def requeue_failed(conn: sqlite3.Connection, outbox_id: int, *, now: int) -> bool:
    """Put a failed reply back in the queue (the agent fixed the cause), in the caller's transaction."""
    cur = conn.execute("UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = ? "
                       "WHERE id = ? AND status = 'failed'", (now, outbox_id))
    return cur.rowcount == 1


def retry_failed(store: Store, outbox_id: int, *, now: int) -> bool:
    with store.transaction() as tx:
        return requeue_failed(tx, outbox_id, now=now)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    ticket_id: int
    status: str
    attempts: int
    to_addrs: list[str]
    created_at: int
    sent_at: int | None
    last_error: str | None


def outbox_overview(conn: sqlite3.Connection, limit: int = 50) -> list[OutboxEntry]:
    """Failed replies first, then those in flight, queued, and the latest sent ones."""
    rows = conn.execute(
        "SELECT id, ticket_id, status, attempts, to_addrs, created_at, sent_at, last_error FROM outbox "
        "ORDER BY CASE status WHEN 'failed' THEN 0 WHEN 'sending' THEN 1 WHEN 'queued' THEN 2 ELSE 3 END, id DESC "
        "LIMIT ?", (limit,)).fetchall()
    return [OutboxEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7]) for r in rows]
