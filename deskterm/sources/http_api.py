"""The HTTP client every marketplace source shares: timeouts, retries, auth, typed errors.

One request goes out with the channel's auth (a bearer token it refreshes on expiry, or
a per-request signature); 5xx answers and transport errors retry with exponential
backoff, 429 waits as long as `Retry-After` says (capped); a 401 refreshes the token once
and tries again. What still fails becomes an `ApiError`: one line for the agent that names
the channel and what to check ("Kaufland: signature rejected, check the secret key"),
`temporary` when a later sync may succeed. A body that is not the JSON promised is an
error too, so nothing half-read reaches the store.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from deskterm.sources.base import SourceError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_WAIT_SECONDS = 60.0  # a Retry-After longer than this ends the sync with a temporary error
BACKOFF_BASE = 0.5


class ApiError(SourceError):
    """A request failed for good (or for this sync); `status` is the HTTP status or 0."""

    def __init__(self, message: str, *, status: int = 0, temporary: bool = True,
                 retry_after: float | None = None) -> None:
        super().__init__(message, temporary=temporary)
        self.status = status
        self.retry_after = retry_after  # seconds the server asked to wait (429)


class Auth(Protocol):
    """Adds credentials to a request; `refresh` gets a new token after a 401 (False: cannot)."""

    def apply(self, request: httpx.Request) -> None: ...

    def refresh(self, client: httpx.Client) -> bool: ...


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    data: Any  # parsed JSON, or None for an empty body


Describe = Callable[[int, Any], str | None]  # (status, parsed body or None) -> one line, or None for the default


@dataclass
class ApiClient:
    """Requests against one API base URL with retries; `sleep` and `jitter` are injectable."""

    label: str  # "Kaufland", "eBay" ... (first word of every error)
    base_url: str
    auth: Auth
    describe: Describe = lambda status, body: None  # noqa: E731
    timeout: float = 20.0
    max_attempts: int = MAX_ATTEMPTS
    max_wait: float = MAX_WAIT_SECONDS
    sleep: Callable[[float], None] = time.sleep
    headers: dict[str, str] = field(default_factory=dict)
    refresh_on: tuple[int, ...] = (401,)  # statuses meaning "token no longer valid" (Amazon: 403)
    _client: httpx.Client | None = None
    requests_made: int = 0

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.base_url, timeout=self.timeout,
                                        headers={"Accept": "application/json", "User-Agent": "deskterm",
                                                 **self.headers})
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
                json_body: Any = None, form: Mapping[str, str] | None = None,
                expect: tuple[int, ...] = (200, 201, 204)) -> Response:
        """Send one request (retrying as described above) and return the parsed answer."""
        body = None if json_body is None else json.dumps(json_body, ensure_ascii=False, separators=(",", ":"))
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            request = self.client.build_request(
                method, path, params=params, content=body.encode() if body is not None else None, data=form,
                headers={"Content-Type": "application/json"} if body is not None else None)
            self.auth.apply(request)
            self.requests_made += 1
            try:
                answer = self.client.send(request)
            except httpx.TimeoutException:
                if attempt >= self.max_attempts:
                    raise ApiError(f"{self.label}: no answer within {self.timeout:g} s ({method} {path})") from None
                self._backoff(attempt)
                continue
            except httpx.TransportError as exc:
                if attempt >= self.max_attempts:
                    raise ApiError(f"{self.label}: cannot reach {self.base_url} ({_short(exc)})") from None
                self._backoff(attempt)
                continue
            status = answer.status_code
            if status in self.refresh_on and not refreshed and self.auth.refresh(self.client):
                refreshed = True  # the token ran out mid-sync: one new token, one more try
                continue
            if status == 429 and attempt < self.max_attempts:
                wait = _retry_after(answer.headers.get("Retry-After"))
                if wait is not None and wait > self.max_wait:
                    raise ApiError(f"{self.label}: rate limit, the server asks to wait {wait:.0f} s; "
                                   "the next sync continues", status=429, retry_after=wait)
                self._wait(wait if wait is not None else self._delay(attempt))
                continue
            if status >= 500 and attempt < self.max_attempts:
                self._backoff(attempt)
                continue
            data = self._parse(answer, method, path)
            if status not in expect:
                raise self._error(status, data, method, path)
            return Response(status, answer.headers, data)

    def _parse(self, answer: httpx.Response, method: str, path: str) -> Any:
        if not answer.content:
            return None
        try:
            return answer.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            if answer.status_code >= 400:
                return None  # an error page in HTML: the status says enough
            raise ApiError(f"{self.label}: the answer to {method} {path} is not valid JSON; nothing was saved",
                           status=answer.status_code) from None

    def _error(self, status: int, data: Any, method: str, path: str) -> ApiError:
        line = self.describe(status, data)
        if line is None:
            if status == 401:
                line = "credentials rejected; check them with 'deskterm accounts list'"
            elif status == 403:
                line = "access denied (missing permission or scope)"
            elif status == 404:
                line = f"not found: {method} {path}"
            elif status == 429:
                line = "rate limit still exceeded after retries; the next sync continues"
            elif status >= 500:
                line = f"server error {status} after {self.max_attempts} tries; the next sync retries"
            else:
                line = f"request refused ({status}) for {method} {path}"
        temporary = status >= 500 or status in (408, 429)
        return ApiError(f"{self.label}: {line}", status=status, temporary=temporary)

    def _delay(self, attempt: int) -> float:
        return BACKOFF_BASE * (2 ** (attempt - 1)) * (1 + random.random() * 0.25)

    def _backoff(self, attempt: int) -> None:
        self._wait(self._delay(attempt))

    def _wait(self, seconds: float) -> None:
        log.info("%s: waiting %.1f s before retrying", self.label, seconds)
        self.sleep(max(0.0, seconds))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]


@dataclass
class BearerToken:
    """An OAuth access token kept in memory. `fetch()` gets a new one (client credentials or
    a refresh token, from the channel's token endpoint) and returns (token, expires_in)."""

    fetch: Callable[[], tuple[str, float]]
    clock: Callable[[], float] = time.time
    header: str = "Authorization"  # Amazon: "x-amz-access-token" with no prefix
    prefix: str = "Bearer "
    token: str = ""
    expires_at: float = 0.0

    def apply(self, request: httpx.Request) -> None:
        if not self.token or self.clock() >= self.expires_at - 60:
            self.refresh(None)
        request.headers[self.header] = f"{self.prefix}{self.token}"

    def refresh(self, client: httpx.Client | None) -> bool:
        self.token, expires_in = self.fetch()
        self.expires_at = self.clock() + expires_in
        return True


def fetch_token(label: str, url: str, *, form: Mapping[str, str], basic: tuple[str, str] | None = None,
                timeout: float = 20.0, attempts: int = 3, sleep: Callable[[float], None] = time.sleep
                ) -> tuple[str, float]:
    """POST a token request (form-encoded) and return (access_token, expires_in). A 429 or
    5xx is tried again (Retry-After honoured); a refusal is one line that says what to check."""
    answer: httpx.Response | None = None
    for attempt in range(1, attempts + 1):
        try:
            with httpx.Client(timeout=timeout, auth=httpx.BasicAuth(*basic) if basic else None) as client:
                answer = client.post(url, data=dict(form), headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            if attempt == attempts:
                raise ApiError(f"{label}: cannot reach the token endpoint ({_short(exc)})") from None
            sleep(BACKOFF_BASE * 2 ** (attempt - 1))
            continue
        if (answer.status_code == 429 or answer.status_code >= 500) and attempt < attempts:
            wait = _retry_after(answer.headers.get("Retry-After"))
            sleep(min(MAX_WAIT_SECONDS, wait if wait is not None else BACKOFF_BASE * 2 ** (attempt - 1)))
            continue
        break
    assert answer is not None
    if answer.status_code in (400, 401, 403):
        raise ApiError(f"{label}: login refused ({answer.status_code}); check the client id, secret or refresh "
                       "token in the keyring", status=answer.status_code, temporary=False)
    if answer.status_code != 200:
        raise ApiError(f"{label}: the token endpoint answered {answer.status_code} ({attempts} tries); the next sync "
                       "retries", status=answer.status_code)
    try:
        data = answer.json()
        return str(data["access_token"]), float(data.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError):
        raise ApiError(f"{label}: the token endpoint's answer is not valid JSON with an access_token") from None


# -- values as the marketplace APIs write them -------------------------------------------


def decimal_cents(label: str, value: Any) -> int:
    """"19.99", 19.99 or Decimal as integer cents (exact: through Decimal, never float)."""
    try:
        return int((Decimal(str(value)) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        raise ApiError(f"{label}: amount {value!r} is not a number; nothing was saved") from None


def utc(value: str) -> datetime:
    """An ISO 8601 time from an API ("...Z" or with an offset) as aware UTC."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def first_error(body: Any) -> dict[str, Any]:
    """The first entry of an `{"errors": [...]}` body (eBay, Amazon, Zalando, OTTO), or {}."""
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}


def combined_status(statuses: set[str]) -> str:
    """One order status from its units' or items' statuses ("shipped", "partly shipped/unshipped")."""
    if len(statuses) == 1:
        return next(iter(statuses))
    return "partly " + "/".join(sorted(statuses)) if statuses else ""
