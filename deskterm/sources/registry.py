"""Which sources a profile has: built from the accounts recorded in its store.

Each account row carries its source kind in `settings["source"]` ("demo", "imap",
"maildir"); the demo kind also keeps the world's anchor time and seed there, so a demo
profile re-syncs deterministically. Mail passwords are read from the keyring only when a
connection opens.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from datetime import datetime, timezone

from deskterm.sandbox.demo_world import DEMO_ACCOUNTS, DemoWorld
from deskterm.model import Batch, Channel
from deskterm.secrets import SecretError, get_secret
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SendNotSupported, Source, SourceError
from deskterm.sources.mail.settings import MailSettingsError, mail_settings
from deskterm.sources.demo import DEFAULT_BATCH_TICKETS, DemoSource
from deskterm.store.db import Store
from deskterm.store.sync_writes import ensure_account

if TYPE_CHECKING:
    from deskterm.sources.dhl import DhlClient

DEMO_TICKETS = 600


# With the marketplace sandboxes, these demo accounts sync through the real API clients.
SANDBOXED_ACCOUNTS = {"kaufland-de": "kaufland", "ebay-de": "ebay", "facebook": "meta", "instagram": "meta"}
# and these order-only accounts enrich the mail channels' tickets with API order data.
SANDBOX_ORDER_ACCOUNTS = (("amazon-orders", "amazon", "Amazon SP-API (Bestellungen)"),
                          ("zalando-orders", "zalando", "Zalando zDirect (Bestellungen)"),
                          ("otto-orders", "otto", "OTTO Market API (Bestellungen)"))


def register_demo_accounts(store: Store, *, anchor: datetime, tickets: int = DEMO_TICKETS, seed: int = 2026,
                           batch_tickets: int = DEFAULT_BATCH_TICKETS, marketplaces: bool = False) -> None:
    """Record the demo accounts (and the world's parameters) in a profile's store. With
    `marketplaces`, Kaufland and eBay (and Amazon, Zalando and OTTO orders) come from the
    marketplace emulators through the real clients (`deskterm demo` does this)."""
    world = {"anchor": anchor.astimezone(timezone.utc).isoformat(), "tickets": tickets, "seed": seed}
    settings = {"source": "demo", **world, "batch_tickets": batch_tickets}
    now = int(anchor.timestamp())
    api_orders = {kind for _, kind, _ in SANDBOX_ORDER_ACCOUNTS} if marketplaces else set()
    for account in DEMO_ACCOUNTS:
        kind = SANDBOXED_ACCOUNTS.get(account.key) if marketplaces else None
        own = {**settings, "orders": str(account.channel) not in api_orders}
        sandboxed = {"source": kind, "sandbox": True, **world}
        if kind == "meta":
            sandboxed.update(platform="messenger" if account.key == "facebook" else "instagram", human_agent=True)
        ensure_account(store, account.key, str(account.channel), account.name, now=now,
                       settings=sandboxed if kind else own)
    if marketplaces:
        ensure_account(store, "dhl-tracking", "dhl", "DHL Sendungsverfolgung", now=now,
                       settings={"source": "dhl", "sandbox": True, **world})
        for key, kind, name in SANDBOX_ORDER_ACCOUNTS:
            ensure_account(store, key, kind, name, now=now,  # the demo world's orders reach back ~5 weeks
                           settings={"source": kind, "sandbox": True, "history_days": 60, **world})


def has_sandboxes(store: Store) -> bool:
    """Does this profile sync from marketplace emulators (the demo)?"""
    return store.conn.execute("SELECT 1 FROM accounts WHERE json_extract(settings, '$.sandbox') = 1 "
                              "LIMIT 1").fetchone() is not None


def sources_for_store(store: Store) -> list[Source]:
    """Instantiate a source for every account of the profile."""
    sources: list[Source] = []
    worlds: dict[tuple[str, int, int], DemoWorld] = {}
    for key, name, raw in store.conn.execute("SELECT key, name, settings FROM accounts ORDER BY id"):
        settings = json.loads(raw or "{}")
        if settings.get("source") == "demo":
            world_key = (settings["anchor"], int(settings["tickets"]), int(settings["seed"]))
            world = worlds.get(world_key)
            if world is None:
                world = DemoWorld(anchor=datetime.fromisoformat(world_key[0]), tickets=world_key[1], seed=world_key[2])
                worlds[world_key] = world
            sources.append(DemoSource(world, key, batch_tickets=int(settings.get("batch_tickets",
                                                                                 DEFAULT_BATCH_TICKETS)),
                                      orders=bool(settings.get("orders", True))))
        elif settings.get("source") in ("imap", "maildir"):
            try:
                sources.append(mail_source(key, name, settings))
            except (MailSettingsError, SourceError) as exc:  # one broken account must not stop the others
                sources.append(BrokenSource(key, name, str(exc)))
        elif settings.get("source") == "dhl":
            continue  # carrier tracking runs beside the sync (tracking_client_for_store)
        elif settings.get("source") in MARKETPLACES:
            try:
                sources.append(marketplace_source(key, name, settings))
            except (SourceError, SecretError) as exc:
                sources.append(BrokenSource(key, name, str(exc)))
    return sources


class BrokenSource:
    """Stands in for an account whose settings cannot work: every sync reports why, in one line."""

    streams: tuple[str, ...] = ("settings",)
    capabilities = Capabilities(can_send=False, has_orders=False, has_messages=False)
    channel = Channel.EMAIL

    def __init__(self, account_key: str, account_name: str, reason: str) -> None:
        self.account_key = account_key
        self.account_name = account_name
        self.reason = reason

    def pull(self, stream: str, cursor: str | None) -> Batch:
        raise SourceError(f"{self.account_key}: {self.reason}", temporary=False)

    def send(self, reply: OutgoingReply) -> Receipt:
        raise SendNotSupported(self.account_key)

    def close(self) -> None:
        pass


MARKETPLACES = ("kaufland", "ebay", "amazon", "zalando", "otto", "meta")


def credential(settings: dict[str, object], name: str, base_url: str) -> str:
    """A credential from the keyring (`keyring:<service>/<user>`); a literal value is only
    accepted for a sandbox on this machine (127.0.0.1), whose keys are not secrets."""
    value = str(settings.get(name) or "")
    if value.startswith("keyring:"):
        return get_secret(value)
    if value and urlsplit(base_url).hostname in ("127.0.0.1", "localhost"):
        return value
    raise SourceError(f"{name} must be a keyring reference (keyring:<service>/<user>)", temporary=False)


def marketplace_source(key: str, name: str, settings: dict[str, object]) -> Source:
    """A marketplace API source; `base_url` points at the vendor (or a sandbox on loopback)."""
    from deskterm.sources.kaufland import KauflandSource

    if settings.get("sandbox"):  # the demo: an emulator in this process, with its own keys
        from deskterm.sandbox.runtime import connection

        settings = {**settings, **connection(str(settings.get("source")), settings)}
    base_url = str(settings.get("base_url") or "")
    if not base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise SourceError(f"base_url {base_url!r} must be https (or a sandbox on 127.0.0.1)", temporary=False)
    kind = settings.get("source")
    if kind == "kaufland":
        return KauflandSource(key, name, base_url=base_url, client_key=credential(settings, "client_key", base_url),
                              secret_key=credential(settings, "secret_key", base_url))
    if kind == "ebay":
        from deskterm.sources.ebay import EbaySource

        return EbaySource(key, name, base_url=base_url, client_id=credential(settings, "client_id", base_url),
                          client_secret=credential(settings, "client_secret", base_url),
                          refresh_token=credential(settings, "refresh_token", base_url),
                          seller=str(settings.get("seller") or ""))
    if kind == "amazon":
        from deskterm.sources.amazon import AmazonSource

        token_url = str(settings.get("token_url") or "https://api.amazon.com/auth/o2/token")
        return AmazonSource(key, name, base_url=base_url, token_url=token_url,
                            client_id=credential(settings, "client_id", base_url),
                            client_secret=credential(settings, "client_secret", base_url),
                            refresh_token=credential(settings, "refresh_token", base_url),
                            history_days=int(str(settings.get("history_days") or 30)))
    if kind == "zalando":
        from deskterm.sources.zalando import ZalandoSource

        return ZalandoSource(key, name, base_url=base_url, merchant_id=str(settings.get("merchant_id") or ""),
                             client_id=credential(settings, "client_id", base_url),
                             client_secret=credential(settings, "client_secret", base_url))
    if kind == "otto":
        from deskterm.sources.otto import OttoSource

        return OttoSource(key, name, base_url=base_url, client_id=credential(settings, "client_id", base_url),
                          client_secret=credential(settings, "client_secret", base_url),
                          history_days=int(str(settings.get("history_days") or 30)))
    if kind == "meta":
        from deskterm.sources.meta import MetaSource

        return MetaSource(key, name, base_url=base_url, node_id=str(settings.get("node_id") or ""),
                          platform=str(settings.get("platform") or "messenger"),
                          page_token=credential(settings, "page_token", base_url),
                          human_agent=bool(settings.get("human_agent", False)))
    raise SourceError(f"unknown marketplace {kind!r}", temporary=False)


def mail_source(key: str, name: str, raw_settings: dict[str, object]) -> Source:
    """An IMAP or Maildir source for a stored mail account."""
    from deskterm.sources.mail.imap import ImapSource
    from deskterm.sources.mail.maildir import MaildirSource

    settings = mail_settings(raw_settings)
    if settings.maildir:
        return MaildirSource(key, name, settings)
    assert settings.imap is not None
    reference = settings.imap.password_ref
    return ImapSource(key, name, settings, lambda: get_secret(reference))


def tracking_client_for_store(store: Store) -> DhlClient | None:
    """The DHL tracking client of the profile (an account with source "dhl"), or None."""
    row = store.conn.execute("SELECT settings FROM accounts WHERE json_extract(settings, '$.source') = 'dhl' "
                             "ORDER BY id LIMIT 1").fetchone()
    if row is None:
        return None
    from deskterm.sources.dhl import DhlClient  # noqa: F811  (at run time; the name above is for typing)

    settings = json.loads(row[0])
    if settings.get("sandbox"):
        from deskterm.sandbox.runtime import sandbox_for

        server = sandbox_for("dhl", settings)
        return DhlClient(server.base_url, getattr(server, "api_key"))
    base_url = str(settings.get("base_url") or "https://api-eu.dhl.com")
    return DhlClient(base_url, credential(settings, "api_key", base_url))


def source_for_account(store: Store, key: str) -> Source:
    """The source of one account of the profile (e.g. the Amazon account, for its
    Messaging actions); SourceError when there is none."""
    for source in sources_for_store(store):
        if source.account_key == key:
            return source
        source.close()
    raise SourceError(f"no account {key!r} in this profile", temporary=False)
