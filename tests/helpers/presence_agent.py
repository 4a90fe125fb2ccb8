"""A second agent in its own process: a real deskterm app (headless) on a shared store opens
a ticket and starts a reply, then waits until told to stop (or 30 s pass).

    python -m tests.helpers.presence_agent STORE TICKET_ID READY_FILE STOP_FILE
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from deskterm.app import DesktermApp
from deskterm.config import Config, UiConfig
from deskterm.store.db import Store


async def main(store_path: Path, ticket_id: int, ready: Path, stop: Path) -> None:
    app = DesktermApp(store=Store.open(store_path, create=False), profile="shared",
                      config=Config(ui=UiConfig(agent="Anna")), poll_seconds=0.2)
    async with app.run_test(size=(140, 40)) as pilot:
        app.open_ticket(ticket_id)
        await pilot.pause()
        await pilot.press("r")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with Store.open(store_path, create=False) as store:
                row = store.conn.execute("SELECT activity FROM presence WHERE agent = 'Anna' AND ticket_id = ?",
                                         (ticket_id,)).fetchone()
            if row and row[0] == "replying":
                break
            await pilot.pause(0.05)
        ready.write_text(str(time.time()), encoding="utf-8")  # the presence row is committed now
        while not stop.exists() and time.monotonic() < deadline:
            await pilot.pause(0.1)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])))
