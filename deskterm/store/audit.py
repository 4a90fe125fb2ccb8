"""The audit log: append-only and hash-chained, with no message content in it.

Each entry stores the hash of the entry before it and its own hash over
(previous hash, id, time, actor, action, target, detail), so changing, inserting or
deleting any entry breaks the chain from that entry on. Triggers refuse UPDATE and
DELETE; `verify_audit` finds tampering by someone who removed them. Entries name people
only by internal ids ("customer:42"), never by name, address or message text.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass

GENESIS = "0" * 64


def entry_hash(prev_hash: str, entry_id: int, at: int, actor: str, action: str, target: str, detail: str) -> str:
    payload = json.dumps([prev_hash, entry_id, at, actor, action, target, detail], ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append_audit(conn: sqlite3.Connection, now: int, actor: str, action: str, target: str,
                 detail: dict[str, object] | None = None) -> int:
    """Append one entry (inside the caller's transaction) and return its id."""
    last = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    entry_id, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    detail_json = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
    digest = entry_hash(prev_hash, entry_id, now, actor, action, target, detail_json)
    conn.execute(
        "INSERT INTO audit_log(id, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (entry_id, now, actor, action, target, detail_json, prev_hash, digest),
    )
    return entry_id


@dataclass(frozen=True, slots=True)
class AuditCheck:
    ok: bool
    entries: int
    broken_id: int | None = None
    problem: str = ""


def verify_audit(conn: sqlite3.Connection) -> AuditCheck:
    """Recompute the chain; report the first entry that does not match."""
    prev_hash = GENESIS
    expected_id = 1
    count = 0
    for entry_id, at, actor, action, target, detail, stored_prev, stored_hash in conn.execute(
            "SELECT id, at, actor, action, target, detail, prev_hash, hash FROM audit_log ORDER BY id"):
        count += 1
        if entry_id != expected_id:
            return AuditCheck(False, count, entry_id, f"entry {expected_id} is missing before entry {entry_id}")
        if stored_prev != prev_hash:
            return AuditCheck(False, count, entry_id, f"entry {entry_id} does not continue the chain")
        if entry_hash(prev_hash, entry_id, at, actor, action, target, detail) != stored_hash:
            return AuditCheck(False, count, entry_id, f"entry {entry_id} was changed after it was written")
        prev_hash = stored_hash
        expected_id += 1
    return AuditCheck(True, count)


def migrate_v3_audit_chain(conn: sqlite3.Connection) -> None:
    """Schema v3: add the chain columns, hash the entries written so far, make the log append-only."""
    conn.execute("ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT ''")
    prev_hash = GENESIS
    rows = conn.execute("SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id").fetchall()
    for new_id, (old_id, at, actor, action, target, detail) in enumerate(rows, start=1):
        digest = entry_hash(prev_hash, new_id, at, actor, action, target, detail)
        conn.execute("UPDATE audit_log SET id = ?, prev_hash = ?, hash = ? WHERE id = ?",
                     (new_id, prev_hash, digest, old_id))
        prev_hash = digest
    conn.execute("CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log "
                 "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    conn.execute("CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log "
                 "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
