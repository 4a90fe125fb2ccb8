"""`t` on a ticket: every message of the customer on every channel, newest first."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from deskterm.domain.sanitize import clean_line
from deskterm.domain.format import channel_label, local_time
from deskterm.store.db import Store
from deskterm.store.order_context import customer_summary, customer_timeline
from deskterm.widgets.key_bar import KeyBar

_MARK = {"in": "◀", "out": "▶", "note": "✎"}


class TimelineScreen(Screen[None]):
    BINDINGS = [
        Binding("q,escape", "back", "Zurück", id="timeline.back"),
        Binding("j", "cursor_down", "Runter", show=False),
        Binding("k", "cursor_up", "Hoch", show=False),
        Binding("question_mark", "app.help", "Hilfe", id="help"),
    ]
    DEFAULT_CSS = """
    #timeline-title { height: 1; background: $primary-background; padding: 0 1; text-style: bold; }
    #timeline { height: 1fr; }
    """

    def __init__(self, *, store: Store, customer_id: int) -> None:
        super().__init__()
        self.store = store
        self.customer_id = customer_id
        self.entries = customer_timeline(store.conn, customer_id)

    def compose(self) -> ComposeResult:
        summary = customer_summary(self.store.conn, self.customer_id)
        name = clean_line(summary.display_name) if summary else "?"
        channels = ", ".join(channel_label(c) for c in summary.channels) if summary else ""
        yield Static(Content(f"Verlauf: {name} · {len(self.entries)} Nachrichten · {channels}"), id="timeline-title",
                     markup=False)
        options = []
        for entry in self.entries:
            prompt = Content.assemble(
                (f"{channel_label(entry.channel):<10}", "bold"),
                f" {_MARK.get(entry.direction, '?')} {local_time(entry.sent_at)}  ",
                (clean_line(entry.subject, max_chars=50), "bold"),
                ("  " + clean_line(entry.snippet, max_chars=90), "#8b8d98"),
            )
            options.append(Option(prompt))
        yield OptionList(*options, id="timeline")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        entry = self.entries[event.option_index]
        self.app.pop_screen()
        self.app.open_ticket_from_timeline(entry.ticket_id)  # type: ignore[attr-defined]
