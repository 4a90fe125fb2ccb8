"""Amazon SP-API (amazon.de): the order data that enriches buyer mails, and which typed
messages Amazon permits on an order.

Buyer messages reach the seller only as relay mail (the e-mail channel); this source
supplies the orders those mails refer to. Login with Amazon turns the refresh token
(keyring) into `x-amz-access-token`s. `searchOrders` (Orders 2026-01-01) is walked from a
`lastUpdatedAfter` high-water mark with `nextToken` pages; the mark moves to the
`lastUpdatedBefore` Amazon reports (never later than two minutes ago, which Amazon
enforces). Its quota is tiny (one request per three minutes after a burst of 20): a 429 is
waited out within the client's limit, else the next sync continues from the cursor.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from deskterm.model import (
    Batch,
    Channel,
    CustomerRecord,
    IdentityRef,
    OrderItemRecord,
    OrderRecord,
    ShipmentRecord,
)
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SendNotSupported, SourceError, json_cursor
from deskterm.sources.http_api import ApiClient, BearerToken, decimal_cents, fetch_token, first_error, utc

MARKETPLACE_DE = "A1PA6795UKMFR9"
ORDERS = "/orders/2026-01-01/orders"
INCLUDED = "BUYER,RECIPIENT,FULFILLMENT,PACKAGES,PROCEEDS"
FIRST_SYNC_DAYS = 30  # how far back the first sync of an account reaches
_STATUS = {"SHIPPED": "shipped", "PARTIALLY_SHIPPED": "partly shipped", "UNSHIPPED": "unshipped",
           "PENDING": "pending", "PENDING_AVAILABILITY": "pending", "CANCELLED": "cancelled",
           "UNFULFILLABLE": "unfulfillable"}
ACTION_LABELS = {
    "confirmDeliveryDetails": "Lieferdetails bestätigen", "confirmOrderDetails": "Bestelldetails bestätigen",
    "unexpectedProblem": "Unerwartetes Problem melden", "confirmCustomizationDetails": "Personalisierung bestätigen",
    "confirmServiceDetails": "Servicetermin bestätigen", "legalDisclosure": "Rechtliche Hinweise senden",
    "warranty": "Garantie senden", "digitalAccessKey": "Digitalen Zugangscode senden", "sendInvoice": "Rechnung senden",
    "negativeFeedbackRemoval": "Bitte um Entfernung negativer Bewertung",
}


TEXT_ACTIONS = frozenset({"confirmDeliveryDetails", "confirmOrderDetails", "unexpectedProblem",
                          "confirmServiceDetails", "confirmCustomizationDetails"})
FORBIDDEN_RE = re.compile(r"<[a-zA-Z/][^>]*>|[\w.+-]+@[\w-]+\.[\w.]+")


def describe(status: int, body: Any) -> str | None:
    first = first_error(body)
    code = str(first.get("code", ""))
    if status == 403:
        return "access denied; check the app's roles and the refresh token"
    if code == "InvalidInput":
        return f"request refused: {str(first.get('message', ''))[:160]}"
    if status == 429:
        return "quota exceeded (searchOrders allows one request per three minutes); the next sync continues"
    return None


def cents(money: Any) -> int:
    """Amazon's money object ({"amount": "19.99", ...}) as integer cents."""
    return decimal_cents("Amazon", (money or {}).get("amount", "0") if isinstance(money, dict) else money)




