"""Bulk loading: defer FTS indexing while a large first load runs, then rebuild once.

Rebuilding the FTS index after the load is about twice as fast as a trigger per row
(performance anchors §1e). Used for big first syncs and for building benchmark stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from deskterm.store.db import Store

_INSERT_TRIGGER = """
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, subject, body_text, sender_name, sender_addr)
    VALUES (new.id, new.subject, new.body_text, new.sender_name, new.sender_addr);
END;
"""


@contextmanager
def fts_deferred(store: Store) -> Iterator[None]:
    """Within this block new messages are not indexed; on exit the index is rebuilt.

    Only for loads into a store nobody else writes to at the same time. If the block
    fails, the index is rebuilt anyway so it never stays out of step with the messages.
    """
    sql = store.conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_fts_insert'"
    ).fetchone()
    trigger_sql = (sql[0] + ";") if sql else _INSERT_TRIGGER
    with store.transaction() as conn:
        conn.execute("DROP TRIGGER IF EXISTS messages_fts_insert")
    try:
        yield
    finally:
        with store.transaction() as conn:
            conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
            conn.execute(trigger_sql)
