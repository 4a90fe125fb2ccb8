"""One ticket: header with channel, customer and order, then the whole thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from deskterm.widgets.key_bar import KeyBar
from deskterm.store.db import Store
from deskterm.store.audit import append_audit
from deskterm.store.customers import (
    answer_link_suggestion,
    answer_suggestion,
    merges_of,
    open_suggestions,
    unmerge,
)
from deskterm.store.inbox import MessageRow, TicketDetail, ticket_detail, ticket_messages
from deskterm.store.order_context import (
    customer_orders,
    customer_summary,
    link_suggestions,
    order_detail,
    ticket_customer,
)
from deskterm.widgets.order_panel import PanelData, panel_content
from deskterm.widgets.ticket_header import ticket_header
from deskterm.widgets.thread_view import ThreadView, thread_blocks

THREAD_LIMIT = 200
HEARTBEAT_SECONDS = 10
PANEL_MIN_WIDTH = 130  # the order panel opens by itself on screens at least this wide


class AmazonActions(Message):
    """The typed messages Amazon permits on the ticket's order (fetched in a worker)."""

    def __init__(self, account: str, order: str, actions: list[tuple[str, str]]) -> None:
        super().__init__()
        self.account, self.order, self.actions = account, order, actions


class UndoResult(Message):
    def __init__(self, undone: bool) -> None:
        super().__init__()
        self.undone = undone


