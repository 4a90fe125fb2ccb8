"""Carrier tracking in the store: which shipments to ask about next, what the carrier said,
and the daily quota (DHL allows a few hundred calls a day [I]).

Shipments still on their way are polled oldest answer first (partial index); a number
the carrier does not know is marked and asked again only after a day; a quota refusal
records until when to wait, so nobody hammers the carrier and the state is visible.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

REPOLL_SECONDS = 2 * 3600  # a shipment on its way is asked about again after this long
UNKNOWN_RETRY_SECONDS = 24 * 3600  # an unknown number (new shipments take 10-30 min to appear) after this


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    at: int
    status: str  # pre-transit, transit, delivered, failure, unknown
    description: str
    location: str


@dataclass(frozen=True, slots=True)
class TrackingResult:
    status: str
    events: tuple[TrackingEvent, ...]
    estimated_delivery: int | None = None


def due_shipments(conn: sqlite3.Connection, now: int, limit: int, *,
                  repoll_seconds: int = REPOLL_SECONDS) -> list[tuple[int, str]]:
    """(shipment id, tracking number) of DHL shipments to ask about now, oldest answer first."""
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT id, tracking_number FROM shipments INDEXED BY shipments_track_due "
        "WHERE carrier = 'DHL' AND status <> 'delivered' AND tracking_number <> '' "
        "AND (tracked_at IS NULL OR tracked_at <= ? - CASE WHEN tracking_state = 'unknown_number' THEN ? ELSE ? END) "
        "ORDER BY tracked_at, id LIMIT ?", (now, UNKNOWN_RETRY_SECONDS, repoll_seconds, limit))]


def apply_tracking(conn: sqlite3.Connection, shipment_id: int, result: TrackingResult, now: int) -> None:
    """The carrier's answer: status, new events (duplicates ignored), estimated delivery."""
    conn.execute("UPDATE shipments SET status = ?, tracked_at = ?, tracking_state = NULL, estimated_delivery = ? "
                 "WHERE id = ?", (result.status, now, result.estimated_delivery, shipment_id))
    conn.executemany("INSERT OR IGNORE INTO shipment_events(shipment_id, at, status, description, location) "
                     "VALUES (?, ?, ?, ?, ?)",
                     [(shipment_id, e.at, e.status, e.description, e.location) for e in result.events])


def mark_unknown(conn: sqlite3.Connection, shipment_id: int, now: int) -> None:
    conn.execute("UPDATE shipments SET tracked_at = ?, tracking_state = 'unknown_number' WHERE id = ?",
                 (now, shipment_id))


@dataclass(frozen=True, slots=True)
class Quota:
    day: str
    used: int
    backoff_until: int  # 0: no backoff


def _day(now: int) -> str:
    return datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d")  # DHL's quota resets at 24:00 GMT


def quota(conn: sqlite3.Connection, now: int) -> Quota:
    row = conn.execute("SELECT value FROM store_meta WHERE key = 'dhl_quota'").fetchone()
    data = json.loads(row[0]) if row else {}
    day = _day(now)
    used = int(data.get("used", 0)) if data.get("day") == day else 0
    return Quota(day, used, int(data.get("backoff_until", 0)))


def save_quota(conn: sqlite3.Connection, value: Quota) -> None:
    conn.execute("INSERT INTO store_meta(key, value) VALUES ('dhl_quota', ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (json.dumps({"day": value.day, "used": value.used, "backoff_until": value.backoff_until}),))


def next_quota_reset(now: int) -> int:
    """Midnight GMT after `now`."""
    return (now // 86400 + 1) * 86400
