"""The assist pass: classify new buyer messages, route their tickets, draft routine answers.

The sync queues every ticket that received a buyer message (`assist_queue`, in the batch's
transaction). `run_assist` drains the queue in the sync worker after each sync (and in
`deskterm assist run`): for each ticket it classifies the newest buyer message, stores the
result with its cues, sets the ticket's intent (an agent's own label is never overwritten),
applies the routing rules once per ticket, marks auto-replies as needing no answer, and,
where the seller's policy allows, leaves a draft from the order data or sends it as an
automatic reply (never counted as the answer that stops the response clock).

Every ticket is handled in its own transaction; a crash between classifying and sending
leaves a draft behind, never a second reply.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deskterm.domain.assist_policy import DRAFT_TEMPLATES, AssistSettings
from deskterm.domain.classify import Classification, IntentModel, classify
from deskterm.domain.intent_model import BUNDLED_MODEL, LinearModel, ModelError, load_model
from deskterm.domain.reply_rules import ChannelRules
from deskterm.domain.templates import Rendered, ReplyTemplate, TemplateRejected, render
from deskterm.store.db import Store
from deskterm.store.outbox import OutboxError
from deskterm.store.replies import load_draft, queue_reply, reply_problems, save_draft
from deskterm.store.reply_context import template_values
from deskterm.store.assist_view import AssistView, assist_view
from deskterm.store.triage import no_response_needed

log = logging.getLogger(__name__)

BATCH = 200  # tickets per call; the worker calls again while the queue is not empty
AUTO_SEND_MAX_AGE = 86400  # an automatic reply only answers a fresh message (never a backlog after an upgrade)
ASSIST_AGENT = "assist"


def model_path_for(store_path: Path) -> Path:
    """Where a profile keeps the model trained on its own labels (beside its store)."""
    return store_path.with_name(store_path.stem + ".intent_model.json")


@dataclass(frozen=True, slots=True)
class AssistContext:
    """What the pass needs besides the store: settings, model, templates, who signs drafts."""

    settings: AssistSettings
    model: IntentModel | None
    templates: dict[str, ReplyTemplate]
    agent: str  # signs drafts ({{ agent.name }})
    shop: str = ""
    rules: dict[str, ChannelRules] = field(default_factory=dict)
    language: str = "de"  # template language used when the buyer's language has no variant
    signature_for: Callable[[str], str] = lambda account_key: ""


@dataclass(slots=True)
class AssistResult:
    classified: int = 0
    routed: int = 0
    drafted: int = 0
    auto_sent: int = 0
    remaining: int = 0
    errors: list[str] = field(default_factory=list)


def active_model(store_path: Path | None) -> LinearModel | None:
    """The profile's own trained model if there is one, else the bundled one; None (rules
    only) when neither can be read. Problems are logged, never raised: triage goes on."""
    for path, name in ((model_path_for(store_path) if store_path else None, "eigenes Modell"),
                       (BUNDLED_MODEL, "Modell")):
        if path is None or not path.exists():
            continue
        try:
            return load_model(path, name=name)
        except ModelError as exc:
            log.warning("%s", exc)
    return None


_NEWEST_IN = """
SELECT m.id, m.subject, m.body_text, m.sent_at FROM messages m
WHERE m.ticket_id = ? AND m.direction = 'in' ORDER BY m.sent_at DESC, m.id DESC LIMIT 1
"""
_TICKET = """
SELECT t.channel, a.key, t.customer_id, t.intent_source, t.intent, t.queue, t.assignee, t.priority,
       t.no_response_needed, t.status, t.awaiting_since, ta.route, ta.drafted_for
