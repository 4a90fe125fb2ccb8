"""One ticket: header with channel, customer and order, then the whole thread."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from deskterm.widgets.key_bar import KeyBar
from deskterm.domain.sanitize import clean_line
from deskterm.model import Channel
from deskterm.store.db import Store
from deskterm.store.inbox import MessageRow, TicketDetail, ticket_detail, ticket_messages
from deskterm.widgets.rows import STATUS_LABELS, to_display
from deskterm.widgets.thread_view import thread_content
from deskterm.widgets.timefmt import local_time

THREAD_LIMIT = 200


class ThreadScroll(VerticalScroll, can_focus=True):
    BINDINGS = [
        Binding("j,down", "scroll_down", "Runter", show=False),
        Binding("k,up", "scroll_up", "Hoch", show=False),
        Binding("g,home", "scroll_home", "Anfang", show=False),
        Binding("G,end", "scroll_end", "Ende", show=False),
        Binding("space,pagedown", "page_down", "Seite runter", show=False),
        Binding("b,pageup", "page_up", "Seite hoch", show=False),
    ]


class TicketScreen(Screen[None]):
    BINDINGS = [
        Binding("q,escape", "back", "Zurück", id="ticket.back"),
        Binding("z", "toggle_quoted", "Zitate", id="ticket.quoted"),
        Binding("J", "next_ticket", "Nächstes", id="ticket.next"),
        Binding("K", "previous_ticket", "Voriges", id="ticket.previous"),
        Binding("question_mark", "app.help", "Hilfe", id="help"),
        Binding("colon", "app.command_palette", "Befehle", show=False),
    ]

    DEFAULT_CSS = """
    #ticket-header { height: auto; background: $primary-background; padding: 0 1; }
    #thread { height: 1fr; padding: 0 1; }
    """

    def __init__(self, *, store: Store, ticket_id: int, clock: Callable[[], float]) -> None:
        super().__init__()
        self.store = store
        self.ticket_id = ticket_id
        self.clock = clock
        self.show_quoted = False
        self.detail: TicketDetail | None = None
        self.messages: list[MessageRow] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="ticket-header", markup=False)
        with ThreadScroll(id="thread"):
            yield Static("", id="thread-body", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.load()
        self.query_one(ThreadScroll).focus()

    def load(self) -> None:
        """Bounded reads: the ticket row and its newest THREAD_LIMIT messages."""
        self.detail = ticket_detail(self.store.conn, self.ticket_id)
        self.messages = ticket_messages(self.store.conn, self.ticket_id, limit=THREAD_LIMIT)
        self.query_one("#ticket-header", Static).update(self._header())
        total = self.detail.row.message_count if self.detail else None
        body = thread_content(self.messages, show_quoted=self.show_quoted, total=total)
        self.query_one("#thread-body", Static).update(body)

    def _header(self) -> Content:
        if self.detail is None:
            return Content("Dieses Ticket gibt es nicht mehr.")
        row = to_display(self.detail.row)
        try:
            channel = Channel(self.detail.row.channel).label
        except ValueError:
            channel = row.channel
        parts: list[str | tuple[str, str]] = [
            (row.subject + "\n", "bold"),
            (f"{channel}", "bold #ffc53d"),
            f" · {clean_line(self.detail.account_name)} · {row.customer}",
        ]
        if row.order_ref:
            parts.append(f" · Bestellung {row.order_ref}")
        parts.append((f" · {self.detail.row.message_count} Nachrichten · zuletzt {local_time(row.last_message_at)}"
                      f" · {STATUS_LABELS.get(row.status, row.status)}", "#8b8d98"))
        return Content.assemble(*parts)

    def show_ticket(self, ticket_id: int) -> None:
        """Switch this (reused) screen to another ticket, from its top."""
        self.ticket_id = ticket_id
        self.show_quoted = False
        if self.is_mounted:
            self.load()
            self.query_one(ThreadScroll).scroll_home(animate=False, immediate=True)

    def store_changed(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_quoted(self) -> None:
        self.show_quoted = not self.show_quoted
        self.load()

    def action_next_ticket(self) -> None:
        self.app.step_ticket(self, +1)  # type: ignore[attr-defined]

    def action_previous_ticket(self) -> None:
        self.app.step_ticket(self, -1)  # type: ignore[attr-defined]
