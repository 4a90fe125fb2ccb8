"""Zalando zDirect: partner orders (JSON:API). Zalando runs end-customer service and has
no messaging API; its orders enrich mails that mention an order number.

A client-credentials token (id and secret in the keyring) is fetched at `/auth/token`.
Orders are read page by page (`page[number]`, `page[size]`) with their items and lines
included; the cursor is the newest `modified_at` seen, used with Zalando's exclusive
`last_updated_after`. A 429 waits as long as `Retry-After` says.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from deskterm.model import Batch, Channel, CustomerRecord, IdentityRef, OrderItemRecord, OrderRecord
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SendNotSupported, SourceError, json_cursor
from deskterm.sources.http_api import ApiClient, BearerToken, decimal_cents, fetch_token, first_error, utc

_STATUS = {"fulfilled": "shipped", "approved": "unshipped", "initial": "pending"}




def describe(status: int, body: Any) -> str | None:
    first = first_error(body)
    if status == 403:
        return "access denied; check the merchant id and the app's scopes (orders/read)"
    if first.get("title") and 400 <= status < 500 and status != 429:
        return f"refused ({status}): {str(first['title'])[:160]}"
    return None


class ZalandoSource:
    """One Zalando partner account (orders only)."""

    streams: tuple[str, ...] = ("orders",)
    capabilities = Capabilities(can_send=False, has_orders=True, has_messages=False)
    channel = Channel.ZALANDO

    def __init__(self, account_key: str, account_name: str, *, base_url: str, merchant_id: str, client_id: str,
                 client_secret: str, page_size: int = 50, sleep: Callable[[float], None] = time.sleep) -> None:
        self.account_key = account_key
        self.account_name = account_name
        self.merchant_id = merchant_id
        self.page_size = page_size
        base = base_url.rstrip("/")
        token = BearerToken(lambda: fetch_token("Zalando", base + "/auth/token", basic=(client_id, client_secret),
                                                form={"grant_type": "client_credentials"}))
        self.api = ApiClient("Zalando", base, token, describe=describe, sleep=sleep,
                             headers={"Accept": "application/vnd.api+json"})

    def pull(self, stream: str, cursor: str | None) -> Batch:
        if stream != "orders":
            raise SourceError(f"Zalando has no stream {stream!r}", temporary=False)
        state = json_cursor("Zalando", cursor)
        since, number, newest = state.get("since"), int(state.get("page", 0)), state.get("newest") or ""
        params: dict[str, Any] = {"page[number]": number, "page[size]": self.page_size,
                                  "include": "order_items,order_lines", "sort": "modified_at"}
        if since:
            params["last_updated_after"] = since
        page = self.api.request("GET", f"/merchants/{self.merchant_id}/orders", params=params).data
        data = page.get("data") if isinstance(page, dict) else None
        if not isinstance(data, list):
            raise SourceError("Zalando: the order list has no 'data'; nothing was saved")
        included = {(r.get("type"), r.get("id")): r for r in page.get("included") or []}
        batch = Batch(cursor=None)
        for order in data:
            attributes = order.get("attributes") or {}
            newest = max(newest, str(attributes.get("modified_at") or ""))
            record = _order(order, included)
            if record.customer is not None:
                batch.customers.append(CustomerRecord(record.customer, record.ship_to.get("name") or
                                                      record.customer.value))
            batch.orders.append(record)
        more = bool((page.get("links") or {}).get("next")) and bool(data)
        batch.cursor = json.dumps({"since": since, "page": number + 1, "newest": newest} if more else
                                  {"since": newest or since, "page": 0, "newest": ""})
        batch.has_more = more
        return batch

    def send(self, reply: OutgoingReply) -> Receipt:
        raise SendNotSupported("Zalando (no messaging API; customers write to Zalando)")

    def close(self) -> None:
        self.api.close()


def _order(order: dict[str, Any], included: dict[tuple[Any, Any], dict[str, Any]]) -> OrderRecord:
    attributes = order.get("attributes") or {}
    customer = attributes.get("customer_number")
    identity = IdentityRef("zalando_customer", f"ZC-{customer}") if customer else None
    items = []
    for n, reference in enumerate(((order.get("relationships") or {}).get("order_items") or {}).get("data") or [],
                                  start=1):
        item = included.get(("OrderItem", reference.get("id")))
        if item is None:
            continue
        item_attributes = item.get("attributes") or {}
        line_refs = ((item.get("relationships") or {}).get("order_lines") or {}).get("data") or []
        prices = [decimal_cents("Zalando", ((included.get(("OrderLine", ref.get("id"))) or {}).get("attributes") or {})
                        .get("price", {}).get("amount", 0)) for ref in line_refs]
        items.append(OrderItemRecord(n, str(item_attributes.get("article_id", "")),
                                     str(item_attributes.get("description", "")),
                                     int(item_attributes.get("quantity_initial", 1)), prices[0] if prices else 0))
    address = attributes.get("shipping_address") or {}
    shipping = decimal_cents("Zalando", (attributes.get("shipping_costs") or {}).get("amount", 0))
    return OrderRecord(
        external_id=f"zalando:{attributes.get('order_number')}",  # the number mails and the demo use
        number=str(attributes.get("order_number")), customer=identity,
        status=_STATUS.get(str(attributes.get("status")), str(attributes.get("status", ""))),
        placed_at=utc(str(attributes["order_date"])),
        total_cents=decimal_cents("Zalando", attributes.get("order_lines_price_amount", 0)) + shipping,
        currency=str(attributes.get("order_lines_price_currency") or "EUR"),
        ship_to={"name": f"{address.get('first_name', '')} {address.get('last_name', '')}".strip(),
                 "street": str(address.get("address_line_1", "")), "postcode": str(address.get("zip_code", "")),
                 "city": str(address.get("city", "")), "country": str(address.get("country_code", ""))},
        items=tuple(items),
        delivery_to=utc(attributes["delivery_end_date"]) if attributes.get("delivery_end_date") else None)
