"""Meta Graph API (Messenger and Instagram) on loopback, serving the demo world's DMs.

`GET /v25.0/{page-id}/conversations?platform=messenger|instagram` lists conversations
newest first with cursor paging (`paging.cursors.after`, `paging.next`); `GET
/v25.0/{conversation-id}?fields=messages` gives its messages newest first, paged the same
way. `POST /v25.0/{page-id}/messages` enforces Meta's windows: `messaging_type=RESPONSE`
within 24 hours of the user's last message, `MESSAGE_TAG` + `tag=HUMAN_AGENT` within
7 days and only if the page has the Human Agent feature; outside, Graph's error code 10,
subcode 2018278. A wrong page token is code 190. Errors use Graph's error body.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from deskterm.model import Direction
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.server import Answer, Request, SandboxServer

VERSION = "v25.0"
PAGE_ID = "104000000000001"
IG_ACCOUNT_ID = "17841400000000001"
PAGE_NAME = "Lindenhof Haushaltswaren"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(status: int, code: int, message: str, subcode: int | None = None,
                kind: str = "OAuthException") -> Answer:
    body: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGh123"}
    if subcode is not None:
        body["error_subcode"] = subcode
    return Answer(status, {"error": body})


@dataclass
class _Thread:
    thread_id: str
    platform: str
    user_id: str
    user_name: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first

    def last_user_at(self) -> datetime | None:
        times = [m["created_time"] for m in self.messages if m["from"]["id"] == self.user_id]
        return datetime.strptime(max(times), "%Y-%m-%dT%H:%M:%S%z") if times else None


class MetaSandbox(SandboxServer):
    label = "meta"

    def __init__(self, world: DemoWorld | None = None, *, page_token: str = "EAAdemo-page-token",
                 human_agent: bool = True, clock: Any = time.time) -> None:
        super().__init__(rate=200, burst=200)
        self.page_token = page_token
        self.human_agent = human_agent
        self.clock = clock
        self.threads: dict[str, _Thread] = {}
        self.sent: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        if world is not None:
            for platform, key in (("messenger", "facebook"), ("instagram", "instagram")):
                for index in world.indices_for(key):
                    self._load(platform, world.conversation(index), index)
        self.route("GET", f"/{VERSION}/{{node}}/conversations", self.conversations)
        self.route("GET", f"/{VERSION}/{{node}}", self.node)
        self.route("POST", f"/{VERSION}/{{node}}/messages", self.send)

    def _load(self, platform: str, conversation: Any, index: int) -> None:
        user = conversation.customer.key.value
        thread = _Thread(f"t_{platform[:2]}{index:08d}", platform, user, conversation.customer.display_name)
        for message in conversation.messages:
            self._append(thread, message.direction == Direction.IN, message.body_text, message.sent_at)
        self.threads[thread.thread_id] = thread

    def _append(self, thread: _Thread, from_user: bool, text: str, at: datetime) -> dict[str, Any]:
        own = {"id": PAGE_ID if thread.platform == "messenger" else IG_ACCOUNT_ID, "name": PAGE_NAME}
        user = {"id": thread.user_id, "name": thread.user_name}
        message = {"id": f"m_{next(self._ids):010d}", "created_time": iso(at), "from": user if from_user else own,
                   "to": {"data": [own if from_user else user]}, "message": text}
        thread.messages.append(message)
        return message

    def add_user_message(self, thread_id: str, text: str, at: datetime | None = None) -> dict[str, Any]:
        with self._write_lock:
            return self._append(self.threads[thread_id], True, text,
                                at or datetime.fromtimestamp(self.clock(), timezone.utc))

    # -- auth and errors ---------------------------------------------------------------

    def authorize(self, request: Request) -> Answer | None:
        token = request.arg("access_token") or request.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            if self.faults.expire_tokens:
                return graph_error(401, 190, "Error validating access token: Session has expired.", 463)
        if token != self.page_token:
            return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        return None

    def too_many(self, retry_after: int) -> Answer:
        answer = graph_error(429, 4, "(#4) Application request limit reached", kind="OAuthException")
        answer.headers["Retry-After"] = str(retry_after)
        return answer

    def server_error(self) -> Answer:
        return graph_error(503, 2, "An unexpected error has occurred. Please retry your request later.",
                           kind="OAuthException")

    def not_found(self, request: Request) -> Answer:
        return graph_error(404, 100, f"Unsupported get request. Object {request.path} does not exist",
                           kind="GraphMethodException")

    # -- reading -----------------------------------------------------------------------

    def _page(self, request: Request, rows: list[Any], base: str) -> tuple[list[Any], dict[str, Any]]:
        limit = max(1, min(100, int(request.arg("limit", "25") or 25)))
        start = int(request.arg("after", "0") or 0)
        chunk = rows[start:start + limit]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(chunk))}}
        if start + limit < len(rows):
            paging["next"] = f"{base}?limit={limit}&after={start + len(chunk)}"
        return chunk, paging

    def conversations(self, request: Request, node: str) -> Answer:
        platform = request.arg("platform", "messenger")
        if node not in (PAGE_ID, IG_ACCOUNT_ID) or platform not in ("messenger", "instagram"):
            return graph_error(400, 100, "(#100) Invalid platform or page", kind="GraphMethodException")
        with self._write_lock:
            rows = sorted((t for t in self.threads.values() if t.platform == platform),
                          key=lambda t: (t.messages[-1]["created_time"], t.thread_id), reverse=True)
            data = [{"id": t.thread_id, "updated_time": t.messages[-1]["created_time"],
                     "participants": {"data": [{"id": t.user_id, "name": t.user_name},
                                               {"id": PAGE_ID if platform == "messenger" else IG_ACCOUNT_ID,
                                                "name": PAGE_NAME}]}} for t in rows]
        chunk, paging = self._page(request, data, request.path)
        return Answer(200, {"data": chunk, "paging": paging})

    def node(self, request: Request, node: str) -> Answer:
        thread = self.threads.get(node)
        if thread is None:
            return self.not_found(request)
        with self._write_lock:
            newest_first = list(reversed(thread.messages))
        chunk, paging = self._page(request, newest_first, request.path)
        return Answer(200, {"id": thread.thread_id, "messages": {"data": chunk, "paging": paging}})

    # -- sending -----------------------------------------------------------------------

    def send(self, request: Request, node: str) -> Answer:
        try:
            body = request.json()
            recipient, text = body["recipient"]["id"], body["message"]["text"]
        except (ValueError, KeyError, TypeError):
            return graph_error(400, 100, "(#100) recipient and message are required", kind="OAuthException")
        thread = next((t for t in self.threads.values() if t.user_id == recipient), None)
        if thread is None:
            return graph_error(400, 100, "(#100) No matching user found", kind="OAuthException")
        last = thread.last_user_at()
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        kind, tag = body.get("messaging_type"), body.get("tag")
        age = now - last if last else timedelta(days=365)
        allowed = (kind == "RESPONSE" and age <= timedelta(hours=24)) or (
            kind == "MESSAGE_TAG" and tag == "HUMAN_AGENT" and self.human_agent and age <= timedelta(days=7))
        if not allowed:
            return graph_error(400, 10, "(#10) This message is sent outside of allowed window.", 2018278)
        with self._write_lock:
            message = self._append(thread, False, text, now)
            self.sent.append(body)
        return Answer(200, {"recipient_id": recipient, "message_id": message["id"]})
