"""The GDPR register: data-subject requests, flags from buyer messages, consent, retention.

Everything an admin does here is written to the audit log (by id, never by name).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from deskterm.domain.gdpr_requests import RequestKind, detect_request, due_at, latest_extension
from deskterm.domain.retention import RetentionPolicy
from deskterm.store.audit import append_audit

DAY = 86_400


class RegisterError(ValueError):
    """A register action that cannot be done; one line for the admin."""


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: int
    kind: str
    customer_id: int | None
    ticket_id: int | None
    received_at: int
    due_at: int
    extension_reason: str | None
    verification: str
    status: str


@dataclass(frozen=True, slots=True)
class FlagRow:
    ticket_id: int
    kind: str
    phrase: str
    customer_id: int | None
    received_at: int


# -- flags: the sync notices requests written in buyer messages --------------------------


def flag_requests(conn: sqlite3.Connection, tickets: Iterable[int], *, messages_after: int = 0) -> None:
    """Flag tickets whose buyer messages ask for access, erasure... (once per ticket).

    Only message rows with an id above `messages_after` are read (older ones were checked
    when they arrived), at most 20 per ticket.
    """
    for ticket_id in tickets:
        if conn.execute("SELECT 1 FROM gdpr_flags WHERE ticket_id = ?", (ticket_id,)).fetchone():
            continue
        for message_id, text in conn.execute(
                "SELECT id, subject || ' ' || body_text FROM messages WHERE ticket_id = ? AND direction = 'in' "
                "AND id > ? ORDER BY sent_at, id LIMIT 20", (ticket_id, messages_after)).fetchall():
            found = detect_request(text)
            if found:
                conn.execute("INSERT INTO gdpr_flags(ticket_id, message_id, kind, phrase) VALUES (?, ?, ?, ?)",
                             (ticket_id, message_id, str(found.kind), found.phrase[:80]))
                break


def open_flags(conn: sqlite3.Connection, limit: int = 100) -> list[FlagRow]:
    rows = conn.execute(
        "SELECT f.ticket_id, f.kind, f.phrase, t.customer_id, m.sent_at FROM gdpr_flags f "
        "JOIN tickets t ON t.id = f.ticket_id JOIN messages m ON m.id = f.message_id "
        "WHERE f.status = 'open' ORDER BY m.sent_at LIMIT ?", (limit,)).fetchall()
    return [FlagRow(*r) for r in rows]


def dismiss_flag(conn: sqlite3.Connection, ticket_id: int, *, now: int, actor: str) -> None:
    conn.execute("UPDATE gdpr_flags SET status = 'dismissed' WHERE ticket_id = ?", (ticket_id,))
    append_audit(conn, now, actor, "gdpr.flag_dismissed", f"ticket:{ticket_id}")


# -- requests ---------------------------------------------------------------------------


def register_request(conn: sqlite3.Connection, kind: str, *, received_at: int, now: int, actor: str,
                     customer_id: int | None = None, ticket_id: int | None = None) -> int:
    """Record a request; it is due one month after receipt."""
    kind = RequestKind(kind)
    if ticket_id is not None and customer_id is None:
        row = conn.execute("SELECT customer_id FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise RegisterError(f"no ticket {ticket_id}")
        customer_id = row[0]
    cur = conn.execute(
        "INSERT INTO gdpr_requests(kind, customer_id, ticket_id, received_at, due_at) VALUES (?, ?, ?, ?, ?)",
        (str(kind), customer_id, ticket_id, received_at, due_at(received_at)))
    request_id = int(cur.lastrowid or 0)
    if ticket_id is not None:
        conn.execute("UPDATE gdpr_flags SET status = 'registered' WHERE ticket_id = ?", (ticket_id,))
    append_audit(conn, now, actor, "gdpr.request_registered", f"request:{request_id}",
                 {"kind": str(kind), "customer": customer_id, "ticket": ticket_id})
    return request_id


def register_from_flag(conn: sqlite3.Connection, ticket_id: int, *, now: int, actor: str) -> int:
    row = conn.execute("SELECT f.kind, m.sent_at FROM gdpr_flags f JOIN messages m ON m.id = f.message_id "
                       "WHERE f.ticket_id = ?", (ticket_id,)).fetchone()
    if row is None:
        raise RegisterError(f"ticket {ticket_id} has no flagged request")
    return register_request(conn, row[0], received_at=row[1], now=now, actor=actor, ticket_id=ticket_id)


def _request(conn: sqlite3.Connection, request_id: int) -> RequestRow:
    row = conn.execute("SELECT id, kind, customer_id, ticket_id, received_at, due_at, extension_reason, verification, "
                       "status FROM gdpr_requests WHERE id = ?", (request_id,)).fetchone()
    if row is None:
        raise RegisterError(f"no request {request_id}")
    return RequestRow(*row)


def extend_request(conn: sqlite3.Connection, request_id: int, reason: str, *, now: int, actor: str) -> int:
    """Extend to three months after receipt (Art. 12(3)); the reason must be given."""
    request = _request(conn, request_id)
    if not reason.strip():
        raise RegisterError("an extension needs a reason (it must be told to the person)")
    if now > request.due_at:
        raise RegisterError(f"request {request_id} is already overdue; an extension must be declared in time")
    new_due = latest_extension(request.received_at)
    conn.execute("UPDATE gdpr_requests SET due_at = ?, extension_reason = ? WHERE id = ?",
                 (new_due, reason.strip(), request_id))
    append_audit(conn, now, actor, "gdpr.request_extended", f"request:{request_id}", {"due_at": new_due})
    return new_due


def verify_requester(conn: sqlite3.Connection, request_id: int, *, verified: bool, evidence: str, now: int,
                     actor: str) -> None:
    _request(conn, request_id)
    conn.execute("UPDATE gdpr_requests SET verification = ?, verification_evidence = ? WHERE id = ?",
                 ("verified" if verified else "failed", evidence.strip(), request_id))
    append_audit(conn, now, actor, "gdpr.requester_" + ("verified" if verified else "not_verified"),
                 f"request:{request_id}")


def close_request(conn: sqlite3.Connection, request_id: int, *, done: bool, now: int, actor: str) -> None:
    request = _request(conn, request_id)
    if request.status != "open":
        raise RegisterError(f"request {request_id} is already {request.status}")
    if done and request.verification != "verified":
        raise RegisterError(f"request {request_id}: verify the requester's identity first")
    conn.execute("UPDATE gdpr_requests SET status = ?, closed_at = ? WHERE id = ?",
                 ("done" if done else "rejected", now, request_id))
    append_audit(conn, now, actor, "gdpr.request_" + ("done" if done else "rejected"), f"request:{request_id}")


def open_requests(conn: sqlite3.Connection, limit: int = 200) -> list[RequestRow]:
    rows = conn.execute("SELECT id, kind, customer_id, ticket_id, received_at, due_at, extension_reason, "
                        "verification, status FROM gdpr_requests WHERE status = 'open' ORDER BY due_at LIMIT ?",
                        (limit,)).fetchall()
    return [RequestRow(*r) for r in rows]


def reminders(conn: sqlite3.Connection, now: int, *, within_days: int = 7) -> tuple[int, int, int]:
    """(open requests due within `within_days`, overdue requests, open flags) for the inbox header."""
    soon = conn.execute("SELECT count(*) FROM gdpr_requests WHERE status = 'open' AND due_at BETWEEN ? AND ?",
                        (now, now + within_days * DAY)).fetchone()[0]
    overdue = conn.execute("SELECT count(*) FROM gdpr_requests WHERE status = 'open' AND due_at < ?",
                           (now,)).fetchone()[0]
    flags = conn.execute("SELECT count(*) FROM gdpr_flags WHERE status = 'open'").fetchone()[0]
    return int(soon), int(overdue), int(flags)


# -- consent ----------------------------------------------------------------------------


def record_consent(conn: sqlite3.Connection, customer_id: int, *, purpose: str, text: str, version: str,
                   channel: str, evidence: str, now: int, actor: str) -> int:
    cur = conn.execute("INSERT INTO consents(customer_id, purpose, text, version, channel, given_at, evidence) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (customer_id, purpose, text, version, channel, now, evidence))
    consent_id = int(cur.lastrowid or 0)
    append_audit(conn, now, actor, "gdpr.consent_given", f"customer:{customer_id}",
                 {"consent": consent_id, "purpose": purpose, "version": version})
    return consent_id


def withdraw_consent(conn: sqlite3.Connection, customer_id: int, purpose: str, *, now: int, actor: str) -> int:
    changed = conn.execute("UPDATE consents SET withdrawn_at = ? WHERE customer_id = ? AND purpose = ? "
                           "AND withdrawn_at IS NULL", (now, customer_id, purpose)).rowcount
    append_audit(conn, now, actor, "gdpr.consent_withdrawn", f"customer:{customer_id}", {"purpose": purpose})
    return changed


def has_consent(conn: sqlite3.Connection, customer_id: int, purpose: str) -> bool:
    """Ask before any consent-based processing (feedback requests, marketing)."""
    return conn.execute("SELECT 1 FROM consents WHERE customer_id = ? AND purpose = ? AND withdrawn_at IS NULL "
                        "LIMIT 1", (customer_id, purpose)).fetchone() is not None


# -- retention --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    expired_orders: list[int]
    old_tickets: list[int]
    expired_letters: list[int]

    def as_dict(self) -> dict[str, int]:
        return {"restricted_orders_past_delete_after": len(self.expired_orders),
                "held_letters_past_delete_after": len(self.expired_letters),
                "resolved_tickets_past_retention": len(self.old_tickets)}


def plan_retention(conn: sqlite3.Connection, now: int, policy: RetentionPolicy, *, limit: int = 10_000) -> RetentionPlan:
    """Preview: held orders whose legal period is over; resolved tickets older than the ticket policy."""
    orders = [r[0] for r in conn.execute(
        "SELECT id FROM orders WHERE restricted_reason IS NOT NULL AND delete_after <= ? LIMIT ?", (now, limit))]
    tickets: list[int] = []
    if policy.ticket_years:
        cutoff = now - int(policy.ticket_years * 365.25 * DAY)
        tickets = [r[0] for r in conn.execute(
            "SELECT id FROM tickets WHERE status = 'resolved' AND last_message_at < ? LIMIT ?", (cutoff, limit))]
    letters = [r[0] for r in conn.execute("SELECT id FROM held_messages WHERE delete_after <= ? LIMIT ?",
                                          (now, limit))]
    return RetentionPlan(orders, tickets, letters)


def run_retention(conn: sqlite3.Connection, plan: RetentionPlan, *, now: int, actor: str) -> dict[str, int]:
    for chunk in _chunks(plan.expired_orders):
        conn.execute(f"DELETE FROM orders WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    for chunk in _chunks(plan.expired_letters):
        conn.execute(f"DELETE FROM held_messages WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    for chunk in _chunks(plan.old_tickets):
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM messages WHERE ticket_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM tickets WHERE id IN ({marks})", chunk)
    summary = plan.as_dict()
    append_audit(conn, now, actor, "gdpr.retention_run", "store", dict(summary))
    return summary


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
