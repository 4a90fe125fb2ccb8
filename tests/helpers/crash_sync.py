"""Run one real sync of a profile store, killing this process before write statement K.

    python -m tests.helpers.crash_sync STORE K      (K = 0: never kill; print the write plan)

SQLite calls the trace callback as each statement starts, so SIGKILL here lands exactly
between two writes (or right before a COMMIT), like a crash or `kill -9` would.
With DESKTERM_TEST_SECRETS set (JSON {"service/user": "secret"}), mail accounts find their
passwords in an in-memory keyring, as the parent test's keyring has them.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from deskterm.sources.engine import SyncEngine
from deskterm.sources.registry import sources_for_store
from deskterm.store.db import Store

WRITE_PREFIXES = ("INSERT", "UPDATE", "DELETE", "COMMIT", "REPLACE")


def install_test_keyring() -> None:
    """An in-memory keyring holding the secrets the parent test passed in the environment."""
    secrets = os.environ.get("DESKTERM_TEST_SECRETS")
    if not secrets:
        return
    import keyring

    from tests.conftest import MemoryKeyring

    memory = MemoryKeyring()
    for name, value in json.loads(secrets).items():
        service, user = name.split("/", 1)
        memory.set_password(service, user, value)
    keyring.set_keyring(memory)


def main() -> None:
    install_test_keyring()
    path, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    writes: list[str] = []

    def opener(store_path: Path) -> Store:
        store = Store.open(store_path)

        def trace(statement: str) -> None:
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
            if verb in WRITE_PREFIXES:
                writes.append(verb)
                if len(writes) == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)

        store.conn.set_trace_callback(trace)
        return store

    with Store.open(path) as store:
        sources = sources_for_store(store)
    runs = SyncEngine(path, sources, clock=lambda: 1_765_000_000.0, opener=opener).run_once()
    commits = [i + 1 for i, verb in enumerate(writes) if verb == "COMMIT"]
    print(json.dumps({"writes": len(writes), "commits": commits, "errors": [r.error for r in runs if r.error]}))


if __name__ == "__main__":
    main()
