"""Kaufland Seller API v2 on loopback, serving the demo world's Kaufland conversations.

Checks every request's HMAC-SHA256 signature exactly as documented (method, the full URL
with its query, the body, the timestamp; skew at most 15 minutes [I]), answers in the
shapes of the vendor's published model (../shared/specs/kaufland-seller-api-v2.json; the
contract tests validate every answer against it), rate-limits at 111 requests per second
and answers errors as `ErrorResponse` problem bodies. Prices are integer cents.

Endpoints: GET /v2/tickets/messages (the sync cursor), GET /v2/tickets/{id}, POST
/v2/tickets/{id}/messages, PATCH /v2/tickets/{id}/close, GET /v2/order-units.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from deskterm.model import Direction, OrderRecord
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.server import Answer, Request, SandboxServer

ACCOUNT_KEY = "kaufland-de"
SKEW_SECONDS = 15 * 60
RATE_PER_SECOND = 111
SELLER_NAME = "Lindenhof Haushaltswaren"
_UNIT_STATUS = {"shipped": "sent", "delivered": "received", "unshipped": "need_to_be_sent", "pending": "open"}
# demo intent -> (open_reason, topic)
_TOPICS = {"wismo": ("product_not_delivered", "delivery_not_received"),
           "wismo_en": ("product_not_delivered", "delivery_not_received"),
           "return": ("product_return", "return_request_label"), "return_en": ("product_return", "return_request_label"),
           "damaged": ("product_defect", "order_product_defect"), "invoice": ("contact_other", "invoice_needed"),
           "address": ("contact_other", "delivery_change_address"), "product": ("contact_other", "product_other_question"),
           "cancel": ("contact_other", "order_cancel"), "gdpr": ("contact_other", "other_question")}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def problem(status: int, kind: str, message: str, errors: list[dict[str, str]] | None = None) -> Answer:
    return Answer(status, {"type": kind, "message": message, "errors": errors or []})


def signature(secret: str, method: str, url: str, body: str, timestamp: str) -> str:
    """The documented signature: hex HMAC-SHA256 over "METHOD\\nURL\\nBODY\\nTIMESTAMP"."""
    message = "\n".join([method, url, body, timestamp])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass
class _Ticket:
    id_ticket: str
    id_buyer: int
    buyer_name: str
    created: datetime
    status: str
    open_reason: str
    topic: str
    order: OrderRecord | None
    unit_ids: list[int]
    messages: list[dict[str, Any]] = field(default_factory=list)


class KauflandSandbox(SandboxServer):
    label = "kaufland"

    def __init__(self, world: DemoWorld | None = None, *, client_key: str = "k" * 32, secret_key: str = "s" * 64,
                 clock: Any = time.time) -> None:
        super().__init__(rate=RATE_PER_SECOND, burst=RATE_PER_SECOND)
        self.client_key = client_key
        self.secret_key = secret_key
        self.clock = clock
        self.tickets: dict[str, _Ticket] = {}
        self.units: dict[int, dict[str, Any]] = {}
        self._message_ids = itertools.count(1)
        self._write_lock = threading.Lock()
        if world is not None:
            self.load(world)
        self.route("GET", "/v2/tickets/messages", self.get_messages)
        self.route("GET", "/v2/tickets/{id_ticket}", self.get_ticket)
        self.route("POST", "/v2/tickets/{id_ticket}/messages", self.post_message)
        self.route("PATCH", "/v2/tickets/{id_ticket}/close", self.close_ticket)
        self.route("GET", "/v2/order-units", self.get_order_units)

    # -- the world ---------------------------------------------------------------------

    def load(self, world: DemoWorld) -> None:
        """Every Kaufland conversation of the demo world, as tickets, messages and order units."""
        for index in world.indices_for(ACCOUNT_KEY):
            conversation = world.conversation(index)
            buyer = int(conversation.customer.key.value.removeprefix("KL"))
            unit_ids = self._add_units(index, conversation.order, buyer, conversation.customer.display_name)
            reason, topic = _TOPICS.get(conversation.intent, ("contact_other", "other_question"))
            ticket = _Ticket(f"001{index:08d}", buyer, conversation.customer.display_name,
                             conversation.ticket.created_at, "opened", reason, topic, conversation.order, unit_ids)
            for message in conversation.messages:
                self._append(ticket, "buyer" if message.direction == Direction.IN else "seller",
                             conversation.customer.display_name if message.direction == Direction.IN else SELLER_NAME,
                             message.body_text, message.sent_at)
            self.tickets[ticket.id_ticket] = ticket

    def _add_units(self, index: int, order: OrderRecord | None, buyer: int, name: str) -> list[int]:
        if order is None:
            return []
        ids = []
        first, _, last = name.partition(" ")
        address = {"first_name": first, "last_name": last, "company_name": None,
                   "street": order.ship_to.get("street", "").rsplit(" ", 1)[0],
                   "house_number": order.ship_to.get("street", "").rsplit(" ", 1)[-1],
                   "postcode": order.ship_to.get("postcode", ""), "additional_field": None,
                   "city": order.ship_to.get("city", ""), "phone": None, "country": "DE"}
        serial = itertools.count(1)
        for item in order.items:
            for _ in range(item.quantity):
                unit_id = index * 1000 + next(serial)
                self.units[unit_id] = {
                    "id_order_unit": unit_id, "id_order": order.number, "ts_created_iso": iso(order.placed_at),
                    "is_marketplace_deemed_supplier": False, "ts_updated_iso": iso(order.placed_at),
                    "status": _UNIT_STATUS.get(order.status, "open"), "price": item.unit_price_cents,
                    "id_offer": item.sku, "revenue_gross": item.unit_price_cents * 85 // 100,
                    "revenue_net": item.unit_price_cents * 71 // 100, "note": None, "unit_condition": "new",
                    "storefront": "de", "currency": "EUR", "delivery_time_min": 2, "delivery_time_max": 4,
                    "delivery_time_expires_iso": iso(order.delivery_to) if order.delivery_to else None,
                    "order_received_timestamp_iso": iso(order.placed_at),
                    "shipping_rate": 495 if len(order.items) == 1 else 0, "cancel_reason": None,
                    "fulfillment_type": "fulfilled_by_merchant", "buyer": {"id_buyer": buyer, "email": None},
                    "billing_address": dict(address), "shipping_address": dict(address),
                    "product": {"id_product": 300000000 + int(hashlib.sha1(item.sku.encode()).hexdigest()[:7], 16), "storefront": "de",
                                "title": item.title, "eans": [], "id_category": 34401,
                                "main_picture": "https://media.cdn.kaufland.de/product-images/demo.jpg",
                                "manufacturer": "Lindenhof", "url": f"https://www.kaufland.de/product/{item.sku}/",
                                "age_rating": 0, "is_valid": True,
                                "dangerous_goods_li_shipping": None, "danger_label_9A": None},
                    "vat": 19}
                ids.append(unit_id)
        return ids

    def _append(self, ticket: _Ticket, role: str, name: str, text: str, at: datetime) -> dict[str, Any]:
        message = {"id_ticket_message": next(self._message_ids), "id_ticket": ticket.id_ticket,
                   "author": {"role": role, "name": name}, "text": text, "ts_created_iso": iso(at)}
        ticket.messages.append(message)
        return message

    def add_buyer_message(self, id_ticket: str, text: str, at: datetime | None = None) -> dict[str, Any]:
        """A buyer writes again (the demo's live feed, and tests)."""
        with self._write_lock:
            ticket = self.tickets[id_ticket]
            ticket.status = "opened"
            return self._append(ticket, "buyer", ticket.buyer_name, text,
                                at or datetime.fromtimestamp(self.clock(), timezone.utc))

    def open_ticket(self, buyer_name: str, text: str, *, reason: str = "contact_other", topic: str = "other_question",
                    at: datetime | None = None) -> str:
        """A buyer opens a new ticket (tests); returns its id."""
        with self._write_lock:
            moment = at or datetime.fromtimestamp(self.clock(), timezone.utc)
            id_ticket = f"009{len(self.tickets):08d}"
            buyer = 90000000 + len(self.tickets)
            ticket = _Ticket(id_ticket, buyer, buyer_name, moment, "opened", reason, topic, None, [])
            self._append(ticket, "buyer", buyer_name, text, moment)
            self.tickets[id_ticket] = ticket
            return id_ticket

    # -- auth --------------------------------------------------------------------------

    def authorize(self, request: Request) -> Answer | None:
        key = request.headers.get("shop-client-key")
        stamp = request.headers.get("shop-timestamp", "")
        sent = request.headers.get("shop-signature", "")
        if not key or not stamp or not sent or not request.headers.get("user-agent"):
            return problem(401, "/problems/missing-or-invalid-request-header",
                           "Shop-Client-Key, Shop-Timestamp, Shop-Signature and User-Agent are required")
        if not hmac.compare_digest(key, self.client_key):
            return problem(401, "/problems/invalid-credentials", "Unknown client key")
        if not stamp.isdigit() or abs(int(stamp) - self.clock()) > SKEW_SECONDS:
            return problem(401, "/problems/missing-or-invalid-request-header", "Shop-Timestamp is too far off")
        expected = signature(self.secret_key, request.method, request.url, request.body.decode(), stamp)
        if not hmac.compare_digest(sent, expected):
            return problem(401, "/problems/corrupted-signature", "The signature does not match the request")
        return None

    def too_many(self, retry_after: int) -> Answer:
        answer = problem(429, "about:blank", "Too Many Requests")
        answer.headers["Retry-After"] = str(retry_after)
        return answer

    def server_error(self) -> Answer:
        return problem(503, "/problems/service-unavailable", "Service temporarily unavailable")

    def not_found(self, request: Request) -> Answer:
        return problem(404, "/problems/not-found", f"No resource {request.path}")

    # -- endpoints ---------------------------------------------------------------------

    def _page(self, request: Request, default_limit: int = 30, maximum: int = 100) -> tuple[int, int] | Answer:
        try:
            limit = int(request.arg("limit", str(default_limit)) or default_limit)
            offset = int(request.arg("offset", "0") or 0)
        except ValueError:
            return problem(400, "/problems/validation-error", "limit and offset must be integers",
                           [{"field": "limit", "message": "not an integer"}])
        if not 1 <= limit <= maximum or offset < 0:
            return problem(400, "/problems/validation-error", f"limit must be 1..{maximum}",
                           [{"field": "limit", "message": f"must be between 1 and {maximum}"}])
        return limit, offset

    def get_messages(self, request: Request) -> Answer:
        page = self._page(request)
        if isinstance(page, Answer):
            return page
        limit, offset = page
        since = request.arg("ts_created_from_iso")
        descending = request.arg("sort", "ts_created_iso:desc") != "ts_created_iso:asc"
        with self._write_lock:
            rows = [m for t in self.tickets.values() for m in t.messages
                    if since is None or m["ts_created_iso"] >= since]
        rows.sort(key=lambda m: (m["ts_created_iso"], m["id_ticket_message"]), reverse=descending)
        return Answer(200, {"data": rows[offset:offset + limit],
                            "pagination": {"offset": offset, "limit": limit, "total": len(rows)}})

    def _ticket_json(self, ticket: _Ticket, embedded: set[str]) -> dict[str, Any]:
        last = ticket.messages[-1] if ticket.messages else None
        product = None
        if ticket.unit_ids:
            product = self.units[ticket.unit_ids[0]]["product"]
        return {
            "id_ticket": ticket.id_ticket, "ids_order_units": list(ticket.unit_ids), "id_buyer": ticket.id_buyer,
            "ts_created_iso": iso(ticket.created),
            "ts_updated_iso": last["ts_created_iso"] if last else iso(ticket.created),
            "status": ticket.status, "open_reason": ticket.open_reason, "topic": ticket.topic,
            "is_seller_responsible": bool(last and last["author"]["role"] == "buyer"),
            "fulfillment_type": "fulfilled_by_merchant",
            "messages": list(ticket.messages) if "messages" in embedded else [],
            "order_units": [self.units[u] for u in ticket.unit_ids] if "order_units" in embedded else [],
            "buyer": {"id_buyer": ticket.id_buyer, "email": None} if "buyer" in embedded else None,
            "product": product if "product" in embedded else None,
            "files": [], "storefront": "de",
        }

    def get_ticket(self, request: Request, id_ticket: str) -> Answer:
        ticket = self.tickets.get(id_ticket)
        if ticket is None:
            return problem(404, "/problems/not-found", f"Ticket {id_ticket} not found")
        embedded = set(",".join(request.args("embedded")).split(","))
        with self._write_lock:
            return Answer(200, {"data": self._ticket_json(ticket, embedded)})

    def post_message(self, request: Request, id_ticket: str) -> Answer:
        ticket = self.tickets.get(id_ticket)
        if ticket is None:
            return problem(404, "/problems/not-found", f"Ticket {id_ticket} not found")
        try:
            body = request.json()
            text = body["text"]
        except (ValueError, KeyError, TypeError):
            return problem(400, "/problems/validation-error", "text is required",
                           [{"field": "text", "message": "required"}])
        if not isinstance(text, str) or not 1 <= len(text) <= 65535:
            return problem(400, "/problems/validation-error", "text must be 1 to 65535 characters",
                           [{"field": "text", "message": "length"}])
        if ticket.status in ("both_closed", "customer_service_closed_final"):
            return problem(400, "/problems/tickets/finally-closed", "The ticket is closed")
        with self._write_lock:
            self._append(ticket, "seller", SELLER_NAME, text, datetime.fromtimestamp(self.clock(), timezone.utc))
        return Answer(201, None)

    def close_ticket(self, request: Request, id_ticket: str) -> Answer:
        ticket = self.tickets.get(id_ticket)
        if ticket is None:
            return problem(404, "/problems/not-found", f"Ticket {id_ticket} not found")
        ticket.status = "seller_closed" if ticket.status == "opened" else "both_closed"
        return Answer(204, None)

    def get_order_units(self, request: Request) -> Answer:
        page = self._page(request)
        if isinstance(page, Answer):
            return page
        limit, offset = page
        since = request.arg("ts_updated_from_iso")
        rows = sorted((u for u in self.units.values() if since is None or u["ts_updated_iso"] >= since),
                      key=lambda u: (u["ts_updated_iso"], u["id_order_unit"]))
        return Answer(200, {"data": rows[offset:offset + limit],
                            "pagination": {"offset": offset, "limit": limit, "total": len(rows)}})
