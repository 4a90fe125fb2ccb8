"""DHL Shipment Tracking (unified) on loopback, answering for the demo world's DHL parcels.

`GET /track/shipments?trackingNumber=…` with `DHL-API-Key` answers as DHL's published model
says (../shared/specs/dhl-tracking-unified-v1.json; contract-tested): the shipment with
its status and scans in German. A wrong key is a 401, an unknown number a 404 problem
document, and the quota is enforced: `daily_quota` calls per day and one call every
`seconds_between` seconds [I]; beyond either, a 429 with `Retry-After`. `advance()` lets a
parcel move on (tests, and the demo's deliveries).
"""

from __future__ import annotations

import hmac
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from deskterm.model import ShipmentRecord
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.server import Answer, Request, SandboxServer

STATUS_TEXT = {"pre-transit": "Elektronisch angekündigt", "transit": "In Zustellung", "delivered": "Zugestellt",
               "failure": "Zustellproblem", "unknown": "Unbekannt"}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def problem(status: int, title: str, detail: str) -> Answer:
    return Answer(status, {"type": "about:blank", "title": title, "status": status, "detail": detail},
                  content_type="application/problem+json")


class DhlSandbox(SandboxServer):
    label = "dhl"

    def __init__(self, world: DemoWorld | None = None, *, api_key: str = "demo-dhl-key", daily_quota: int = 250,
                 seconds_between: float = 0.0, clock: Any = time.time) -> None:
        super().__init__(rate=1000, burst=1000)
        self.api_key = api_key
        self.daily_quota = daily_quota
        self.seconds_between = seconds_between
        self.clock = clock
        self.used = 0
        self.last_call = 0.0
        self.parcels: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        if world is not None:
            for index in range(world.ticket_count):
                order = world.conversation(index).order
                if order is None:
                    continue
                for shipment in order.shipments:
                    if shipment.carrier == "DHL":
                        self.add(shipment, order.ship_to.get("postcode", ""), order.ship_to.get("city", ""))
        self.route("GET", "/track/shipments", self.track)

    def add(self, shipment: ShipmentRecord, postcode: str, city: str) -> None:
        events = [{"timestamp": iso(e.at), "location": {"address": {"countryCode": "DE",
                                                                    "addressLocality": e.location}},
                   "statusCode": e.status, "status": STATUS_TEXT.get(e.status, e.status), "description": e.description}
                  for e in shipment.events]
        self.parcels[shipment.tracking_number] = {
            "id": shipment.tracking_number, "service": "parcel-de",
            "origin": {"address": {"countryCode": "DE", "postalCode": "44149", "addressLocality": "Dortmund"}},
            "destination": {"address": {"countryCode": "DE", "postalCode": postcode, "addressLocality": city}},
            "details": {"product": {"productName": "DHL PAKET"}},
            "events": list(reversed(events)),  # DHL lists the newest scan first
        }

    def advance(self, number: str, status: str, description: str, location: str = "") -> None:
        """A new scan for a parcel (its status follows)."""
        with self._lock:
            parcel = self.parcels[number]
            parcel["events"].insert(0, {"timestamp": iso(datetime.fromtimestamp(self.clock(), timezone.utc)),
                                        "location": {"address": {"countryCode": "DE", "addressLocality": location}},
                                        "statusCode": status, "status": STATUS_TEXT.get(status, status),
                                        "description": description})

    def authorize(self, request: Request) -> Answer | None:
        if not hmac.compare_digest(request.headers.get("dhl-api-key", ""), self.api_key):
            return problem(401, "Unauthorized", "Invalid API key")
        return None

    def too_many(self, retry_after: int) -> Answer:
        answer = problem(429, "Too Many Requests", "Rate limit or daily quota exceeded")
        answer.headers["Retry-After"] = str(retry_after)
        return answer

    def track(self, request: Request) -> Answer:
        now = self.clock()
        with self._lock:
            if self.used >= self.daily_quota:
                midnight = (int(now) // 86400 + 1) * 86400
                return self.too_many(max(1, midnight - int(now)))
            if self.seconds_between and now - self.last_call < self.seconds_between:
                return self.too_many(max(1, round(self.seconds_between - (now - self.last_call) + 0.5)))
            self.used += 1
            self.last_call = now
            number = request.arg("trackingNumber") or ""
            parcel = self.parcels.get(number)
            if parcel is None:
                return problem(404, "No result found", "No shipment with given tracking number found.")
            shipment = {**parcel, "status": dict(parcel["events"][0]) if parcel["events"] else
                        {"statusCode": "unknown", "status": "Unbekannt"}}
            if shipment["status"]["statusCode"] != "delivered":
                shipment["estimatedTimeOfDelivery"] = iso(datetime.fromtimestamp(now, timezone.utc)
                                                          + timedelta(days=1))
        return Answer(200, {"shipments": [shipment]}, {"Content-Language": "de"})
