"""Drafts on request: the intent's template filled from the order, or an LLM draft.

`template_draft` is what the assist pass leaves automatically, made again on demand (the
ticket screen's "Entwurf" and `deskterm assist draft`). `llm_draft` asks the configured
OpenAI-compatible provider (sources/llm.py sends it): the conversation and order facts go out with every name,
e-mail address, phone number, postal address and order/tracking number replaced by a
placeholder, and the answer comes back with the values restored. An LLM draft is only ever
a draft; nothing here sends.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from deskterm.domain.assist_policy import DRAFT_TEMPLATES, LlmSettings
from deskterm.domain.format import SHIPMENT_STATUS, channel_label, day
from deskterm.domain.pseudonymize import Pseudonyms, name_parts
from deskterm.domain.quotes import own_text
from deskterm.domain.triage import INTENTS
from deskterm.domain.llm_messages import ChatMessage
from deskterm.store.assist import AssistContext, assist_view, render_template
from deskterm.store.inbox import ticket_detail
from deskterm.store.order_context import order_detail

HISTORY = 4  # the newest messages of the conversation that go into an LLM prompt


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    notes: list[str] = field(default_factory=list)  # gaps, what was left out, where it came from
    complete: bool = True


class DraftError(Exception):
    """No draft can be made for this ticket; one line saying why."""


def template_draft(conn: sqlite3.Connection, ticket_id: int, context: AssistContext) -> Draft:
    """The intent's template (where is my order, return, invoice) filled from the order."""
    detail = ticket_detail(conn, ticket_id)
    if detail is None:
        raise DraftError(f"no ticket {ticket_id}")
    view = assist_view(conn, ticket_id)
    intent = view.intent if view else conn.execute("SELECT intent FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0]
    key = DRAFT_TEMPLATES.get(intent or "")
    template = context.templates.get(key or "")
    if template is None:
        label = INTENTS.get(intent or "", "unbekannt")
        raise DraftError(f"no automatic draft for the intent „{label}“ (drafts exist for: "
                         f"{', '.join(INTENTS[i] for i in DRAFT_TEMPLATES)}); the templates (::) still help")
    rendered = render_template(conn, context, template, ticket_id, detail.row.channel,
                               view.language if view else context.language)
    notes = [f"Vorlage: {template.name}"]
    if rendered.gaps:
        notes.append("fehlt: " + ", ".join(rendered.gaps))
    return Draft(rendered.text, notes, rendered.complete)


def _known_values(conn: sqlite3.Connection, ticket_id: int) -> list[tuple[str, str]]:
    """The customer's personal data as the store knows it: replaced before anything leaves."""
    detail = ticket_detail(conn, ticket_id)
    if detail is None:
        return []
    known: list[tuple[str, str]] = [("name", n) for n in name_parts(detail.row.customer_name)]
    if detail.row.order_ref:
        known.append(("order", detail.row.order_ref))
    for sender_name, sender_addr in conn.execute(
            "SELECT DISTINCT sender_name, sender_addr FROM messages WHERE ticket_id = ? AND direction = 'in' LIMIT 20",
            (ticket_id,)):
        known.extend(("name", n) for n in name_parts(sender_name or ""))
        if sender_addr:
            known.append(("email", sender_addr))
    customer_id = conn.execute("SELECT customer_id FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0]
    if customer_id is not None:
        for kind, value in conn.execute("SELECT kind, value FROM identities WHERE customer_id = ? LIMIT 50",
                                        (customer_id,)):
            known.append(("email" if kind == "email" else "phone" if kind == "phone" else "name", value))
    if detail.order_id:
        order = order_detail(conn, detail.order_id)
        if order is not None:
            known.append(("order", order.number))
            known.extend(("name", n) for n in name_parts(order.ship_to.get("name", "")))
            for field_name in ("street", "address1", "address2", "line1", "line2"):
                if order.ship_to.get(field_name):
                    known.append(("address", order.ship_to[field_name]))
            place = " ".join(filter(None, (order.ship_to.get("postcode", ""), order.ship_to.get("city", ""))))
            if place:
                known.append(("place", place))
            if order.ship_to.get("phone"):
                known.append(("phone", order.ship_to["phone"]))
            known.extend(("tracking", s.tracking_number) for s in order.shipments if s.tracking_number)
    return known


def build_prompt(conn: sqlite3.Connection, ticket_id: int, settings: LlmSettings, *, shop: str,
                 pseudonyms: Pseudonyms) -> list[ChatMessage]:
    """The chat messages for a draft, with every personal value replaced by a placeholder."""
    detail = ticket_detail(conn, ticket_id)
    if detail is None:
        raise DraftError(f"no ticket {ticket_id}")
    known = _known_values(conn, ticket_id)
    rows = conn.execute("SELECT direction, body_text FROM messages WHERE ticket_id = ? AND direction IN ('in', 'out') "
                        "ORDER BY sent_at DESC, id DESC LIMIT ?", (ticket_id, HISTORY)).fetchall()
    if not any(direction == "in" for direction, _ in rows):
        raise DraftError("the ticket has no buyer message to answer")
    conversation = []
    for direction, body in reversed(rows):
        who = "Kunde" if direction == "in" else "Wir"
        conversation.append(f"{who}: {pseudonyms.hide(own_text(body)[:2000], known)}")
    facts = [f"Kanal: {channel_label(detail.row.channel)}"]
    view = assist_view(conn, ticket_id)
    if view is not None:
        facts.append(f"Anliegen: {INTENTS.get(view.intent, view.intent)}")
    if detail.order_id:
        order = order_detail(conn, detail.order_id)
        if order is not None:
            facts.append(f"Bestellung {pseudonyms.hide(order.number, known)} vom {day(order.placed_at)}, "
                         f"Status: {order.status}")
            facts.extend(f"Artikel: {item.quantity} × {item.title}" for item in order.items[:5])
            for shipment in order.shipments[-2:]:
                line = (f"Sendung {shipment.carrier} {pseudonyms.hide(shipment.tracking_number, known)}: "
                        f"{SHIPMENT_STATUS.get(shipment.status, shipment.status)}")
                if shipment.latest_text:
                    line += f", zuletzt „{shipment.latest_text}“"
                if shipment.estimated_delivery:
                    line += f", Zustellung erwartet am {day(shipment.estimated_delivery)}"
                facts.append(line)
    form = "in der Sie-Form (förmlich)" if settings.tone == "Sie" else "in der Du-Form"
    system = (f"Du schreibst Antworten für den Kundenservice des Onlineshops {shop or detail.account_name}. "
              f"Antworte auf Deutsch {form}, höflich, knapp und konkret. Nutze nur die Fakten unten; erfinde keine "
              "Zusagen, Beträge oder Termine. Platzhalter in eckigen Klammern wie [KUNDE_1] oder [BESTELLNUMMER_1] "
              "übernimmst du unverändert. Schreibe nur den Text der Antwort, ohne Betreff.")
    user = "Fakten:\n" + "\n".join(f"- {f}" for f in facts) + "\n\nVerlauf (neueste zuletzt):\n" + "\n\n".join(
        conversation) + "\n\nSchreibe die Antwort auf die letzte Nachricht des Kunden."
    return [ChatMessage("system", system), ChatMessage("user", user)]
