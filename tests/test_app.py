"""The app driven like a user: keys, search, help, welcome -> demo, failures that stay contained."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.binding import Binding

from deskterm.app import DesktermApp
from deskterm.cli import build_app
from deskterm.config import Config
from deskterm.screens.help import HelpScreen
from deskterm.screens.inbox import InboxScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.screens.welcome import WelcomeScreen
from deskterm.store.db import Store
from deskterm.widgets.ticket_list import TicketList
from tests.conftest import FROZEN_NOW


async def wait_for(pilot, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


def _app(store_path: Path | None, where, **kwargs) -> DesktermApp:  # type: ignore[no-untyped-def]
    store = Store.open(store_path, create=False) if store_path else None
    return build_app(store=store, profile="test" if store else None, config=Config(), where=where,
                     clock=lambda: FROZEN_NOW, **kwargs)


async def test_navigation_keys_and_opening_a_ticket(demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    app = _app(demo_store, isolated_home)
    async with app.run_test(size=(160, 48)) as pilot:
        ticket_list = app.screen.query_one(TicketList)
        assert ticket_list.rows.total == _count(demo_store, "status IN ('open', 'pending')")  # the inbox view
        await pilot.press("6")  # all tickets
        assert ticket_list.rows.total == 120
        await pilot.press("j", "j")
        assert ticket_list.cursor_row == 2
        await pilot.press("k")
        assert ticket_list.cursor_row == 1
        await pilot.press("G")
        assert ticket_list.cursor_row == 119
        await pilot.press("g")
        assert ticket_list.cursor_row == 0
        await pilot.press("pagedown")
        page = ticket_list.scrollable_content_region.height
        assert ticket_list.cursor_row == page and ticket_list.scroll_offset.y > 0
        await pilot.press("pageup")
        assert ticket_list.cursor_row == 0
        await pilot.press("j", "enter")
        await pilot.pause()
        expected = ticket_list.selected
        assert isinstance(app.screen, TicketScreen) and expected is not None
        assert app.screen.ticket_id == expected.id and app.screen.messages
        await pilot.press("J")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen) and app.screen.ticket_id != expected.id
        await pilot.press("q")
        assert isinstance(app.screen, InboxScreen)
        await wait_for(pilot, lambda: _unread(demo_store, expected.id) == 0)


def _count(path: Path, where: str) -> int:
    with Store.open(path, create=False) as store:
        return int(store.conn.execute(f"SELECT count(*) FROM tickets WHERE {where}").fetchone()[0])


def _unread(path: Path, ticket_id: int) -> int:
    with Store.open(path, create=False) as store:
        return int(store.conn.execute("SELECT unread FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0])


async def test_search_help_and_filter(demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    app = _app(demo_store, isolated_home)
    async with app.run_test(size=(160, 48)) as pilot:
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        await pilot.press("slash", *"rechnung", "enter")
        await wait_for(pilot, lambda: inbox.search_query == "rechnung")
        found = inbox.ticket_list.rows.total
        assert 0 < found < 120
        await pilot.press("escape")
        unresolved = _count(demo_store, "status IN ('open', 'pending')")
        assert inbox.search_query is None and inbox.ticket_list.rows.total == unresolved
        await pilot.press("slash", *"paket OR", "enter")
        await wait_for(pilot, lambda: inbox.query_one("#search-error").has_class("visible"))
        assert app.is_running
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is inbox
        await pilot.press("5")
        assert inbox.ticket_list.rows.total == _count(demo_store, "status = 'resolved'") > 0
        await pilot.press("1")
        assert inbox.ticket_list.rows.total == unresolved < 120


async def test_welcome_screen_starts_the_demo(isolated_home) -> None:  # type: ignore[no-untyped-def]
    app = _app(None, isolated_home)
    async with app.run_test(size=(160, 48)) as pilot:
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("a")
        assert "keyring" in str(app.screen.query_one("#setup").render())
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, InboxScreen))
        await pilot.press("6")  # all tickets, resolved ones too
        await wait_for(pilot, lambda: app.screen.ticket_list.rows.total >= 600, timeout=20)
        channels = {app.screen.ticket_list.rows.get(i).channel for i in range(600)}
        assert len(channels) >= 6


async def test_a_failing_sync_shows_one_line_and_the_app_keeps_running(demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    with Store.open(demo_store, create=False) as store, store.transaction() as conn:
        conn.execute("INSERT INTO accounts(key, channel, name, settings, created_at) VALUES "
                     "('no-such-demo', 'email', 'Broken', ?, 0)", (json.dumps({"source": "demo", "anchor":
                     "2026-12-04T09:30:00+00:00", "tickets": 5, "seed": 1}),))
    app = _app(demo_store, isolated_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: any("unknown demo account" in str(n.message) for n in app._notifications))
        assert app.is_running and isinstance(app.screen, InboxScreen)


class _Crashing(DesktermApp):
    BINDINGS = [Binding("ctrl+underscore", "crash", "Crash")]
    printed: list[object] = []

    def _print_error_renderables(self) -> None:
        self.printed.extend(self._exit_renderables)  # what would go to the terminal
        self._exit_renderables.clear()

    def action_crash(self) -> None:
        # Built at run time, as real secrets and bodies are (the traceback shows source lines).
        refresh_token = "-".join(["canary", "refresh", "token", "0xDEADBEEF"])  # noqa: F841
        body = " ".join(["meine", "IBAN", "ist", "DE02120300000000202051"])  # noqa: F841
        raise RuntimeError("boom")


async def test_crash_screen_does_not_print_local_variables(demo_store: Path) -> None:
    app = _Crashing(store=Store.open(demo_store, create=False), profile="t", config=Config(), clock=lambda: FROZEN_NOW)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+underscore")
            await pilot.pause()
    except RuntimeError:
        pass
    console = Console(record=True, width=120, file=open("/dev/null", "w"))  # noqa: SIM115
    for renderable in [*app.printed, *app._exit_renderables]:
        console.print(renderable)
    text = console.export_text()
    assert "RuntimeError" in text and "boom" in text
    assert "canary-refresh-token" not in text and "DE02120300000000202051" not in text


async def test_rows_with_wide_characters_fill_exactly_one_line(tmp_path: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from deskterm.model import Batch, Channel, CustomerRecord, IdentityRef, TicketRecord
    from deskterm.store.sync_writes import apply_batch, ensure_account
    from tests.conftest import ANCHOR

    path = tmp_path / "wide.sqlite3"
    buyer = IdentityRef("igsid", "17840000000001")
    with Store.open(path) as store:
        account = ensure_account(store, "ig", "instagram", "Instagram", now=0)
        tickets = [TicketRecord(f"t{n}", Channel.INSTAGRAM, buyer, text, ANCHOR - timedelta(minutes=n))
                   for n, text in enumerate(["Hi 👋👋👋 wo ist mein Paket 📦?", "全角文字のテスト" * 10, "Größe ß 🙏"])]
        apply_batch(store, account, "dm", Batch(cursor="1", customers=[CustomerRecord(buyer, "Emoji 😀 Käufer")],
                                               tickets=tickets), now=0)
    app = _app(path, isolated_home)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        ticket_list = app.screen.query_one(TicketList)
        for y in range(3):
            strip = ticket_list.render_line(y)
            assert strip.cell_length == ticket_list.content_width
            assert sum(segment.cell_length for segment in strip) == ticket_list.content_width


async def test_every_key_bound_action_is_in_the_command_palette(demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    app = _app(demo_store, isolated_home)
    async with app.run_test(size=(160, 48)) as pilot:
        for keys in ([], ["enter"]):
            await pilot.press(*keys)
            await pilot.pause()
            titles = " | ".join(c.title for c in app.get_system_commands(app.screen))
            bindings = [b for b in type(app.screen).BINDINGS if isinstance(b, Binding) and b.description
                        and b.action not in ("app.command_palette", "app.help")]
            for binding in bindings:
                assert binding.description in titles, f"{binding.description} is not in the palette"
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        panel = next(c for t, c in commands.items() if t.startswith("Bestellung (p)"))
        shown = app.screen.query_one("#order-panel").display
        panel.callback()
        await pilot.pause()
        assert app.screen.query_one("#order-panel").display != shown


async def test_a_remapped_key_works_and_an_unknown_id_is_reported(demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    from deskterm.config import load_config

    path = isolated_home.config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[keymap]\n"inbox.due" = "F"\n"inbox.nonsense" = "x"\n', encoding="utf-8")
    config = load_config(path)
    app = build_app(store=Store.open(demo_store, create=False), profile="test", config=config, where=isolated_home,
                    clock=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.inbox is not None and app.inbox.ticket_list.rows.total > 0)
        everything = app.inbox.ticket_list.rows.total
        await pilot.press("f")  # the default key no longer switches the view
        assert app.inbox.ticket_list.rows.total == everything
        await pilot.press("F")
        assert app.inbox.due_view and app.inbox.ticket_list.rows.total < everything
        assert any("unbekannte Aktion inbox.nonsense" in str(n.message) for n in app._notifications)
