"""DHL Shipment Tracking (unified): the status and scans of DHL parcels on orders.

It runs beside the channel sync, not in it: tracking numbers come from the orders in the
store, and DHL's limits (a daily quota, one call every few seconds [I]) must not slow the
channels. `track_due` asks about the shipments that are due, within the day's quota and
at DHL's pace; a 429 ends the round and records until when to wait (Retry-After, else
the quota's reset at midnight GMT); an unknown number is marked and asked again a day
later. Nothing here raises into the app: the round reports what happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from deskterm.sources.base import SourceError
from deskterm.sources.http_api import ApiClient, ApiError, utc
from deskterm.store.db import Store
from deskterm.store.tracking import (
    REPOLL_SECONDS,
    Quota,
    TrackingEvent,
    TrackingResult,
    apply_tracking,
    due_shipments,
    mark_unknown,
    next_quota_reset,
    quota,
    save_quota,
)

DAILY_QUOTA = 250  # [I] DHL's default; configurable
SECONDS_BETWEEN_CALLS = 5.0  # [I] one call per five seconds


class UnknownNumber(SourceError):
    def __init__(self, number: str) -> None:
        super().__init__(f"DHL: no shipment {number}", temporary=False)


@dataclass
class KeyHeader:
    api_key: str

    def apply(self, request: httpx.Request) -> None:
        request.headers["DHL-API-Key"] = self.api_key

    def refresh(self, client: httpx.Client) -> bool:
        return False


def describe(status: int, body: Any) -> str | None:
    if status == 401:
        return "API key refused; check the DHL key in the keyring"
    if isinstance(body, dict) and body.get("detail") and 400 <= status < 500 and status != 429:
        return f"refused ({status}): {str(body['detail'])[:160]}"
    return None


class DhlClient:
    def __init__(self, base_url: str, api_key: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        # One retry for 5xx; a 429 is not waited out here: the round stops and backs off.
        self.api = ApiClient("DHL", base_url.rstrip("/"), KeyHeader(api_key), describe=describe, sleep=sleep,
                             max_attempts=2, max_wait=0.0)

    def track(self, number: str) -> TrackingResult:
        try:
            answer = self.api.request("GET", "/track/shipments", params={
                "trackingNumber": number, "service": "parcel-de", "language": "de"}).data
        except ApiError as exc:
            if exc.status == 404:
                raise UnknownNumber(number) from None
            raise
        shipments = answer.get("shipments") if isinstance(answer, dict) else None
        if not isinstance(shipments, list) or not shipments:
            raise UnknownNumber(number)
        return parse_shipment(shipments[0])

    def close(self) -> None:
        self.api.close()


def parse_shipment(shipment: dict[str, Any]) -> TrackingResult:
    """A DHL `Shipment` as status, scans and estimated delivery."""
    def place(event: dict[str, Any]) -> str:
        return str(((event.get("location") or {}).get("address") or {}).get("addressLocality") or "")

    events = tuple(TrackingEvent(int(utc(str(e["timestamp"])).timestamp()), str(e.get("statusCode") or "unknown"),
                                 str(e.get("description") or e.get("status") or ""), place(e))
                   for e in shipment.get("events") or [] if e.get("timestamp"))
    status = str((shipment.get("status") or {}).get("statusCode") or (events[-1].status if events else "unknown"))
    eta = shipment.get("estimatedTimeOfDelivery")
    return TrackingResult(status, events, int(utc(str(eta)).timestamp()) if eta else None)


@dataclass
class TrackingRound:
    asked: int = 0
    updated: int = 0
    unknown: int = 0
    backoff_until: int = 0
    errors: list[str] = field(default_factory=list)


def track_due(store: Store, client: DhlClient, *, now: Callable[[], float] = time.time,
              sleep: Callable[[float], None] = time.sleep, daily_quota: int = DAILY_QUOTA,
              pace: float = SECONDS_BETWEEN_CALLS, limit: int = 20, repoll_seconds: int = REPOLL_SECONDS,
              stopped: Callable[[], bool] = lambda: False) -> TrackingRound:
    """Ask DHL about up to `limit` due shipments, within the quota and at DHL's pace;
    `stopped()` ends the round between calls (the app is quitting)."""
    result = TrackingRound()
    state = quota(store.conn, int(now()))
    if state.backoff_until > now():
        result.backoff_until = state.backoff_until
        return result
    left = max(0, daily_quota - state.used)
    for shipment_id, number in due_shipments(store.conn, int(now()), min(limit, left), repoll_seconds=repoll_seconds):
        if result.asked:
            sleep(pace)
        if stopped():
            break
        result.asked += 1
        state = Quota(state.day, state.used + 1, 0)
        try:
            answer = client.track(number)
        except UnknownNumber:
            with store.transaction() as conn:
                mark_unknown(conn, shipment_id, int(now()))
                save_quota(conn, state)
            result.unknown += 1
            continue
        except ApiError as exc:
            if exc.status == 429:  # DHL's quota: wait as told, else until it resets at midnight GMT
                until = int(now() + exc.retry_after) if exc.retry_after else next_quota_reset(int(now()))
                with store.transaction() as conn:
                    save_quota(conn, Quota(state.day, state.used, until))
                result.backoff_until = until
                return result
            result.errors.append(str(exc))
            with store.transaction() as conn:
                save_quota(conn, state)
            continue
        with store.transaction() as conn:
            apply_tracking(conn, shipment_id, answer, int(now()))
            save_quota(conn, state)
        result.updated += 1
    return result
