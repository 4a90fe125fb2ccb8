"""`O`: the outbox for all tickets. Failed replies first (with the reason), then those being
sent or waiting, then the latest sent. `r` queues a failed one again, Enter opens its ticket."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from deskterm.domain.format import local_time
from deskterm.domain.sanitize import clean_line
from deskterm.store.db import Store
from deskterm.store.outbox import OutboxEntry, outbox_overview, requeue_failed
from deskterm.widgets.key_bar import KeyBar

_STATE = {"failed": ("✗ fehlgeschlagen", "bold #e5484d"), "sending": ("◷ wird gesendet", "#ffc53d"),
          "queued": ("◷ wartet", "#ffc53d"), "sent": ("✓ gesendet", "#46a758")}


def entry_line(entry: OutboxEntry) -> Content:
    label, style = _STATE.get(entry.status, (entry.status, ""))
    parts: list[str | tuple[str, str]] = [(f"{label:<18}", style),
                                          f"Ticket {entry.ticket_id:<7} {local_time(entry.sent_at or entry.created_at)}  ",
                                          clean_line(", ".join(entry.to_addrs), max_chars=50)]
    if entry.last_error and entry.status != "sent":
        parts.append(("  " + clean_line(entry.last_error, max_chars=110), "#8b8d98"))
    return Content.assemble(*parts)


class OutboxScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "Zurück", id="outbox.back"),
        Binding("r", "retry", "Erneut senden", id="outbox.retry"),
        Binding("enter", "open", "Ticket öffnen", id="outbox.open"),
        Binding("question_mark", "app.help", "Hilfe", id="help"),
    ]
    DEFAULT_CSS = """
    #outbox-title { height: 1; background: $primary-background; padding: 0 1; text-style: bold; }
    #outbox-list { height: 1fr; }
    """

    def __init__(self, *, store: Store, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.entries: list[OutboxEntry] = []

    def compose(self) -> ComposeResult:
        yield Static(id="outbox-title")
        yield OptionList(id="outbox-list")
        yield KeyBar()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#outbox-list").focus()

    def reload(self) -> None:
        self.entries = outbox_overview(self.store.conn)
        failed = sum(1 for e in self.entries if e.status == "failed")
        waiting = sum(1 for e in self.entries if e.status in ("queued", "sending"))
        self.query_one("#outbox-title", Static).update(
            f"Postausgang · {failed} fehlgeschlagen · {waiting} unterwegs · letzte {len(self.entries)}")
        options = self.query_one("#outbox-list", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for entry in self.entries:
            options.add_option(Option(entry_line(entry), id=str(entry.id)))
        if not self.entries:
            options.add_option(Option(Content.assemble(("Der Postausgang ist leer.", "#8b8d98")), disabled=True))
        elif highlighted is not None:
            options.highlighted = min(highlighted, len(self.entries) - 1)

    def store_changed(self) -> None:
        self.reload()

    def _selected(self) -> OutboxEntry | None:
        index = self.query_one("#outbox-list", OptionList).highlighted
        return self.entries[index] if index is not None and index < len(self.entries) else None

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_retry(self) -> None:
        entry = self._selected()
        if entry is None or entry.status != "failed":
            self.notify("Nur fehlgeschlagene Antworten können erneut gesendet werden.", markup=False, timeout=2)
            return
        outbox_id, now = entry.id, int(self.clock())
        self.app.store_write(  # type: ignore[attr-defined]
            "Antwort wird erneut gesendet", lambda conn, _now: requeue_failed(conn, outbox_id, now=now))

    def action_open(self) -> None:
        entry = self._selected()
        if entry is not None:
            self.app.open_ticket(entry.ticket_id)  # type: ignore[attr-defined]

