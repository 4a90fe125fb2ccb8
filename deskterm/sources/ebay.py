"""eBay (EBAY_DE): buyer conversations through the Commerce Message API, replies through
`send_message`, and orders through Sell Fulfillment.

OAuth: a user refresh token (keyring) buys access tokens at `/identity/v1/oauth2/token`;
one that runs out mid-sync is replaced and the request tried again. Conversations are
read in passes: every conversation with a message since the last pass's newest message,
then its messages; the cursor keeps the pass's offset, so an interrupted pass resumes.
Orders follow `lastmodifieddate`. Money arrives as decimal strings and is stored as
integer cents. eBay refuses messages with e-mail addresses or links; that is checked
before anything is sent.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

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
)
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SourceError, json_cursor
from deskterm.sources.http_api import ApiClient, BearerToken, decimal_cents, fetch_token, first_error, utc

MESSAGE_BASE = "/commerce/message/v1"
ORDER_BASE = "/sell/fulfillment/v1"
TOKEN_PATH = "/identity/v1/oauth2/token"
SCOPES = ("https://api.ebay.com/oauth/api_scope/commerce.message "
          "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly")
ORDER_NUMBER_RE = re.compile(r"\b\d{2}-\d{5}-\d{5}\b")
FORBIDDEN_RE = re.compile(r"https?://|www\.|[\w.+-]+@[\w-]+\.[\w.]+", re.IGNORECASE)
_STATUS = {"FULFILLED": "shipped", "IN_PROGRESS": "partly shipped", "NOT_STARTED": "unshipped"}


def describe(status: int, body: Any) -> str | None:
    first = first_error(body)
    if status == 401:
        return "access token refused even after a new one; check the eBay refresh token"
    if first.get("errorId") == 355022:
        return "eBay refuses messages with e-mail addresses or links"
    if first.get("message") and 400 <= status < 500 and status != 429:
        return f"refused ({status}, {first.get('errorId', '?')}): {str(first['message'])[:160]}"
    return None


def cents(money: Any) -> int:
    """eBay's money object ({"value": "19.99", ...}) as integer cents."""
    return decimal_cents("eBay", (money or {}).get("value", "0") if isinstance(money, dict) else money)