class AmazonSource:
    """One Amazon seller account (amazon.de): orders; buyer messages come by relay mail."""

    streams: tuple[str, ...] = ("orders",)
    capabilities = Capabilities(can_send=False, has_orders=True, has_messages=False)
    channel = Channel.AMAZON

    def __init__(self, account_key: str, account_name: str, *, base_url: str, token_url: str, client_id: str,
                 client_secret: str, refresh_token: str, page_size: int = 100, history_days: int = FIRST_SYNC_DAYS,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        self.account_key = account_key
        self.history_days = history_days
        self.account_name = account_name
        self.page_size = page_size
        self.clock = clock
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id,
                "client_secret": client_secret}  # Login with Amazon
        auth = BearerToken(lambda: fetch_token("Amazon", token_url, form=form), clock=clock,
                           header="x-amz-access-token", prefix="")
        # SP-API answers a dead token with 403: one new token, one more try; a 403 after that is final.
        self.api = ApiClient("Amazon", base_url.rstrip("/"), auth, describe=describe, sleep=sleep,
                             refresh_on=(401, 403))

    def pull(self, stream: str, cursor: str | None) -> Batch:
        if stream != "orders":
            raise SourceError(f"Amazon has no stream {stream!r}", temporary=False)
        state = json_cursor("Amazon", cursor)
        params: dict[str, Any] = {"marketplaceIds": MARKETPLACE_DE, "maxResultsPerPage": self.page_size,
                                  "includedData": INCLUDED}
        if state.get("next"):
            params["paginationToken"] = state["next"]
        else:
            since = state.get("since") or _iso(datetime.fromtimestamp(self.clock(), timezone.utc)
                                                - timedelta(days=self.history_days))
            params["lastUpdatedAfter"] = since
        page = self.api.request("GET", ORDERS, params=params).data
        orders = page.get("orders") if isinstance(page, dict) else None
        if not isinstance(orders, list):
            raise SourceError("Amazon: searchOrders answered without 'orders'; nothing was saved")
        batch = Batch(cursor=None)
        for order in orders:
            record = parse_order(order)
            if record.customer is not None:
                name = str((order.get("buyer") or {}).get("buyerName") or record.ship_to.get("name") or "")
                batch.customers.append(CustomerRecord(record.customer, name or "Amazon-Kunde"))
            batch.orders.append(record)
        next_token = (page.get("pagination") or {}).get("nextToken")
        high_water = page.get("lastUpdatedBefore") or state.get("high_water")
        if next_token:
            batch.cursor = json.dumps({"since": state.get("since"), "next": next_token, "high_water": high_water})
            batch.has_more = True
        else:
            batch.cursor = json.dumps({"since": high_water or state.get("since"), "next": None})
        return batch

    def get_order(self, order_id: str) -> OrderRecord:
        """One order now (getOrder with the same includedData), e.g. for a relay mail that
        names an order the last sync has not brought yet."""
        data = self.api.request("GET", f"{ORDERS}/{order_id}", params={"includedData": INCLUDED}).data
        if not isinstance(data, dict) or not isinstance(data.get("order"), dict):
            raise SourceError("Amazon: getOrder answered without 'order'")
        return parse_order(data["order"])

    def messaging_actions(self, order_id: str) -> list[tuple[str, str]]:
        """The typed messages Amazon permits on this order now: (action name, German label)."""
        return parse_actions(self.api.request("GET", f"/messaging/v1/orders/{order_id}",
                                              params={"marketplaceIds": MARKETPLACE_DE}).data)

    def send_typed_message(self, order_id: str, action: str, text: str) -> None:
        """Send one of the typed messages Amazon permits on the order (text-only kinds);
        Amazon's rules (no HTML, no e-mail addresses, 1-2000 characters) are checked first."""
        if action not in TEXT_ACTIONS:
            raise SourceError(f"Amazon: {action} needs attachments; send it in Seller Central", temporary=False)
        if not 1 <= len(text) <= 2000:
            raise SourceError("Amazon: the text must be 1 to 2000 characters", temporary=False)
        if FORBIDDEN_RE.search(text):
            raise SourceError("Amazon: no HTML and no e-mail addresses in messages", temporary=False)
        self.api.request("POST", f"/messaging/v1/orders/{order_id}/messages/{action}",
                         params={"marketplaceIds": MARKETPLACE_DE}, json_body={"text": text}, expect=(201,))

    def send(self, reply: OutgoingReply) -> Receipt:
        raise SendNotSupported("Amazon (replies go by e-mail to the buyer's relay address)")

    def close(self) -> None:
        self.api.close()


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_order(order: dict[str, Any]) -> OrderRecord:
    """An Orders 2026-01-01 `Order` (as searchOrders and getOrder return it) as a record."""
    buyer = order.get("buyer") or {}
    relay = str(buyer.get("buyerEmail") or "")
    identity = IdentityRef("amazon_relay", relay) if relay else None
    address = (order.get("recipient") or {}).get("deliveryAddress") or {}
    items = tuple(OrderItemRecord(
        n, str((item.get("product") or {}).get("sellerSku") or (item.get("product") or {}).get("asin") or ""),
        str((item.get("product") or {}).get("title") or ""), int(item.get("quantityOrdered", 1)),
        cents(((item.get("product") or {}).get("price") or {}).get("unitPrice")))
        for n, item in enumerate(order.get("orderItems") or [], start=1))
    shipments = tuple(ShipmentRecord(
        external_id=f"amazon:{order['orderId']}:{package.get('packageReferenceId')}",
        carrier=str(package.get("carrier") or ""), tracking_number=str(package.get("trackingNumber") or ""),
        status=str((package.get("packageStatus") or {}).get("status") or "").lower(),
        shipped_at=utc(package["shipTime"]) if package.get("shipTime") else None)
        for package in order.get("packages") or [] if package.get("trackingNumber"))
    fulfillment = order.get("fulfillment") or {}
    window = fulfillment.get("deliverByWindow") or {}
    total = (order.get("proceeds") or {}).get("grandTotal")
    return OrderRecord(
        external_id=f"amazon:{order['orderId']}", number=str(order["orderId"]), customer=identity,
        status=_STATUS.get(str(fulfillment.get("fulfillmentStatus")), str(fulfillment.get("fulfillmentStatus") or "")),
        placed_at=utc(str(order["createdTime"])),
        total_cents=cents(total) if total else sum(i.quantity * i.unit_price_cents for i in items),
        currency=str((total or {}).get("currencyCode") or "EUR"),
        ship_to={"name": str(address.get("name") or ""), "street": str(address.get("addressLine1") or ""),
                 "postcode": str(address.get("postalCode") or ""), "city": str(address.get("city") or ""),
                 "country": str(address.get("countryCode") or "")} if address else {},
        items=items, shipments=shipments,
        delivery_from=utc(window["earliestDateTime"]) if window.get("earliestDateTime") else None,
        delivery_to=utc(window["latestDateTime"]) if window.get("latestDateTime") else None)


def parse_actions(page: Any) -> list[tuple[str, str]]:
    """getMessagingActionsForOrder's HAL answer as (action name, German label)."""
    actions = ((page or {}).get("_links") or {}).get("actions") or [] if isinstance(page, dict) else []
    return [(str(a["name"]), ACTION_LABELS.get(str(a["name"]), str(a["name"]))) for a in actions
            if isinstance(a, dict) and "name" in a]


def amazon_order_of_ticket(conn: Any, ticket_id: int) -> tuple[str, str] | None:
    """(Amazon API account key, order number) when the ticket concerns an Amazon order and
    the profile has an SP-API account; else None (one indexed lookup each)."""
    row = conn.execute("SELECT o.number FROM tickets t JOIN orders o ON o.id = t.order_id "
                       "WHERE t.id = ? AND o.external_id LIKE 'amazon:%'", (ticket_id,)).fetchone()
    if row is None:
        return None
    account = conn.execute("SELECT key FROM accounts WHERE json_extract(settings, '$.source') = 'amazon' "
                           "ORDER BY id LIMIT 1").fetchone()
    return (str(account[0]), str(row[0])) if account else None
