"""Fetching a large mail's whole body on demand (it was stored as a placeholder)."""

from __future__ import annotations

import json
import time

from deskterm.model import Batch, MailLocation
from deskterm.sources.base import SourceError
from deskterm.sources.registry import mail_source
from deskterm.store.db import Store
from deskterm.store.sync_writes import apply_batch


def fetch_whole_message(store: Store, message_row: int) -> None:
    """Download message `message_row` from its IMAP folder and store the full parse."""
    row = store.conn.execute(
        "SELECT l.account_id, l.folder, l.uidvalidity, l.uid, a.key, a.name, a.settings "
        "FROM mail_locations l JOIN accounts a ON a.id = l.account_id WHERE l.message_id = ? "
        "ORDER BY l.partial, l.folder LIMIT 1", (message_row,)).fetchone()
    if row is None:
        raise SourceError(f"message {message_row} is not on any mail server any more", temporary=False)
    account_id, folder, uidvalidity, uid, key, name, raw_settings = row
    source = mail_source(key, name, json.loads(raw_settings or "{}"))
    fetch = getattr(source, "fetch_whole", None)
    if fetch is None:
        raise SourceError(f"{key}: this account keeps whole messages already", temporary=False)
    try:
        record = fetch(MailLocation(folder, int(uidvalidity), int(uid)))
    finally:
        source.close()
    apply_batch(store, int(account_id), None, Batch(cursor=None, mails=[record]), now=int(time.time()))
