"""A small HTTP server on 127.0.0.1 that the marketplace emulators build on.

Each emulator registers routes (method + path pattern) and serves the demo world in its
vendor's shapes. Common to all: a request log (what reached the sandbox, for "sent once"
tests), a token bucket per emulator (429 with `Retry-After` when exceeded) and fault
switches for tests: expired tokens, a burst of 429s, 5xx answers, malformed JSON, slow
answers. The server runs in a daemon thread and stops with `close()` (or the `with`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Faults:
    """Test switches; each count is used up one request at a time."""

    server_errors: int = 0  # answer 503 this many times
    rate_limited: int = 0  # answer 429 (with Retry-After) this many times
    retry_after: int = 1
    malformed: int = 0  # answer 200 with a body that is not JSON this many times
    slow_seconds: float = 0.0  # sleep before every answer
    expire_tokens: bool = False  # every token issued so far stops working (once)
    fail_always: int = 0  # a permanent failure: answer this status to every request (0: off)


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    url: str  # as the client addressed it: scheme://host:port/path?query

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def args(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON-encoded unless `raw`
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"


Handler = Callable[..., Answer]


class TokenBucket:
    """`rate` requests per second with bursts up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.at = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float:
        """0 if a request may pass now, else the seconds until one may."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class SandboxServer:
    """Routes, faults, rate limit and request log; subclasses add routes and auth."""

    label = "sandbox"

    def __init__(self, *, rate: float = 100.0, burst: float = 100.0) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults = Faults()
        self.log: list[Request] = []
        self.bucket = TokenBucket(rate, burst)
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- routing -----------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """`pattern` like "/v2/tickets/{id_ticket}"; named parts are passed to the handler."""
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self.routes.append((method, re.compile(regex), handler))

    def authorize(self, request: Request) -> Answer | None:
        """None if the request's credentials are good, else the vendor's refusal."""
        return None

    def too_many(self, retry_after: int) -> Answer:
        return Answer(429, {"message": "Too Many Requests"}, {"Retry-After": str(retry_after)})

    def server_error(self) -> Answer:
        return Answer(503, {"message": "Service Unavailable"})

    def not_found(self, request: Request) -> Answer:
        return Answer(404, {"message": f"no route for {request.method} {request.path}"})

    def dispatch(self, request: Request) -> Answer:
        with self.lock:
            self.log.append(request)
            faults = self.faults
            if faults.fail_always:
                return Answer(faults.fail_always, {"message": "permanently failing (test switch)"})
            if faults.server_errors > 0:
                faults.server_errors -= 1
                return self.server_error()
            if faults.rate_limited > 0:
                faults.rate_limited -= 1
                return self.too_many(faults.retry_after)
        refused = self.authorize(request)
        if refused is not None:
            return refused
        wait = self.bucket.take()
        if wait > 0:
            return self.too_many(max(1, round(wait + 0.5)))
        for method, regex, handler in self.routes:
            match = regex.match(request.path)
            if match and method == request.method:
                answer = handler(request, **match.groupdict())
                with self.lock:
                    if self.faults.malformed > 0 and answer.status == 200:
                        self.faults.malformed -= 1
                        return Answer(200, raw=b'{"data": [ {"truncated": ', content_type="application/json")
                return answer
        return self.not_found(request)

    # -- serving -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the sandbox first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        sandbox = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate small writes; with Nagle's algorithm and the
            # client's delayed ACK every answer on a kept-alive connection waited ~40 ms.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                host = self.headers.get("Host", "")
                request = Request(self.command, split.path, parse_qsl(split.query, keep_blank_values=True),
                                  {k.lower(): v for k, v in self.headers.items()}, body,
                                  f"http://{host}{self.path}")
                if sandbox.faults.slow_seconds:
                    time.sleep(sandbox.faults.slow_seconds)
                try:
                    answer = sandbox.dispatch(request)
                except Exception as exc:  # a bug in an emulator must show as a 500, not a hang
                    answer = Answer(500, {"message": f"sandbox error: {type(exc).__name__}: {exc}"})
                payload = answer.raw if answer.raw is not None else (
                    b"" if answer.body is None else json.dumps(answer.body, ensure_ascii=False).encode())
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"{self.label}-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def requests_to(self, method: str, path_pattern: str) -> list[Request]:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"[^/]+", path_pattern) + "$")
        with self.lock:
            return [r for r in self.log if r.method == method and regex.match(r.path)]
