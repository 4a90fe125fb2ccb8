"""The inbox: every ticket of every channel in one virtual list, with views, the search
language, marks and triage actions."""

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

from deskterm.domain.format import channel_label
from deskterm.domain.query import QueryError, parse_query
from deskterm.domain.sanitize import clean_line
from deskterm.domain.views import BUILTIN_VIEWS, View, all_views
from deskterm.screens.triage import INBOX_BINDINGS, Triage
from deskterm.store.db import Store
from deskterm.store.gdpr_register import reminders
from deskterm.store.inbox import channel_counts, due_counts
from deskterm.store.query import RESULT_LIMIT, SEARCH_LIMIT, run_query
from deskterm.widgets.key_bar import KeyBar
from deskterm.widgets.rows import DueRows, IdRows, InboxRows, QueueRows
from deskterm.widgets.status_bar import SyncStatusBar
from deskterm.widgets.ticket_list import TicketList, header_text

class QueryDone(Message):
    def __init__(self, purpose: str, text: str, ticket_ids: list[int], more: bool) -> None:
        super().__init__()
        self.purpose = purpose  # "search", "select" (mark every result) or "view"
        self.text = text
        self.ticket_ids = ticket_ids
        self.more = more


class QueryFailed(Message):
    def __init__(self, text: str, reason: str) -> None:
        super().__init__()
        self.text = text
        self.reason = reason


def run_search(store_path: Path, text: str, *, now: int, agent: str,
               limit: int = SEARCH_LIMIT) -> tuple[list[int], bool]:
    """Parse and run a query in the calling (worker) thread with its own connection."""
    query = parse_query(text, now=now, agent=agent)
    with Store.open(store_path, create=False) as store:
        result = run_query(store.conn, query, now=now, agent=agent, limit=limit)
    return result.ticket_ids, result.more


BUILTIN_VIEW_BINDINGS = [Binding(view.key, f"view({index})", f"Ansicht: {view.name}", show=False,
                                 id=f"view.{index + 1}") for index, view in enumerate(BUILTIN_VIEWS)]


class InboxScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "search", "Suche", id="inbox.search"),
        Binding("escape", "clear_search", "Zurück zur Ansicht", show=False),
        Binding("v", "pick_view", "Ansichten", id="inbox.views"),
        Binding("f", "toggle_due", "Nach Frist (nochmals: zurück)", show=False, id="inbox.due"),
        Binding("x", "toggle_mark", "Markieren", id="inbox.mark"),
        Binding("T", "select_by_query", "Per Suche markieren", show=False, id="inbox.mark_query"),
        Binding("X", "clear_marks", "Markierungen aufheben", show=False, id="inbox.unmark"),
        *INBOX_BINDINGS,
        *BUILTIN_VIEW_BINDINGS,
        Binding("s", "app.sync", "Sync", id="inbox.sync"),
        Binding("R", "app.report", "Bericht", show=False, id="inbox.report"),
        Binding("D", "app.gdpr", "DSGVO", id="inbox.gdpr"),
        Binding("A", "app.accounts", "Konten", show=False, id="inbox.accounts"),
        Binding("O", "app.outbox", "Postausgang", show=False, id="inbox.outbox"),
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

    def __init__(self, *, store: Store, profile: str, clock: Callable[[], float], agent: str = "",
                 saved_views: dict[str, dict[str, str]] | None = None, agents: tuple[str, ...] = (),
                 queues: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.store = store
        self.profile = profile
        self.clock = clock
        self.agent = agent
        self.views = all_views(saved_views or {})
        self.view = self.views[0]
        self.search_query: str | None = None
        self.search_more = False
        self.input_purpose = "search"
        self.marked: set[int] = set()
        self.all_rows: QueueRows | DueRows | InboxRows | IdRows = QueueRows(store.conn)
        self.team = (agents, queues)
        self._triage: Triage | None = None
        for index, view in enumerate(self.views[len(BUILTIN_VIEWS):], start=len(BUILTIN_VIEWS)):
            if view.key:  # saved views from config: their own keys
                self._bindings.bind(view.key, f"view({index})", f"Ansicht: {view.name}", show=False)

    @property
    def triage(self) -> Triage:
        if self._triage is None:
            self._triage = Triage(self.app, self._action_targets, agent=self.agent, agents=self.team[0],
                                  queues=self.team[1], done=self.action_clear_marks)
        return self._triage

    @property
    def due_view(self) -> bool:
        return self.view.provider == "due"

    def compose(self) -> ComposeResult:
        yield Static("", id="inbox-title", markup=False)
        yield Static("", id="inbox-columns", markup=False)
        yield TicketList(self.all_rows, clock=self.clock, marked=self.marked, id="inbox-list")
        yield Input(placeholder="Suchen: Wörter, \"Phrase\", channel:amazon due:<4h is:unread -tag:vip …",
                    id="search-input")
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
        parts: list[str | tuple[str, str]] = [("deskterm", "bold"), f" · {clean_line(self.profile)} · "]
        if self.search_query is not None:
            more = "+" if self.search_more else ""
            parts.append(f"Suche „{clean_line(self.search_query, max_chars=60)}“: {total}{more} Tickets (Esc: zurück)")
        else:
            more = "+" if self.search_more and self.view.query else ""
            parts.append((f"{self.view.name}", "bold"))
            parts.append(f" {total}{more}")
            if self.view.description:
                parts.append((f" ({clean_line(self.view.description, max_chars=50)})", "#8b8d98"))
            overdue, soon = due_counts(self.store.conn, int(self.clock()))
            if overdue or soon:
                parts.append(("   Antworten: ", "bold"))
                if overdue:
                    parts.append((f"{overdue} überfällig", "bold #e5484d"))
                if soon:
                    parts.append(((" · " if overdue else "") + f"{soon} fällig < 4 h", "#ffc53d"))
                parts.append((" (f)", "#8b8d98"))
            # Deadlines first: they must stay visible when the line is cut.
            due_soon, late, flags = reminders(self.store.conn, int(self.clock()))
            if due_soon or late or flags:
                parts.append(("   DSGVO: ", "bold #ffc53d"))
                notes = [f"{late} überfällig" if late else "", f"{due_soon} fällig ≤ 7 Tage" if due_soon else "",
                         f"{flags} Anfrage(n) erkannt" if flags else ""]
                parts.append((" · ".join(n for n in notes if n) + " (D)", "#ffc53d"))
            counts = channel_counts(self.store.conn)
            per_channel = "  ".join(f"{channel_label(k)} {v}" for k, v in sorted(counts.items()))
            if per_channel:
                parts.append((f"   offen je Kanal: {per_channel}", "#8b8d98"))
        if self.marked:
            parts.insert(2, (f"{len(self.marked)} markiert · ", "bold #8da4ef"))
        self.query_one("#inbox-title", Static).update(Content.assemble(*parts))

    def store_changed(self) -> None:
        """Called by the app when another connection committed: re-read the visible window;
        a search-backed view or result runs again (in a worker)."""
        if self.search_query is not None:
            self._run_query("search", self.search_query)
        elif self.view.query:
            self._run_query("view", self.view.query)
        self.ticket_list.reload()
        self.update_title()

    # -- views -------------------------------------------------------------------------

    def _provider_rows(self, view: View) -> QueueRows | DueRows | InboxRows:
        conn = self.store.conn
        if view.provider == "due":
            return DueRows(conn)
        if view.provider == "all":
            return InboxRows(conn)
        if view.provider == "resolved":
            return InboxRows(conn, status="resolved")
        return QueueRows(conn)

    def action_toggle_due(self) -> None:
        """The due view; pressed again, back to the inbox."""
        self.action_view(0 if self.view is self.views[1] and self.search_query is None else 1)

    def action_view(self, index: int) -> None:
        """Switch to view `index` (built-in 1-6, then saved views)."""
        self.view = self.views[index]
        self.search_query = None
        self.search_more = False
        self._hide_search()
        if self.view.provider:
            self.all_rows = self._provider_rows(self.view)
            self.ticket_list.set_rows(self.all_rows)
        else:
            self.all_rows = IdRows(self.store.conn, [])
            self.ticket_list.set_rows(self.all_rows)
            self._run_query("view", self.view.query)
        self.update_title()

    def action_pick_view(self) -> None:
        from deskterm.screens.pickers import ChoiceScreen

        options = [(str(i), f"{v.name}  ({v.key or '–'})  {v.description}") for i, v in enumerate(self.views)]
        self.app.push_screen(ChoiceScreen("Ansicht wählen", options), self._view_chosen)

    def _view_chosen(self, choice: str | None) -> None:
        if choice is not None:
            self.action_view(int(choice))

    # -- search ------------------------------------------------------------------------

    def action_search(self) -> None:
        self._open_input("search")

    def action_select_by_query(self) -> None:
        """Mark every ticket a query finds (then `;` or an action key applies to all of them)."""
        self._open_input("select")

    def _open_input(self, purpose: str) -> None:
        self.input_purpose = purpose
        box = self.query_one("#search-input", Input)
        box.placeholder = ("Markieren per Suche: channel:amazon is:unread …" if purpose == "select" else
                           "Suchen: Wörter, \"Phrase\", channel:amazon due:<4h is:unread -tag:vip …")
        box.add_class("visible")
        box.focus()

    def _hide_search(self) -> None:
        box = self.query_one("#search-input", Input)
        box.remove_class("visible")
        box.value = ""
        self.query_one("#search-error", Static).remove_class("visible")

    def action_clear_search(self) -> None:
        had_search = self.search_query is not None
        self._hide_search()
        if had_search:
            self.search_query = None
            self.all_rows.reload()
            self.ticket_list.set_rows(self.all_rows)
            if self.view.query:
                self._run_query("view", self.view.query)
            self.update_title()
        elif self.marked:
            self.action_clear_marks()
        self.ticket_list.focus()

    @on(Input.Submitted, "#search-input")
    def _submit_search(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.action_clear_search()
            return
        self.query_one("#search-error", Static).remove_class("visible")
        self._run_query(self.input_purpose, text)

    def _run_query(self, purpose: str, text: str) -> None:
        self.query_worker(purpose, text, int(self.clock()))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def query_worker(self, purpose: str, text: str, now: int) -> None:
        try:
            # Marking by query and saved views take everything (up to 5,000); a search shows
            # the newest 500 matches.
            limit = SEARCH_LIMIT if purpose == "search" else RESULT_LIMIT
            ids, more = run_search(self.store.path, text, now=now, agent=self.agent, limit=limit)
        except QueryError as exc:
            self.post_message(QueryFailed(text, str(exc)))
            return
        self.post_message(QueryDone(purpose, text, ids, more))

    def on_query_done(self, message: QueryDone) -> None:
        if message.purpose == "view":
            if self.search_query is not None or message.text != self.view.query:
                return  # the agent moved on meanwhile
            self.search_more = message.more
            self._show_ids(message.ticket_ids, keep_cursor=True)
            return
        self.search_query = message.text
        self.search_more = message.more
        self.query_one("#search-input", Input).remove_class("visible")
        if message.purpose == "select":
            self.marked.clear()
            self.marked.update(message.ticket_ids)
            self.input_purpose = "search"
        self._show_ids(message.ticket_ids, keep_cursor=message.purpose == "search" and self.ticket_list.has_focus)
        self.ticket_list.focus()
        self.update_title()

    def _show_ids(self, ids: list[int], *, keep_cursor: bool) -> None:
        rows = IdRows(self.store.conn, ids)
        if isinstance(self.ticket_list.rows, IdRows) and keep_cursor:
            self.ticket_list.replace_rows(rows)
        else:
            self.ticket_list.set_rows(rows)
        if self.search_query is None:
            self.all_rows = rows
        self.update_title()

    def on_query_failed(self, message: QueryFailed) -> None:
        error = self.query_one("#search-error", Static)
        error.update(Content(f"Suche nicht möglich: {clean_line(message.reason)}"))
        error.add_class("visible")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "search" and event.state == WorkerState.ERROR:
            self.on_query_failed(QueryFailed("", str(event.worker.error)))

    # -- marks and triage --------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        row = self.ticket_list.selected
        if row is None:
            return
        if row.id in self.marked:
            self.marked.discard(row.id)
        else:
            self.marked.add(row.id)
        self.ticket_list.action_cursor_down()
        self.ticket_list.refresh()
        self.update_title()

    def action_clear_marks(self) -> None:
        self.marked.clear()
        self.ticket_list.refresh()
        self.update_title()

    def _action_targets(self) -> list[int]:
        """Marked tickets, or else the one under the cursor."""
        if self.marked:
            return sorted(self.marked)
        row = self.ticket_list.selected
        return [row.id] if row is not None and row.channel else []

    def action_triage(self, action: str) -> None:
        self.triage.run(action)

    # -- opening -----------------------------------------------------------------------

    def on_ticket_list_opened(self, message: TicketList.Opened) -> None:
        self.app.open_ticket(message.ticket_id)  # type: ignore[attr-defined]
