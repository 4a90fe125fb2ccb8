"""The store: safe opening, migrations, idempotent upserts, atomic batches, clear errors."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from deskterm.model import Batch, Channel, CustomerRecord, Direction, IdentityRef, MessageRecord, TicketRecord
from deskterm.store.db import (
    REQUIRED_PRAGMAS,
    NotAStoreError,
    Store,
    StoreCorruptError,
    StoreTooNewError,
)
from deskterm.store.schema import SCHEMA_VERSION
from deskterm.store.sync_writes import apply_batch, ensure_account, get_cursor
from tests.conftest import ANCHOR

BUYER = IdentityRef("email", "erika@example.test")


def _batch(cursor: str, *, body: str = "Wo ist mein Paket?", external: str = "m1") -> Batch:
    ticket = TicketRecord("t1", Channel.EMAIL, BUYER, "Paket", ANCHOR)
    message = MessageRecord(external, "t1", Direction.IN, "Erika", BUYER.value, ANCHOR + timedelta(minutes=1),
                            "Paket", body)
    return Batch(cursor=cursor, customers=[CustomerRecord(BUYER, "Erika Mustermann")], tickets=[ticket],
                 messages=[message])


def _account(store: Store) -> int:
    return ensure_account(store, "mail", "email", "Mail", now=int(ANCHOR.timestamp()))


def test_new_store_has_verified_pragmas_private_mode_and_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "p" / "shop.sqlite3"
    with Store.open(path) as store:
        assert store.pragmas() == REQUIRED_PRAGMAS
        assert store.schema_version() == SCHEMA_VERSION
        assert {"accounts", "customers", "identities", "orders", "order_items", "shipments", "tickets", "messages",
                "attachments", "messages_fts", "sync_state", "source_status", "outbox", "audit_log"} <= {
            r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    Store.open(path).close()
    with Store.open(path) as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_same_record_upserted_twice_is_stored_once_and_second_write_changes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite3") as store:
        account = _account(store)
        apply_batch(store, account, "inbox", _batch("1"), now=1)
        before = store.conn.total_changes
        apply_batch(store, account, "inbox", _batch("1"), now=2)
        assert store.conn.total_changes == before, "re-applying identical data must write nothing"
        counts = [store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("customers", "identities", "tickets", "messages")]
        assert counts == [1, 1, 1, 1]
        assert store.conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'paket'").fetchone()[0] == 1


def test_changed_message_is_updated_in_place_and_in_the_index(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite3") as store:
        account = _account(store)
        apply_batch(store, account, "inbox", _batch("1"), now=1)
        apply_batch(store, account, "inbox", _batch("2", body="Paket beschädigt"), now=2)
        assert store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
        hits = store.conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'beschadigt'").fetchone()
        assert hits[0] == 1  # remove_diacritics folds ä -> a on both sides
        assert store.conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'wo'").fetchone()[0] == 0


def test_a_failing_batch_commits_nothing_not_even_its_cursor(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite3") as store:
        account = _account(store)
        apply_batch(store, account, "inbox", _batch("1"), now=1)
        broken = _batch("2", external="m2")
        orphan = replace(broken.messages[0], external_id="m3", ticket_external_id="missing-ticket")
        broken.messages.append(orphan)
        with pytest.raises(ValueError, match="unknown ticket"):
            apply_batch(store, account, "inbox", broken, now=2)
        assert get_cursor(store.conn, account, "inbox") == "1"
        assert [r[0] for r in store.conn.execute("SELECT external_id FROM messages")] == ["m1"]


def test_store_from_a_newer_deskterm_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreTooNewError) as info:
        Store.open(path)
    assert "newer deskterm" in str(info.value) and "\n" not in str(info.value)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5, "must not be rewritten"


def test_corrupt_store_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    Store.open(path).close()
    original = path.read_bytes()
    path.write_bytes(b"garbage!" * 4 + original[32:])
    with pytest.raises(StoreCorruptError) as info:
        Store.open(path)
    assert "corrupt" in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes()[:32] == b"garbage!" * 4, "a corrupt store is never silently rewritten"


def test_damaged_schema_page_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    Store.open(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # page 1 after the header: the schema b-tree
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError):
        Store.open(path)


def test_foreign_sqlite_file_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes(x)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAStoreError):
        Store.open(path)


@pytest.mark.parametrize("damage", ["newer", "corrupt"])
def test_cli_reports_bad_store_in_one_line_without_traceback(damage: str, isolated_home) -> None:  # type: ignore[no-untyped-def]
    path = isolated_home.store_path("shop")
    Store.open(path).close()
    if damage == "newer":
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.close()
    else:
        path.write_bytes(b"\x00not a database\x00" * 64)
    result = subprocess.run([sys.executable, "-m", "deskterm", "sync", "--profile", "shop"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert ("newer deskterm" if damage == "newer" else "corrupt") in lines[0]


def test_ticket_counts_follow_inserts_status_changes_and_deletes(demo_store: Path) -> None:
    from deskterm.store.inbox import channel_counts, count_tickets

    with Store.open(demo_store, create=False) as store:
        conn = store.conn

        def truth() -> tuple[int, int, dict[str, int]]:
            by_channel = dict(conn.execute(
                "SELECT channel, count(*) FROM tickets WHERE status = 'open' GROUP BY channel").fetchall())
            return (conn.execute("SELECT count(*) FROM tickets").fetchone()[0],
                    conn.execute("SELECT count(*) FROM tickets WHERE status = 'open'").fetchone()[0], by_channel)

        def kept() -> tuple[int, int, dict[str, int]]:
            return count_tickets(conn), count_tickets(conn, "open"), channel_counts(conn)

        assert kept() == truth() and truth()[0] == 120
        with store.transaction():
            conn.execute("UPDATE tickets SET status = 'resolved' WHERE id IN (SELECT id FROM tickets "
                         "WHERE status = 'open' LIMIT 7)")
            conn.execute("UPDATE tickets SET channel = 'ebay' WHERE id = (SELECT min(id) FROM tickets)")
            conn.execute("DELETE FROM tickets WHERE id = (SELECT max(id) FROM tickets)")
        assert kept() == truth() and truth()[0] == 119


def test_a_version_1_store_with_data_migrates_forward_without_loss(tmp_path: Path) -> None:
    from deskterm.store.schema import APPLICATION_ID, MIGRATIONS

    path = tmp_path / "v1.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(f"BEGIN; {MIGRATIONS[0]} PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version=1; COMMIT;")
    conn.execute("INSERT INTO accounts(key, channel, name, created_at) VALUES ('mail', 'email', 'Mail', 0)")
    conn.execute("INSERT INTO customers(display_name, created_at) VALUES ('Erika', 0)")
    conn.execute("INSERT INTO tickets(account_id, external_id, channel, customer_id, subject, created_at, "
                 "last_message_at) VALUES (1, 't1', 'email', 1, 'Paket', 0, 0)")
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 2
        assert store.conn.execute("SELECT subject, identity_id FROM tickets").fetchall() == [("Paket", None)]
        assert store.conn.execute("SELECT count(*) FROM customer_merges").fetchone()[0] == 0
        assert store.pragmas() == REQUIRED_PRAGMAS