FROM tickets t JOIN accounts a ON a.id = t.account_id LEFT JOIN ticket_assist ta ON ta.ticket_id = t.id
WHERE t.id = ?
"""


def pending_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM assist_queue").fetchone()[0])


def run_assist(store: Store, context: AssistContext, *, now: int, limit: int = BATCH) -> AssistResult:
    """Handle up to `limit` queued tickets (each in its own transaction)."""
    result = AssistResult()
    if not context.settings.classify:  # switched off: nothing waits for it
        with store.transaction() as conn:
            conn.execute("DELETE FROM assist_queue")
        return result
    ids = [r[0] for r in store.conn.execute("SELECT ticket_id FROM assist_queue ORDER BY ticket_id LIMIT ?",
                                            (limit,))]
    for ticket_id in ids:
        try:
            auto_text = _assist_ticket(store, context, ticket_id, now, result)
            if auto_text is not None:
                _auto_send(store, context, ticket_id, auto_text, now, result)
        except Exception as exc:  # one bad ticket must never stop triage of the others
            text = str(exc).splitlines()[0] if str(exc) else ""
            result.errors.append(f"Ticket {ticket_id}: {type(exc).__name__}: {text}"[:300])
            log.warning("assist failed on ticket %d", ticket_id, exc_info=not isinstance(
                exc, (sqlite3.Error, TemplateRejected, OutboxError)))
            with store.transaction() as conn:  # never retry the same failure forever
                conn.execute("DELETE FROM assist_queue WHERE ticket_id = ?", (ticket_id,))
    result.remaining = pending_count(store.conn)
    return result


def classify_ticket(conn: sqlite3.Connection, ticket_id: int, model: IntentModel | None) -> Classification | None:
    """Classify a ticket's newest buyer message without storing anything (CLI, tests)."""
    row = conn.execute(_NEWEST_IN, (ticket_id,)).fetchone()
    return classify(row[2], row[1], model=model) if row else None


def _assist_ticket(store: Store, context: AssistContext, ticket_id: int, now: int,
                   result: AssistResult) -> tuple[str, tuple[str, ...]] | None:
    """Classify, route and draft one ticket in one transaction; returns the text (and tags)
    of an automatic reply to send, if the policy wants one."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM assist_queue WHERE ticket_id = ?", (ticket_id,))
        message = conn.execute(_NEWEST_IN, (ticket_id,)).fetchone()
        ticket = conn.execute(_TICKET, (ticket_id,)).fetchone()
        if message is None or ticket is None:
            return None
        message_id, subject, body, sent_at = message
        (channel, account_key, customer_id, intent_source, labelled, queue, assignee, priority, no_response, status,
         awaiting, route, drafted_for) = ticket
        found = classify(body, subject, model=context.model)
        cues = json.dumps([[c.text, c.weight] for c in found.cues[:6]], ensure_ascii=False)
        conn.execute(
            "INSERT INTO ticket_assist(ticket_id, message_id, intent, secondary, language, urgency, needs_answer, cues, "
            "model, confidence, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(ticket_id) DO UPDATE SET message_id = excluded.message_id, intent = excluded.intent, "
            "secondary = excluded.secondary, language = excluded.language, urgency = excluded.urgency, "
            "needs_answer = excluded.needs_answer, cues = excluded.cues, model = excluded.model, "
            "confidence = excluded.confidence, classified_at = excluded.classified_at",
            (ticket_id, message_id, found.intent, found.secondary, found.language, found.urgency,
             int(found.needs_answer), cues, found.model, found.confidence, now))
        intent = labelled if intent_source == "agent" else found.intent  # an agent's label wins
        if intent_source != "agent":
            conn.execute("UPDATE tickets SET intent = ?, intent_source = 'assist' WHERE id = ?", (found.intent, ticket_id))
        result.classified += 1
        if route is None:
            _route(conn, context.settings, ticket_id, intent, found, channel, account_key, customer_id,
                   (queue, assignee, priority))
            result.routed += 1
        if intent in context.settings.no_response_for and not no_response and status != "resolved":
            no_response_needed(conn, [ticket_id], f"Assistent: {found.label}", agent=ASSIST_AGENT, now=now)
        if drafted_for == message_id or status == "resolved" or awaiting is None:
            return None
        return _draft(conn, context, ticket_id, message_id, intent, found.language, channel, account_key, now, result,
                      fresh=now - sent_at <= AUTO_SEND_MAX_AGE)


def _route(conn: sqlite3.Connection, settings: AssistSettings, ticket_id: int, intent: str, found: Classification,
           channel: str, account_key: str, customer_id: int | None, current: tuple[str | None, str | None, int]) -> None:
    """Routing applies once per ticket and never overrides what someone already set."""
    value = 0
    if customer_id is not None:
        value = int(conn.execute("SELECT coalesce(sum(total_cents), 0) FROM orders WHERE customer_id = ?",
                                 (customer_id,)).fetchone()[0])
    decision = settings.route(intent=intent, channel=channel, account=account_key, language=found.language,
                              urgency=found.urgency, customer_value_cents=value)
    queue, assignee, priority = current
    if decision.queue and queue is None:
        conn.execute("UPDATE tickets SET queue = ? WHERE id = ?", (decision.queue.strip().lower(), ticket_id))
    if decision.assignee and assignee is None:
        conn.execute("UPDATE tickets SET assignee = ? WHERE id = ?", (decision.assignee, ticket_id))
    if decision.priority is not None and decision.priority > priority:
        conn.execute("UPDATE tickets SET priority = ? WHERE id = ?", (decision.priority, ticket_id))
    conn.executemany("INSERT OR IGNORE INTO ticket_tags(ticket_id, tag) VALUES (?, ?)",
                     [(ticket_id, tag) for tag in decision.tags])
    conn.execute("UPDATE ticket_assist SET route = ? WHERE ticket_id = ?", (", ".join(decision.rules), ticket_id))


def render_template(conn: sqlite3.Connection, context: AssistContext, template: ReplyTemplate, ticket_id: int,
                    channel: str, language: str) -> Rendered:
    """A template in the buyer's language (else the configured one) filled from the ticket's
    order, with the channel's return steps and the tracking link only where links are allowed."""
    variant = language if language in template.variants else context.language
    body = template.variants.get(variant) or next(iter(template.variants.values()))
    rules = context.rules.get(channel)
    values = template_values(conn, ticket_id, agent=context.agent, shop=context.shop,
                             return_instructions=context.settings.returns_text(channel),
                             links_allowed=not (rules and rules.forbid_urls))
    return render(body, values)


