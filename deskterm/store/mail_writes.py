"""Storing e-mail: which conversation a mail continues, where it sits, what the server says.

Runs inside `apply_batch`'s transaction (see sync_writes), so a mail, its conversation
keys, its location and the folder cursor commit together.

* A mail's keys (its own Message-ID, the ids it references, marketplace relay keys) are
  looked up in `mail_keys`. No hit: the mail starts the ticket its source proposed. One
  hit: it joins that ticket. Several: the mail bridges conversations that were apart (a
  parent arriving after two replies), and they are merged into the oldest ticket.
* A reply ("Re:", "AW:") without references joins the newest ticket with the same
  normalised subject if that ticket saw a message within SUBJECT_WINDOW.
* `messages.external_id` is the Message-ID, so the same mail in INBOX and Sent, or again
  after a UIDVALIDITY change, stays one row. A different mail reusing a Message-ID (broken
  mailers do this) is stored under `<id>~<content hash>`: kept, not overwritten.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from deskterm.model import MailFlags, MailFolderState, MailLocation, MailRecord

if TYPE_CHECKING:
    from deskterm.store.sync_writes import _BatchWriter

SUBJECT_WINDOW = 14 * 86_400
SEEN = "\\Seen"
# Tables whose rows follow a ticket when it is merged into another one.
_TICKET_CHILDREN = ("messages", "mail_keys", "outbox", "order_link_suggestions", "gdpr_requests", "drafts",
                    "ticket_tags")


def store_mail(writer: _BatchWriter, record: MailRecord) -> int | None:
    """Store one mail; return its message row id (None when an erasure suppresses it)."""
    conn = writer.conn
    message = record.message
    if record.customer is not None:
        erased = writer.erased_at(record.customer.key)
        if erased is not None and _epoch(message.sent_at) < erased:
            return None
    external_id, existing = _stored_as(conn, writer.account_id, message.external_id, record.raw_sha256,
                                       record.partial)
    if existing is not None:
        ticket_id = int(existing[1])
    else:
        ticket_id = _ticket_for(writer, record)
    _remember_keys(conn, writer.account_id, ticket_id, record)
    if existing is not None and record.partial:
        message_row = int(existing[0])  # never replace a full body by a placeholder
    else:
        if message.external_id != external_id:
            message = replace(message, external_id=external_id)
        message_row = writer.upsert_message(message, ticket_id,
                                             raw_sha256=None if record.partial else record.raw_sha256)
    if record.location is not None:
        _upsert_location(conn, writer.account_id, record.location, message_row, record.flags, record.partial)
    writer.touched_tickets.add(ticket_id)
    writer.mail_tickets.add(ticket_id)
    return message_row


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _stored_as(conn: sqlite3.Connection, account_id: int, message_id: str, sha: str,
               partial: bool) -> tuple[str, tuple[int, int] | None]:
    """(external id, (row, ticket) if stored): the Message-ID, unless a different mail already
    uses it (then the id plus a content hash)."""
    row = conn.execute("SELECT id, ticket_id, raw_sha256 FROM messages WHERE account_id = ? AND external_id = ?",
                       (account_id, message_id)).fetchone()
    if row is None:
        return message_id, None
    if row[2] is None or row[2] == sha or partial:
        return message_id, (int(row[0]), int(row[1]))
    other = f"{message_id}~{sha[:16]}"
    again = conn.execute("SELECT id, ticket_id FROM messages WHERE account_id = ? AND external_id = ?",
                         (account_id, other)).fetchone()
    return other, (int(again[0]), int(again[1])) if again else None


def _ticket_for(writer: _BatchWriter, record: MailRecord) -> int:
    conn = writer.conn
    keys = list(dict.fromkeys(record.thread_keys))
    found: list[int] = []
    if keys:
        marks = ",".join("?" * len(keys))
        found = [int(r[0]) for r in conn.execute(
            f"SELECT DISTINCT ticket_id FROM mail_keys WHERE account_id = ? AND key IN ({marks}) ORDER BY ticket_id",
            (writer.account_id, *keys))]
    if not found and record.claims_reply and record.subject_key and not _has_references(record):
        row = conn.execute(
            "SELECT k.ticket_id FROM mail_keys k JOIN tickets t ON t.id = k.ticket_id "
            "WHERE k.account_id = ? AND k.key = ? AND ? - t.last_message_at BETWEEN 0 AND ?",
            (writer.account_id, "subject:" + record.subject_key, _epoch(record.message.sent_at),
             SUBJECT_WINDOW)).fetchone()
        if row:
            found = [int(row[0])]
    if not found:
        if record.customer is not None:
            writer.customer(record.customer)
        ticket_id = writer.ticket(record.ticket, record.message.sent_at)
        if ticket_id is None:  # suppressed by an erasure; cannot happen past the check above
            raise ValueError("mail ticket suppressed")
        return ticket_id
    target, others = found[0], found[1:]
    if record.customer is not None:
        writer.customer(record.customer)
    for other in others:
        merge_tickets(conn, target, other)
        writer.forget_ticket(other)
    return target


def _has_references(record: MailRecord) -> bool:
    """thread_keys[0] is the mail's own id; anything after it links it to other mails."""
    return len(record.thread_keys) > 1


