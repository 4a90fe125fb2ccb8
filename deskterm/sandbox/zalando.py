"""Zalando zDirect on loopback: client-credentials tokens and the Orders API (JSON:API),
serving the demo world's Zalando orders.

`POST /auth/token` (HTTP Basic client id and secret, `grant_type=client_credentials`)
issues bearer tokens. `GET /merchants/{merchant-id}/orders` filters with the exclusive
`last_updated_after`/`created_after`, pages with `page[number]`/`page[size]`, includes
`order_items`/`order_lines` on request and links `next`; 429 carries `Retry-After`,
`X-Rate-Limit` and `X-Flow-Id` (GET multiple orders: 40 per minute [V], configurable).
Amounts are decimal numbers, as Zalando sends them.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

from deskterm.model import OrderRecord
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.server import Answer, Request, SandboxServer

ACCOUNT_KEY = "zalando-de"
MERCHANT_ID = "8a9d7e4c-demo-4d2e-9f43-lindenhof00"
COPYRIGHT = "Zalando SE 2026 All rights reserved."
JSON_API = "application/vnd.api+json"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def amount(cents: int) -> float:
    return round(cents / 100, 2)


def errors(status: int, code: str, title: str) -> Answer:
    return Answer(status, {"errors": [{"status": str(status), "code": code, "title": title, "detail": title}]},
                  {"X-Flow-Id": str(uuid.uuid4())}, content_type=JSON_API)


class ZalandoSandbox(SandboxServer):
    label = "zalando"

    def __init__(self, world: DemoWorld | None = None, *, client_id: str = "zalando-demo-client",
                 client_secret: str = "demo-secret", per_minute: float = 40, clock: Any = time.time) -> None:
        super().__init__(rate=per_minute / 60, burst=per_minute)
        self.client_id, self.client_secret, self.per_minute = client_id, client_secret, per_minute
        self.clock = clock
        self.tokens: dict[str, float] = {}
        self.orders: dict[str, dict[str, Any]] = {}  # order id -> {"order", "items", "lines"}
        self._lock = threading.Lock()
        if world is not None:
            self.load(world)
        self.route("POST", "/auth/token", self.token)
        self.route("GET", "/merchants/{merchant_id}/orders", self.get_orders)

    def load(self, world: DemoWorld) -> None:
        for index in world.indices_for(ACCOUNT_KEY):
            conversation = world.conversation(index)
            if conversation.order is not None:
                self._add(conversation.order, conversation.customer.key.value.removeprefix("ZC-"),
                          conversation.customer.display_name)

    def _add(self, order: OrderRecord, customer: str, name: str) -> None:
        order_id = str(uuid.UUID(int=int(order.number) % (1 << 64)))
        first, _, last = name.partition(" ")
        address = {"first_name": first, "last_name": last or first, "address_line_1": order.ship_to.get("street", ""),
                   "zip_code": order.ship_to.get("postcode", ""), "city": order.ship_to.get("city", ""),
                   "country_code": "DE", "address_type": "HOME_ADDRESS"}
        status = {"shipped": "fulfilled", "delivered": "fulfilled", "pending": "initial"}.get(order.status, "approved")
        line_status = {"fulfilled": "shipped", "initial": "initial"}.get(status, "reserved")
        items, lines = [], []
        for n, item in enumerate(order.items, start=1):
            item_id = f"{order_id[:-4]}{n:04d}"
            line_ids = []
            for k in range(item.quantity):
                line_id = f"{item_id[:-4]}{n:02d}{k:02d}"
                line_ids.append(line_id)
                lines.append({"type": "OrderLine", "id": line_id, "attributes": {
                    "order_line_id": line_id, "order_item_id": item_id, "status": line_status,
                    "price": {"amount": amount(item.unit_price_cents), "currency": "EUR"},
                    "created_at": iso(order.placed_at), "modified_at": iso(order.placed_at)}})
            items.append({"type": "OrderItem", "id": item_id, "attributes": {
                "order_item_id": item_id, "order_id": order_id, "article_id": item.sku, "external_id": item.sku,
                "description": item.title, "quantity_initial": item.quantity, "quantity_reserved": 0,
                "quantity_shipped": item.quantity if status == "fulfilled" else 0, "quantity_returned": 0,
                "quantity_canceled": 0}, "relationships": {"order_lines": {"data": [
                    {"type": "OrderLine", "id": i} for i in line_ids]}}})
        subtotal = sum(i.quantity * i.unit_price_cents for i in order.items)
        tracking = order.shipments[0].tracking_number if order.shipments else None
        attributes: dict[str, Any] = {
            "order_id": order_id, "merchant_id": MERCHANT_ID, "order_number": order.number,
            "order_date": iso(order.placed_at), "merchant_order_id": None, "exported": status != "initial",
            "sales_channel_id": "bf48ba35-149d-4b76-8ac9-d08d126b517f", "locale": "de-DE",
            "customer_number": customer, "customer_email": f"{customer}@customer.zalando.example",
            "order_type": "PartnerFulfilled", "status": status, "shipping_address": address,
            "billing_address": dict(address), "shipment_number": f"ZS{order.number[-8:]}",
            "order_lines_count": len(lines), "order_lines_price_amount": amount(subtotal),
            "order_lines_price_currency": "EUR",
            "delivery_end_date": iso(order.delivery_to or order.placed_at + timedelta(days=4)),
            "created_at": iso(order.placed_at), "modified_at": iso(order.placed_at + timedelta(hours=2)),
            "tracking_number": tracking, "shipping_costs": {"amount": amount(order.total_cents - subtotal),
                                                            "currency": "EUR"}}
        record = {"type": "Order", "id": order_id,
                  # The model has no nullable attributes: what is unknown is left out, not null.
                  "attributes": {k: v for k, v in attributes.items() if v is not None},
                  "relationships": {"order_items": {"data": [{"type": "OrderItem", "id": i["id"]} for i in items]}}}
        self.orders[order_id] = {"order": record, "items": items, "lines": lines}

    # -- auth --------------------------------------------------------------------------

    def token(self, request: Request) -> Answer:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if not hmac.compare_digest(request.headers.get("authorization", ""), expected):
            return Answer(401, {"error": "invalid_client", "error_description": "Bad client credentials"})
        if dict(parse_qsl(request.body.decode())).get("grant_type") != "client_credentials":
            return Answer(400, {"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = self.clock() + 7200
        return Answer(200, {"access_token": token, "expires_in": 7200, "token_type": "Bearer"})

    def authorize(self, request: Request) -> Answer | None:
        if request.path == "/auth/token":
            return None
        with self.lock:
            if self.faults.expire_tokens:
                self.faults.expire_tokens = False
                self.tokens.clear()
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            expiry = self.tokens.get(token)
        if expiry is None or expiry < self.clock():
            return errors(401, "unauthorized", "Invalid or expired access token")
        return None

    def too_many(self, retry_after: int) -> Answer:
        return Answer(429, {"message": "Rate limit exceeded"}, {
            "Retry-After": str(retry_after), "X-Rate-Limit": str(int(self.per_minute)),
            "X-Flow-Id": str(uuid.uuid4())}, content_type=JSON_API)

    def server_error(self) -> Answer:
        return errors(503, "service_unavailable", "Service Unavailable")

    def not_found(self, request: Request) -> Answer:
        return errors(404, "not_found", f"No resource {request.path}")

    # -- orders ------------------------------------------------------------------------

    def get_orders(self, request: Request, merchant_id: str) -> Answer:
        if merchant_id != MERCHANT_ID:
            return errors(403, "forbidden", "Not your merchant id")
        try:
            number = int(request.arg("page[number]", "0") or 0)
            size = int(request.arg("page[size]", "50") or 50)
        except ValueError:
            return errors(400, "bad_request", "page[number] and page[size] must be integers")
        if number < 0 or not 1 <= size <= 1000:
            return errors(400, "bad_request", "page[size] must be between 1 and 1000")
        after = request.arg("last_updated_after")
        include = set((request.arg("include") or "").split(","))
        rows = sorted((o for o in self.orders.values()
                       if after is None or o["order"]["attributes"]["modified_at"] > after),  # exclusive
                      key=lambda o: (o["order"]["attributes"]["modified_at"], o["order"]["id"]))
        page = rows[number * size:(number + 1) * size]
        base = f"{request.path}?{'&'.join(f'{k}={v}' for k, v in request.query if k != 'page[number]')}"
        body: dict[str, Any] = {"data": [o["order"] for o in page],
                                "links": {"self": f"{base}&page[number]={number}"},
                                "meta": {"copyright": COPYRIGHT, "number_of_results": len(rows)}}
        if (number + 1) * size < len(rows):
            body["links"]["next"] = f"{base}&page[number]={number + 1}"
        included: list[dict[str, Any]] = []
        for order in page:
            if "order_items" in include:
                included.extend(order["items"])
            if "order_lines" in include:
                included.extend(order["lines"])
        if included:
            body["included"] = included
        return Answer(200, body, {"X-Flow-Id": str(uuid.uuid4())}, content_type=JSON_API)
