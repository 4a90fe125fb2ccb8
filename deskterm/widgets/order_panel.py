"""The order panel beside a ticket: the order, the customer, and who else they are.

Everything external is sanitised and added as literal text. The shipping address is
masked until the agent reveals it (a keypress that is recorded in the audit log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from textual.content import Content

from deskterm.domain.format import channel_label, day, euro, local_time, mask
from deskterm.domain.identity import RULE_LABELS, Rule
from deskterm.domain.sanitize import clean_line
from deskterm.domain.format import ORDER_STATUS, PAYMENT_STATUS, SHIPMENT_STATUS
from deskterm.store.customers import MergeRow, SuggestionRow
from deskterm.store.order_context import CustomerSummary, OrderDetail

_DIM = "#8b8d98"
_HEAD = "bold #8da4ef"
_KEY = "bold #ffc53d"
_WARN = "bold #ffc53d"

IDENTITY_KINDS = {"email": "E-Mail", "phone": "Telefon", "amazon_relay": "Amazon-Relay", "ebay_user": "eBay",
                  "kaufland_buyer": "Kaufland", "otto_pseudonym": "OTTO-Relay", "zalando_customer": "Zalando",
                  "psid": "Messenger", "igsid": "Instagram"}


@dataclass(slots=True)
class PanelData:
    """What the ticket screen loaded for the panel (bounded reads)."""

    customer: CustomerSummary | None = None
    order: OrderDetail | None = None
    order_position: int = 0
    order_count: int = 0
    linked_order_id: int | None = None
    merges: list[MergeRow] = field(default_factory=list)
    suggestions: list[SuggestionRow] = field(default_factory=list)
    link_suggestions: list[tuple[int, str]] = field(default_factory=list)
    address_revealed: bool = False


def panel_content(data: PanelData) -> Content:
    parts: list[str | tuple[str, str]] = []
    _order_part(parts, data)
    _customer_part(parts, data)
    return Content.assemble(*parts)


def _order_part(parts: list[str | tuple[str, str]], data: PanelData) -> None:
    for suggestion_id, reference in data.link_suggestions[:1]:
        parts.append((f"Bestellung {clean_line(reference)} zuordnen?", _WARN))
        parts.append(("  l", _KEY))
        parts.append(" ja ")
        parts.append(("L", _KEY))
        parts.append(" nein\n\n")
    order = data.order
    if order is None:
        parts.append(("Keine Bestellung verknüpft\n", _HEAD))
        parts.append(("Bestellnummern in Nachrichten werden automatisch erkannt.\n\n", _DIM))
        return
    linked = " (verknüpft)" if order.id == data.linked_order_id else ""
    position = f"  {data.order_position + 1}/{data.order_count}" if data.order_count > 1 else ""
    parts.append((f"Bestellung {clean_line(order.number)}", _HEAD))
    parts.append((f"{linked}{position}\n", _DIM))
    parts.append(f"{channel_label(order.channel)} · {clean_line(order.account_name)} · {day(order.placed_at)}\n")
    parts.append(f"Status: {ORDER_STATUS.get(order.status, clean_line(order.status))} · "
                 f"Zahlung: {PAYMENT_STATUS.get(order.payment_status, clean_line(order.payment_status)) or '–'}\n")
    if order.delivery_from or order.delivery_to:
        parts.append(f"Lieferung: {day(order.delivery_from)} – {day(order.delivery_to)}\n")
    parts.append("\n")
    for item in order.items:
        title = clean_line(item.title, max_chars=60)
        parts.append(f"{item.quantity} × {title}\n")
        parts.append((f"    {clean_line(item.sku)} · {euro(item.unit_price_cents, order.currency)}\n", _DIM))
    parts.append((f"Summe {euro(order.total_cents, order.currency)}\n\n", "bold"))
    address = order.ship_to
    lines = [address.get("name", ""), address.get("street", ""),
             f"{address.get('postcode', '')} {address.get('city', '')}".strip(), address.get("country", "")]
    lines = [clean_line(line, max_chars=80) for line in lines if line]
    if lines:
        parts.append(("Lieferadresse", "bold"))
        if data.address_revealed:
            parts.append((" (angezeigt, protokolliert)\n", _DIM))
            parts.extend(line + "\n" for line in lines)
        else:
            parts.append(("  v", _KEY))
            parts.append((" anzeigen\n", _DIM))
            parts.extend(mask(line) + "\n" for line in lines)
        parts.append("\n")
    if order.tracking_paused_until:
        parts.append((f"DHL-Tageskontingent aufgebraucht: Status wieder ab {local_time(order.tracking_paused_until)}\n",
                      _WARN))
    for shipment in order.shipments:
        parts.append((f"{clean_line(shipment.carrier)} {clean_line(shipment.tracking_number)}\n", "bold"))
        parts.append(f"{SHIPMENT_STATUS.get(shipment.status, clean_line(shipment.status))}")
        if shipment.tracking_state == "unknown_number":
            parts.append((" · DHL kennt die Nummer (noch) nicht", _WARN))
        if shipment.estimated_delivery and shipment.status != "delivered":
            parts.append((f" · voraussichtlich {day(shipment.estimated_delivery)}", _DIM))
        if shipment.latest_at:
            parts.append((f" · {local_time(shipment.latest_at)}\n", _DIM))
            parts.append((f"{clean_line(shipment.latest_text)} ({clean_line(shipment.latest_location)})\n", _DIM))
        else:
            parts.append("\n")
    for status, reason, at in order.returns:
        parts.append((f"Retoure {clean_line(status)} · {day(at)}", _WARN))
        parts.append((f" · {clean_line(reason)}\n" if reason else "\n", _DIM))
    for cents, status, at in order.refunds:
        parts.append((f"Erstattung {euro(cents, order.currency)} {clean_line(status)} · {day(at)}\n", _WARN))
    for status, reason, at in order.cancellations:
        parts.append((f"Stornierung {clean_line(status)} · {day(at)}", _WARN))
        parts.append((f" · {clean_line(reason)}\n" if reason else "\n", _DIM))
    if data.order_count > 1:
        parts.append(("[ ]", _KEY))
        parts.append((" weitere Bestellungen\n", _DIM))
    parts.append("\n")


def _customer_part(parts: list[str | tuple[str, str]], data: PanelData) -> None:
    customer = data.customer
    if customer is None:
        return
    parts.append((f"Kunde {clean_line(customer.display_name) or '–'}\n", _HEAD))
    kind = "Wiederkehrend" if customer.returning else ("Erstkunde" if customer.order_count == 1 else "Ohne Bestellung")
    orders = "1 Bestellung" if customer.order_count == 1 else f"{customer.order_count} Bestellungen"
    parts.append(f"{kind} · {orders} · Umsatz {euro(customer.lifetime_cents)}\n")
    if customer.channels:
        parts.append((f"Kanäle: {', '.join(channel_label(c) for c in customer.channels)}\n", _DIM))
    for kind_name, value in customer.identities[:6]:
        label = IDENTITY_KINDS.get(kind_name, clean_line(kind_name, max_chars=16))
        parts.append((f"  {label}: {clean_line(value, max_chars=48)}\n", _DIM))
    if customer.other_open_tickets:
        parts.append(f"Weitere offene Tickets ({len(customer.other_open_tickets)}):\n")
        for _, channel, subject in customer.other_open_tickets:
            parts.append((f"  {channel_label(channel)}: {clean_line(subject, max_chars=44)}\n", _DIM))
    parts.append(("t", _KEY))
    parts.append((" Verlauf über alle Kanäle\n", _DIM))
    for merge in data.merges:
        if merge.undone_at is None:
            parts.append(("\nZusammengeführt", "bold"))
            parts.append((f" {day(merge.at)}: {clean_line(merge.reason)}\n", _DIM))
            parts.append(("u", _KEY))
            parts.append((" trennen\n", _DIM))
            break
    for suggestion in data.suggestions[:1]:
        try:
            rule = RULE_LABELS[Rule(suggestion.rule)]
        except ValueError:
            rule = clean_line(suggestion.rule)
        parts.append(("\nMöglicherweise dieselbe Person: ", _WARN))
        parts.append(f"{clean_line(suggestion.other_name)}\n")
        parts.append((f"{rule} ({clean_line(suggestion.reason.split(': ', 1)[-1])})\n", _DIM))
        parts.append(("m", _KEY))
        parts.append(" zusammenführen  ")
        parts.append(("M", _KEY))
        parts.append(" ablehnen\n")
