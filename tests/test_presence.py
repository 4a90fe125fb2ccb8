"""Small teams on one store: presence from another process shows within 2 s, a reply while
someone else replies asks first, and stale presence expires."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from deskterm.cli import build_app
from deskterm.config import Config, UiConfig
from deskterm.screens.compose import ComposeScreen
from deskterm.screens.pickers import ChoiceScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.store import presence
from deskterm.store.db import Store
from tests.conftest import REPO, env_without_textual_noise
from tests.test_app import wait_for


def _header(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#ticket-header").render().plain) if isinstance(app.screen, TicketScreen) else ""


async def test_presence_of_another_process_appears_within_two_seconds(demo_store: Path, isolated_home,
                                                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with Store.open(demo_store, create=False) as store:
        ticket_id = store.conn.execute("SELECT id FROM tickets WHERE status = 'open' ORDER BY id LIMIT 1").fetchone()[0]
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    other = subprocess.Popen([sys.executable, "-m", "tests.helpers.presence_agent", str(demo_store), str(ticket_id),
                              str(ready), str(stop)], cwd=REPO, env=env_without_textual_noise())
    app = build_app(store=Store.open(demo_store, create=False), profile="test",
                    config=Config(ui=UiConfig(agent="Jana")), where=isolated_home, clock=time.time)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            app.open_ticket(ticket_id)
            await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
            await wait_for(pilot, ready.exists, timeout=20)
            started = float(ready.read_text(encoding="utf-8"))
            await wait_for(pilot, lambda: "Anna antwortet gerade" in _header(app), timeout=2.0)
            assert time.time() - started <= 2.0
            # Jana starts a reply too: sending asks first, and "Nicht senden" sends nothing.
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ComposeScreen))
            await pilot.press(*"Hallo", "ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
            assert "Anna antwortet gerade auch" in app.screen.picker_title
            await pilot.press("2")
            await pilot.pause()
            assert isinstance(app.screen, ComposeScreen)
            with Store.open(demo_store, create=False) as store:
                assert store.conn.execute("SELECT count(*) FROM outbox WHERE ticket_id = ?", (ticket_id,)).fetchone()[0] == 0
                activity = store.conn.execute("SELECT activity FROM presence WHERE agent = 'Jana'").fetchone()
            assert activity == ("replying",)
    finally:
        stop.write_text("", encoding="utf-8")
        other.wait(timeout=30)
    assert other.returncode == 0
    with Store.open(demo_store, create=False) as store:  # both apps cleaned up after themselves
        assert store.conn.execute("SELECT count(*) FROM presence").fetchone()[0] == 0


def test_stale_presence_expires(demo_store: Path) -> None:
    with Store.open(demo_store, create=False) as store, store.transaction() as conn:
        ticket_id = conn.execute("SELECT id FROM tickets ORDER BY id LIMIT 1").fetchone()[0]
        presence.enter(conn, "Anna", ticket_id, "viewing", 1000)
        assert [p.agent for p in presence.others_on(conn, ticket_id, "Jana", 1000 + presence.STALE_SECONDS)] == ["Anna"]
        assert presence.others_on(conn, ticket_id, "Jana", 1001 + presence.STALE_SECONDS) == []
        presence.heartbeat(conn, "Anna", 2000)
        assert presence.others_on(conn, ticket_id, "Jana", 2001)[0].activity == "viewing"
        presence.enter(conn, "Anna", ticket_id + 1, "replying", 2002)  # one ticket at a time
        assert presence.others_on(conn, ticket_id, "Jana", 2003) == []
        assert presence.expire(conn, 3000) == 1
