"""The marketplace sandboxes of the demo profile, running inside the deskterm process.

`deskterm demo` records Kaufland and eBay accounts (and order accounts for Amazon, Zalando
and OTTO) that point at emulators instead of the vendors. The first source that needs
one starts it here on 127.0.0.1 with the demo world of the profile (anchor, size and seed
from the account's settings), so the demo syncs through the real clients: signatures,
tokens, paging, JSON. `start_feed` lets buyers keep writing: every few seconds a follow-up
lands in one of the open Kaufland or eBay conversations, so live updates and countdowns
can be watched. Everything stops with the process (daemon threads).
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import datetime
from typing import Any

from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.server import SandboxServer

log = logging.getLogger(__name__)

KINDS = ("kaufland", "ebay", "amazon", "zalando", "otto", "dhl", "meta")
FOLLOW_UPS = (
    "Hallo, gibt es schon Neuigkeiten zu meiner Anfrage?",
    "Ich warte immer noch auf eine Antwort. Bitte melden Sie sich.",
    "Kurze Nachfrage: wann wird das Paket verschickt?",
    "Danke für die Info! Eine Frage noch: kann ich auch per Rechnung zahlen?",
    "Hello, any update on my order? Thanks!",
    "Das Paket ist heute angekommen, aber ein Teil fehlt.",
)

_lock = threading.Lock()
_servers: dict[tuple[str, str, int, int], SandboxServer] = {}
_feed: threading.Thread | None = None
_stop = threading.Event()


def _make(kind: str, world: DemoWorld) -> SandboxServer:
    if kind == "kaufland":
        from deskterm.sandbox.kaufland import KauflandSandbox

        return KauflandSandbox(world)
    if kind == "ebay":
        from deskterm.sandbox.ebay import EbaySandbox

        return EbaySandbox(world)
    if kind == "amazon":
        from deskterm.sandbox.amazon import AmazonSandbox

        return AmazonSandbox(world)
    if kind == "zalando":
        from deskterm.sandbox.zalando import ZalandoSandbox

        return ZalandoSandbox(world)
    if kind == "otto":
        from deskterm.sandbox.otto import OttoSandbox

        return OttoSandbox(world)
    if kind == "dhl":
        from deskterm.sandbox.dhl import DhlSandbox

        return DhlSandbox(world)
    if kind == "meta":
        from deskterm.sandbox.meta import MetaSandbox

        return MetaSandbox(world)
    raise ValueError(f"no sandbox for {kind!r}")


def sandbox_for(kind: str, settings: dict[str, Any]) -> SandboxServer:
    """The running emulator of `kind` for the demo world in `settings` (started on first use)."""
    key = (kind, str(settings["anchor"]), int(settings["tickets"]), int(settings["seed"]))
    with _lock:
        server = _servers.get(key)
        if server is None:
            world = DemoWorld(anchor=datetime.fromisoformat(key[1]), tickets=key[2], seed=key[3])
            server = _make(kind, world).start()
            _servers[key] = server
        return server


def connection(kind: str, settings: dict[str, Any]) -> dict[str, str]:
    """Base URL and the emulator's own (non-secret) credentials, as source settings."""
    server = sandbox_for(kind, settings)
    found: dict[str, str] = {"base_url": server.base_url}
    for name in ("client_key", "secret_key", "client_id", "client_secret", "refresh_token", "page_token"):
        value = getattr(server, name, None)
        if isinstance(value, str):
            found[name] = value
    if kind == "amazon":
        found["token_url"] = server.base_url + "/auth/o2/token"
    if kind == "ebay":
        from deskterm.sandbox.ebay import SELLER

        found["seller"] = SELLER
    if kind == "zalando":
        from deskterm.sandbox.zalando import MERCHANT_ID

        found["merchant_id"] = MERCHANT_ID
    if kind == "meta":
        from deskterm.sandbox.meta import IG_ACCOUNT_ID, PAGE_ID

        found["node_id"] = PAGE_ID if settings.get("platform") == "messenger" else IG_ACCOUNT_ID
    return found


def feed_once(rng: random.Random) -> str | None:
    """One buyer follow-up in a random Kaufland or eBay conversation (now and then a DHL
    parcel is delivered instead); returns where."""
    with _lock:
        servers = [s for (kind, *_), s in _servers.items() if kind in ("kaufland", "ebay")]
        carriers = [s for (kind, *_), s in _servers.items() if kind == "dhl"]
    if carriers and rng.random() < 0.15:
        parcels = carriers[0].parcels  # type: ignore[attr-defined]
        moving = sorted(n for n, p in parcels.items() if p["events"] and p["events"][0]["statusCode"] != "delivered")
        if moving:
            number = rng.choice(moving)
            delivered = "Die Sendung wurde erfolgreich zugestellt."
            carriers[0].advance(number, "delivered", delivered)  # type: ignore[attr-defined]
            return f"dhl:{number}"
    if not servers:
        return None
    server = rng.choice(servers)
    text = rng.choice(FOLLOW_UPS)
    if hasattr(server, "tickets"):
        ticket = rng.choice(sorted(server.tickets))
        server.add_buyer_message(ticket, text)  # type: ignore[attr-defined]
        return f"kaufland:{ticket}"
    conversation = rng.choice(sorted(server.conversations))  # type: ignore[attr-defined]
    server.add_buyer_message(conversation, text)  # type: ignore[attr-defined]
    return f"ebay:{conversation}"


def start_feed(seconds: float, *, seed: int | None = None) -> None:
    """Every `seconds`, a buyer writes again (0: never). Idempotent."""
    global _feed
    if seconds <= 0:
        return
    with _lock:
        if _feed is not None and _feed.is_alive():
            return
        _stop.clear()
        rng = random.Random(seed)

        def run() -> None:
            while not _stop.wait(seconds):
                try:
                    feed_once(rng)
                except Exception as exc:  # a demo nicety must never end quietly for good
                    log.warning("demo feed: %s", type(exc).__name__)

        _feed = threading.Thread(target=run, name="demo-feed", daemon=True)
        _feed.start()


def stop_all() -> None:
    """Stop the feed and every emulator (tests; the app just exits)."""
    global _feed
    _stop.set()
    with _lock:
        for server in _servers.values():
            server.close()
        _servers.clear()
        _feed = None
