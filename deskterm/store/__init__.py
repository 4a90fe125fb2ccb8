"""The SQLite store: schema, safe opening, sync writes, bounded reads and search."""

from deskterm.store.db import (
    NotAStoreError,
    Store,
    StoreCorruptError,
    StoreError,
    StoreMissingError,
    StoreTooNewError,
    StoreUnsafeError,
)

__all__ = [
    "NotAStoreError",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoreMissingError",
    "StoreTooNewError",
    "StoreUnsafeError",
]
