"""Adding mail accounts: test the connection first, keep the password in the keyring.

Shared by `deskterm accounts add imap` and the settings screen. Nothing is saved unless the
IMAP login (and the SMTP login, when given) succeeded, and the password goes to the OS
keyring only: where no usable keyring exists the account is not added and the error says
what to do (a plain-text store is never chosen silently).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

from deskterm.model import Channel
from deskterm.secrets import SecretError, keyring_state
from deskterm.sources.base import MARKETPLACE_CREDENTIALS, SourceError
from deskterm.sources.mail.settings import MailAccountSettings, MailSettingsError, mail_settings
from deskterm.store.db import Store
from deskterm.store.sync_writes import ensure_account

KEYRING_SERVICE = "deskterm"
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


class AccountError(Exception):
    """Adding an account failed; one line saying why."""


def password_reference(account_key: str, what: str) -> str:
    return f"keyring:{KEYRING_SERVICE}/{account_key}:{what}"


def check_mail_login(settings: MailAccountSettings, imap_password: str, smtp_password: str | None) -> list[str]:
    """Log in to IMAP (and SMTP); return the IMAP folders. Raises AccountError."""
    from deskterm.sources.mail.smtp import smtp_login_check
    from deskterm.sources.mail.imap import connect

    if settings.imap is None:
        return []
    try:
        client = connect(settings.imap, imap_password)
        try:
            folders = [name for _, _, name in client.list_folders()]
        finally:
            client.logout()
    except SourceError as exc:
        raise AccountError(str(exc)) from None
    if settings.smtp is not None:
        try:
            smtp_login_check(settings.smtp, smtp_password if smtp_password is not None else imap_password)
        except SourceError as exc:
            raise AccountError(str(exc)) from None
    missing = [f for f in settings.folders if f not in folders]
    if missing:
        raise AccountError(f"IMAP folders not found: {', '.join(missing)} (server has: {', '.join(folders[:12])})")
    return folders


def add_mail_account(store: Store, key: str, name: str, settings: MailAccountSettings, *, imap_password: str,
                     smtp_password: str | None = None, test_connection: bool = True) -> int:
    """Validate, test, store the password(s) in the keyring, then record the account."""
    import keyring
    from keyring.errors import KeyringError

    if not _KEY.match(key):
        raise AccountError(f"account key {key!r}: use lower-case letters, digits, '.', '_' or '-'")
    if store.conn.execute("SELECT 1 FROM accounts WHERE key = ?", (key,)).fetchone():
        raise AccountError(f"an account {key!r} exists already")
    try:
        mail_settings(settings.to_json())
    except MailSettingsError as exc:
        raise AccountError(str(exc)) from None
    state = keyring_state()
    if not state.usable:
        raise AccountError(f"cannot keep the password safely: {state.advice}")
    if test_connection:
        check_mail_login(settings, imap_password, smtp_password)
    imap = replace(settings.imap, password_ref=password_reference(key, "imap")) if settings.imap else None
    smtp = None
    if settings.smtp is not None:
        smtp = replace(settings.smtp, password_ref=password_reference(key, "smtp"))
    try:
        if imap is not None:
            keyring.set_password(KEYRING_SERVICE, f"{key}:imap", imap_password)
        if smtp is not None:
            keyring.set_password(KEYRING_SERVICE, f"{key}:smtp", smtp_password or imap_password)
    except KeyringError as exc:
        raise AccountError(f"keyring refused the password: {type(exc).__name__}") from None
    except SecretError as exc:
        raise AccountError(str(exc)) from None
    stored = replace(settings, imap=imap, smtp=smtp)
    return ensure_account(store, key, str(Channel.EMAIL), name, settings=stored.to_json(), now=int(time.time()))



# -- marketplace accounts -----------------------------------------------------------------

MARKETPLACE_BASE_URLS = {
    "kaufland": "https://sellerapi.kaufland.com",
    "ebay": "https://api.ebay.com",
    "amazon": "https://sellingpartnerapi-eu.amazon.com",
    "zalando": "https://api.merchants.zalando.com",
    "otto": "https://api.otto.market",
    "meta": "https://graph.facebook.com",
}
MARKETPLACE_CHANNELS = {"kaufland": Channel.KAUFLAND, "ebay": Channel.EBAY, "amazon": Channel.AMAZON,
                        "zalando": Channel.ZALANDO, "otto": Channel.OTTO}


def add_marketplace_account(store: Store, kind: str, key: str, name: str, *, credentials: dict[str, str],
                            base_url: str = "", extra: dict[str, object] | None = None,
                            test_connection: bool = True) -> int:
    """Test the credentials with one read, keep them in the keyring (never in the store or
    the config), then record the account with keyring references."""
    import keyring
    from keyring.errors import KeyringError

    from deskterm.sources.registry import marketplace_source

    if kind not in MARKETPLACE_CREDENTIALS:
        raise AccountError(f"unknown marketplace {kind!r} (known: {', '.join(MARKETPLACE_CREDENTIALS)})")
    if not _KEY.match(key):
        raise AccountError(f"account key {key!r}: use lower-case letters, digits, '.', '_' or '-'")
    if store.conn.execute("SELECT 1 FROM accounts WHERE key = ?", (key,)).fetchone():
        raise AccountError(f"an account {key!r} exists already")
    missing = [n for n in MARKETPLACE_CREDENTIALS[kind] if not credentials.get(n)]
    if missing:
        raise AccountError(f"{kind}: {', '.join(missing)} missing")
    state = keyring_state()
    if not state.usable:
        raise AccountError(f"cannot keep the credentials safely: {state.advice}")
    settings: dict[str, object] = {"source": kind, "base_url": (base_url or MARKETPLACE_BASE_URLS[kind]).rstrip("/"),
                                   **(extra or {})}
    if test_connection:
        source = marketplace_source(key, name, {**settings, **credentials, "sandbox": False})
        try:
            source.pull(source.streams[0], None)  # one page, nothing stored
        except SourceError as exc:
            raise AccountError(f"not saved: {exc}") from None
        finally:
            source.close()
    try:
        for field_name, value in credentials.items():
            keyring.set_password(KEYRING_SERVICE, f"{key}:{field_name}", value)
            settings[field_name] = password_reference(key, field_name)
    except KeyringError as exc:
        raise AccountError(f"keyring refused the credentials: {type(exc).__name__}") from None
    channel = MARKETPLACE_CHANNELS.get(kind) or (Channel.INSTAGRAM if settings.get("platform") == "instagram"
                                                 else Channel.MESSENGER)  # meta: the platform decides
    return ensure_account(store, key, str(channel), name, settings=settings, now=int(time.time()))
