"""eBay (EBAY_DE) on loopback: OAuth, the Commerce Message API and Sell Fulfillment orders,
serving the demo world's eBay conversations.

`POST /identity/v1/oauth2/token` (Basic client id and secret, `grant_type=refresh_token`)
issues access tokens valid `token_seconds` (7,200 by default [I]); requests without a valid
token get eBay's error body (errorId 1001). The Message API pages with `limit` (max 50)
and `offset`; `start_time` keeps conversations with a message at or after it. Orders
follow Sell Fulfillment's `filter=lastmodifieddate:[a..]` with offset paging; money is a
decimal string with a currency, as eBay sends it. Answers follow the published models
(../shared/specs/ebay-*.json; the contract tests validate them).
"""

from __future__ import annotations

import base64
import hmac
import itertools
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from deskterm.model import Direction, OrderRecord
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.server import Answer, Request, SandboxServer

ACCOUNT_KEY = "ebay-de"
SELLER = "lindenhof-haushalt"
MESSAGE_BASE = "/commerce/message/v1"
ORDER_BASE = "/sell/fulfillment/v1"
TOKEN_PATH = "/identity/v1/oauth2/token"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def error(status: int, error_id: int, message: str, *, domain: str = "API_MESSAGE",
          category: str = "REQUEST") -> Answer:
    return Answer(status, {"errors": [{"errorId": error_id, "domain": domain, "category": category,
                                       "message": message, "longMessage": message}]})


def money(cents: int) -> dict[str, str]:
    return {"value": f"{cents // 100}.{cents % 100:02d}", "currency": "EUR"}


@dataclass
class _Conversation:
    conversation_id: str
    buyer: str
    title: str
    created: datetime
    reference_id: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    status: str = "ACTIVE"


