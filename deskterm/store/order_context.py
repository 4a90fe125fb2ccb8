"""Everything the order panel and the customer timeline show, read with bounded queries.

All reads go through indexes on a customer's or an order's rows (orders_customer,
tickets_customer, messages_ticket, the order's child tables), so their cost depends on one
customer's history, never on the size of the store.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field, replace

MAX_ORDERS = 50
MAX_TIMELINE = 300


@dataclass(frozen=True, slots=True)
class ItemRow:
    sku: str
    title: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class ShipmentRow:
    carrier: str
    tracking_number: str
    status: str
    latest_at: int | None
    latest_text: str
    latest_location: str
    tracking_state: str | None = None  # "unknown_number": the carrier does not know it (yet)
    estimated_delivery: int | None = None


@dataclass(frozen=True, slots=True)
class OrderDetail:
    id: int
    number: str
    channel: str
    account_name: str
    status: str
    placed_at: int
    total_cents: int
    currency: str
    payment_status: str
    ship_to: dict[str, str]
    delivery_from: int | None
    delivery_to: int | None
    items: list[ItemRow] = field(default_factory=list)
    shipments: list[ShipmentRow] = field(default_factory=list)
    returns: list[tuple[str, str, int]] = field(default_factory=list)  # status, reason, at
    refunds: list[tuple[int, str, int]] = field(default_factory=list)  # cents, status, at
    cancellations: list[tuple[str, str, int]] = field(default_factory=list)  # status, reason, at
    tracking_paused_until: int = 0  # DHL's daily quota is used up until then (0: not paused)


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    id: int
    display_name: str
    order_count: int
    lifetime_cents: int
    channels: list[str]
    other_open_tickets: list[tuple[int, str, str]]  # id, channel, subject
    identities: list[tuple[str, str]]

    @property
    def returning(self) -> bool:
        return self.order_count > 1


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    ticket_id: int
    channel: str
    subject: str
    direction: str
    sender_name: str
    sent_at: int
    snippet: str


def customer_orders(conn: sqlite3.Connection, customer_id: int) -> list[int]:
    """The customer's order ids, newest first (bounded)."""
    return [r[0] for r in conn.execute(
        "SELECT id FROM orders WHERE customer_id = ? AND restricted_reason IS NULL "
        "ORDER BY placed_at DESC, id DESC LIMIT ?",
        (customer_id, MAX_ORDERS))]


def order_detail(conn: sqlite3.Connection, order_id: int, *, now: float | None = None) -> OrderDetail | None:
    row = conn.execute(
        "SELECT o.id, o.number, a.channel, a.name, o.status, o.placed_at, o.total_cents, o.currency, "
        "o.payment_status, o.ship_to, o.delivery_from, o.delivery_to FROM orders o "
        "JOIN accounts a ON a.id = o.account_id WHERE o.id = ? AND o.restricted_reason IS NULL",
        (order_id,)).fetchone()
    if row is None:
        return None
    detail = OrderDetail(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                         json.loads(row[9] or "{}"), row[10], row[11])
    detail.items.extend(ItemRow(*r) for r in conn.execute(
        "SELECT sku, title, quantity, unit_price_cents FROM order_items WHERE order_id = ? ORDER BY line_no LIMIT 50",
        (order_id,)))
    for shipment_id, carrier, tracking, status, state, eta in conn.execute(
            "SELECT id, carrier, tracking_number, status, tracking_state, estimated_delivery FROM shipments "
            "WHERE order_id = ? ORDER BY id LIMIT 10",
            (order_id,)).fetchall():
        latest = conn.execute(
            "SELECT at, description, location FROM shipment_events WHERE shipment_id = ? ORDER BY at DESC LIMIT 1",
            (shipment_id,)).fetchone()
        latest_at, text, location = latest or (None, "", "")
        detail.shipments.append(ShipmentRow(carrier, tracking, status, latest_at, text, location, state, eta))
    if any(s.carrier == "DHL" and s.status != "delivered" for s in detail.shipments):
        paused = conn.execute("SELECT json_extract(value, '$.backoff_until') FROM store_meta "
                              "WHERE key = 'dhl_quota'").fetchone()
        until = int(paused[0] or 0) if paused else 0
        if until > (time.time() if now is None else now):
            detail = replace(detail, tracking_paused_until=until)
    detail.returns.extend(conn.execute(
        "SELECT status, reason, created_at FROM returns WHERE order_id = ? ORDER BY created_at LIMIT 10", (order_id,)))
    detail.refunds.extend(conn.execute(
        "SELECT amount_cents, status, created_at FROM refunds WHERE order_id = ? ORDER BY created_at LIMIT 10",
        (order_id,)))
    detail.cancellations.extend(conn.execute(
        "SELECT status, reason, requested_at FROM cancellations WHERE order_id = ? ORDER BY requested_at LIMIT 10",
        (order_id,)))
    return detail


def customer_summary(conn: sqlite3.Connection, customer_id: int, *, exclude_ticket: int | None = None) -> CustomerSummary | None:
    row = conn.execute("SELECT id, display_name FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        return None
    count, total = conn.execute(
        "SELECT count(*), coalesce(sum(total_cents), 0) FROM orders WHERE customer_id = ? "
        "AND restricted_reason IS NULL", (customer_id,)).fetchone()
    channels = [r[0] for r in conn.execute(
        "SELECT DISTINCT channel FROM tickets WHERE customer_id = ? LIMIT 10", (customer_id,))]
    others = conn.execute(
        "SELECT id, channel, subject FROM tickets WHERE customer_id = ? AND status <> 'resolved' AND id IS NOT ? "
        "ORDER BY last_message_at DESC LIMIT 5", (customer_id, exclude_ticket)).fetchall()
    identities = conn.execute(
        "SELECT kind, value FROM identities WHERE customer_id = ? ORDER BY id LIMIT 20", (customer_id,)).fetchall()
    return CustomerSummary(row[0], row[1], count, total, channels, [tuple(r) for r in others],
                           [tuple(r) for r in identities])


def customer_timeline(conn: sqlite3.Connection, customer_id: int, *, limit: int = MAX_TIMELINE) -> list[TimelineEntry]:
    """Every message of the customer on every channel, newest first (bounded)."""
    rows = conn.execute(
        "SELECT t.id, t.channel, t.subject, m.direction, m.sender_name, m.sent_at, substr(m.body_text, 1, 240) "
        "FROM tickets t JOIN messages m ON m.ticket_id = t.id WHERE t.customer_id = ? "
        "ORDER BY m.sent_at DESC, m.id DESC LIMIT ?", (customer_id, limit)).fetchall()
    return [TimelineEntry(*r) for r in rows]


def ticket_customer(conn: sqlite3.Connection, ticket_id: int) -> tuple[int | None, int | None]:
    row = conn.execute("SELECT customer_id, order_id FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def link_suggestions(conn: sqlite3.Connection, ticket_id: int) -> list[tuple[int, str]]:
    return [tuple(r) for r in conn.execute(  # type: ignore[misc]
        "SELECT id, reference FROM order_link_suggestions WHERE ticket_id = ? AND status = 'open' ORDER BY id LIMIT 5",
        (ticket_id,))]
