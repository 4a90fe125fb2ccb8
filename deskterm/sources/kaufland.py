"""Kaufland Seller API v2: tickets and their messages, with the order units they concern.

Every request is signed (HMAC-SHA256 over method, full URL with query, body, timestamp).
The sync cursor walks `GET /v2/tickets/messages` oldest first from a timestamp; each page's
tickets are fetched once with their buyer and order units, so a batch carries everything
its messages need. Replies go to `POST /v2/tickets/{id}/messages`; a reply that is tried
again after a crash first looks whether the first try arrived, so it is posted once.
Prices are integer cents; the storefront is `de`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from deskterm.model import (
    Batch,
    Channel,
    CustomerRecord,
    Direction,
    IdentityRef,
    MessageRecord,
    OrderItemRecord,
    OrderRecord,
    TicketRecord,
    TicketStatus,
)
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SourceError
from deskterm.sources.http_api import ApiClient, combined_status, utc

PAGE_SIZE = 30
TOPIC_LABELS = {
    "delivery_not_received": "Lieferung nicht erhalten", "delivery_delayed": "Lieferung verspätet",
    "return_request_label": "Rücksendeetikett", "return_check_status": "Status der Rücksendung",
    "order_product_defect": "Artikel defekt", "invoice_needed": "Rechnung benötigt",
    "delivery_change_address": "Lieferadresse ändern", "product_other_question": "Frage zum Artikel",
    "order_cancel": "Stornierung", "order_other_question": "Frage zur Bestellung",
    "delivery_wrong_products": "Falscher Artikel geliefert", "delivery_parts_missing": "Teile fehlen",
}
_ORDER_STATUS = {"sent": "shipped", "received": "delivered", "need_to_be_sent": "unshipped", "open": "pending",
                 "cancelled": "cancelled", "returned": "returned", "returned_paid": "returned",
                 "sent_and_autopaid": "shipped"}


def sign(secret_key: str, method: str, url: str, body: str, timestamp: str) -> str:
    """Kaufland's documented signature: hex HMAC-SHA256 of "METHOD\nURL\nBODY\nTIMESTAMP",
    where URL is the full URL with its query string."""
    message = "\n".join([method, url, body, timestamp]).encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


@dataclass
class HmacAuth:
    """Kaufland's request signing; the clock is injectable for tests."""

    client_key: str
    secret_key: str
    clock: Callable[[], float] = time.time

    def apply(self, request: httpx.Request) -> None:
        stamp = str(int(self.clock()))
        body = request.content.decode() if request.content else ""
        request.headers["Shop-Client-Key"] = self.client_key
        request.headers["Shop-Timestamp"] = stamp
        request.headers["Shop-Signature"] = sign(self.secret_key, request.method, str(request.url), body, stamp)

    def refresh(self, client: httpx.Client) -> bool:
        return False  # a signature does not expire: a 401 means the keys are wrong


def describe(status: int, body: Any) -> str | None:
    """Kaufland's problem types as one line for the agent."""
    kind = body.get("type", "") if isinstance(body, dict) else ""
    if kind == "/problems/corrupted-signature":
        return "signature rejected, check the secret key"
    if kind == "/problems/invalid-credentials":
        return "client key unknown, check the client key"
    if kind == "/problems/missing-or-invalid-request-header":
        return "request header refused (is this computer's clock right?)"
    if kind == "/problems/tickets/finally-closed":
        return "the ticket is finally closed; Kaufland accepts no more messages on it"
    if isinstance(body, dict) and body.get("message") and 400 <= status < 500 and status != 429:
        return f"refused ({status}): {str(body['message'])[:160]}"
    return None