class EbaySandbox(SandboxServer):
    label = "ebay"

    def __init__(self, world: DemoWorld | None = None, *, client_id: str = "deskterm-demo-client",
                 client_secret: str = "demo-secret", refresh_token: str = "demo-refresh",
                 token_seconds: int = 7200, clock: Any = time.time) -> None:
        # eBay publishes daily quotas, not a per-second rate [I]: a generous bucket here; tests
        # switch 429s on with the fault switches.
        super().__init__(rate=500, burst=500)
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.token_seconds = token_seconds
        self.clock = clock
        self.tokens: dict[str, float] = {}  # access token -> expiry
        self.conversations: dict[str, _Conversation] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        if world is not None:
            self.load(world)
        self.route("POST", TOKEN_PATH, self.token)
        self.route("GET", f"{MESSAGE_BASE}/conversation", self.get_conversations)
        self.route("GET", f"{MESSAGE_BASE}/conversation/{{conversation_id}}", self.get_conversation)
        self.route("POST", f"{MESSAGE_BASE}/send_message", self.send_message)
        self.route("POST", f"{MESSAGE_BASE}/update_conversation", self.update_conversation)
        self.route("GET", f"{ORDER_BASE}/order", self.get_orders)
        self.route("GET", f"{ORDER_BASE}/order/{{order_id}}", self.get_order)

    # -- the world ---------------------------------------------------------------------

    def load(self, world: DemoWorld) -> None:
        for index in world.indices_for(ACCOUNT_KEY):
            conversation = world.conversation(index)
            buyer = conversation.customer.key.value
            title = conversation.ticket.subject
            reference = ""
            if conversation.order is not None:
                reference = f"33{index:010d}"
                self.orders[conversation.order.number] = self._order(conversation.order, buyer, reference)
            item = _Conversation(f"C-{index:06d}", buyer, title, conversation.ticket.created_at, reference)
            for message in conversation.messages:
                incoming = message.direction == Direction.IN
                self._append(item, buyer if incoming else SELLER, SELLER if incoming else buyer, message.body_text,
                             message.sent_at)
            self.conversations[item.conversation_id] = item

    def _append(self, conversation: _Conversation, sender: str, recipient: str, text: str,
                at: datetime) -> dict[str, Any]:
        message = {"createdDate": iso(at), "messageBody": text, "messageId": f"M-{next(self._ids):08d}",
                   "messageMedia": [], "readStatus": sender == SELLER, "recipientUsername": recipient,
                   "senderUsername": sender, "subject": conversation.title}
        conversation.messages.append(message)
        return message

    def add_buyer_message(self, conversation_id: str, text: str, at: datetime | None = None) -> dict[str, Any]:
        with self._write_lock:
            conversation = self.conversations[conversation_id]
            return self._append(conversation, conversation.buyer, SELLER, text,
                                at or datetime.fromtimestamp(self.clock(), timezone.utc))

    def _order(self, order: OrderRecord, buyer: str, reference: str) -> dict[str, Any]:
        subtotal = sum(i.quantity * i.unit_price_cents for i in order.items)
        delivery = order.total_cents - subtotal
        status = {"shipped": "FULFILLED", "delivered": "FULFILLED", "unshipped": "NOT_STARTED",
                  "pending": "NOT_STARTED"}.get(order.status, "IN_PROGRESS")
        street = order.ship_to.get("street", "")
        return {
            "orderId": order.number, "creationDate": iso(order.placed_at), "lastModifiedDate": iso(order.placed_at),
            "orderFulfillmentStatus": status, "orderPaymentStatus": "PAID" if order.payment_status == "paid"
            else "PENDING", "sellerId": SELLER, "buyer": {"username": buyer, "taxAddress": {
                "city": order.ship_to.get("city", ""), "countryCode": "DE",
                "postalCode": order.ship_to.get("postcode", "")}},
            "pricingSummary": {"priceSubtotal": money(subtotal), "deliveryCost": money(delivery),
                               "total": money(order.total_cents)},
            "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
            "fulfillmentStartInstructions": [{
                "fulfillmentInstructionsType": "SHIP_TO", "ebaySupportedFulfillment": False,
                "minEstimatedDeliveryDate": iso(order.delivery_from) if order.delivery_from else None,
                "maxEstimatedDeliveryDate": iso(order.delivery_to) if order.delivery_to else None,
                "shippingStep": {"shippingCarrierCode": "DHL", "shippingServiceCode": "DE_DHLPaket", "shipTo": {
                    "fullName": order.ship_to.get("name", ""), "email": f"{buyer}@members.ebay.de",
                    "contactAddress": {"addressLine1": street, "city": order.ship_to.get("city", ""),
                                       "postalCode": order.ship_to.get("postcode", ""), "countryCode": "DE"}}}}],
            "fulfillmentHrefs": [],
            "lineItems": [{"lineItemId": f"100{reference}{n}", "legacyItemId": reference, "sku": item.sku,
                           "title": item.title, "quantity": item.quantity,
                           "lineItemCost": money(item.unit_price_cents * item.quantity),
                           "total": money(item.unit_price_cents * item.quantity),
                           "lineItemFulfillmentStatus": status, "soldFormat": "FIXED_PRICE",
                           "listingMarketplaceId": "EBAY_DE", "purchaseMarketplaceId": "EBAY_DE"}
                          for n, item in enumerate(order.items, start=1)],
        }

    # -- OAuth -------------------------------------------------------------------------

    def token(self, request: Request) -> Answer:
        given = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if not hmac.compare_digest(given, expected):
            return Answer(401, {"error": "invalid_client", "error_description": "client authentication failed"})
        form = dict(parse_qsl(request.body.decode()))
        if form.get("grant_type") != "refresh_token" or not hmac.compare_digest(form.get("refresh_token", ""),
                                                                                  self.refresh_token):
            return Answer(400, {"error": "invalid_grant", "error_description": "the refresh token is invalid"})
        token = "v^1.1#i^1#" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = self.clock() + self.token_seconds
        return Answer(200, {"access_token": token, "expires_in": self.token_seconds,
                            "token_type": "User Access Token"})

    def authorize(self, request: Request) -> Answer | None:
        if request.path == TOKEN_PATH:
            return None
        with self.lock:
            if self.faults.expire_tokens:
                self.faults.expire_tokens = False
                self.tokens.clear()
            header = request.headers.get("authorization", "")
            token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
            expiry = self.tokens.get(token)
        if expiry is None or expiry < self.clock():
            return error(401, 1001, "Invalid access token. Check the value of the Authorization HTTP request header.",
                         domain="OAuth", category="REQUEST")
        return None

    def too_many(self, retry_after: int) -> Answer:
        answer = error(429, 2001, "Too many requests. The request limit has been reached for the resource.")
        answer.headers["Retry-After"] = str(retry_after)
        return answer

    def server_error(self) -> Answer:
        return error(500, 1500, "There was a problem with an eBay internal system or process.",
                     category="APPLICATION")

    def not_found(self, request: Request) -> Answer:
        return error(404, 355010, f"No resource {request.path}")

    # -- Message API -------------------------------------------------------------------

    def _paging(self, request: Request, maximum: int) -> tuple[int, int] | Answer:
        try:
            limit = int(request.arg("limit", "25") or 25)
            offset = int(request.arg("offset", "0") or 0)
        except ValueError:
            return error(400, 355003, "Invalid limit or offset value.")
        if not 1 <= limit <= maximum or offset < 0:
            return error(400, 355003, f"The limit must be between 1 and {maximum}.")
        return limit, offset

    def _href(self, request: Request, offset: int, limit: int) -> str:
        query = "&".join(f"{k}={v}" for k, v in request.query if k not in ("offset", "limit"))
        return f"{request.path}?{query + '&' if query else ''}limit={limit}&offset={offset}"

    def get_conversations(self, request: Request) -> Answer:
        if request.arg("conversation_type") not in ("FROM_MEMBERS", "FROM_EBAY"):
            return error(400, 355004, "The conversation_type query parameter is required.")
        paging = self._paging(request, 50)
        if isinstance(paging, Answer):
            return paging
        limit, offset = paging
        since = request.arg("start_time")
        with self._write_lock:
            rows = [c for c in self.conversations.values() if request.arg("conversation_type") == "FROM_MEMBERS"
                    and (since is None or c.messages[-1]["createdDate"] >= since)]
            rows.sort(key=lambda c: (c.messages[-1]["createdDate"], c.conversation_id))
            page = [{"conversationId": c.conversation_id, "conversationStatus": c.status,
                     "conversationTitle": c.title, "conversationType": "FROM_MEMBERS",
                     "createdDate": iso(c.created), "latestMessage": dict(c.messages[-1]),
                     "referenceId": c.reference_id, "referenceType": "LISTING",
                     "unreadCount": sum(1 for m in c.messages if not m["readStatus"])}
                    for c in rows[offset:offset + limit]]
        body: dict[str, Any] = {"href": self._href(request, offset, limit), "limit": limit, "offset": offset,
                                "total": len(rows), "conversations": page}
        if offset + limit < len(rows):
            body["next"] = self._href(request, offset + limit, limit)
        return Answer(200, body)

    def get_conversation(self, request: Request, conversation_id: str) -> Answer:
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            return error(404, 355010, "The conversation was not found.")
        paging = self._paging(request, 50)
        if isinstance(paging, Answer):
            return paging
        limit, offset = paging
        with self._write_lock:
            messages = [dict(m) for m in conversation.messages[offset:offset + limit]]
            total = len(conversation.messages)
        body: dict[str, Any] = {"conversationStatus": conversation.status, "conversationTitle": conversation.title,
                                "conversationType": "FROM_MEMBERS", "href": self._href(request, offset, limit),
                                "limit": limit, "offset": offset, "total": total, "messages": messages}
        if offset + limit < total:
            body["next"] = self._href(request, offset + limit, limit)
        return Answer(200, body)

    def send_message(self, request: Request) -> Answer:
        try:
            body = request.json()
            text, conversation_id = body["messageText"], body["conversationId"]
        except (ValueError, KeyError, TypeError):
            return error(400, 355020, "conversationId and messageText are required.")
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            return error(404, 355010, "The conversation was not found.")
        if not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return error(400, 355021, "The messageText must be 1 to 2000 characters.")
        if re.search(r"https?://|www\.|[\w.+-]+@[\w-]+\.[\w.]+", text):
            return error(400, 355022, "Messages may not contain e-mail addresses or links.")
        with self._write_lock:
            message = self._append(conversation, SELLER, conversation.buyer, text,
                                   datetime.fromtimestamp(self.clock(), timezone.utc))
        answer = {k: v for k, v in message.items() if k not in ("recipientUsername", "senderUsername")}
        answer["recipientUserName"], answer["senderUserName"] = conversation.buyer, SELLER  # eBay's casing here
        return Answer(201, answer)

    def update_conversation(self, request: Request) -> Answer:
        body = request.json() or {}
        conversation = self.conversations.get(str(body.get("conversationId")))
        if conversation is None:
            return error(404, 355010, "The conversation was not found.")
        if body.get("read") is True:
            for message in conversation.messages:
                message["readStatus"] = True
        if body.get("conversationStatus"):
            conversation.status = str(body["conversationStatus"])
        return Answer(204, None)

    # -- Sell Fulfillment --------------------------------------------------------------

    def get_orders(self, request: Request) -> Answer:
        paging = self._paging(request, 200)
        if isinstance(paging, Answer):
            return paging
        limit, offset = paging
        since = None
        match = re.search(r"lastmodifieddate:\[([^.\]]+(?:\.\d+Z)?)\.\.", request.arg("filter", "") or "")
        if match:
            since = match.group(1)
        rows = sorted((o for o in self.orders.values() if since is None or o["lastModifiedDate"] >= since),
                      key=lambda o: (o["lastModifiedDate"], o["orderId"]))
        body: dict[str, Any] = {"href": self._href(request, offset, limit), "limit": limit, "offset": offset,
                                "total": len(rows), "orders": rows[offset:offset + limit]}
        if offset + limit < len(rows):
            body["next"] = self._href(request, offset + limit, limit)
        return Answer(200, body)

    def get_order(self, request: Request, order_id: str) -> Answer:
        order = self.orders.get(order_id)
        if order is None:
            return error(404, 32100, f"Order {order_id} not found.", domain="API_FULFILLMENT")
        return Answer(200, order)
