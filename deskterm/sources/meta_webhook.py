"""An optional receiver for Meta's webhooks (`deskterm webhook`); polling stays the default.

Meta verifies a callback with `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`
(answered with the challenge when the token matches) and delivers events by `POST` with
`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>`. Unsigned
or badly signed posts are refused with 403 and change nothing. Each message event is
recorded once by its message id (Meta repeats deliveries); a new one asks for a sync of
the account, which fetches the conversation through the Graph API (names, thread, text).
Run it behind an HTTPS reverse proxy: Meta only calls https URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from deskterm.store.db import Store


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    status: int
    body: bytes = b""


def verify(query: dict[str, str], verify_token: str) -> WebhookAnswer:
    """Meta's subscription check: echo the challenge when mode and token are right."""
    if query.get("hub.mode") == "subscribe" and hmac.compare_digest(query.get("hub.verify_token", ""), verify_token):
        return WebhookAnswer(200, query.get("hub.challenge", "").encode())
    return WebhookAnswer(403, b"verification failed")


def signature_ok(body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256="), expected)


def message_ids(payload: object) -> list[str]:
    """The message ids of a delivery (messages and echoes; reads and deliveries carry none)."""
    found: list[str] = []
    if not isinstance(payload, dict):
        return found
    for entry in payload.get("entry") or []:
        for event in (entry.get("messaging") or []) if isinstance(entry, dict) else []:
            mid = ((event.get("message") or {}).get("mid")) if isinstance(event, dict) else None
            if isinstance(mid, str) and mid:
                found.append(mid)
    return found


def receive(store: Store, account_key: str, body: bytes, header: str | None, app_secret: str,
            now: int) -> tuple[WebhookAnswer, int]:
    """Check the signature, record new message ids once; returns the answer and how many
    were new (the caller syncs the account when any were)."""
    if not signature_ok(body, header, app_secret):
        return WebhookAnswer(403, b"bad signature"), 0
    try:
        payload = json.loads(body)
    except ValueError:
        return WebhookAnswer(400, b"not JSON"), 0
    new = 0
    with store.transaction() as conn:
        for mid in message_ids(payload):
            new += conn.execute("INSERT OR IGNORE INTO webhook_events(mid, account_key, received_at) VALUES (?, ?, ?)",
                                (mid, account_key, now)).rowcount
    return WebhookAnswer(200, b"EVENT_RECEIVED"), new


class WebhookServer:
    """The receiver on host:port; `on_new()` runs (in a thread) after new events arrive."""

    def __init__(self, store_path: Path, account_key: str, *, app_secret: str, verify_token: str,
                 on_new: Callable[[], None], host: str = "127.0.0.1", port: int = 8787) -> None:

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _answer(self, answer: WebhookAnswer) -> None:
                self.send_response(answer.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(verify(dict(parse_qsl(urlsplit(self.path).query)), verify_token))

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with Store.open(store_path, create=False) as store:
                    answer, new = receive(store, account_key, body, self.headers.get("X-Hub-Signature-256"),
                                          app_secret, int(time.time()))
                self._answer(answer)
                if new:
                    threading.Thread(target=on_new, name="webhook-sync", daemon=True).start()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def start(self) -> WebhookServer:
        threading.Thread(target=self.serve_forever, name="webhook", daemon=True).start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
