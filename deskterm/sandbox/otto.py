"""OTTO Market on loopback: client-credentials tokens, Orders v4 and Shipments v1, serving
the demo world's OTTO orders.

`POST /v1/token` (form: client id and secret, `grant_type=client_credentials`, scopes)
issues bearer tokens (JWT-like, 1,800 s). `GET /v4/orders` filters by `fromDate` (change
date), pages with `limit` (default 128) and `nextcursor` given back in `links[rel=next]`.
Amounts are numbers, country codes ISO alpha-3, the invoice e-mail a pseudonymised
address. There is no published Orders v4 model: shapes follow channel-apis.md section 4.
`GET /v1/shipments` answers as the published Shipments model says (contract-tested).
Each endpoint has its own rate limit [I: 5 requests per second].
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

from deskterm.model import OrderRecord
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.server import Answer, Request, SandboxServer, TokenBucket

ACCOUNT_KEY = "otto-de"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone(timedelta(hours=1))).strftime("%Y-%m-%dT%H:%M:%S.000+01:00")


def errors(status: int, title: str, detail: str = "", path: str = "") -> Answer:
    return Answer(status, {"errors": [{"title": title, "detail": detail or title, "path": path}]})


class OttoSandbox(SandboxServer):
    label = "otto"

    def __init__(self, world: DemoWorld | None = None, *, client_id: str = "otto-demo-client",
                 client_secret: str = "demo-secret", clock: Any = time.time) -> None:
        super().__init__(rate=1000, burst=1000)
        self.client_id, self.client_secret = client_id, client_secret
        self.clock = clock
        self.tokens: dict[str, float] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.shipments: list[dict[str, Any]] = []
        self.endpoint_buckets = {"orders": TokenBucket(5, 5), "shipments": TokenBucket(5, 5)}
        self._cursors: dict[str, tuple[list[str], int, int]] = {}
        self._lock = threading.Lock()
        if world is not None:
            self.load(world)
        self.route("POST", "/v1/token", self.token)
        self.route("GET", "/v4/orders", self.get_orders)
        self.route("GET", "/v1/shipments", self.get_shipments)

    def load(self, world: DemoWorld) -> None:
        for index in world.indices_for(ACCOUNT_KEY):
            conversation = world.conversation(index)
            if conversation.order is not None:
                self._add(conversation.order, conversation.customer.key.value, conversation.customer.display_name)

    def _add(self, order: OrderRecord, pseudonym: str, name: str) -> None:
        sales_order_id = str(uuid.UUID(bytes=order.number.encode().ljust(16, b"0")[:16]))
        first, _, last = name.partition(" ")
        street, _, house = order.ship_to.get("street", "").rpartition(" ")
        address = {"salutation": order.ship_to.get("salutation", ""), "firstName": first, "lastName": last,
                   "street": street, "houseNumber": house, "zipCode": order.ship_to.get("postcode", ""),
                   "city": order.ship_to.get("city", ""), "countryCode": "DEU"}
        shipped = order.status in ("shipped", "delivered")
        tracking = order.shipments[0] if order.shipments else None
        changed = iso(order.placed_at + timedelta(hours=3))
        positions = []
        for n, item in enumerate(order.items, start=1):
            for k in range(item.quantity):
                position: dict[str, Any] = {
                    "positionItemId": f"{sales_order_id[:-6]}{n:03d}{k:03d}",
                    "fulfillmentStatus": "SENT" if shipped else "PROCESSABLE",
                    "itemValueGrossPrice": {"amount": item.unit_price_cents / 100, "currency": "EUR"},
                    "processableDate": iso(order.placed_at),
                    "expectedDeliveryDate": iso(order.delivery_to or order.placed_at),
                    "product": {"sku": item.sku, "productTitle": item.title, "articleNumber": f"S0{item.sku[-6:]}",
                                "ean": "4011905437873", "vatRate": 19.0}}
                if shipped and tracking is not None:
                    position["trackingInfo"] = {"carrier": tracking.carrier,
                                                "trackingNumber": tracking.tracking_number}
                    position["sentDate"] = iso(tracking.shipped_at or order.placed_at)
                positions.append(position)
        subtotal = sum(i.quantity * i.unit_price_cents for i in order.items)
        self.orders[sales_order_id] = {
            "salesOrderId": sales_order_id, "orderNumber": order.number, "orderDate": iso(order.placed_at),
            "lastModifiedDate": changed, "orderLifecycleInformation": {"lifecycleChangeDate": changed},
            "payment": {"paymentMethod": "PREPAYMENT"}, "deliveryAddress": address,
            "invoiceAddress": {**address, "email": pseudonym},
            "initialDeliveryFees": [{"name": "Versandkosten", "deliveryFeeAmount": {
                "amount": (order.total_cents - subtotal) / 100, "currency": "EUR"},
                "positionItemIds": [p["positionItemId"] for p in positions], "vatRate": 19.0}],
            "positionItems": positions,
            "links": [{"rel": "self", "href": f"/v4/orders/{sales_order_id}"}],
        }
        if shipped and tracking is not None:
            self.shipments.append({
                "shipmentId": str(uuid.uuid4()), "creationDate": iso(tracking.shipped_at or order.placed_at),
                "trackingKey": {"carrier": tracking.carrier, "trackingNumber": tracking.tracking_number},
                "shipDate": iso(tracking.shipped_at or order.placed_at),
                "shipFromAddress": {"city": "Kassel", "countryCode": "DEU", "zipCode": "34117"},
                "positionItems": [{"positionItemId": p["positionItemId"], "salesOrderId": sales_order_id,
                                   "returnTrackingKey": {"carrier": "DHL", "trackingNumber": "R" +
                                                         tracking.tracking_number}} for p in positions]})

    # -- auth --------------------------------------------------------------------------

    def token(self, request: Request) -> Answer:
        form = dict(parse_qsl(request.body.decode()))
        if form.get("grant_type") != "client_credentials":
            return Answer(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != self.client_id or not hmac.compare_digest(form.get("client_secret", ""),
                                                                                self.client_secret):
            return Answer(401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).decode().rstrip("=")
        token = f"{header}.{secrets.token_urlsafe(24)}.sig"
        with self.lock:
            self.tokens[token] = self.clock() + 1800
        return Answer(200, {"access_token": token, "expires_in": 1800, "refresh_expires_in": 0, "token_type": "bearer",
                            "not-before-policy": 0, "scope": form.get("scope", "")})

    def authorize(self, request: Request) -> Answer | None:
        if request.path == "/v1/token":
            return None
        with self.lock:
            if self.faults.expire_tokens:
                self.faults.expire_tokens = False
                self.tokens.clear()
            expiry = self.tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if expiry is None or expiry < self.clock():
            return Answer(401, None)
        return None

    def too_many(self, retry_after: int) -> Answer:
        answer = errors(429, "Too Many Requests", "rate limit exceeded")
        answer.headers["Retry-After"] = str(retry_after)
        return answer

    def server_error(self) -> Answer:
        return errors(503, "Service Unavailable")

    def not_found(self, request: Request) -> Answer:
        return errors(404, "Not Found", path=request.path)

    def _limited(self, endpoint: str) -> Answer | None:
        wait = self.endpoint_buckets[endpoint].take()
        return self.too_many(max(1, round(wait + 0.5))) if wait > 0 else None

    # -- endpoints ---------------------------------------------------------------------

    def get_orders(self, request: Request) -> Answer:
        limited = self._limited("orders")
        if limited:
            return limited
        cursor = request.arg("nextcursor")
        limit = int(request.arg("limit", "128") or 128)
        if cursor:
            with self._lock:
                state = self._cursors.pop(cursor, None)
            if state is None:
                return errors(400, "Bad Request", "unknown nextcursor", "nextcursor")
            ids, position, limit = state[0], state[1], limit or state[2]
        else:
            since = request.arg("fromDate")
            ids = [o["salesOrderId"] for o in sorted(self.orders.values(),
                                                      key=lambda o: (o["lastModifiedDate"], o["salesOrderId"]))
                   if since is None or _utc(o["lastModifiedDate"]) >= _utc(since)]
            position = 0
        chunk = ids[position:position + limit]
        body: dict[str, Any] = {"resources": [self.orders[i] for i in chunk], "links": []}
        if position + limit < len(ids):
            token = secrets.token_urlsafe(16)
            with self._lock:
                self._cursors[token] = (ids, position + limit, limit)
            body["links"].append({"rel": "next", "href": f"/v4/orders?nextcursor={token}"})
        return Answer(200, body)

    def get_shipments(self, request: Request) -> Answer:
        limited = self._limited("shipments")
        if limited:
            return limited
        limit = int(request.arg("limit", "25") or 25)
        start = int(request.arg("next", "0") or 0)
        since = request.arg("datefrom")
        rows = [s for s in self.shipments if since is None or _utc(s["creationDate"]) >= _utc(since)]
        page = [{"shipmentId": s["shipmentId"], "creationDate": s["creationDate"], "trackingKey": s["trackingKey"]}
                for s in rows[start:start + limit]]
        links = [{"href": f"/v1/shipments?limit={limit}&next={start + limit}", "rel": "next"}] \
            if start + limit < len(rows) else []
        return Answer(200, {"resources": page, "links": links})


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
