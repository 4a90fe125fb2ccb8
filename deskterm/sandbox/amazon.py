"""Amazon SP-API (EU, amazon.de) on loopback: Login with Amazon, Orders 2026-01-01 and the
Messaging API's list of permitted actions, serving the demo world's Amazon orders.

LWA: `POST /auth/o2/token` (refresh_token grant) issues `Atza|…` tokens for `x-amz-access-token`.
`searchOrders` needs exactly one of `createdAfter`/`lastUpdatedAfter`, refuses times later
than two minutes ago, pages with `pagination.nextToken` and reports `lastUpdatedBefore`
(the high-water mark a client continues from). Each operation has its own token bucket
(searchOrders 0.0056/s burst 20, getOrder 0.5/s burst 30, messaging 1/s burst 5); a 429
answers `QuotaExceeded`. Every answer carries `x-amzn-RequestId`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
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

ACCOUNT_KEY = "amazon-de"
MARKETPLACE_DE = "A1PA6795UKMFR9"
TWO_MINUTES = timedelta(minutes=2)
BUCKETS = {"searchOrders": (0.0056, 20), "getOrder": (0.5, 30), "messaging": (1.0, 5)}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(cents: int) -> dict[str, str]:
    return {"amount": f"{cents // 100}.{cents % 100:02d}", "currencyCode": "EUR"}


def errors(status: int, code: str, message: str, **headers: str) -> Answer:
    return Answer(status, {"errors": [{"code": code, "message": message, "details": ""}]}, dict(headers))


class AmazonSandbox(SandboxServer):
    label = "amazon"

    def __init__(self, world: DemoWorld | None = None, *, client_id: str = "amzn1.application-oa2-client.demo",
                 client_secret: str = "demo-secret", refresh_token: str = "Atzr|demo-refresh",
                 clock: Any = time.time, actions: tuple[str, ...] = ("confirmDeliveryDetails", "unexpectedProblem",
                                                                     "confirmOrderDetails")) -> None:
        super().__init__(rate=1000, burst=1000)
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.clock = clock
        self.actions = actions  # what getMessagingActionsForOrder offers (configurable: varies by order)
        self.tokens: dict[str, float] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.buckets = {name: TokenBucket(rate, burst) for name, (rate, burst) in BUCKETS.items()}
        self._pages: dict[str, tuple[list[str], int, str]] = {}  # nextToken -> (order ids, position, high water)
        self._write_lock = threading.Lock()
        if world is not None:
            self.load(world)
        self.route("POST", "/auth/o2/token", self.token)
        self.route("GET", "/orders/2026-01-01/orders", self.search_orders)
        self.route("GET", "/orders/2026-01-01/orders/{order_id}", self.get_order)
        self.route("GET", "/messaging/v1/orders/{order_id}", self.messaging_actions)
        self.route("POST", "/messaging/v1/orders/{order_id}/messages/{action}", self.create_message)
        self.sent_messages: list[tuple[str, str, str]] = []  # (order, action, text) that were accepted

    def load(self, world: DemoWorld) -> None:
        for index in world.indices_for(ACCOUNT_KEY):
            conversation = world.conversation(index)
            if conversation.order is not None:
                relay = conversation.customer.key.value
                self.orders[conversation.order.number] = self._order(conversation.order, relay,
                                                                     conversation.customer.display_name)

    def _order(self, order: OrderRecord, relay: str, name: str) -> dict[str, Any]:
        status = {"shipped": "SHIPPED", "delivered": "SHIPPED", "unshipped": "UNSHIPPED",
                  "pending": "PENDING"}.get(order.status, "UNSHIPPED")
        items = [{"orderItemId": f"{order.number[-7:]}{n:03d}", "quantityOrdered": item.quantity,
                  "product": {"asin": "B0" + hashlib.sha1(item.sku.encode()).hexdigest()[:8].upper(), "title": item.title,
                              "sellerSku": item.sku, "condition": {"conditionType": "NEW"},
                              "price": {"unitPrice": money(item.unit_price_cents)}}}
                 for n, item in enumerate(order.items, start=1)]
        packages = [{"packageReferenceId": str(n), "packageStatus": {
            "status": "DELIVERED" if order.status == "delivered" else "IN_TRANSIT"}, "carrier": shipment.carrier,
            "trackingNumber": shipment.tracking_number, "shipTime": iso(shipment.shipped_at) if shipment.shipped_at
            else iso(order.placed_at), "packageItems": [{"orderItemId": i["orderItemId"], "quantity":
                                                         i["quantityOrdered"]} for i in items]}
                    for n, shipment in enumerate(order.shipments, start=1)]
        return {
            "orderId": order.number, "createdTime": iso(order.placed_at),
            "lastUpdatedTime": iso(order.placed_at + timedelta(hours=1)),
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": MARKETPLACE_DE, "marketplaceName": "Amazon.de"},
            "buyer": {"buyerName": name, "buyerEmail": relay},
            "recipient": {"deliveryAddress": {
                "name": order.ship_to.get("name", name), "addressLine1": order.ship_to.get("street", ""),
                "city": order.ship_to.get("city", ""), "postalCode": order.ship_to.get("postcode", ""),
                "countryCode": "DE", "addressType": "RESIDENTIAL"}},
            "proceeds": {"grandTotal": money(order.total_cents)},
            "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": "MERCHANT",
                            "deliverByWindow": {"earliestDateTime": iso(order.delivery_from or order.placed_at),
                                                "latestDateTime": iso(order.delivery_to or order.placed_at)}},
            "orderItems": items, "packages": packages,
        }

    # -- LWA ---------------------------------------------------------------------------

    def token(self, request: Request) -> Answer:
        form = dict(parse_qsl(request.body.decode()))
        if form.get("client_id") != self.client_id or not hmac.compare_digest(form.get("client_secret", ""),
                                                                                self.client_secret):
            return Answer(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
            return Answer(400, {"error": "invalid_grant", "error_description": "The request has an invalid grant"})
        token = "Atza|" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = self.clock() + 3600
        return Answer(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})

    def authorize(self, request: Request) -> Answer | None:
        if request.path == "/auth/o2/token":
            return None
        with self.lock:
            if self.faults.expire_tokens:
                self.faults.expire_tokens = False
                self.tokens.clear()
            expiry = self.tokens.get(request.headers.get("x-amz-access-token", ""))
        if expiry is None or expiry < self.clock():
            return errors(403, "Unauthorized", "Access to requested resource is denied.",
                          **{"x-amzn-ErrorType": "AccessDeniedException", "x-amzn-RequestId": str(uuid.uuid4())})
        return None

    def dispatch(self, request: Request) -> Answer:
        answer = super().dispatch(request)
        answer.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        return answer

    def too_many(self, retry_after: int) -> Answer:
        return errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")

    def server_error(self) -> Answer:
        return errors(503, "ServiceUnavailable", "Service temporarily unavailable.")

    def not_found(self, request: Request) -> Answer:
        return errors(404, "NotFound", f"No resource {request.path}")

    def _throttle(self, operation: str) -> Answer | None:
        wait = self.buckets[operation].take()
        if wait > 0:
            answer = self.too_many(0)
            answer.headers["x-amzn-RateLimit-Limit"] = str(BUCKETS[operation][0])
            return answer
        return None

    # -- Orders 2026-01-01 -------------------------------------------------------------

    def search_orders(self, request: Request) -> Answer:
        throttled = self._throttle("searchOrders")
        if throttled:
            return throttled
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        token = request.arg("paginationToken")
        size = int(request.arg("maxResultsPerPage", "100") or 100)
        if not 1 <= size <= 100:
            return errors(400, "InvalidInput", "maxResultsPerPage must be between 1 and 100")
        if token:
            with self._write_lock:
                page = self._pages.pop(token, None)
            if page is None:
                return errors(400, "InvalidInput", "Invalid paginationToken")
            ids, position, high_water = page
        else:
            created, updated = request.arg("createdAfter"), request.arg("lastUpdatedAfter")
            if (created is None) == (updated is None):
                return errors(400, "InvalidInput", "Exactly one of createdAfter or lastUpdatedAfter is required")
            try:
                after = datetime.fromisoformat((created or updated or "").replace("Z", "+00:00"))
            except ValueError:
                return errors(400, "InvalidInput", "createdAfter/lastUpdatedAfter must be ISO 8601")
            if after > now - TWO_MINUTES:
                return errors(400, "InvalidInput", "The date must be at least two minutes before the current time")
            field = "createdTime" if created else "lastUpdatedTime"
            high_water = iso(now - TWO_MINUTES)
            ids = [o["orderId"] for o in sorted(self.orders.values(), key=lambda o: (o[field], o["orderId"]))
                   if iso(after) <= o[field] < high_water]
            position = 0
        chunk = ids[position:position + size]
        body: dict[str, Any] = {"orders": [self.orders[i] for i in chunk], "lastUpdatedBefore": high_water}
        if position + size < len(ids):
            next_token = secrets.token_urlsafe(16)
            with self._write_lock:
                self._pages[next_token] = (ids, position + size, high_water)
            body["pagination"] = {"nextToken": next_token}
        return Answer(200, body)

    def get_order(self, request: Request, order_id: str) -> Answer:
        throttled = self._throttle("getOrder")
        if throttled:
            return throttled
        order = self.orders.get(order_id)
        if order is None:
            return errors(404, "NotFound", f"Order {order_id} not found")
        return Answer(200, {"order": order})

    # -- Messaging v1 ------------------------------------------------------------------

    def _messaging_refusal(self, request: Request, order_id: str) -> Answer | None:
        """Quota, the marketplace parameter and the order: what every Messaging call checks."""
        throttled = self._throttle("messaging")
        if throttled:
            return throttled
        if request.arg("marketplaceIds") != MARKETPLACE_DE:
            return errors(400, "InvalidInput", "marketplaceIds is required")
        if order_id not in self.orders:
            return errors(404, "NotFound", f"Order {order_id} not found")
        return None

    def messaging_actions(self, request: Request, order_id: str) -> Answer:
        refused = self._messaging_refusal(request, order_id)
        if refused:
            return refused
        base = f"/messaging/v1/orders/{order_id}"
        links = [{"href": f"{base}/messages/{name}?marketplaceIds={MARKETPLACE_DE}", "name": name}
                 for name in self.actions]
        return Answer(200, {"_links": {"actions": links, "self": {"href": f"{base}?marketplaceIds={MARKETPLACE_DE}"}},
                            "_embedded": {"actions": [{"_links": {
                                "schema": {"href": f"{base}/messages/{name}/schema", "name": name},
                                "self": {"href": f"{base}/messages/{name}?marketplaceIds={MARKETPLACE_DE}",
                                         "name": name}}} for name in self.actions]}},
                      content_type="application/hal+json")

    def create_message(self, request: Request, order_id: str, action: str) -> Answer:
        """A typed message: only the actions offered for the order, text-only ones here
        (1-2000 characters, no HTML, no e-mail addresses); 201 with an empty body."""
        refused = self._messaging_refusal(request, order_id)
        if refused:
            return refused
        if action not in self.actions:
            return errors(403, "Unauthorized", f"{action} is not available for this order")
        try:
            text = (request.json() or {}).get("text")
        except ValueError:
            return errors(400, "InvalidInput", "The body is not JSON")
        if not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return errors(400, "InvalidInput", "text must be 1 to 2000 characters")
        if re.search(r"<[a-zA-Z/][^>]*>|[\w.+-]+@[\w-]+\.[\w.]+", text):
            return errors(400, "InvalidInput", "Do not include HTML or email addresses")
        with self._write_lock:
            self.sent_messages.append((order_id, action, text))
        return Answer(201, None, content_type="application/hal+json")
