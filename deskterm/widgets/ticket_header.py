"""The ticket screen's header: subject, channel, customer and order; the response clock;
Meta's reply window; assignment, priority, snooze and tags; who else has the ticket open.

Each part is a few indexed reads for one ticket, assembled as Content (never markup):
everything from outside goes through the sanitiser first.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from textual.content import Content

from deskterm.domain.format import local_time
from deskterm.domain.sanitize import clean_line
from deskterm.domain.sla import countdown_label, policy_for, urgency
from deskterm.domain.classify_lexicon import LANGUAGE_NAMES, URGENCY_LABELS
from deskterm.domain.triage import INTENTS, PRIORITIES
from deskterm.store.assist_view import assist_view
from deskterm.store.inbox import TicketDetail, ticket_tags
from deskterm.store.presence import others_on
from deskterm.widgets.rows import STATUS_LABELS, to_display

Part = tuple[str, str]


def ticket_header(conn: sqlite3.Connection, ticket_id: int, detail: TicketDetail | None, *, agent: str,
                  now: float) -> Content:
    if detail is None:
        return Content("Dieses Ticket gibt es nicht mehr.")
    row = to_display(detail.row)
    parts: list[str | Part] = [
        (row.subject + "\n", "bold"),
        (f"{row.channel}", "bold #ffc53d"),
        f" · {clean_line(detail.account_name)} · {row.customer}",
    ]
    if row.order_ref:
        parts.append(f" · Bestellung {row.order_ref}")
    count = detail.row.message_count
    messages = "1 Nachricht" if count == 1 else f"{count} Nachrichten"
    parts.append((f" · {messages} · zuletzt {local_time(row.last_message_at)}"
                  f" · {STATUS_LABELS.get(row.status, row.status)}", "#8b8d98"))
    parts.extend(response_clock(conn, ticket_id, detail.account_key, now))
    parts.extend(meta_window(conn, ticket_id, now))
    parts.extend(triage_line(conn, ticket_id))
    parts.extend(assist_line(conn, ticket_id))
    parts.extend(presence_line(conn, ticket_id, agent, now))
    return Content.assemble(*parts)


def assist_line(conn: sqlite3.Connection, ticket_id: int) -> list[Part]:
    """What assisted triage read in the newest buyer message, and why (or the agent's label)."""
    view = assist_view(conn, ticket_id)
    if view is None:
        return []
    label = INTENTS.get(view.intent, view.intent)
    parts: list[Part] = [("\nAnliegen: ", "#8b8d98"), (label, "bold")]
    if view.intent_source == "agent":
        parts.append((" (von Hand)", "#8b8d98"))
    else:
        cues = ", ".join(dict.fromkeys(clean_line(c, max_chars=30) for c, _ in view.cues[:3]))
        decided = "Regeln" if view.model == "rules" else "Modell"
        parts.append((f" ({cues}; {decided}, {view.confidence:.0%})" if cues else f" ({decided})", "#8b8d98"))
    if view.secondary:
        parts.append((f" · auch {INTENTS.get(view.secondary, view.secondary)}", "#8b8d98"))
    parts.append((f" · {LANGUAGE_NAMES.get(view.language, view.language)}", "#8b8d98"))
    if view.urgency:
        parts.append((f" · {URGENCY_LABELS[view.urgency]}", "bold #e5484d" if view.urgency == 2 else "bold #ffc53d"))
    if not view.needs_answer:
        parts.append((" · keine Antwort nötig", "#8b8d98"))
    if view.route:
        parts.append((f" · Regel: {clean_line(view.route, max_chars=40)}", "#8b8d98"))
    if view.draft_note:
        parts.append((f" · {clean_line(view.draft_note, max_chars=60)}", "#46a758"))
    return parts


def response_clock(conn: sqlite3.Connection, ticket_id: int, account_key: str, now: float) -> list[Part]:
    """The response clock as stored (store.awaiting keeps the deadline), with its policy's name."""
    row = conn.execute("SELECT channel, status, awaiting_since, no_response_needed, sla_due_at "
                       "FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    policy = policy_for(row[0], account_key) if row else None
    if row is None or policy is None:
        return []
    channel, status, since, no_response, due = row
    if due is not None:
        label = countdown_label(datetime.fromtimestamp(due, timezone.utc), datetime.fromtimestamp(now, timezone.utc))
        text = label if label.startswith("überfällig") else f"Antwort fällig in {label}"
        style = {"overdue": "bold #e5484d", "soon": "bold #ffc53d", "ok": "#46a758"}[urgency(due, now)]
        return [("\n" + text, style), (f" · {policy.name}", "#8b8d98")]
    if no_response:
        text = f"keine Antwort nötig: {clean_line(no_response)}"
    elif since is not None and status == "pending":
        text = "wartet auf Kunde (Uhr angehalten)"
    elif since is None:
        text = "beantwortet"
    else:
        return []
    return [("\n" + text, "#8b8d98")]


def meta_window(conn: sqlite3.Connection, ticket_id: int, now: float) -> list[Part]:
    """Messenger/Instagram: how long a reply may still be sent (24 h after the buyer's last
    message; 7 days with the Human Agent tag where the account has it)."""
    row = conn.execute(
        "SELECT t.channel, t.last_customer_message_at, json_extract(a.settings, '$.human_agent') FROM tickets t "
        "JOIN accounts a ON a.id = t.account_id WHERE t.id = ?", (ticket_id,)).fetchone()
    if row is None or row[0] not in ("messenger", "instagram") or not row[1]:
        return []
    moment = datetime.fromtimestamp(now, timezone.utc)
    for hours, label, style in ((24, "Antwortfenster", "#46a758"), (7 * 24, "mit Human-Agent-Tag", "#ffc53d")):
        if hours > 24 and not row[2]:
            break
        end = row[1] + hours * 3600
        if end > now:
            left = countdown_label(datetime.fromtimestamp(end, timezone.utc), moment)
            return [(f" · {label}: noch {left}", style)]
    return [(" · Antwortfenster geschlossen (Meta nimmt keine Antwort mehr an)", "bold #e5484d")]


def triage_line(conn: sqlite3.Connection, ticket_id: int) -> list[Part]:
    """Assignee, queue, priority, snooze and tags, when set."""
    row = conn.execute("SELECT assignee, queue, priority, snoozed_until FROM tickets WHERE id = ?",
                       (ticket_id,)).fetchone()
    if row is None:
        return []
    assignee, queue, priority, snoozed = row
    notes = []
    if assignee:
        notes.append(f"zugewiesen: {clean_line(assignee, max_chars=30)}")
    if queue:
        notes.append(f"Warteschlange: {clean_line(queue, max_chars=30)}")
    if priority:
        notes.append(f"Priorität: {PRIORITIES.get(priority, str(priority))}")
    if snoozed:
        notes.append(f"zurückgestellt bis {local_time(snoozed)}")
    tags = ticket_tags(conn, ticket_id)
    parts: list[Part] = [("\n" + " · ".join(notes), "#8da4ef")] if notes else []
    if tags:
        parts.append((("  " if notes else "\n") + " ".join(f"#{clean_line(tag, max_chars=30)}" for tag in tags),
                      "#8da4ef"))
    return parts


def presence_line(conn: sqlite3.Connection, ticket_id: int, agent: str, now: float) -> list[Part]:
    """"Anna antwortet gerade" / "Anna hat das Ticket offen" (rows seen in the last minute)."""
    others = others_on(conn, ticket_id, agent, int(now))
    if not others:
        return []
    texts = [f"{clean_line(p.agent, max_chars=30)} "
             f"{'antwortet gerade' if p.activity == 'replying' else 'hat das Ticket offen'}" for p in others]
    replying = any(p.activity == "replying" for p in others)
    return [("\n» " + " · ".join(texts), "bold #e5484d" if replying else "bold #ffc53d")]
