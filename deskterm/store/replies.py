"""Drafts, internal notes, and queueing replies on any channel with an undo window.

* A draft is saved as the agent types (one per ticket and kind) and comes back after a
  crash or restart; sending or discarding deletes it.
* A note is an internal message on the ticket; it never leaves and does not count as an
  answer to the customer.
* `queue_reply` puts a reply in the outbox due `undo_seconds` from now (mail: the finished
  RFC 5322 bytes via store.outbox; other channels: the text, handed to the channel's
  source by the sender). Until it is due, `undo_send` takes it back and restores the draft.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from email.utils import make_msgid

from deskterm.domain.reply_rules import ChannelRules, check_reply
from deskterm.domain.templates import gaps_in
from deskterm.store.db import Store
from deskterm.store.outbox import OutboxError, OutboxRow, queue_mail_reply

DRAFT_KINDS = ("reply", "note")


@dataclass(frozen=True, slots=True)
class Draft:
    ticket_id: int
    kind: str
    body: str
    template: str | None
    updated_at: int


def save_draft(conn: sqlite3.Connection, ticket_id: int, kind: str, body: str, *, now: int,
               template: str | None = None) -> None:
    """Upsert the draft (an empty body deletes it)."""
    if kind not in DRAFT_KINDS:
        raise ValueError(f"unknown draft kind {kind!r}")
    if not body.strip():
        conn.execute("DELETE FROM drafts WHERE ticket_id = ? AND kind = ?", (ticket_id, kind))
        return
    conn.execute(
        "INSERT INTO drafts(ticket_id, kind, body, template, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(ticket_id, kind) DO UPDATE SET body = excluded.body, "
        "template = coalesce(excluded.template, drafts.template), updated_at = excluded.updated_at "
        "WHERE drafts.body IS NOT excluded.body OR drafts.template IS NOT excluded.template",
        (ticket_id, kind, body, template, now))


def load_draft(conn: sqlite3.Connection, ticket_id: int, kind: str) -> Draft | None:
    row = conn.execute("SELECT ticket_id, kind, body, template, updated_at FROM drafts WHERE ticket_id = ? AND kind = ?",
                       (ticket_id, kind)).fetchone()
    return Draft(*row) if row else None


def add_note(store: Store, ticket_id: int, body: str, *, author: str, now: int) -> int:
    """An internal note on the ticket (never sent; not an answer for SLA purposes)."""
    if not body.strip():
        raise OutboxError("the note is empty")
    with store.transaction() as conn:
        account = conn.execute("SELECT account_id FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if account is None:
            raise OutboxError(f"no ticket {ticket_id}")
        cur = conn.execute(
            "INSERT INTO messages(account_id, external_id, ticket_id, direction, sender_name, sent_at, body_text) "
            "VALUES (?, ?, ?, 'note', ?, ?, ?)", (account[0], f"note:{uuid.uuid4()}", ticket_id, author, now, body))
        conn.execute("DELETE FROM drafts WHERE ticket_id = ? AND kind = 'note'", (ticket_id,))
        conn.execute("UPDATE tickets SET message_count = message_count + 1 WHERE id = ?", (ticket_id,))
        return int(cur.lastrowid or 0)


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """How a ticket's account sends: by mail (from an address) or through its source."""

    account_id: int
    channel: str
    mail_from: str | None  # set for mail accounts with SMTP
    sender_name: str


def reply_target(conn: sqlite3.Connection, ticket_id: int) -> ReplyTarget:
    row = conn.execute("SELECT t.account_id, t.channel, a.name, a.settings FROM tickets t "
                       "JOIN accounts a ON a.id = t.account_id WHERE t.id = ?", (ticket_id,)).fetchone()
    if row is None:
        raise OutboxError(f"no ticket {ticket_id}")
    account_id, channel, name, raw = row
    settings = json.loads(raw or "{}")
    mail_from = None
    if settings.get("source") in ("imap", "maildir"):
        if not settings.get("smtp"):
            raise OutboxError("this mail account has no SMTP server; add one to send replies")
        addresses = settings.get("addresses") or []
        mail_from = addresses[0] if addresses else str(settings["smtp"].get("user", ""))
    return ReplyTarget(int(account_id), str(channel), mail_from, str(name))