class EbaySource:
    """One eBay seller account."""

    streams: tuple[str, ...] = ("messages", "orders")
    capabilities = Capabilities(can_send=True, has_orders=True, has_messages=True)
    channel = Channel.EBAY

    def __init__(self, account_key: str, account_name: str, *, base_url: str, client_id: str, client_secret: str,
                 refresh_token: str, seller: str, page_size: int = 50,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not seller:
            raise SourceError("eBay: the account needs the seller's eBay user name ('seller' in its settings)",
                              temporary=False)
        self.account_key = account_key
        self.account_name = account_name
        self.seller = seller
        self.page_size = min(50, page_size)
        base = base_url.rstrip("/")
        token = BearerToken(lambda: fetch_token("eBay", base + TOKEN_PATH, basic=(client_id, client_secret), form={
            "grant_type": "refresh_token", "refresh_token": refresh_token, "scope": SCOPES}))
        self.api = ApiClient("eBay", base, token, describe=describe, sleep=sleep,
                             headers={"X-EBAY-C-MARKETPLACE-ID": "EBAY_DE"})

    # -- pulling -----------------------------------------------------------------------

    def pull(self, stream: str, cursor: str | None) -> Batch:
        state = json_cursor("eBay", cursor)
        if stream == "messages":
            return self._pull_messages(state)
        if stream == "orders":
            return self._pull_orders(state)
        raise SourceError(f"eBay has no stream {stream!r}", temporary=False)

    def _pull_messages(self, state: dict[str, Any]) -> Batch:
        since, offset = state.get("since"), int(state.get("offset", 0))
        seen = set(state.get("seen") or [])  # messages at exactly `since`, stored by the last pass
        newest, newest_ids = state.get("newest") or "", set(state.get("newest_ids") or [])
        params: dict[str, Any] = {"conversation_type": "FROM_MEMBERS", "limit": self.page_size, "offset": offset}
        if since:
            params["start_time"] = since
        page = self.api.request("GET", f"{MESSAGE_BASE}/conversation", params=params).data
        conversations = page.get("conversations") if isinstance(page, dict) else None
        if not isinstance(conversations, list):
            raise SourceError("eBay: the conversation list has no 'conversations'; nothing was saved")
        batch = Batch(cursor=None)
        for conversation in conversations:
            for created, message_id in self._add_conversation(batch, conversation, since, seen):
                if created > newest:
                    newest, newest_ids = created, {message_id}
                elif created == newest:
                    newest_ids.add(message_id)
        more = bool(page.get("next")) and bool(conversations)
        if more:
            batch.cursor = json.dumps({"since": since, "seen": sorted(seen), "offset": offset + len(conversations),
                                       "newest": newest, "newest_ids": sorted(newest_ids)})
        elif newest:  # the pass is complete: the next one starts at its newest message
            batch.cursor = json.dumps({"since": newest, "seen": sorted(newest_ids | (seen if newest == since else
                                                                                    set())), "offset": 0})
        else:
            batch.cursor = json.dumps({"since": since, "seen": sorted(seen), "offset": 0})
        batch.has_more = more
        total = page.get("total")
        batch.backlog = max(0, int(total) - offset - len(conversations)) if isinstance(total, int) else None
        return batch

    def _add_conversation(self, batch: Batch, conversation: dict[str, Any], since: str | None,
                          seen: set[str]) -> list[tuple[str, str]]:
        """Add the conversation's ticket and its messages not stored yet; returns
        (createdDate, messageId) of every message read."""
        conversation_id = str(conversation["conversationId"])
        messages: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.api.request("GET", f"{MESSAGE_BASE}/conversation/{conversation_id}", params={
                "conversation_type": "FROM_MEMBERS", "limit": 50, "offset": offset}).data
            rows = page.get("messages") if isinstance(page, dict) else None
            if not isinstance(rows, list):
                raise SourceError(f"eBay: conversation {conversation_id} has no 'messages'; nothing was saved")
            messages.extend(rows)
            if not page.get("next") or not rows:
                break
            offset += len(rows)
        seller = self.seller
        buyer = next((m.get("senderUsername") for m in messages if m.get("senderUsername") != seller), None) or \
            next((m.get("recipientUsername") for m in messages if m.get("recipientUsername") != seller), "")
        identity = IdentityRef("ebay_user", str(buyer)) if buyer else None
        if identity is not None:
            batch.customers.append(CustomerRecord(identity, str(buyer)))
        title = str(conversation.get("conversationTitle") or "eBay-Nachricht")
        found = ORDER_NUMBER_RE.search(title + " " + " ".join(str(m.get("messageBody", "")) for m in messages[:3]))
        external = f"ebay:{conversation_id}"
        batch.tickets.append(TicketRecord(external_id=external, channel=Channel.EBAY, customer=identity,
                                          subject=title[:200], created_at=utc(str(conversation["createdDate"])),
                                          order_ref=found.group(0) if found else None))
        read: list[tuple[str, str]] = []
        for message in messages:
            created, message_id = str(message["createdDate"]), str(message["messageId"])
            read.append((created, message_id))
            if since and (created < since or (created == since and message_id in seen)):
                continue  # stored by an earlier pass
            outgoing = message.get("senderUsername") == seller
            batch.messages.append(MessageRecord(
                external_id=f"ebay-msg:{message['messageId']}", ticket_external_id=external,
                direction=Direction.OUT if outgoing else Direction.IN,
                sender_name=str(message.get("senderUsername", "")), sender_addr="",
                sent_at=utc(str(message["createdDate"])), subject=str(message.get("subject") or ""),
                body_text=str(message.get("messageBody") or "")))
        return read

    def _pull_orders(self, state: dict[str, Any]) -> Batch:
        since, offset, newest = state.get("since"), int(state.get("offset", 0)), state.get("newest") or ""
        params: dict[str, Any] = {"limit": self.page_size, "offset": offset}
        if since:
            params["filter"] = f"lastmodifieddate:[{since}..]"
        page = self.api.request("GET", f"{ORDER_BASE}/order", params=params).data
        orders = page.get("orders") if isinstance(page, dict) else None
        if not isinstance(orders, list):
            raise SourceError("eBay: the order list has no 'orders'; nothing was saved")
        batch = Batch(cursor=None)
        for order in orders:
            newest = max(newest, str(order.get("lastModifiedDate") or ""))
            record = _order(order)
            if record.customer is not None:
                batch.customers.append(CustomerRecord(record.customer, record.ship_to.get("name") or
                                                      record.customer.value))
            batch.orders.append(record)
        more = bool(page.get("next")) and bool(orders)
        batch.cursor = json.dumps({"since": since, "offset": offset + len(orders), "newest": newest} if more else
                                  {"since": newest or since, "offset": 0, "newest": ""})
        batch.has_more = more
        return batch

    def get_order(self, order_id: str) -> OrderRecord:
        """One order now (getOrder: the only call that fills its cancel requests)."""
        data = self.api.request("GET", f"{ORDER_BASE}/order/{order_id}").data
        if not isinstance(data, dict) or "orderId" not in data:
            raise SourceError("eBay: getOrder answered without an order")
        return _order(data)

    # -- sending -----------------------------------------------------------------------

    def send(self, reply: OutgoingReply) -> Receipt:
        if FORBIDDEN_RE.search(reply.body_text):
            raise SourceError("eBay: messages may not contain e-mail addresses or links; remove them and send again",
                              temporary=False)
        conversation_id = reply.ticket_external_id.removeprefix("ebay:")
        if reply.attempt > 1:
            earlier = self._already_there(conversation_id, reply)
            if earlier:
                return Receipt(f"ebay-msg:{earlier}", datetime.now(timezone.utc))
        sent = self.api.request("POST", f"{MESSAGE_BASE}/send_message",
                                json_body={"conversationId": conversation_id, "messageText": reply.body_text}).data
        message_id = sent.get("messageId") if isinstance(sent, dict) else None
        try:  # answered: the buyer's messages count as read on eBay too (best effort, never fails the reply)
            self.api.request("POST", f"{MESSAGE_BASE}/update_conversation", json_body={
                "conversationId": conversation_id, "conversationType": "FROM_MEMBERS", "read": True})
        except SourceError:
            pass
        return Receipt(f"ebay-msg:{message_id or reply.message_id}", datetime.now(timezone.utc))

    def _already_there(self, conversation_id: str, reply: OutgoingReply) -> str | None:
        page = self.api.request("GET", f"{MESSAGE_BASE}/conversation/{conversation_id}", params={
            "conversation_type": "FROM_MEMBERS", "limit": 50, "offset": 0}).data
        queued = reply.queued_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") if reply.queued_at else ""
        for message in (page or {}).get("messages", []):
            if message.get("messageBody") == reply.body_text and str(message.get("createdDate", "")) >= queued:
                return str(message.get("messageId"))
        return None

    def close(self) -> None:
        self.api.close()


def _order(order: dict[str, Any]) -> OrderRecord:
    buyer = (order.get("buyer") or {}).get("username")
    identity = IdentityRef("ebay_user", str(buyer)) if buyer else None
    instructions = (order.get("fulfillmentStartInstructions") or [{}])[0]
    ship_to = ((instructions.get("shippingStep") or {}).get("shipTo") or {})
    address = ship_to.get("contactAddress") or {}
    items = tuple(OrderItemRecord(n, str(item.get("sku") or item.get("legacyItemId") or ""), str(item.get("title", "")),
                                  int(item.get("quantity", 1)),
                                  cents(item.get("lineItemCost")) // max(1, int(item.get("quantity", 1))))
                  for n, item in enumerate(order.get("lineItems") or [], start=1))
    total = (order.get("pricingSummary") or {}).get("total") or {}
    return OrderRecord(
        external_id=f"ebay:{order['orderId']}", number=str(order["orderId"]), customer=identity,
        status=_STATUS.get(str(order.get("orderFulfillmentStatus")), str(order.get("orderFulfillmentStatus", ""))),
        placed_at=utc(str(order["creationDate"])), total_cents=cents(total), currency=str(total.get("currency", "EUR")),
        payment_status=str(order.get("orderPaymentStatus", "")).lower(),
        ship_to={"name": str(ship_to.get("fullName", "")), "street": str(address.get("addressLine1", "")),
                 "postcode": str(address.get("postalCode", "")), "city": str(address.get("city", "")),
                 "country": str(address.get("countryCode", ""))},
        items=items,
        delivery_from=utc(instructions["minEstimatedDeliveryDate"]) if instructions.get("minEstimatedDeliveryDate")
        else None,
        delivery_to=utc(instructions["maxEstimatedDeliveryDate"]) if instructions.get("maxEstimatedDeliveryDate")
        else None)
