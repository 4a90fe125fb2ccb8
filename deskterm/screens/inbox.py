"""The inbox: every ticket of every channel in one virtual list, with search."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from deskterm.widgets.key_bar import KeyBar
from deskterm.domain.sanitize import clean_line
from deskterm.domain.format import channel_label
from deskterm.store.db import Store
from deskterm.store.gdpr_register import reminders
from deskterm.store.inbox import channel_counts, due_counts
from deskterm.store.search import QueryError, search_tickets
from deskterm.widgets.rows import DueRows, IdRows, InboxRows
from deskterm.widgets.status_bar import SyncStatusBar
from deskterm.widgets.ticket_list import TicketList, header_text

SEARCH_LIMIT = 200


class SearchDone(Message):
    def __init__(self, query: str, ticket_ids: list[int], more: bool) -> None:
        super().__init__()
        self.query = query
        self.ticket_ids = ticket_ids
        self.more = more


class SearchFailed(Message):
    def __init__(self, query: str, reason: str) -> None:
        super().__init__()
        self.query = query
        self.reason = reason


def run_search(store_path: Path, query: str) -> tuple[list[int], bool]:
    """Search in the calling (worker) thread with its own connection; newest activity first."""
    with Store.open(store_path, create=False) as store:
        page = search_tickets(store.conn, query, limit=SEARCH_LIMIT)
        ids = page.ticket_ids
        if ids:
            marks = ",".join("?" * len(ids))
            ids = [r[0] for r in store.conn.execute(
                f"SELECT id FROM tickets WHERE id IN ({marks}) ORDER BY last_message_at DESC, id DESC", ids)]
        return ids, page.next_before is not None


class InboxScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "search", "Suche", id="inbox.search"),
        Binding("escape", "clear_search", "Alle Tickets", show=False),
        Binding("o", "toggle_open", "Nur offene", id="inbox.open_only"),
        Binding("f", "toggle_due", "Nach Frist", id="inbox.due"),
        Binding("s", "app.sync", "Sync", id="inbox.sync"),
        Binding("D", "app.gdpr", "DSGVO", id="inbox.gdpr"),
        Binding("A", "app.accounts", "Konten", id="inbox.accounts"),
        Binding("O", "app.outbox", "Postausgang", id="inbox.outbox"),
        Binding("question_mark", "app.help", "Hilfe", id="help"),
        Binding("colon", "app.command_palette", "Befehle", show=False),
        Binding("q", "app.quit", "Beenden", id="quit"),
    ]

    DEFAULT_CSS = """
    #inbox-title { height: 1; background: $primary-background; padding: 0 1; text-style: bold; }
    #inbox-columns { height: 1; color: $text-muted; padding: 0 0; }
    #inbox-list { height: 1fr; }
    #search-input { display: none; }
    #search-input.visible { display: block; }
    #search-error { display: none; height: auto; color: $error; padding: 0 1; }
    #search-error.visible { display: block; }
    """

    def __init__(self, *, store: Store, profile: str, clock: Callable[[], float]) -> None:
        super().__init__()
        self.store = store
        self.profile = profile
        self.clock = clock
        self.status_filter: str | None = None
        self.due_view = False
        self.search_query: str | None = None
        self.search_more = False
        self.all_rows: InboxRows | DueRows = InboxRows(store.conn)

    def compose(self) -> ComposeResult:
        yield Static("", id="inbox-title", markup=False)
        yield Static("", id="inbox-columns", markup=False)
        yield TicketList(self.all_rows, clock=self.clock, id="inbox-list")
        yield Input(placeholder="Suchen: Wörter, \"Phrase\", präfix*, a AND b, Bestellnummer …", id="search-input")
        yield Static("", id="search-error", markup=False)
        yield SyncStatusBar(clock=self.clock, id="sync-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(TicketList).focus()
        self.update_title()
        self.call_after_refresh(self._update_columns)
        self.call_after_refresh(self.app.refresh_status_bar)  # type: ignore[attr-defined]

    def on_resize(self) -> None:
        self.call_after_refresh(self._update_columns)

    def _update_columns(self) -> None:
        self.query_one("#inbox-columns", Static).update(Content(header_text(self.ticket_list.content_width)))

    @property
    def ticket_list(self) -> TicketList:
        return self.query_one(TicketList)

    def update_title(self) -> None:
        total = self.ticket_list.rows.total
        parts: list[str | tuple[str, str]] = [("deskterm", "bold"), f" · Profil {clean_line(self.profile)} · "]
        if self.search_query is not None:
            more = "+" if self.search_more else ""
            parts.append(f"Suche „{clean_line(self.search_query, max_chars=60)}“: {total}{more} Tickets "
                         "(neueste zuerst, Esc zeigt alle)")
        else:
            label = ("Tickets mit laufender Frist (früheste zuerst)" if self.due_view else
                     "offene Tickets" if self.status_filter == "open" else "Tickets")
            counts = channel_counts(self.store.conn)
            per_channel = "  ".join(f"{channel_label(k)} {v}" for k, v in sorted(counts.items()))
            parts.append(f"{total} {label}")
            overdue, soon = due_counts(self.store.conn, int(self.clock()))
            if overdue or soon:
                parts.append(("   Antworten: ", "bold"))
                if overdue:
                    parts.append((f"{overdue} überfällig", "bold #e5484d"))
                if soon:
                    parts.append(((" · " if overdue else "") + f"{soon} fällig < 4 h", "#ffc53d"))
                parts.append((" (f)", "#8b8d98"))
            # Deadlines first: they must stay visible when the line is cut.
            due_soon, overdue, flags = reminders(self.store.conn, int(self.clock()))
            if due_soon or overdue or flags:
                parts.append(("   DSGVO: ", "bold #ffc53d"))
                notes = [f"{overdue} überfällig" if overdue else "", f"{due_soon} fällig ≤ 7 Tage" if due_soon else "",
                         f"{flags} Anfrage(n) erkannt" if flags else ""]
                parts.append((" · ".join(n for n in notes if n) + " (D)", "#ffc53d"))
            if per_channel:
                parts.append((f"   offen je Kanal: {per_channel}", "#8b8d98"))
        self.query_one("#inbox-title", Static).update(Content.assemble(*parts))

    def store_changed(self) -> None:
        """Called by the app when another connection committed: re-read the visible window."""
        self.ticket_list.reload()
        self.update_title()

    # -- views -------------------------------------------------------------------------

    def action_toggle_due(self) -> None:
        """Tickets waiting for an answer, by deadline (overdue first); again: back to all."""
        self.due_view = not self.due_view
        self.search_query = None
        self.all_rows = DueRows(self.store.conn) if self.due_view else InboxRows(self.store.conn,
                                                                                 status=self.status_filter)
        self.ticket_list.set_rows(self.all_rows)
        self.update_title()

    def action_toggle_open(self) -> None:
        self.status_filter = None if self.status_filter == "open" else "open"
        self.due_view = False
        self.search_query = None
        self.all_rows = InboxRows(self.store.conn, status=self.status_filter)
        self.ticket_list.set_rows(self.all_rows)
        self.update_title()

    # -- search ------------------------------------------------------------------------

    def action_search(self) -> None:
        box = self.query_one("#search-input", Input)
        box.add_class("visible")
        box.focus()

    def action_clear_search(self) -> None:
        box = self.query_one("#search-input", Input)
        box.remove_class("visible")
        box.value = ""
        self.query_one("#search-error", Static).remove_class("visible")
        if self.search_query is not None:
            self.search_query = None
            self.all_rows.reload()
            self.ticket_list.set_rows(self.all_rows)
            self.update_title()
        self.ticket_list.focus()

    @on(Input.Submitted, "#search-input")
    def _submit_search(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:
            self.action_clear_search()
            return
        self.query_one("#search-error", Static).remove_class("visible")
        self.search_worker(query)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search_worker(self, query: str) -> None:
        try:
            ids, more = run_search(self.store.path, query)
        except QueryError as exc:
            self.post_message(SearchFailed(query, str(exc)))
            return
        self.post_message(SearchDone(query, ids, more))

    def on_search_done(self, message: SearchDone) -> None:
        self.search_query = message.query
        self.search_more = message.more
        self.query_one("#search-input", Input).remove_class("visible")
        self.ticket_list.set_rows(IdRows(self.store.conn, message.ticket_ids))
        self.ticket_list.focus()
        self.update_title()

    def on_search_failed(self, message: SearchFailed) -> None:
        error = self.query_one("#search-error", Static)
        error.update(Content(f"Suche nicht möglich: {clean_line(message.reason)}"))
        error.add_class("visible")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "search" and event.state == WorkerState.ERROR:
            self.on_search_failed(SearchFailed("", str(event.worker.error)))

    # -- opening -----------------------------------------------------------------------

    def on_ticket_list_opened(self, message: TicketList.Opened) -> None:
        self.app.open_ticket(message.ticket_id)  # type: ignore[attr-defined]
