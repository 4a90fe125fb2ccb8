"""Run the outbox sender once at a given clock; optionally SIGKILL it as a statement starts.

    python -m tests.helpers.crash_outbox STORE NOW [SQL-SUBSTRING]

With SQL-SUBSTRING (e.g. "SET status = 'sent'"), the process kills itself the moment SQLite
starts that statement: after the SMTP server's 250, before the row is marked sent.
Kills at connect and after DATA are done by the test's SMTP server (it knows the PID).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from deskterm.sources.outbox_sender import OutboxSender
from deskterm.store.db import Store
from tests.helpers.crash_sync import install_test_keyring


def main() -> None:
    install_test_keyring()
    path, now = Path(sys.argv[1]), float(sys.argv[2])
    marker = sys.argv[3] if len(sys.argv) > 3 else ""
    with Store.open(path) as store:
        if marker:
            store.conn.set_trace_callback(
                lambda sql: os.kill(os.getpid(), signal.SIGKILL) if marker in sql else None)
        report = OutboxSender(store, clock=lambda: now).deliver_due()
    print(json.dumps({"sent": report.sent, "retrying": report.retrying, "failed": report.failed,
                      "copies": report.copies}))


if __name__ == "__main__":
    main()
