"""Opening a profile's SQLite store safely: file mode, pragmas verified, migrations.

Every failure to open becomes a `StoreError` whose message is one line a user can act on:
deskterm never shows a traceback for a bad store and never silently rewrites one.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deskterm.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26

# What we set, and what each must read back as.
REQUIRED_PRAGMAS: dict[str, object] = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL: committed means durable, even on power loss
    "foreign_keys": 1,
    "busy_timeout": BUSY_TIMEOUT_MS,
    "secure_delete": 1,
}


class StoreError(Exception):
    """A store cannot be used; the message is one line for the user."""


class StoreCorruptError(StoreError):
    pass


class StoreTooNewError(StoreError):
    pass


class NotAStoreError(StoreError):
    pass


class StoreUnsafeError(StoreError):
    pass


class StoreMissingError(StoreError):
    pass


def is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """True for SQLITE_CORRUPT / SQLITE_NOTADB, as opposed to locks or I/O errors."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


class Store:
    """One open connection to a profile's store. Use one Store per thread."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> Store:
        """Open (and if allowed create and migrate) the store at `path`."""
        path = Path(path)
        if not path.exists():
            if not create:
                raise StoreMissingError(f"no store at {path}")
            _create_private_file(path)
        _make_private(path)
        try:
            conn = sqlite3.connect(
                path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=True
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {path}: {exc}") from None
        try:
            _check_identity(conn, path)
            _apply_pragmas(conn, path)
            _migrate(conn, path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            if is_corruption(exc):
                raise StoreCorruptError(
                    f"store {path} is corrupt ({exc}); restore a backup or run 'deskterm doctor'"
                ) from None
            raise StoreError(f"cannot open store {path}: {exc}") from None
        except StoreError:
            conn.close()
            raise
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- use ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE): all or nothing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def data_version(self) -> int:
        """Changes whenever any connection (any process) commits to the file."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def pragmas(self) -> dict[str, object]:
        """The safety pragmas as SQLite reports them now."""
        return {name: self.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in REQUIRED_PRAGMAS}

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])


def _create_private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _make_private(path: Path) -> None:
    """Keep the store readable by its owner only (the WAL and SHM inherit this mode)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        try:
            os.chmod(path, 0o600)
        except PermissionError:
            raise StoreUnsafeError(f"store {path} is readable by others and cannot be made private") from None


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and has_tables):
        raise NotAStoreError(f"{path} is an SQLite file but not a deskterm store; refusing to touch it")
    if version > SCHEMA_VERSION:
        raise StoreTooNewError(
            f"store {path} was written by a newer deskterm (schema {version}, this build knows "
            f"{SCHEMA_VERSION}); upgrade deskterm to open it"
        )


def _apply_pragmas(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("PRAGMA journal_mode=WAL").fetchone()
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA secure_delete=ON")
    for name, wanted in REQUIRED_PRAGMAS.items():
        actual = conn.execute(f"PRAGMA {name}").fetchone()[0]
        if actual != wanted:
            raise StoreUnsafeError(
                f"store {path}: PRAGMA {name} is {actual!r}, need {wanted!r}; refusing to run unsafely"
            )


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for target in range(version + 1, SCHEMA_VERSION + 1):
        migration = MIGRATIONS[target - 1]
        try:
            if isinstance(migration, str):
                conn.executescript(
                    "BEGIN IMMEDIATE;\n"
                    f"{migration}\n"
                    f"PRAGMA application_id={APPLICATION_ID};\n"
                    f"PRAGMA user_version={target};\n"
                    "COMMIT;"
                )
            else:
                conn.execute("BEGIN IMMEDIATE")
                migration(conn)
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version={target}")
                conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