class KauflandSource:
    """One Kaufland seller account (storefront de)."""

    streams: tuple[str, ...] = ("messages",)
    capabilities = Capabilities(can_send=True, has_orders=True, has_messages=True)
    channel = Channel.KAUFLAND

    def __init__(self, account_key: str, account_name: str, *, base_url: str, client_key: str, secret_key: str,
                 page_size: int = PAGE_SIZE, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.account_key = account_key
        self.account_name = account_name
        self.page_size = page_size
        self.api = ApiClient("Kaufland", base_url.rstrip("/"), HmacAuth(client_key, secret_key, clock),
                             describe=describe, sleep=sleep)

    # -- pulling -----------------------------------------------------------------------

    def pull(self, stream: str, cursor: str | None) -> Batch:
        if stream != "messages":
            raise SourceError(f"Kaufland has no stream {stream!r}", temporary=False)
        since, skip = _read_cursor(cursor)
        params: dict[str, Any] = {"sort": "ts_created_iso:asc", "limit": self.page_size, "offset": skip}
        if since:
            params["ts_created_from_iso"] = since
        page = self.api.request("GET", "/v2/tickets/messages", params=params).data
        rows = _rows(page)
        total = _total(page)
        batch = Batch(cursor=cursor, has_more=False)
        if not rows:
            return batch
        tickets: dict[str, dict[str, Any]] = {}
        for row in rows:
            id_ticket = str(row["id_ticket"])
            if id_ticket not in tickets:
                tickets[id_ticket] = self.api.request(
                    "GET", f"/v2/tickets/{id_ticket}", params={"embedded": "buyer,order_units"}).data["data"]
        for ticket in tickets.values():
            self._add_ticket(batch, ticket, first_text=next(
                (r["text"] for r in rows if str(r["id_ticket"]) == str(ticket["id_ticket"])), ""))
        for row in rows:
            batch.messages.append(_message(row))
        last = str(rows[-1]["ts_created_iso"])
        same = sum(1 for r in rows if r["ts_created_iso"] == last)
        next_skip = skip + len(rows) if since == last else same
        batch.cursor = json.dumps({"from": last, "skip": next_skip})
        batch.has_more = len(rows) == self.page_size
        batch.backlog = max(0, total - skip - len(rows)) if total is not None else None
        return batch

    def _add_ticket(self, batch: Batch, ticket: dict[str, Any], *, first_text: str) -> None:
        buyer = ticket.get("id_buyer")
        identity = IdentityRef("kaufland_buyer", f"KL{buyer}") if buyer is not None else None
        units = ticket.get("order_units") or []
        name = ""
        if units and units[0].get("shipping_address"):
            address = units[0]["shipping_address"]
            name = f"{address.get('first_name', '')} {address.get('last_name', '')}".strip()
        if identity is not None:
            batch.customers.append(CustomerRecord(identity, name or f"Kaufland-Kunde {buyer}"))
        order = _order(units, identity)
        if order is not None:
            batch.orders.append(order)
        topic = TOPIC_LABELS.get(str(ticket.get("topic") or ""), "")
        subject = topic or first_text.strip().split("\n", 1)[0][:70] or "Kaufland-Anfrage"
        if order is not None and topic:
            subject = f"{topic} · Bestellung {order.number}"
        status = TicketStatus.OPEN if ticket.get("status") == "opened" else TicketStatus.RESOLVED
        batch.tickets.append(TicketRecord(
            external_id=f"kaufland:{ticket['id_ticket']}", channel=Channel.KAUFLAND, customer=identity,
            subject=subject, created_at=utc(ticket["ts_created_iso"]),
            order_ref=order.number if order is not None else None, status=status))

    # -- sending -----------------------------------------------------------------------

    def send(self, reply: OutgoingReply) -> Receipt:
        """Post the reply; on a retry, first check whether an earlier try already arrived."""
        id_ticket = reply.ticket_external_id.removeprefix("kaufland:")
        if reply.attempt > 1 and self._already_there(id_ticket, reply):
            return Receipt(f"kaufland-sent:{reply.message_id}", datetime.now(timezone.utc))
        self.api.request("POST", f"/v2/tickets/{id_ticket}/messages", json_body={"text": reply.body_text},
                         expect=(201,))
        return Receipt(f"kaufland-sent:{reply.message_id}", datetime.now(timezone.utc))

    def close_ticket(self, ticket_external_id: str) -> None:
        """Close the ticket at Kaufland (resolved here); one already closed is fine."""
        id_ticket = ticket_external_id.removeprefix("kaufland:")
        self.api.request("PATCH", f"/v2/tickets/{id_ticket}/close", expect=(204,))

    def _already_there(self, id_ticket: str, reply: OutgoingReply) -> bool:
        ticket = self.api.request("GET", f"/v2/tickets/{id_ticket}", params={"embedded": "messages"}).data["data"]
        queued = reply.queued_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if reply.queued_at else ""
        return any(m["author"]["role"] == "seller" and m["text"] == reply.body_text and m["ts_created_iso"] >= queued
                   for m in ticket.get("messages", []))

    def close(self) -> None:
        self.api.close()


def _read_cursor(cursor: str | None) -> tuple[str | None, int]:
    if not cursor:
        return None, 0
    try:
        data = json.loads(cursor)
        return (str(data["from"]) if data.get("from") else None), int(data.get("skip", 0))
    except (ValueError, KeyError, TypeError):
        raise SourceError(f"Kaufland: cursor {cursor[:40]!r} is not readable; reset the account",
                          temporary=False) from None


def _rows(page: Any) -> list[dict[str, Any]]:
    if not isinstance(page, dict) or not isinstance(page.get("data"), list):
        raise SourceError("Kaufland: the message list has no 'data' array; nothing was saved")
    return page["data"]


def _total(page: dict[str, Any]) -> int | None:
    pagination = page.get("pagination")
    return int(pagination["total"]) if isinstance(pagination, dict) and "total" in pagination else None



def _message(row: dict[str, Any]) -> MessageRecord:
    role = row["author"]["role"]
    direction = Direction.IN if role == "buyer" else Direction.OUT if role == "seller" else Direction.NOTE
    name = row["author"].get("name", "")
    if role in ("system", "customer_service"):
        name = f"Kaufland ({'System' if role == 'system' else 'Kundenservice'})"
    return MessageRecord(
        external_id=f"kaufland-msg:{row['id_ticket_message']}", ticket_external_id=f"kaufland:{row['id_ticket']}",
        direction=direction, sender_name=name, sender_addr="", sent_at=utc(row["ts_created_iso"]), subject="",
        body_text=str(row["text"]))


def _order(units: list[dict[str, Any]], identity: IdentityRef | None) -> OrderRecord | None:
    if not units:
        return None
    first = units[0]
    lines: dict[str, list[dict[str, Any]]] = {}
    for unit in units:
        lines.setdefault(str(unit.get("id_offer") or unit["id_order_unit"]), []).append(unit)
    items = tuple(OrderItemRecord(n, sku, str((group[0].get("product") or {}).get("title", sku)), len(group),
                                  int(group[0]["price"]))
                  for n, (sku, group) in enumerate(lines.items(), start=1))
    address = first.get("shipping_address") or {}
    statuses = {_ORDER_STATUS.get(str(u["status"]), str(u["status"])) for u in units}
    status = combined_status(statuses)
    total = sum(int(u["price"]) for u in units) + int(first.get("shipping_rate") or 0)
    return OrderRecord(
        external_id=f"kaufland:{first['id_order']}", number=str(first["id_order"]), customer=identity, status=status,
        placed_at=utc(first["ts_created_iso"]), total_cents=total, currency=str(first.get("currency", "EUR")),
        ship_to={"name": f"{address.get('first_name', '')} {address.get('last_name', '')}".strip(),
                 "street": f"{address.get('street', '')} {address.get('house_number', '')}".strip(),
                 "postcode": str(address.get("postcode", "")), "city": str(address.get("city", "")),
                 "country": str(address.get("country", ""))} if address else {},
        items=items,
        delivery_to=utc(first["delivery_time_expires_iso"]) if first.get("delivery_time_expires_iso") else None)