class TicketScreen(Screen[None]):
    BINDINGS = [
        Binding("q,escape", "back", "Zurück", id="ticket.back"),
        Binding("r", "compose('reply')", "Antworten", id="ticket.reply"),
        Binding("n", "compose('note')", "Notiz", id="ticket.note"),
        Binding("U", "undo_send", "Senden zurücknehmen", show=False, id="ticket.undo_send"),
        Binding("z", "toggle_quoted", "Zitate", id="ticket.quoted"),
        Binding("J", "next_ticket", "Nächstes", id="ticket.next"),
        Binding("K", "previous_ticket", "Voriges", id="ticket.previous"),
        Binding("p", "toggle_panel", "Bestellung", id="ticket.panel"),
        Binding("t", "timeline", "Verlauf", id="ticket.timeline"),
        Binding("f", "fetch_whole", "Große Mail laden", show=False, id="ticket.fetch_whole"),
        Binding("right_square_bracket", "cycle_order(1)", "Nächste Bestellung", show=False, id="ticket.order_next"),
        Binding("left_square_bracket", "cycle_order(-1)", "Vorige Bestellung", show=False, id="ticket.order_prev"),
        Binding("v", "reveal_address", "Adresse zeigen (protokolliert)", show=False, id="ticket.reveal"),
        Binding("m", "answer_merge(True)", "Zusammenführen", show=False, id="ticket.merge_accept"),
        Binding("M", "answer_merge(False)", "Vorschlag ablehnen", show=False, id="ticket.merge_reject"),
        Binding("u", "unmerge", "Zusammenführung trennen", show=False, id="ticket.unmerge"),
        Binding("l", "answer_link(True)", "Bestellung zuordnen", show=False, id="ticket.link_accept"),
        Binding("L", "answer_link(False)", "Zuordnung ablehnen", show=False, id="ticket.link_reject"),
        Binding("e", "triage('resolve')", "Erledigen", id="ticket.resolve"),
        Binding("a", "amazon_message", "Amazon-Nachricht zur Bestellung", show=False, id="ticket.amazon_message"),
        Binding("semicolon", "triage('menu')", "Aktionen", id="ticket.triage"),
        Binding("i", "triage('intent')", "Anliegen festlegen", show=False, id="ticket.intent"),
        Binding("question_mark", "app.help", "Hilfe", id="help"),
        Binding("colon", "app.command_palette", "Befehle", show=False),
    ]

    DEFAULT_CSS = """
    #ticket-header { height: auto; background: $primary-background; padding: 0 1; }
    #ticket-body { height: 1fr; }
    #thread { width: 1fr; height: 1fr; padding: 0 1; }
    #order-panel { width: 60; height: 1fr; padding: 0 1; border-left: vkey $panel-lighten-2;
                   background: $surface-darken-1; }
    #order-panel.hidden { display: none; }
    """

    def __init__(self, *, store: Store, ticket_id: int, clock: Callable[[], float]) -> None:
        super().__init__()
        self.store = store
        self.ticket_id = ticket_id
        self.clock = clock
        self.show_quoted = False
        self.detail: TicketDetail | None = None
        self.messages: list[MessageRow] = []
        self.panel = PanelData()
        self.order_ids: list[int] = []
        self.last_queued: int | None = None
        self.order_position = 0
        self.revealed_orders: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Static("", id="ticket-header", markup=False)
        with Horizontal(id="ticket-body"):
            yield ThreadView(id="thread")
            with VerticalScroll(id="order-panel"):
                yield Static("", id="order-panel-body", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        if self.app.size.width < PANEL_MIN_WIDTH:
            self.query_one("#order-panel").add_class("hidden")
        self.load()
        self.query_one(ThreadView).focus()
        self.set_interval(HEARTBEAT_SECONDS, self._refresh_header)

    def on_screen_resume(self) -> None:
        self.app.set_presence(self.ticket_id, "viewing")  # type: ignore[attr-defined]

    def _refresh_header(self) -> None:
        """Presence of others expires without any write: re-read the header now and then."""
        if self.app.screen is self:
            self.query_one("#ticket-header", Static).update(self._header())

    def load(self) -> None:
        """Bounded reads: the ticket row and its newest THREAD_LIMIT messages."""
        self.detail = ticket_detail(self.store.conn, self.ticket_id)
        self.messages = ticket_messages(self.store.conn, self.ticket_id, limit=THREAD_LIMIT)
        self.query_one("#ticket-header", Static).update(self._header())
        total = self.detail.row.message_count if self.detail else None
        self.query_one(ThreadView).set_blocks(thread_blocks(self.messages, show_quoted=self.show_quoted, total=total))
        self.load_panel()

    def load_panel(self) -> None:
        """Bounded reads for the order panel: one order, one customer summary, suggestions."""
        conn = self.store.conn
        customer_id, linked = ticket_customer(conn, self.ticket_id)
        self.order_ids = customer_orders(conn, customer_id) if customer_id is not None else []
        if linked is not None:
            self.order_ids = [linked] + [o for o in self.order_ids if o != linked]
        self.order_position = min(self.order_position, max(0, len(self.order_ids) - 1))
        order = order_detail(conn, self.order_ids[self.order_position], now=self.clock()) if self.order_ids else None
        self.panel = PanelData(
            customer=customer_summary(conn, customer_id, exclude_ticket=self.ticket_id) if customer_id else None,
            order=order,
            order_position=self.order_position,
            order_count=len(self.order_ids),
            linked_order_id=linked,
            merges=merges_of(conn, customer_id) if customer_id else [],
            suggestions=open_suggestions(conn, customer_id) if customer_id else [],
            link_suggestions=link_suggestions(conn, self.ticket_id),
            address_revealed=order is not None and order.id in self.revealed_orders,
        )
        self.query_one("#order-panel-body", Static).update(panel_content(self.panel))

    def _header(self) -> Content:
        agent = self.app.agent_name  # type: ignore[attr-defined]
        return ticket_header(self.store.conn, self.ticket_id, self.detail, agent=agent, now=self.clock())

    def show_ticket(self, ticket_id: int) -> None:
        """Switch this (reused) screen to another ticket, from its top."""
        if self.is_mounted and self.app.screen is self and ticket_id != self.ticket_id:
            self.app.set_presence(ticket_id, "viewing")  # type: ignore[attr-defined]
        self.ticket_id = ticket_id
        self.show_quoted = False
        self.order_position = 0
        self.revealed_orders.clear()
        if self.is_mounted:
            self.load()

    def store_changed(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.set_presence(None)  # type: ignore[attr-defined]
        self.app.pop_screen()

    def action_compose(self, kind: str) -> None:
        """Reply or note: the composer keeps a draft and returns a queued reply's outbox id."""
        from deskterm.screens.compose import ComposeScreen

        app = self.app
        screen = ComposeScreen(store=self.store, ticket_id=self.ticket_id, kind=kind, config=app.config,  # type: ignore[attr-defined]
                               agent=app.agent_name, clock=self.clock)  # type: ignore[attr-defined]
        app.push_screen(screen, self._composed)
        if kind == "reply":
            app.set_presence(self.ticket_id, "replying")  # type: ignore[attr-defined]

    def _composed(self, outbox_id: int | None) -> None:
        self.app.set_presence(self.ticket_id, "viewing")  # type: ignore[attr-defined]
        if outbox_id is not None:
            self.last_queued = outbox_id
        self.load()

    def action_undo_send(self) -> None:
        """Take back the reply just sent, while its undo window lasts; it becomes the draft again."""
        if self.last_queued is None:
            self.notify("Keine Antwort zum Zurücknehmen.", markup=False, timeout=2)
            return
        outbox_id, self.last_queued = self.last_queued, None
        self.undo_worker(self.store.path, outbox_id)

    @work(thread=True, exclusive=True, group="undo-send", exit_on_error=False)
    def undo_worker(self, store_path: Path, outbox_id: int) -> None:
        from deskterm.store.replies import undo_send

        with Store.open(store_path, create=False) as store:
            undone = undo_send(store, outbox_id, now=int(self.clock()))
        self.post_message(UndoResult(undone))

    def on_undo_result(self, message: UndoResult) -> None:
        if message.undone:
            self.notify("Zurückgenommen: die Antwort ist wieder ein Entwurf (r).", markup=False, timeout=3)
            self.app.poll_store()  # type: ignore[attr-defined]
            self.load()
        else:
            self.notify("Zu spät: die Antwort ist schon unterwegs.", severity="warning", markup=False, timeout=3)

    def action_fetch_whole(self) -> None:
        """Download the large mails of this ticket that were stored as headers only."""
        partial = [m.id for m in self.messages if m.partial]
        if not partial:
            self.notify("Alle Nachrichten dieses Tickets sind vollständig geladen.", markup=False, timeout=3)
            return
        self.notify(f"Lade {len(partial)} große Nachricht(en) …", markup=False, timeout=3)
        self.app.fetch_whole_worker(self.store.path, partial)  # type: ignore[attr-defined]

    def action_toggle_quoted(self) -> None:
        self.show_quoted = not self.show_quoted
        self.load()

    # -- order panel -------------------------------------------------------------------

    def action_toggle_panel(self) -> None:
        self.query_one("#order-panel").toggle_class("hidden")

    def action_cycle_order(self, step: int) -> None:
        if len(self.order_ids) > 1:
            self.order_position = (self.order_position + step) % len(self.order_ids)
            self.load_panel()

    def action_timeline(self) -> None:
        customer_id, _ = ticket_customer(self.store.conn, self.ticket_id)
        if customer_id is not None:
            self.app.open_timeline(customer_id)  # type: ignore[attr-defined]

    def action_reveal_address(self) -> None:
        order = self.panel.order
        if order is None or order.id in self.revealed_orders:
            return
        self.revealed_orders.add(order.id)
        self.load_panel()
        actor = self.app.agent_name  # type: ignore[attr-defined]
        ticket_id = self.ticket_id
        self.app.store_write(  # type: ignore[attr-defined]
            "Adresse angezeigt",
            lambda conn, now: append_audit(conn, now, actor, "order.address_revealed", f"order:{order.id}",
                                    {"ticket_id": ticket_id}),
        )

    def action_answer_merge(self, accept: bool) -> None:
        if not self.panel.suggestions:
            return
        suggestion = self.panel.suggestions[0].id
        actor = self.app.agent_name  # type: ignore[attr-defined]
        self.app.store_write(  # type: ignore[attr-defined]
            "Zusammengeführt" if accept else "Vorschlag abgelehnt",
            lambda conn, now: answer_suggestion(conn, suggestion, accept=accept, now=now, actor=actor),
        )

    def action_unmerge(self) -> None:
        active = [m for m in self.panel.merges if m.undone_at is None]
        if not active:
            return
        merge_id = active[0].id
        actor = self.app.agent_name  # type: ignore[attr-defined]
        self.app.store_write("Getrennt", lambda conn, now: unmerge(conn, merge_id, now=now, actor=actor))  # type: ignore[attr-defined]

    def action_answer_link(self, accept: bool) -> None:
        if not self.panel.link_suggestions:
            return
        suggestion = self.panel.link_suggestions[0][0]
        actor = self.app.agent_name  # type: ignore[attr-defined]
        self.app.store_write(  # type: ignore[attr-defined]
            "Bestellung zugeordnet" if accept else "Zuordnung abgelehnt",
            lambda conn, now: answer_link_suggestion(conn, suggestion, accept=accept, now=now, actor=actor),
        )

    def register_gdpr_request(self, kind: str) -> None:
        """Record a data-subject request made in this ticket (received now, due in a month)."""
        from deskterm.store.gdpr_register import register_request

        ticket_id, actor = self.ticket_id, self.app.agent_name  # type: ignore[attr-defined]
        self.app.store_write(  # type: ignore[attr-defined]
            "DSGVO-Anfrage angelegt",
            lambda conn, now: register_request(conn, kind, received_at=now, now=now, actor=actor, ticket_id=ticket_id),
        )

    def action_triage(self, action: str) -> None:
        """Resolve (e) or any triage action (;) on this ticket."""
        from deskterm.screens.triage import Triage

        app = self.app
        Triage(app, lambda: [self.ticket_id], agent=app.agent_name,  # type: ignore[attr-defined]
               agents=app.config.team.agents, queues=app.config.team.queues).run(action)  # type: ignore[attr-defined]

    # -- Amazon's typed messages (Messaging API) ---------------------------------------

    def action_amazon_message(self) -> None:
        """Amazon permits a few typed messages on an order (confirm delivery details,
        report an unexpected problem ...): list them, pick one, write the text, send."""
        from deskterm.sources.amazon import amazon_order_of_ticket

        found = amazon_order_of_ticket(self.store.conn, self.ticket_id)
        if found is None:
            self.notify("Kein Amazon-Auftrag mit SP-API-Konto an diesem Ticket.", markup=False, timeout=3)
            return
        self.amazon_actions_worker(self.store.path, *found)

    @work(thread=True, exclusive=True, group="amazon", exit_on_error=False)
    def amazon_actions_worker(self, store_path: Path, account: str, order: str) -> None:
        from deskterm.sources.registry import source_for_account

        with Store.open(store_path, create=False) as store:
            source = source_for_account(store, account)
        try:
            actions = source.messaging_actions(order)  # type: ignore[attr-defined]
        finally:
            source.close()
        self.post_message(AmazonActions(account, order, actions))

    def on_amazon_actions(self, message: AmazonActions) -> None:
        from deskterm.screens.pickers import ChoiceScreen, PromptScreen
        from deskterm.sources.amazon import FORBIDDEN_RE, TEXT_ACTIONS

        usable = [(name, label) for name, label in message.actions if name in TEXT_ACTIONS]
        if not usable:
            self.notify("Amazon erlaubt zu dieser Bestellung gerade keine Textnachricht.", markup=False, timeout=4)
            return

        def check(text: str) -> str | None:
            if len(text) > 2000:
                return "höchstens 2000 Zeichen"
            return "keine E-Mail-Adressen und kein HTML (Amazon-Regel)" if FORBIDDEN_RE.search(text) else None

        def chosen(action: str | None) -> None:
            if action is None:
                return

            def written(text: str | None) -> None:
                if text:
                    self.amazon_send_worker(self.store.path, message.account, message.order, action, text)

            self.app.push_screen(PromptScreen(f"{dict(usable)[action]} · Bestellung {message.order}",
                                              "Text an den Käufer (Sprache des Käufers)", check=check), written)

        self.app.push_screen(ChoiceScreen(f"Amazon erlaubt zu {message.order}:", usable), chosen)

    @work(thread=True, exclusive=True, group="amazon", exit_on_error=False)
    def amazon_send_worker(self, store_path: Path, account: str, order: str, action: str, text: str) -> None:
        from deskterm.sources.registry import source_for_account
        from deskterm.store.replies import add_note

        with Store.open(store_path, create=False) as store:
            source = source_for_account(store, account)
            try:
                source.send_typed_message(order, action, text)  # type: ignore[attr-defined]
            finally:
                source.close()
            add_note(store, self.ticket_id, f"Amazon-Nachricht „{action}“ gesendet:\n{text}",
                     author=self.app.agent_name, now=int(self.clock()))  # type: ignore[attr-defined]
        self.app.call_from_thread(self.notify, "Amazon-Nachricht gesendet (als Notiz im Ticket)", markup=False)
        self.app.call_from_thread(self.app.poll_store)  # type: ignore[attr-defined]

    def action_next_ticket(self) -> None:
        self.app.step_ticket(self, +1)  # type: ignore[attr-defined]

    def action_previous_ticket(self) -> None:
        self.app.step_ticket(self, -1)  # type: ignore[attr-defined]