def _draft(conn: sqlite3.Connection, context: AssistContext, ticket_id: int, message_id: int, intent: str,
           language: str, channel: str, account_key: str, now: int, result: AssistResult, *,
           fresh: bool) -> tuple[str, tuple[str, ...]] | None:
    policy = context.settings.policy_for(intent, channel)
    template = context.templates.get(DRAFT_TEMPLATES.get(intent, ""))
    if policy == "off" or template is None:
        return None

    def note(text: str) -> None:
        conn.execute("UPDATE ticket_assist SET drafted_for = ?, draft_note = ? WHERE ticket_id = ?",
                     (message_id, text, ticket_id))

    if load_draft(conn, ticket_id, "reply") is not None:
        note("kein Entwurf: es gibt schon einen Entwurf")
        return None
    rendered = render_template(conn, context, template, ticket_id, channel, language)
    signature = context.signature_for(account_key)
    text = f"{rendered.text}\n\n{signature}" if signature else rendered.text
    save_draft(conn, ticket_id, "reply", text, now=now, template=template.key)
    result.drafted += 1
    if policy != "auto_send":
        gaps = f" mit {len(rendered.gaps)} Lücke(n)" if rendered.gaps else ""
        note(f"Entwurf{gaps}: {template.name}")
        return None
    problems = reply_problems(conn, ticket_id, text, rules=context.rules, now=now)
    if not rendered.complete or channel not in context.settings.auto_send_channels or problems or not fresh:
        why = ("Daten unvollständig" if not rendered.complete else "Kanal erlaubt keine automatische Antwort"
               if channel not in context.settings.auto_send_channels else problems[0] if problems
               else "Nachricht älter als ein Tag")
        note(f"Entwurf statt automatischer Antwort: {why}")
        return None
    note(f"automatische Antwort: {template.name}")
    return text, template.tags


def _auto_send(store: Store, context: AssistContext, ticket_id: int, reply: tuple[str, tuple[str, ...]], now: int,
               result: AssistResult) -> None:
    """Queue the automatic reply (its draft goes with it). No status change: a person still
    looks at the ticket, and its response clock keeps running."""
    text, tags = reply
    queue_reply(store, ticket_id, text, now=now, tags=tags, agent=ASSIST_AGENT, auto=True)
    result.auto_sent += 1


def labelled_history(conn: sqlite3.Connection, *, limit: int = 20000) -> list[tuple[str, str, str]]:
    """(subject, text, intent) of tickets an agent labelled: the seller's own training data.
    The text is the ticket's first buyer message (what the label was about)."""
    rows = conn.execute(
        "SELECT m.subject, m.body_text, t.intent FROM tickets t JOIN messages m ON m.id = ("
        "  SELECT id FROM messages WHERE ticket_id = t.id AND direction = 'in' ORDER BY sent_at, id LIMIT 1) "
        "WHERE t.intent_source = 'agent' AND t.intent IS NOT NULL ORDER BY t.id DESC LIMIT ?", (limit,)).fetchall()
    return [(str(s), str(b), str(i)) for s, b, i in rows]


__all__ = ["ASSIST_AGENT", "AssistContext", "AssistResult", "AssistView", "active_model", "assist_view",
           "classify_ticket", "labelled_history", "model_path_for", "pending_count", "run_assist"]