def _remember_keys(conn: sqlite3.Connection, account_id: int, ticket_id: int, record: MailRecord) -> None:
    conn.executemany("INSERT OR IGNORE INTO mail_keys(account_id, key, ticket_id) VALUES (?, ?, ?)",
                     [(account_id, key, ticket_id) for key in record.thread_keys])
    if record.subject_key:
        conn.execute("INSERT INTO mail_keys(account_id, key, ticket_id) VALUES (?, ?, ?) "
                     "ON CONFLICT(account_id, key) DO UPDATE SET ticket_id = excluded.ticket_id "
                     "WHERE mail_keys.ticket_id IS NOT excluded.ticket_id",
                     (account_id, "subject:" + record.subject_key, ticket_id))


def merge_tickets(conn: sqlite3.Connection, target: int, other: int) -> None:
    """Move everything of ticket `other` into `target`, then delete `other`.

    The target keeps its local state (status, assignment); it becomes unread or open again
    only through the usual refresh when the merged messages are newer.
    """
    for table in _TICKET_CHILDREN:
        conn.execute(f"UPDATE OR IGNORE {table} SET ticket_id = ? WHERE ticket_id = ?", (target, other))
    conn.execute("UPDATE tickets SET order_ref = (SELECT order_ref FROM tickets WHERE id = ?), "
                 "order_id = (SELECT order_id FROM tickets WHERE id = ?) WHERE id = ? AND order_ref = ''",
                 (other, other, target))
    conn.execute("DELETE FROM tickets WHERE id = ?", (other,))


def _upsert_location(conn: sqlite3.Connection, account_id: int, location: MailLocation, message_row: int,
                     flags: tuple[str, ...], partial: bool) -> None:
    conn.execute(
        "INSERT INTO mail_locations(account_id, folder, uidvalidity, uid, message_id, flags, partial) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(account_id, folder, uidvalidity, uid) DO UPDATE SET "
        "message_id = excluded.message_id, flags = excluded.flags, partial = excluded.partial "
        "WHERE mail_locations.message_id IS NOT excluded.message_id OR mail_locations.flags IS NOT excluded.flags "
        "OR mail_locations.partial IS NOT excluded.partial",
        (account_id, location.folder, location.uidvalidity, location.uid, message_row, _flag_text(flags),
         int(partial)))


def _flag_text(flags: tuple[str, ...]) -> str:
    return " ".join(sorted(set(flags)))


def apply_flags(writer: _BatchWriter, change: MailFlags) -> None:
    """Record the server's flags; the ticket follows \\Seen on its newest incoming mail."""
    loc = change.location
    row = writer.conn.execute(
        "UPDATE mail_locations SET flags = ? WHERE account_id = ? AND folder = ? AND uidvalidity = ? AND uid = ? "
        "AND flags IS NOT ? RETURNING message_id",
        (_flag_text(change.flags), writer.account_id, loc.folder, loc.uidvalidity, loc.uid,
         _flag_text(change.flags))).fetchone()
    if row is not None:
        ticket = writer.conn.execute("SELECT ticket_id FROM messages WHERE id = ?", (row[0],)).fetchone()
        if ticket:
            writer.mail_tickets.add(int(ticket[0]))


def apply_folder_state(writer: _BatchWriter, state: MailFolderState) -> None:
    """Forget locations the server no longer has; the mails themselves stay in the store."""
    conn = writer.conn
    conn.execute("DELETE FROM mail_locations WHERE account_id = ? AND folder = ? AND uidvalidity <> ?",
                 (writer.account_id, state.folder, state.uidvalidity))
    if state.present_uids is None:
        return
    stored = [int(r[0]) for r in conn.execute(
        "SELECT uid FROM mail_locations WHERE account_id = ? AND folder = ? AND uidvalidity = ? AND uid <= ?",
        (writer.account_id, state.folder, state.uidvalidity, state.up_to_uid))]
    gone = [uid for uid in stored if uid not in state.present_uids]
    conn.executemany("DELETE FROM mail_locations WHERE account_id = ? AND folder = ? AND uidvalidity = ? AND uid = ?",
                     [(writer.account_id, state.folder, state.uidvalidity, uid) for uid in gone])


def sync_read_state(conn: sqlite3.Connection, tickets: set[int]) -> None:
    """A ticket is unread while its newest incoming mail lacks \\Seen on the server.

    Mails read in another client (webmail, phone) therefore do not nag here; local reading
    is not written back to the server.
    """
    for ticket_id in sorted(tickets):
        row = conn.execute(
            "SELECT (SELECT group_concat(l.flags, ' ') FROM mail_locations l WHERE l.message_id = m.id) "
            "FROM messages m WHERE m.ticket_id = ? AND m.direction = 'in' ORDER BY m.sent_at DESC, m.id DESC LIMIT 1",
            (ticket_id,)).fetchone()
        if row is None or row[0] is None:
            continue
        unread = 0 if SEEN in row[0].split() else 1
        conn.execute("UPDATE tickets SET unread = ? WHERE id = ? AND unread IS NOT ?", (unread, ticket_id, unread))
