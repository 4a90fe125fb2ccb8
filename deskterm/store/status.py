"""Per-source sync status: what the status bar and `deskterm doctor` show."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from deskterm.store.db import Store


@dataclass(frozen=True, slots=True)
class AccountOverview:
    """An account as `deskterm accounts list` and the accounts screen show it."""

    key: str
    channel: str
    name: str
    source: str  # demo, imap, maildir ...
    location: str  # user@host for IMAP, the folder for a Maildir
    state: str | None
    last_success: int | None
    last_error: str | None


def account_overview(conn: sqlite3.Connection, limit: int = 200) -> list[AccountOverview]:
    rows = conn.execute(
        "SELECT a.key, a.channel, a.name, a.settings, s.state, s.last_success, s.last_error "
        "FROM accounts a LEFT JOIN source_status s ON s.account_id = a.id ORDER BY a.id LIMIT ?", (limit,)).fetchall()
    accounts = []
    for key, channel, name, raw, state, last_success, last_error in rows:
        settings = json.loads(raw or "{}")
        source = str(settings.get("source", "?"))
        location = ""
        if source == "imap" and isinstance(settings.get("imap"), dict):
            location = f"{settings['imap'].get('user', '')}@{settings['imap'].get('host', '')}"
        elif source == "maildir":
            location = str(settings.get("maildir", ""))
        accounts.append(AccountOverview(key, channel, name, source, location, state, last_success, last_error))
    return accounts


@dataclass(frozen=True, slots=True)
class SourceStatus:
    account_key: str
    account_name: str
    channel: str
    state: str
    last_success: int | None
    last_error: str | None
    last_error_at: int | None
    backlog: int | None


def set_source_status(
    store: Store,
    account_id: int,
    *,
    state: str,
    now: int,
    success: bool = False,
    error: str | None = None,
    backlog: int | None = None,
) -> None:
    """Record a source's state in its own small transaction."""
    with store.transaction() as conn:
        conn.execute(
            """
            INSERT INTO source_status(account_id, state, last_success, last_error, last_error_at, backlog, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(account_id) DO UPDATE SET
                state = excluded.state,
                last_success = coalesce(excluded.last_success, source_status.last_success),
                last_error = CASE WHEN excluded.last_error IS NOT NULL THEN excluded.last_error
                                  WHEN excluded.last_success IS NOT NULL THEN NULL
                                  ELSE source_status.last_error END,
                last_error_at = CASE WHEN excluded.last_error IS NOT NULL THEN excluded.last_error_at
                                     WHEN excluded.last_success IS NOT NULL THEN NULL
                                     ELSE source_status.last_error_at END,
                backlog = coalesce(excluded.backlog, source_status.backlog),
                updated_at = excluded.updated_at
            """,
            (account_id, state, now if success else None, error, now if error else None, backlog, now),
        )


def source_statuses(conn: sqlite3.Connection) -> list[SourceStatus]:
    rows = conn.execute(
        "SELECT a.key, a.name, a.channel, coalesce(s.state, 'never synced'), s.last_success, s.last_error, "
        "s.last_error_at, s.backlog FROM accounts a LEFT JOIN source_status s ON s.account_id = a.id ORDER BY a.id"
    ).fetchall()
    return [SourceStatus(*r) for r in rows]
