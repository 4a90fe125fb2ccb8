"""Shared fixtures: an isolated DESKTERM_HOME, an in-memory keyring, demo stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from deskterm.paths import Locations, locations
from deskterm.sources.engine import SyncEngine
from deskterm.sources.registry import register_demo_accounts, sources_for_store
from deskterm.store.db import Store

pytest_plugins = ["tests.mail_servers"]  # the Dovecot / mailbox fixtures

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
ANCHOR = datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc)
FROZEN_NOW = ANCHOR.timestamp() + 600


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps secrets in memory, for tests only."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Locations]:
    """Every test gets its own DESKTERM_HOME and an in-memory keyring."""
    monkeypatch.setenv("DESKTERM_HOME", str(tmp_path / "home"))
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield locations()
    keyring.set_keyring(previous)


def synced_demo_store(path: Path, *, tickets: int = 120, batch_tickets: int = 10) -> Path:
    """A demo profile at a fixed anchor, synced through the real engine."""
    with Store.open(path) as store:
        register_demo_accounts(store, anchor=ANCHOR, tickets=tickets, batch_tickets=batch_tickets)
        sources = sources_for_store(store)
    runs = SyncEngine(path, sources, clock=lambda: FROZEN_NOW).run_once()
    assert not [r for r in runs if r.error]
    return path


@pytest.fixture
def demo_store(tmp_path: Path) -> Path:
    return synced_demo_store(tmp_path / "demo.sqlite3")


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"reference material not found at {SHARED} (../shared next to the repository)")
    return SHARED


def env_without_textual_noise() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TEXTUAL", None)
    return env
