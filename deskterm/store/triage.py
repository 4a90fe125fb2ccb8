"""Triage actions on many tickets at once, each one undoable.

Every action runs in the caller's transaction: it records what the tickets looked like
before (one `triage_actions` row, the undo journal), changes them, and recomputes their
response clocks. `undo_last` restores the agent's most recent action that is not undone
yet. Status changes keep the clock's bookkeeping: entering "pending" (waiting for the
customer) pauses a clock whose policy allows it; leaving it adds the counted paused time to
the deadline; resolving records `resolved_at` for reports; a snooze ends at
`snoozed_until` (wake_snoozed) or with the customer's next message.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from deskterm.domain.sla import counted_between, policy_for
from deskterm.domain.triage import STATUSES, TriageError, parse_tag
from deskterm.store.awaiting import refresh_awaiting

MAX_TICKETS = 10_000  # one action; a bigger selection is almost certainly a mistake
_FIELDS = ("status", "assignee", "queue", "priority", "snoozed_until", "no_response_needed", "resolved_at",
           "sla_paused_at", "sla_paused_seconds", "intent", "intent_source")


@dataclass(frozen=True, slots=True)
class ActionResult:
    action_id: int
    label: str
    changed: int  # tickets that exist and were part of the action


def _existing(conn: sqlite3.Connection, ticket_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(ticket_ids))
    if len(ids) > MAX_TICKETS:
        raise TriageError(f"zu viele Tickets auf einmal ({len(ids)}; höchstens {MAX_TICKETS})")
    found: list[int] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.extend(r[0] for r in conn.execute(f"SELECT id FROM tickets WHERE id IN ({marks})", chunk))
    return sorted(found)


def _snapshot(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[str, dict[str, object]]:
    before: dict[str, dict[str, object]] = {}
    for ticket_id in ids:
        row = conn.execute(f"SELECT {', '.join(_FIELDS)} FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        values: dict[str, object] = dict(zip(_FIELDS, row))
        values["tags"] = [r[0] for r in conn.execute("SELECT tag FROM ticket_tags WHERE ticket_id = ? ORDER BY tag",
                                                     (ticket_id,))]
        before[str(ticket_id)] = values
    return before


def _journal(conn: sqlite3.Connection, ids: Sequence[int], label: str, agent: str, now: int) -> int:
    cur = conn.execute("INSERT INTO triage_actions(at, agent, label, before) VALUES (?, ?, ?, ?)",
                       (now, agent, label, json.dumps(_snapshot(conn, ids), sort_keys=True)))
    return int(cur.lastrowid or 0)


def _paused_counted(conn: sqlite3.Connection, ticket_id: int, paused_at: int, now: int) -> int:
    row = conn.execute("SELECT t.channel, a.key FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?",
                       (ticket_id,)).fetchone()
    policy = policy_for(row[0], row[1]) if row else None
    if policy is None or not policy.pause_when_waiting:
        return 0
    return int(counted_between(datetime.fromtimestamp(paused_at, timezone.utc),
                               datetime.fromtimestamp(now, timezone.utc), policy))


def change_status(conn: sqlite3.Connection, ticket_id: int, status: str, now: int, *,
                  snoozed_until: int | None = None) -> None:
    """Move one ticket to `status` with the clock's bookkeeping (no journal, no refresh)."""
    old = conn.execute("SELECT status, sla_paused_at FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    if old is None:
        return
    old_status, paused_at = old
    paused_extra = 0
    if old_status == "pending" and status != "pending" and paused_at is not None:
        paused_extra = _paused_counted(conn, ticket_id, paused_at, now)
        paused_at = None
    if status == "pending" and old_status != "pending":
        paused_at = now
    conn.execute(
        "UPDATE tickets SET status = ?, snoozed_until = ?, sla_paused_at = ?, "
        "sla_paused_seconds = sla_paused_seconds + ?, "
        "resolved_at = CASE WHEN ? = 'resolved' THEN coalesce(CASE WHEN status = 'resolved' THEN resolved_at END, ?) "
        "ELSE NULL END WHERE id = ?",
        (status, snoozed_until if status == "snoozed" else None, paused_at, paused_extra, status, now, ticket_id))


def set_status(conn: sqlite3.Connection, ticket_ids: Iterable[int], status: str, *, agent: str, now: int,
               snoozed_until: int | None = None, label: str = "") -> ActionResult:
    """Resolve, reopen, wait for the customer, or snooze (with `snoozed_until`)."""
    if status not in STATUSES:
        raise TriageError(f"unbekannter Status {status!r}")
    if status == "snoozed" and (snoozed_until is None or snoozed_until <= now):
        raise TriageError("zurückstellen braucht einen Zeitpunkt in der Zukunft")
    ids = _existing(conn, ticket_ids)
    action = _journal(conn, ids, label or f"Status: {STATUSES[status]}", agent, now)
    for ticket_id in ids:
        change_status(conn, ticket_id, status, now, snoozed_until=snoozed_until)
    if status == "resolved":
        queue_channel_close(conn, ids, now)
    refresh_awaiting(conn, ids)
    return ActionResult(action, label or f"Status: {STATUSES[status]}", len(ids))


def _update_all(conn: sqlite3.Connection, ticket_ids: Iterable[int], label: str, agent: str, now: int,
                sql: str, args: tuple[object, ...]) -> ActionResult:
    ids = _existing(conn, ticket_ids)
    action = _journal(conn, ids, label, agent, now)
    conn.executemany(sql, [(*args, ticket_id) for ticket_id in ids])
    refresh_awaiting(conn, ids)
    return ActionResult(action, label, len(ids))


def assign(conn: sqlite3.Connection, ticket_ids: Iterable[int], assignee: str | None, *, agent: str,
           now: int) -> ActionResult:
    name = (assignee or "").strip() or None
    label = f"Zugewiesen: {name}" if name else "Zuweisung entfernt"
    return _update_all(conn, ticket_ids, label, agent, now, "UPDATE tickets SET assignee = ? WHERE id = ?", (name,))


def set_queue(conn: sqlite3.Connection, ticket_ids: Iterable[int], queue: str | None, *, agent: str,
              now: int) -> ActionResult:
    name = (queue or "").strip().lower() or None
    label = f"Warteschlange: {name}" if name else "Warteschlange entfernt"
    return _update_all(conn, ticket_ids, label, agent, now, "UPDATE tickets SET queue = ? WHERE id = ?", (name,))


def set_priority(conn: sqlite3.Connection, ticket_ids: Iterable[int], priority: int, *, agent: str,
                 now: int) -> ActionResult:
    from deskterm.domain.triage import PRIORITIES

    if priority not in PRIORITIES:
        raise TriageError(f"unbekannte Priorität {priority}")
    return _update_all(conn, ticket_ids, f"Priorität: {PRIORITIES[priority]}", agent, now,
                       "UPDATE tickets SET priority = ? WHERE id = ?", (priority,))


def label_intent(conn: sqlite3.Connection, ticket_ids: Iterable[int], intent: str, *, agent: str,
                 now: int) -> ActionResult:
    """The agent's intent label: wins over the classifier and trains the seller's own model."""
    from deskterm.domain.triage import INTENTS, parse_intent

    value = parse_intent(intent)
    return _update_all(conn, ticket_ids, f"Anliegen: {INTENTS[value]}", agent, now,
                       "UPDATE tickets SET intent = ?, intent_source = 'agent' WHERE id = ?", (value,))


def no_response_needed(conn: sqlite3.Connection, ticket_ids: Iterable[int], reason: str | None, *, agent: str,
                       now: int) -> ActionResult:
    """Amazon's "no response needed": the clock stops with a reason (None: clock runs again)."""
    text = " ".join((reason or "").split())[:200] or None
    label = f"Keine Antwort nötig: {text}" if text else "Antwort wieder nötig"
    return _update_all(conn, ticket_ids, label, agent, now,
                       "UPDATE tickets SET no_response_needed = ? WHERE id = ?", (text,))


def tag(conn: sqlite3.Connection, ticket_ids: Iterable[int], add: Iterable[str] = (), remove: Iterable[str] = (),
        *, agent: str, now: int) -> ActionResult:
    added = sorted({parse_tag(t) for t in add})
    removed = sorted({parse_tag(t) for t in remove})
    if not added and not removed:
        raise TriageError("kein Schlagwort angegeben (z. B. „vip -rückfrage“)")
    ids = _existing(conn, ticket_ids)
    label = "Schlagwörter: " + " ".join([*added, *(f"-{t}" for t in removed)])
    action = _journal(conn, ids, label, agent, now)
    conn.executemany("INSERT OR IGNORE INTO ticket_tags(ticket_id, tag) VALUES (?, ?)",
                     [(i, t) for i in ids for t in added])
    conn.executemany("DELETE FROM ticket_tags WHERE ticket_id = ? AND tag = ?", [(i, t) for i in ids for t in removed])
    return ActionResult(action, label, len(ids))


def undo_last(conn: sqlite3.Connection, *, agent: str, now: int) -> ActionResult | None:
    """Restore the tickets of `agent`'s latest action that is not undone (None: nothing to undo)."""
    row = conn.execute("SELECT id, label, before FROM triage_actions WHERE agent = ? AND undone_at IS NULL "
                       "ORDER BY id DESC LIMIT 1", (agent,)).fetchone()
    if row is None:
        return None
    action_id, label, before_json = row
    before: dict[str, dict[str, object]] = json.loads(before_json)
    restored = 0
    for key, values in before.items():
        ticket_id = int(key)
        if conn.execute("SELECT 1 FROM tickets WHERE id = ?", (ticket_id,)).fetchone() is None:
            continue  # erased or merged away since: nothing to restore
        fields = [f for f in _FIELDS if f in values]  # journals older than a field lack it
        conn.execute(f"UPDATE tickets SET {', '.join(f'{f} = ?' for f in fields)} WHERE id = ?",
                     (*(values[f] for f in fields), ticket_id))
        conn.execute("DELETE FROM ticket_tags WHERE ticket_id = ?", (ticket_id,))
        conn.executemany("INSERT INTO ticket_tags(ticket_id, tag) VALUES (?, ?)",
                         [(ticket_id, t) for t in values["tags"]])  # type: ignore[attr-defined]
        restored += 1
    refresh_awaiting(conn, [int(k) for k in before])
    # A close not yet sent to the channel is taken back with the resolve that queued it.
    conn.executemany("DELETE FROM channel_actions WHERE ticket_id = ? AND action = 'close' AND status = 'queued' "
                     "AND (SELECT status FROM tickets WHERE id = ?) <> 'resolved'",
                     [(int(k), int(k)) for k in before])
    conn.execute("UPDATE triage_actions SET undone_at = ? WHERE id = ?", (now, action_id))
    return ActionResult(action_id, f"Rückgängig: {label}", restored)


CLOSING_SOURCES = ("kaufland",)  # channels whose API closes tickets (Kaufland: PATCH .../close)


def queue_channel_close(conn: sqlite3.Connection, ticket_ids: Sequence[int], now: int) -> int:
    """Resolved here: the channel closes the ticket too, where its API can (queued, sent by
    the outbox sender; reopening here cannot reopen it there)."""
    queued = 0
    for ticket_id in ticket_ids:
        row = conn.execute("SELECT json_extract(a.settings, '$.source') FROM tickets t JOIN accounts a "
                           "ON a.id = t.account_id WHERE t.id = ?", (ticket_id,)).fetchone()
        if row and row[0] in CLOSING_SOURCES and not conn.execute(
                "SELECT 1 FROM channel_actions WHERE ticket_id = ? AND action = 'close' AND status = 'queued'",
                (ticket_id,)).fetchone():
            conn.execute("INSERT INTO channel_actions(ticket_id, action, created_at) VALUES (?, 'close', ?)",
                         (ticket_id, now))
            queued += 1
    return queued


def wake_snoozed(conn: sqlite3.Connection, now: int) -> list[int]:
    """Snoozed tickets whose time has come are open and unread again (the snooze index)."""
    due = [r[0] for r in conn.execute("SELECT id FROM tickets WHERE snoozed_until IS NOT NULL AND snoozed_until <= ? "
                                      "ORDER BY snoozed_until LIMIT 1000", (now,))]
    for ticket_id in due:
        change_status(conn, ticket_id, "open", now)
        conn.execute("UPDATE tickets SET unread = 1 WHERE id = ?", (ticket_id,))
    refresh_awaiting(conn, due)
    return due


def next_wake(conn: sqlite3.Connection) -> int | None:
    """The earliest wake-up time of any snoozed ticket (one index lookup)."""
    row = conn.execute("SELECT min(snoozed_until) FROM tickets WHERE snoozed_until IS NOT NULL").fetchone()
    return int(row[0]) if row and row[0] is not None else None
