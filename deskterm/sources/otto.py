"""OTTO Market: orders v4. OTTO has no messaging API: its buyers' mails arrive by e-mail
and are linked to these orders by order number (and the pseudonymised address).

A client-credentials token (id and secret in the keyring) comes from `/v1/token`. Orders
are read from a `fromDate` (change date) in pages of `limit`, following the `next` link's
cursor; the cursor keeps the newest change date seen, so the next sync starts there.
Amounts arrive as numbers and are stored as integer cents; tracking numbers on the
position items become shipments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
from deskterm.sources.http_api import (
    ApiClient,
    BearerToken,
    combined_status,
    decimal_cents,
    fetch_token,
    first_error,
    utc,
)

SCOPES = "orders shipments"
FIRST_SYNC_DAYS = 30
_STATUS = {"SENT": "shipped", "PROCESSABLE": "unshipped", "ANNOUNCED": "pending", "RETURNED": "returned",
           "CANCELLED_BY_PARTNER": "cancelled", "CANCELLED_BY_MARKETPLACE": "cancelled"}




def describe(status: int, body: Any) -> str | None:
    first = first_error(body)
    if status == 403:
        return "access denied; check the app's scopes (orders)"
    if first.get("title") and 400 <= status < 500 and status != 429:
        return f"refused ({status}): {str(first.get('detail') or first['title'])[:160]}"
    return None


class OttoSource:
    """One OTTO Market partner account (orders only)."""

    streams: tuple[str, ...] = ("orders",)
    capabilities = Capabilities(can_send=False, has_orders=True, has_messages=False)
    channel = Channel.OTTO

    def __init__(self, account_key: str, account_name: str, *, base_url: str, client_id: str, client_secret: str,
                 page_size: int = 128, history_days: int = FIRST_SYNC_DAYS,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        self.account_key = account_key
        self.account_name = account_name
        self.page_size = page_size
        self.history_days = history_days
        self.clock = clock
        base = base_url.rstrip("/")
        token = BearerToken(lambda: fetch_token("OTTO", base + "/v1/token", form={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
            "scope": SCOPES}))
        self.api = ApiClient("OTTO", base, token, describe=describe, sleep=sleep)

    def pull(self, stream: str, cursor: str | None) -> Batch:
        if stream != "orders":
            raise SourceError(f"OTTO has no stream {stream!r}", temporary=False)
        state = json_cursor("OTTO", cursor)
        newest = state.get("newest") or ""
        if state.get("next"):
            params: dict[str, Any] = {"nextcursor": state["next"], "limit": self.page_size}
        else:
            since = state.get("since") or (datetime.fromtimestamp(self.clock(), timezone.utc)
                                           - timedelta(days=self.history_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
            params = {"fromDate": since, "limit": self.page_size, "orderDirection": "ASC",
                      "orderColumnType": "ORDER_LIFECYCLE_DATE"}
        page = self.api.request("GET", "/v4/orders", params=params).data
        resources = page.get("resources") if isinstance(page, dict) else None
        if not isinstance(resources, list):
            raise SourceError("OTTO: the order list has no 'resources'; nothing was saved")
        batch = Batch(cursor=None)
        for order in resources:
            changed = (order.get("orderLifecycleInformation") or {}).get("lifecycleChangeDate") or \
                order.get("lastModifiedDate") or ""
            if changed and (not newest or utc(changed) > utc(newest)):
                newest = changed
            record = _order(order)
            if record.customer is not None:
                batch.customers.append(CustomerRecord(record.customer, record.ship_to.get("name") or "OTTO-Kunde"))
            batch.orders.append(record)
        next_link = next((link.get("href") for link in page.get("links") or [] if link.get("rel") == "next"), None)
        next_cursor = parse_qs(urlsplit(next_link).query).get("nextcursor", [None])[0] if next_link else None
        if next_cursor:
            batch.cursor = json.dumps({"since": state.get("since"), "next": next_cursor, "newest": newest})
            batch.has_more = True
        else:
            batch.cursor = json.dumps({"since": newest or state.get("since"), "next": None, "newest": ""})
        return batch

    def send(self, reply: OutgoingReply) -> Receipt:
        raise SendNotSupported("OTTO (no messaging API; answer the buyer's mail)")

    def close(self) -> None:
        self.api.close()


def _order(order: dict[str, Any]) -> OrderRecord:
    invoice = order.get("invoiceAddress") or {}
    delivery = order.get("deliveryAddress") or invoice
    pseudonym = str(invoice.get("email") or "")
    identity = IdentityRef("otto_pseudonym", pseudonym) if pseudonym else None
    lines: dict[str, list[dict[str, Any]]] = {}
    for position in order.get("positionItems") or []:
        lines.setdefault(str((position.get("product") or {}).get("sku", "")), []).append(position)
    items = tuple(OrderItemRecord(n, sku, str((group[0].get("product") or {}).get("productTitle", "")), len(group),
                                  decimal_cents("OTTO", (group[0].get("itemValueGrossPrice") or {}).get("amount", 0)))
                  for n, (sku, group) in enumerate(lines.items(), start=1))
    fees = sum(decimal_cents("OTTO", (fee.get("deliveryFeeAmount") or {}).get("amount", 0))
               for fee in order.get("initialDeliveryFees") or [])
    tracked = {(p["trackingInfo"]["carrier"], p["trackingInfo"]["trackingNumber"]): p
               for p in order.get("positionItems") or [] if (p.get("trackingInfo") or {}).get("trackingNumber")}
    shipments = tuple(ShipmentRecord(f"otto:{number}", carrier, number, "shipped",
                                     utc(p["sentDate"]) if p.get("sentDate") else None)
                      for (carrier, number), p in tracked.items())
    statuses = {_STATUS.get(str(p.get("fulfillmentStatus")), str(p.get("fulfillmentStatus", "")))
                for p in order.get("positionItems") or []}
    status = combined_status(statuses)
    expected = [p["expectedDeliveryDate"] for p in order.get("positionItems") or [] if p.get("expectedDeliveryDate")]
    return OrderRecord(
        external_id=f"otto:{order['orderNumber']}", number=str(order["orderNumber"]), customer=identity,
        status=status, placed_at=utc(str(order["orderDate"])),
        total_cents=sum(i.quantity * i.unit_price_cents for i in items) + fees,
        ship_to={"name": f"{delivery.get('firstName', '')} {delivery.get('lastName', '')}".strip(),
                 "street": f"{delivery.get('street', '')} {delivery.get('houseNumber', '')}".strip(),
                 "postcode": str(delivery.get("zipCode", "")), "city": str(delivery.get("city", "")),
                 "country": str(delivery.get("countryCode", "")),
                 "salutation": str(delivery.get("salutation", ""))},
        items=items, shipments=shipments,
        delivery_to=utc(max(expected)) if expected else None)
