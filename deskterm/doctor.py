"""`deskterm doctor`: check store, keyring, config and accounts; say what to fix."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deskterm.sources.base import MARKETPLACE_CREDENTIALS
from deskterm.config import ConfigError, load_config
from deskterm.paths import Locations
from deskterm.store.db import REQUIRED_PRAGMAS, Store, StoreError
from deskterm.store.schema import SCHEMA_VERSION

WAL_WARN_BYTES = 256 * 2**20


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    what: str
    fix: str = ""
    warning: bool = False

    def line(self) -> str:
        mark = "✓" if self.ok else ("!" if self.warning else "✗")
        return f"{mark} {self.what}" + (f"\n    → {self.fix}" if self.fix else "")


def run_checks(locations: Locations, store_path: Path | None) -> Iterator[Check]:
    yield from _check_config(locations.config_file)
    if store_path is None:
        yield Check(False, "no profile to check", "run 'deskterm demo' or pass --profile NAME", warning=True)
    else:
        yield from _check_store(store_path)
    yield from _check_keyring()


def _check_config(path: Path) -> Iterator[Check]:
    if not path.exists():
        yield Check(True, f"config: {path} does not exist; defaults in use ('deskterm config init' writes one)")
        return
    try:
        load_config(path)
    except ConfigError as exc:
        yield Check(False, f"config: {exc}", "correct the setting named above")
        return
    yield Check(True, f"config: {path} is valid")


def _check_store(path: Path) -> Iterator[Check]:
    try:
        store = Store.open(path, create=False)
    except StoreError as exc:
        yield Check(False, f"store: {exc}", "restore the file from a backup, or delete it and sync again")
        return
    with store:
        mode = stat.S_IMODE(path.stat().st_mode)
        yield Check(mode & 0o077 == 0, f"store: {path} (mode {mode:o})", "" if mode & 0o077 == 0 else "chmod 600 it")
        actual = store.pragmas()
        bad = {k: v for k, v in actual.items() if v != REQUIRED_PRAGMAS[k]}
        yield Check(not bad, "store: pragmas " + ", ".join(f"{k}={v}" for k, v in actual.items()),
                    f"cannot set {bad}" if bad else "")
        version = store.schema_version()
        yield Check(version == SCHEMA_VERSION, f"store: schema version {version} (this build: {SCHEMA_VERSION})")
        result = store.conn.execute("PRAGMA quick_check").fetchone()[0]
        yield Check(result == "ok", f"store: integrity {result}",
                    "" if result == "ok" else "restore a backup; the file is damaged")
        wal = path.with_name(path.name + "-wal")
        size = wal.stat().st_size if wal.exists() else 0
        yield Check(size < WAL_WARN_BYTES, f"store: WAL {size / 2**20:.1f} MiB",
                    "" if size < WAL_WARN_BYTES else "a long-running reader blocks checkpoints; close other sessions",
                    warning=size >= WAL_WARN_BYTES)
        for key, name, raw, state, error in store.conn.execute(
            "SELECT a.key, a.name, a.settings, s.state, s.last_error FROM accounts a "
            "LEFT JOIN source_status s ON s.account_id = a.id ORDER BY a.id"
        ):
            settings = json.loads(raw or "{}")
            kind = settings.get("source", "?")
            if kind == "demo":
                yield Check(True, f"account {key}: demo source (offline; nothing to connect to)")
            elif kind in ("imap", "maildir"):
                yield from _check_mail_account(key, settings)
            elif kind == "dhl":
                yield Check(True, f"account {key}: DHL tracking" + (" (sandbox in this process)"
                                                                    if settings.get("sandbox") else ""))
            elif kind in MARKETPLACES:
                yield from _check_marketplace_account(key, str(kind), settings)
            else:
                yield Check(False, f"account {key}: source kind {kind!r} is not supported by this build",
                            "upgrade deskterm or remove the account")
            if state == "error":
                yield Check(False, f"account {key}: last sync failed: {error}", "see the log; run 'deskterm sync'")


MARKETPLACES = tuple(MARKETPLACE_CREDENTIALS)


def _check_marketplace_account(key: str, kind: str, settings: dict[str, object]) -> Iterator[Check]:
    """A marketplace account: https endpoint and every credential readable from the keyring."""
    if settings.get("sandbox"):
        yield Check(True, f"account {key}: {kind} sandbox in this process (demo; nothing leaves the machine)")
        return
    base_url = str(settings.get("base_url") or "")
    if not base_url.startswith("https://"):
        yield Check(False, f"account {key}: base_url {base_url!r} is not https", "add the account again")
        return
    from deskterm.secrets import SecretError, get_secret

    for name in MARKETPLACE_CREDENTIALS[kind]:
        reference = str(settings.get(name) or "")
        try:
            get_secret(reference)
        except SecretError as exc:
            yield Check(False, f"account {key}: {name}: {exc}", "store it with 'python -m keyring set ...'")
            return
    yield Check(True, f"account {key}: {kind} at {base_url}, credentials in the keyring")


def _check_mail_account(key: str, raw: dict[str, object]) -> Iterator[Check]:
    """Settings valid, and each password reachable in the keyring (no connection is made)."""
    from deskterm.secrets import SecretError, get_secret
    from deskterm.sources.mail.settings import MailSettingsError, mail_settings

    try:
        settings = mail_settings(raw)
    except MailSettingsError as exc:
        yield Check(False, f"account {key}: {exc}", "remove and add the account again ('deskterm accounts add')")
        return
    if settings.maildir:
        exists = Path(settings.maildir).expanduser().joinpath("cur").is_dir()
        yield Check(exists, f"account {key}: Maildir {settings.maildir}",
                    "" if exists else "the folder has no cur/; check the path or run mbsync first")
        return
    for what, server in (("IMAP", settings.imap), ("SMTP", settings.smtp)):
        if server is None:
            if what == "SMTP":
                yield Check(False, f"account {key}: no SMTP server; replies cannot be sent",
                            "add the account again with --smtp-host", warning=True)
            continue
        try:
            get_secret(server.password_ref)
        except SecretError as exc:
            yield Check(False, f"account {key}: {what} password: {exc}", "store it again with 'deskterm accounts add'")
            continue
        yield Check(True, f"account {key}: {what} {server.user}@{server.host}:{server.port} ({server.security}), "
                          "password in the keyring")


def _check_keyring() -> Iterator[Check]:
    from deskterm.secrets import keyring_state

    try:
        state = keyring_state()
    except Exception as exc:  # keyring backends fail in many ways; report, never crash
        yield Check(False, f"keyring: {type(exc).__name__}: {exc}", "install or unlock a keyring backend")
        return
    if state.usable:
        yield Check(True, f"keyring: {state.backend}")
    else:
        yield Check(False, f"keyring: {state.backend}", state.advice + " (only needed for real accounts)",
                    warning=True)
