"""The values a reply template may use, read for one ticket (bounded reads).

Everything is formatted for de-DE here (dates, money); what is unknown is simply left out,
so the template shows a gap instead of "None". Only this ticket's own customer and its
linked order are read.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from deskterm.domain.format import SHIPMENT_STATUS, channel_label, day, euro
from deskterm.domain.templates import salutations, tracking_url
from deskterm.store.inbox import ticket_detail
from deskterm.store.order_context import order_detail


def template_values(conn: sqlite3.Connection, ticket_id: int, *, agent: str, shop: str = "",
                    return_instructions: str = "", links_allowed: bool = True) -> dict[str, Any]:
    """`return_instructions`: how a buyer on this ticket's channel returns goods (assist
    settings), offered as {{ channel.return_instructions }}; `links_allowed`: the channel's
    rules allow links (Amazon and eBay do not), so a template can leave the tracking link out."""
    detail = ticket_detail(conn, ticket_id)
    if detail is None:
        return {}
    row = detail.row
    order = order_detail(conn, detail.order_id) if detail.order_id else None
    name = row.customer_name
    title = order.ship_to.get("salutation", "") if order else ""
    if order and not name:
        name = order.ship_to.get("name", "")
    greeting = salutations(name, title)
    received = conn.execute("SELECT min(sent_at) FROM messages WHERE ticket_id = ? AND direction = 'in'",
                            (ticket_id,)).fetchone()[0]
    values: dict[str, Any] = {
        "customer": {"name": name, "salutation": greeting["de"], "greeting_du": greeting["de_du"],
                     "greeting_en": greeting["en"]},
        "ticket": {"subject": row.subject, "channel": channel_label(row.channel), "received": day(received) if received else ""},
        "agent": {"name": agent},
        "shop": {"name": shop or detail.account_name},
        "channel": {"name": channel_label(row.channel), "return_instructions": return_instructions,
                    "links_allowed": links_allowed},
        "order": {},
        "shipment": {},
        "refund": {},
    }
    if order is not None:
        values["order"] = {
            "number": order.number, "placed_at": day(order.placed_at), "total": euro(order.total_cents, order.currency),
            "status": order.status,
            "items": [{"title": i.title, "quantity": i.quantity, "sku": i.sku,
                       "price": euro(i.unit_price_cents, order.currency)} for i in order.items],
        }
        if order.shipments:
            shipment = order.shipments[-1]
            values["shipment"] = {
                "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
                "tracking_url": tracking_url(shipment.carrier, shipment.tracking_number), "status": shipment.status,
                "status_text": SHIPMENT_STATUS.get(shipment.status, shipment.status),
                "latest_event": shipment.latest_text, "latest_place": shipment.latest_location,
                "latest_at": day(shipment.latest_at) if shipment.latest_at else "",
                "expected": day(shipment.estimated_delivery) if shipment.estimated_delivery else "",
            }
        if order.refunds:
            cents, status, at = order.refunds[-1]
            values["refund"] = {"amount": euro(cents, order.currency), "status": status, "date": day(at)}
    elif row.order_ref:
        values["order"] = {"number": row.order_ref}
    return values
