"""Meta Graph: a Facebook Page's Messenger conversations or an Instagram professional
account's DMs, and replies under Meta's windows.

Conversations come newest first with cursor paging; a pass reads until it reaches the
conversations the last pass already saw (their `updated_time`), so an unchanged inbox
costs one request. Attachments arrive as links. Replies: within 24 hours of the user's
last message as `RESPONSE`; up to 7 days only with the `HUMAN_AGENT` tag and only for an
account that has Meta's Human Agent feature (`human_agent` in its settings); outside both,
nothing is sent. Graph errors become one line: 190 expired or wrong token, 4/17/613 rate
limits, 10/200 permissions or the window.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from deskterm.model import Batch, Channel, CustomerRecord, Direction, IdentityRef, MessageRecord, TicketRecord
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SourceError, json_cursor
from deskterm.sources.http_api import ApiClient, utc

VERSION = "v25.0"
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


def describe(status: int, body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    if code == 190:
        return "page token expired or invalid (code 190); create a new one and store it in the keyring"
    if code in (4, 17, 32, 613):
        return f"rate limit (code {code}); the next sync continues"
    if code == 10 and error.get("error_subcode") == 2018278:
        return "outside Meta's reply window (24 h, or 7 days with the Human Agent tag)"
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        return f"permission missing (code {code}): {str(error.get('message', ''))[:120]}"
    return f"Graph error {code}: {str(error.get('message', ''))[:160]}"


class _PageToken:
    def __init__(self, token: str) -> None:
        self.token = token

    def apply(self, request: Any) -> None:
        request.headers["Authorization"] = f"Bearer {self.token}"

    def refresh(self, client: Any) -> bool:
        return False  # a page token is long-lived; a 190 means a new one is needed


class MetaSource:
    """One Facebook Page (Messenger) or Instagram professional account."""

    streams: tuple[str, ...] = ("conversations",)
    capabilities = Capabilities(can_send=True, has_orders=False, has_messages=True, reply_window_hours=24)

    def __init__(self, account_key: str, account_name: str, *, base_url: str, node_id: str, platform: str,
                 page_token: str, human_agent: bool = False, page_size: int = 25,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        if platform not in ("messenger", "instagram"):
            raise SourceError(f"Meta: platform {platform!r} is neither messenger nor instagram", temporary=False)
        self.account_key, self.account_name = account_key, account_name
        self.node_id, self.platform, self.human_agent = node_id, platform, human_agent
        self.channel = Channel.MESSENGER if platform == "messenger" else Channel.INSTAGRAM
        self.page_size = page_size
        self.clock = clock
        self.api = ApiClient("Messenger" if platform == "messenger" else "Instagram", base_url.rstrip("/"),
                             _PageToken(page_token), describe=describe, sleep=sleep)

    # -- pulling -----------------------------------------------------------------------

    def pull(self, stream: str, cursor: str | None) -> Batch:
        if stream != "conversations":
            raise SourceError(f"Meta has no stream {stream!r}", temporary=False)
        state = json_cursor("Meta", cursor)
        seen, newest = state.get("seen") or "", state.get("newest") or ""
        params: dict[str, Any] = {"platform": self.platform, "limit": self.page_size,
                                  "fields": "participants,updated_time"}
        if state.get("after"):
            params["after"] = state["after"]
        page = self.api.request("GET", f"/{VERSION}/{self.node_id}/conversations", params=params).data
        rows = page.get("data") if isinstance(page, dict) else None
        if not isinstance(rows, list):
            raise SourceError(f"{self.api.label}: the conversation list has no 'data'; nothing was saved")
        batch = Batch(cursor=None)
        reached_old = False
        for conversation in rows:
            updated = str(conversation.get("updated_time") or "")
            if seen and _key(updated) <= _key(seen):
                reached_old = True  # newest first: everything after this was read before
                break
            newest = max(newest, updated, key=_key) if newest else updated
            self._add_conversation(batch, conversation, seen)
        after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
        more = not reached_old and bool((page.get("paging") or {}).get("next")) and bool(rows)
        batch.cursor = json.dumps({"seen": seen, "newest": newest, "after": after} if more else
                                  {"seen": newest or seen, "newest": "", "after": None})
        batch.has_more = more
        return batch

    def _add_conversation(self, batch: Batch, conversation: dict[str, Any], seen: str) -> None:
        thread_id = str(conversation["id"])
        participants = ((conversation.get("participants") or {}).get("data")) or []
        user = next((p for p in participants if str(p.get("id")) != self.node_id), None)
        if user is None:
            return
        kind = "psid" if self.platform == "messenger" else "igsid"
        identity = IdentityRef(kind, str(user["id"]))
        batch.customers.append(CustomerRecord(identity, str(user.get("name") or user["id"])))
        messages: list[dict[str, Any]] = []
        after: str | None = None
        while True:  # newest first: stop at messages a previous pass stored
            params: dict[str, Any] = {"fields": "messages{id,created_time,from,to,message,attachments}", "limit": 25}
            if after:
                params["after"] = after
            page = self.api.request("GET", f"/{VERSION}/{thread_id}", params=params).data
            block = (page.get("messages") or {}) if isinstance(page, dict) else {}
            rows = block.get("data")
            if not isinstance(rows, list):
                raise SourceError(f"{self.api.label}: conversation {thread_id} has no messages; nothing was saved")
            fresh = [m for m in rows if not seen or _key(str(m.get("created_time"))) > _key(seen)]
            messages.extend(fresh)
            after = ((block.get("paging") or {}).get("cursors") or {}).get("after")
            if len(fresh) < len(rows) or not (block.get("paging") or {}).get("next") or not rows:
                break
        external = f"{self.platform}:{thread_id}"
        first_text = str(messages[-1].get("message") or "") if messages else ""
        created = utc(str(messages[-1]["created_time"])) if messages else utc(str(conversation["updated_time"]))
        batch.tickets.append(TicketRecord(external_id=external, channel=self.channel, customer=identity,
                                          subject=first_text.split("\n", 1)[0][:70], created_at=created))
        for message in reversed(messages):
            sender = (message.get("from") or {}).get("id")
            links = [str((a.get("file_url") or a.get("image_data", {}).get("url") or ""))
                     for a in ((message.get("attachments") or {}).get("data") or [])]
            text = str(message.get("message") or "") + "".join(f"\n[Anhang] {url}" for url in links if url)
            batch.messages.append(MessageRecord(
                external_id=f"meta-msg:{message['id']}", ticket_external_id=external,
                direction=Direction.IN if str(sender) != self.node_id else Direction.OUT,
                sender_name=str((message.get("from") or {}).get("name") or ""), sender_addr="",
                sent_at=utc(str(message["created_time"])), subject="", body_text=text))

    # -- sending -----------------------------------------------------------------------

    def messaging_type(self, customer_last_at: datetime | None, now: datetime) -> dict[str, str]:
        """RESPONSE inside 24 h, HUMAN_AGENT inside 7 days (if permitted); else refused."""
        if customer_last_at is not None and now - customer_last_at <= WINDOW:
            return {"messaging_type": "RESPONSE"}
        if customer_last_at is not None and now - customer_last_at <= HUMAN_AGENT_WINDOW and self.human_agent:
            return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        raise SourceError(f"{self.api.label}: outside Meta's reply window (24 h, or 7 days with the Human Agent "
                          "tag); nothing was sent", temporary=False)

    def send(self, reply: OutgoingReply) -> Receipt:
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        kind = self.messaging_type(reply.customer_last_at, now)  # before any request
        user = reply.recipient_id
        if not user:
            raise SourceError(f"{self.api.label}: the reply has no recipient id", temporary=False)
        sent = self.api.request("POST", f"/{VERSION}/{self.node_id}/messages", json_body={
            "recipient": {"id": user}, "message": {"text": reply.body_text}, **kind}).data
        return Receipt(f"meta-msg:{(sent or {}).get('message_id', reply.message_id)}", now)

    def close(self) -> None:
        self.api.close()


def _key(value: str) -> str:
    """Graph times ("2026-12-04T09:30:00+0000") compare as UTC ISO strings."""
    try:
        return utc(value.replace("+0000", "+00:00")).strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return value