def queue_reply(store: Store, ticket_id: int, body: str, *, now: int, undo_seconds: int = 0,
                set_status: str | None = None, tags: tuple[str, ...] = (), agent: str | None = None,
                auto: bool = False) -> OutboxRow:
    """Queue a reply on the ticket's own channel, due after the undo window. `set_status`
    and `tags` (from a template) apply to the ticket once the reply has left; `agent` (who
    wrote it) is kept on the message for reports. `auto`: sent by an assist policy, not a
    person; it never stops the response clock and is not a first response in reports."""
    if set_status not in (None, "open", "pending", "resolved"):
        raise OutboxError(f"unknown status {set_status!r}")
    target = reply_target(store.conn, ticket_id)
    due = now + max(0, undo_seconds)
    if target.mail_from is not None:
        row = queue_mail_reply(store, ticket_id, body, from_addr=target.mail_from, from_name=target.sender_name,
                               now=now)
        with store.transaction() as conn:
            conn.execute("UPDATE outbox SET next_attempt_at = ?, set_status = ?, set_tags = ? WHERE id = ?",
                         (due, set_status, json.dumps(list(tags)) if tags else None, row.id))
            conn.execute("UPDATE messages SET agent = ?, auto = ? WHERE id = (SELECT message_row FROM outbox WHERE id = ?)",
                         (agent, int(auto), row.id))
            conn.execute("UPDATE outbox SET auto = ? WHERE id = ?", (int(auto), row.id))
            conn.execute("DELETE FROM drafts WHERE ticket_id = ? AND kind = 'reply'", (ticket_id,))
        return row
    if not body.strip():
        raise OutboxError("the reply is empty")
    message_id = make_msgid(domain="deskterm.invalid")[1:-1]  # fixed before the first try, as for mail
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO messages(account_id, external_id, ticket_id, direction, sender_name, sent_at, body_text, "
            "agent, auto) VALUES (?, ?, ?, 'out', ?, ?, ?, ?, ?)", (target.account_id, message_id, ticket_id,
                                                                 target.sender_name, now, body, agent, int(auto)))
        message_row = int(cur.lastrowid or 0)
        cur = conn.execute(
            "INSERT INTO outbox(ticket_id, account_id, message_id, body_text, status, created_at, next_attempt_at, "
            "message_row, set_status, set_tags, auto) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
            (ticket_id, target.account_id, message_id, body, now, due, message_row, set_status,
             json.dumps(list(tags)) if tags else None, int(auto)))
        outbox_id = int(cur.lastrowid or 0)
        conn.execute("UPDATE tickets SET message_count = message_count + 1, last_message_at = max(last_message_at, ?), "
                     "unread = 0 WHERE id = ?", (now, ticket_id))
        conn.execute("DELETE FROM drafts WHERE ticket_id = ? AND kind = 'reply'", (ticket_id,))
    return OutboxRow(outbox_id, ticket_id, target.account_id, message_id, "", [], b"", 0, "queued", None)


def undo_send(store: Store, outbox_id: int, *, now: int) -> bool:
    """Take back a reply that has not been tried yet; its text becomes the draft again."""
    with store.transaction() as conn:
        row = conn.execute("SELECT ticket_id, body_text, message_row, message_id, account_id FROM outbox "
                           "WHERE id = ? AND status = 'queued' AND attempts = 0", (outbox_id,)).fetchone()
        if row is None:
            return False
        ticket_id, body, message_row, message_id, account_id = row
        conn.execute("DELETE FROM outbox WHERE id = ?", (outbox_id,))
        if message_row is not None:
            conn.execute("DELETE FROM messages WHERE id = ?", (message_row,))
        conn.execute("DELETE FROM mail_keys WHERE account_id = ? AND key = ?", (account_id, message_id))
        conn.execute("UPDATE tickets SET message_count = max(0, message_count - 1) WHERE id = ?", (ticket_id,))
        save_draft(conn, ticket_id, "reply", body, now=now)
    return True


def reply_problems(conn: sqlite3.Connection, ticket_id: int, text: str, *, rules: dict[str, ChannelRules],
                   now: float, kind: str = "reply") -> list[str]:
    """Everything that stops `text` from being sent on this ticket: template gaps first, then
    the channel's rules (including a reply window counted from the last customer message)."""
    found: list[str] = []
    gaps = gaps_in(text)
    if gaps:
        found.append("Lücken füllen oder löschen: " + ", ".join(g[1:-1].removesuffix(" fehlt") for g in gaps[:5]))
    if kind != "reply":
        if not text.strip():
            found.append("Die Notiz ist leer")
        return found
    row = conn.execute("SELECT t.channel, t.last_customer_message_at, json_extract(a.settings, '$.human_agent') "
                       "FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?", (ticket_id,)).fetchone()
    if row is None:
        return [*found, f"kein Ticket {ticket_id}"]
    hours = (now - row[1]) / 3600 if row[1] else None
    found.extend(check_reply(rules, row[0], text, hours_since_customer=hours, human_agent=bool(row[2])))
    return found
