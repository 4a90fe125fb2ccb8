"""The Textual application. It is handed its store, config and clock by the composition
root (`deskterm.cli.build_app`), so tests build it with a temporary store.

Threading model: the event loop only does bounded, indexed reads. Sync, search and every
write run in thread workers with their own store connection; workers post messages and the
handlers here own all state. A failing worker shows one line and never ends the app.
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from deskterm.config import Config, current_agent
from deskterm.domain.sanitize import clean_line
from deskterm.screens.help import HelpScreen, bindings_of
from deskterm.screens.inbox import InboxScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.screens.welcome import WelcomeScreen
from deskterm.sources.engine import SyncEngine, SyncEvent, describe_error
from deskterm.store.db import Store
from deskterm.store.inbox import mark_read
from deskterm.store.outbox import outbox_has_work  # polled every 2 s: imported up front, not mid-keypress
from deskterm.store.status import source_statuses
from deskterm.widgets.key_names import key_label
from deskterm.widgets.status_bar import SyncStatusBar

if TYPE_CHECKING:
    from deskterm.store.assist import AssistContext

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
TRACKING_SECONDS = 600.0


def known_binding_ids() -> set[str]:
    """Every binding id of the app's screens and widgets (what [keymap] may remap)."""
    from deskterm.screens.accounts import AccountsScreen
    from deskterm.screens.compose import ComposeScreen
    from deskterm.screens.gdpr import GdprScreen
    from deskterm.screens.outbox import OutboxScreen
    from deskterm.screens.pickers import ChoiceScreen, PromptScreen
    from deskterm.screens.report import ReportScreen
    from deskterm.screens.timeline import TimelineScreen
    from deskterm.widgets.thread_view import ThreadView
    from deskterm.widgets.ticket_list import TicketList

    classes = (InboxScreen, TicketScreen, WelcomeScreen, HelpScreen, GdprScreen, AccountsScreen, ComposeScreen,
               OutboxScreen, TimelineScreen, TicketList, ThreadView, ReportScreen, ChoiceScreen, PromptScreen,
               DesktermApp)
    return {b.id for cls in classes for b in cls.BINDINGS if isinstance(b, Binding) and b.id}


class SyncProgress(Message):
    """Posted from the sync worker thread for every engine event."""

    def __init__(self, event: SyncEvent) -> None:
        super().__init__()
        self.event = event


class WriteDone(Message):
    """A store_write worker committed; screens re-read what they show."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label


class DemoReady(Message):
    def __init__(self, store_path: Path) -> None:
        super().__init__()
        self.store_path = store_path


class DesktermApp(App[None]):
    TITLE = "deskterm"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit", "Beenden", show=False, priority=True),
    ]

    def __init__(
        self,
        *,
        store: Store | None,
        profile: str | None,
        config: Config,
        clock: Callable[[], float] = time.time,
        sync_on_start: bool = False,
        demo_factory: Callable[[], Path] | None = None,
        setup_text: str = "",
        poll_seconds: float = POLL_SECONDS,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.profile = profile or "demo"
        self.config = config
        self._assist: AssistContext | None = None  # built on the first sync (templates, model)
        self._assist_lock = threading.Lock()
        self.clock = clock
        self.sync_on_start = sync_on_start
        self.demo_factory = demo_factory
        self.setup_text = setup_text
        self.poll_seconds = poll_seconds
        self.export_dir = export_dir or Path.home() / "deskterm-exporte"
        self.inbox: InboxScreen | None = None
        self._ticket_screen: TicketScreen | None = None
        self._data_version = -1
        self.theme = config.ui.theme if config.ui.theme in self.available_themes else "textual-dark"
        self.agent_name = current_agent(config)
        self._stop_push = threading.Event()
        self._stop_tracking = threading.Event()
        self._demo_tracking_seconds = 0
        from deskterm.domain.sla import configure

        configure(config.sla.state, config.sla.channels)  # validated when the config was loaded
        if config.keymap:
            self.set_keymap(config.keymap)

    # -- start-up ----------------------------------------------------------------------

    def on_mount(self) -> None:
        unknown = sorted(set(self.config.keymap) - known_binding_ids()) if self.config.keymap else []
        if unknown:
            self.notify(f"Tastenbelegung: unbekannte Aktion {clean_line(unknown[0])} (siehe ?)", severity="warning",
                        markup=False)
        if self.store is None:
            self.push_screen(WelcomeScreen(self.setup_text))
            return
        self._show_inbox()

    def _show_inbox(self) -> None:
        assert self.store is not None
        self.inbox = InboxScreen(store=self.store, profile=self.profile, clock=self.clock, agent=self.agent_name,
                                 saved_views=self.config.views, agents=self.config.team.agents,
                                 queues=self.config.team.queues)
        self.push_screen(self.inbox)
        self._data_version = self.store.data_version()
        self.refresh_status_bar()
        self.set_interval(self.poll_seconds, self.poll_store)
        if self.sync_on_start:
            self.action_sync()
        interval = max(10, self.config.sync.interval_seconds)
        from deskterm.sources.registry import has_sandboxes

        feed = self.config.demo.new_message_seconds
        if has_sandboxes(self.store) and feed > 0:  # the demo: buyers keep writing, the inbox keeps up
            from deskterm.sandbox.runtime import start_feed

            start_feed(feed)
            interval = max(5, min(interval, feed))
            # In the demo DHL is an emulator without DHL's quota: parcels are asked about often,
            # so the feed's deliveries show up on the order panel.
            self._demo_tracking_seconds = int(max(30.0, feed * 3.0))
            self.set_interval(self._demo_tracking_seconds, self.start_tracking)
        self.set_interval(interval, self.action_sync)
        # Carrier tracking runs in its own worker: DHL's pace and quota never hold up a sync.
        self.set_interval(TRACKING_SECONDS, self.start_tracking)
        self.call_later(self.start_tracking)
        if self._has_push_accounts():
            self.push_worker(self.store.path, self._stop_push)
        from deskterm.store.awaiting import due_is_current

        if not due_is_current(self.store.conn):
            self.recompute_due_worker(self.store.path)
        self.set_interval(2.0, self.poll_outbox)
        # Everything built so far lives as long as the app: keep it out of the collector's
        # full passes (10-17 ms each on a big store's session, felt as a stutter while paging).
        self.call_after_refresh(gc.freeze)
        from deskterm.store.presence import HEARTBEAT_SECONDS

        self.set_interval(HEARTBEAT_SECONDS, self._presence_heartbeat)

    def _presence_heartbeat(self) -> None:
        """While this agent has a ticket open, refresh the presence row (a tiny write)."""
        if self.store is not None and self._ticket_screen is not None and self._ticket_screen in self.screen_stack:
            self._heartbeat_worker(self.store.path)

    @work(thread=True, exclusive=True, group="presence-heartbeat", exit_on_error=False)
    def _heartbeat_worker(self, store_path: Path) -> None:
        from deskterm.store import presence

        with Store.open(store_path, create=False) as store, store.transaction() as conn:
            presence.heartbeat(conn, self.agent_name, int(self.clock()))

    @work(thread=True, exclusive=True, group="sla", exit_on_error=False)
    def recompute_due_worker(self, store_path: Path) -> None:
        """The SLA settings changed since the deadlines were stored: compute them again."""
        from deskterm.store.awaiting import recompute_due

        with Store.open(store_path, create=False) as store, store.transaction() as conn:
            recompute_due(conn)
        self.call_from_thread(self.poll_store)

    @work(thread=True, exclusive=True, group="wake", exit_on_error=False)
    def wake_worker(self, store_path: Path) -> None:
        """Snoozed tickets come back: open and unread, at the top of their deadline order."""
        from deskterm.store.triage import wake_snoozed

        with Store.open(store_path, create=False) as store, store.transaction() as conn:
            woken = wake_snoozed(conn, int(self.clock()))
        if woken:
            self.call_from_thread(self.notify, f"{len(woken)} zurückgestellte(s) Ticket(s) wieder da", markup=False)
            self.call_from_thread(self.poll_store)

    def start_tracking(self) -> None:
        if self.store is not None:
            self.tracking_worker(self.store.path)

    @work(thread=True, exclusive=True, group="tracking", exit_on_error=False)
    def tracking_worker(self, store_path: Path) -> None:
        """Ask DHL about parcels on their way (within its quota and pace); then refresh."""
        from deskterm.sources.dhl import track_due
        from deskterm.sources.registry import tracking_client_for_store

        with Store.open(store_path, create=False) as store:
            client = tracking_client_for_store(store)
            if client is None:
                return
            stop = self._stop_tracking  # set when the app ends: the round stops between two calls

            def pause(seconds: float) -> None:
                stop.wait(seconds)

            demo = self._demo_tracking_seconds
            try:
                if demo:
                    round_ = track_due(store, client, now=self.clock, sleep=pause, stopped=stop.is_set,
                                       repoll_seconds=demo, pace=0.2)
                else:
                    round_ = track_due(store, client, now=self.clock, sleep=pause, stopped=stop.is_set)
            finally:
                client.close()
        if round_.updated or round_.unknown:
            self.call_from_thread(self.poll_store)

    def _has_push_accounts(self) -> bool:
        """IMAP accounts can push (IDLE); a profile without any needs no listening worker."""
        assert self.store is not None
        return self.store.conn.execute("SELECT 1 FROM accounts WHERE json_extract(settings, '$.source') = 'imap' "
                                       "LIMIT 1").fetchone() is not None

    def on_unmount(self) -> None:
        self._stop_push.set()
        self._stop_tracking.set()
        if self.store is not None:  # others stop seeing this agent at once (else after a minute)
            from deskterm.store.presence import leave

            try:
                with self.store.transaction() as conn:
                    leave(conn, self.agent_name)
            except sqlite3.Error as exc:
                log.warning("presence not cleared: %s", exc)

    def action_start_demo(self) -> None:
        if self.demo_factory is None or self.store is not None:
            return
        self.notify("Demo wird angelegt …", markup=False)
        self.demo_worker()

    @work(thread=True, exclusive=True, group="demo", exit_on_error=False)
    def demo_worker(self) -> None:
        assert self.demo_factory is not None
        self.post_message(DemoReady(self.demo_factory()))

    def on_demo_ready(self, message: DemoReady) -> None:
        self.store = Store.open(message.store_path, create=False)
        self.profile = "demo"
        self.sync_on_start = True
        self.pop_screen()
        self._show_inbox()

    # -- store changes -----------------------------------------------------------------

    def poll_store(self) -> None:
        """Notice commits from any connection (sync worker, other processes): one PRAGMA;
        and wake snoozed tickets whose time has come (one index lookup)."""
        if self.store is None:
            return
        from deskterm.store.triage import next_wake

        wake = next_wake(self.store.conn)
        if wake is not None and wake <= self.clock():
            self.wake_worker(self.store.path)
        version = self.store.data_version()
        if version == self._data_version:
            return
        self._data_version = version
        if self.inbox is not None:
            self.inbox.store_changed()
        if self._ticket_screen is not None and self._ticket_screen.is_mounted:
            self._ticket_screen.store_changed()
        store_changed = getattr(self.screen, "store_changed", None)
        if callable(store_changed) and self.screen not in (self.inbox, self._ticket_screen):
            store_changed()
        self.refresh_status_bar()

    def refresh_status_bar(self) -> None:
        if self.store is None or self.inbox is None:
            return
        for bar in self.inbox.query(SyncStatusBar):
            bar.show(source_statuses(self.store.conn))

    # -- sync --------------------------------------------------------------------------

    def action_sync(self) -> None:
        if self.store is not None:
            self.sync_worker(self.store.path)

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def sync_worker(self, store_path: Path) -> None:
        from deskterm.sources.registry import sources_for_store

        with Store.open(store_path, create=False) as store:
            sources = sources_for_store(store)
        def listener(event: SyncEvent) -> None:
            self.post_message(SyncProgress(event))

        engine = SyncEngine(store_path, sources, clock=self.clock, listener=listener)
        try:
            engine.run_once()
        finally:
            for source in sources:
                source.close()
        self._deliver_outbox(store_path)
        self.call_from_thread(self.assist_worker, store_path)

    @work(thread=True, group="assist", exit_on_error=False)
    def assist_worker(self, store_path: Path) -> None:
        """Classify, route and draft what the sync brought, in its own worker so a long queue
        (the first run after an upgrade) never holds up the next sync; then send what an
        assist policy queued. One pass at a time: a running pass drains the queue anyway."""
        from deskterm.assist_setup import assist_after_sync, assist_context

        if not self._assist_lock.acquire(blocking=False):
            return
        try:
            if self._assist is None:
                self._assist = assist_context(self.config, store_path)
            result = assist_after_sync(store_path, self._assist, clock=self.clock, budget_seconds=120)
        finally:
            self._assist_lock.release()
        if result.errors:
            self.call_from_thread(self.notify, f"Assistent: {clean_line(result.errors[0])}", severity="warning",
                                  markup=False)
        if result.auto_sent:
            self._deliver_outbox(store_path)

    def poll_outbox(self) -> None:
        """Every two seconds: replies whose undo window ended go out now, not at the next sync."""
        if self.store is not None and outbox_has_work(self.store.conn, int(self.clock())):
            self.outbox_worker(self.store.path)

    @work(thread=True, exclusive=True, group="outbox", exit_on_error=False)
    def outbox_worker(self, store_path: Path) -> None:
        self._deliver_outbox(store_path)
        self.call_from_thread(self.poll_store)

    def _deliver_outbox(self, store_path: Path) -> None:
        """Send due replies (in a worker thread: after a sync, or when an undo window ends)."""
        from deskterm.sources.outbox_sender import deliver_if_due

        report = deliver_if_due(store_path, clock=self.clock)
        for error in report.failed if report else ():
            self.call_from_thread(self.notify, f"Antwort nicht gesendet: {clean_line(error)}", severity="error",
                                  markup=False)

    @work(thread=True, exclusive=True, group="push", exit_on_error=False)
    def push_worker(self, store_path: Path, stop: threading.Event) -> None:
        """Wait on the servers that can push (IMAP IDLE) and sync as soon as one reports mail."""
        from deskterm.sources.registry import sources_for_store

        with Store.open(store_path, create=False) as store:
            sources = sources_for_store(store)
        engine = SyncEngine(store_path, sources)
        try:
            if not engine.can_push():
                return
            while not stop.is_set():
                if engine.wait_for_push(float(self.config.sync.interval_seconds), stop):
                    self.call_from_thread(self.action_sync)
        finally:
            for source in sources:
                source.close()

    def on_sync_progress(self, message: SyncProgress) -> None:
        if self.inbox is None:
            return
        event = message.event
        for bar in self.inbox.query(SyncStatusBar):
            if event.kind in ("started", "progress"):
                backlog = f" (noch {event.backlog})" if event.backlog else ""
                bar.progress[event.account_key] = f"{event.stored} Nachr.{backlog}"
            else:
                bar.progress.pop(event.account_key, None)
            bar.show(source_statuses(self.store.conn) if self.store else None)
        self.poll_store()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        reason = describe_error(error) if error else "unbekannter Fehler"
        log.warning("worker %s failed: %s", event.worker.group, reason)
        self.notify(f"{event.worker.group}: {clean_line(reason)}", severity="error", markup=False)

    # -- tickets -----------------------------------------------------------------------

    def open_ticket(self, ticket_id: int) -> None:
        """Show a ticket. One TicketScreen is installed once and reused: composing a fresh
        screen (footer included) costs more than the whole thread query and layout."""
        if self.store is None:
            return
        if self._ticket_screen is None:
            self._ticket_screen = TicketScreen(store=self.store, ticket_id=ticket_id, clock=self.clock)
            self.install_screen(self._ticket_screen, name="ticket")
        else:
            self._ticket_screen.show_ticket(ticket_id)
        self.push_screen("ticket")
        self.mark_read_worker(self.store.path, ticket_id)

    def step_ticket(self, current: TicketScreen, delta: int) -> None:
        """J/K on a ticket: open the next/previous ticket of the inbox list."""
        if self.inbox is None:
            return
        ticket_list = self.inbox.ticket_list
        ticket_list._move(delta)
        row = ticket_list.selected
        if row is not None and row.id != current.ticket_id:
            current.show_ticket(row.id)
            self.mark_read_worker(current.store.path, row.id)

    def store_write(self, label: str, change: Callable[[sqlite3.Connection, int], None]) -> None:
        """Run `change(conn, now)` in one transaction in a worker thread, then refresh."""
        if self.store is not None:
            self._store_write_worker(self.store.path, label, change)

    @work(thread=True, group="write", exit_on_error=False)
    def _store_write_worker(self, store_path: Path, label: str,
                            change: Callable[[sqlite3.Connection, int], None]) -> None:
        with Store.open(store_path, create=False) as store, store.transaction() as conn:
            change(conn, int(self.clock()))
        self.post_message(WriteDone(label))

    def triage_write(self, change: Callable[[sqlite3.Connection, int], str]) -> None:
        """A triage action: `change` returns the notice; a refused value shows as an error."""
        if self.store is not None:
            self._triage_worker(self.store.path, change)

    @work(thread=True, group="write", exit_on_error=False)
    def _triage_worker(self, store_path: Path, change: Callable[[sqlite3.Connection, int], str]) -> None:
        from deskterm.domain.triage import TriageError

        try:
            with Store.open(store_path, create=False) as store, store.transaction() as conn:
                label = change(conn, int(self.clock()))
        except TriageError as exc:
            self.call_from_thread(self.notify, clean_line(str(exc)), severity="error", markup=False)
            return
        self.post_message(WriteDone(label))

    def on_write_done(self, message: WriteDone) -> None:
        self.notify(message.label, markup=False, timeout=2)
        self.poll_store()

    def action_accounts(self) -> None:
        """Accounts: list them, add an IMAP mailbox (tested first; password to the keyring)."""
        from deskterm.screens.accounts import AccountsScreen

        if self.store is not None and not isinstance(self.screen, AccountsScreen):
            self.push_screen(AccountsScreen(store=self.store, on_added=self._account_added))

    def _account_added(self) -> None:
        """A new account syncs at once; IDLE starts listening to it."""
        if self.store is None:
            return
        self.action_sync()
        self._stop_push.set()
        self.workers.cancel_group(self, "push")
        self._stop_push = threading.Event()
        self.push_worker(self.store.path, self._stop_push)

    def action_outbox(self) -> None:
        """All replies on their way, failed ones first (r sends again)."""
        from deskterm.screens.outbox import OutboxScreen

        if self.store is not None and not isinstance(self.screen, OutboxScreen):
            self.push_screen(OutboxScreen(store=self.store, clock=self.clock))

    def action_report(self) -> None:
        """Response and resolution times, SLA hit rates, volume (as `deskterm report`)."""
        from deskterm.screens.report import ReportScreen

        if self.store is not None and not isinstance(self.screen, ReportScreen):
            self.push_screen(ReportScreen(store=self.store, clock=self.clock))

    def action_gdpr(self) -> None:
        """The GDPR centre: requests, flags, find, export, erase, retention."""
        from deskterm.screens.gdpr import GdprScreen

        if self.store is not None:
            self.push_screen(GdprScreen(store=self.store, policy=self.config.gdpr.policy(), export_dir=self.export_dir,
                                        clock=self.clock))

    def open_ticket_from_timeline(self, ticket_id: int) -> None:
        """The timeline sits on the ticket screen: switch that screen to the chosen ticket."""
        if self._ticket_screen is not None and self.screen is self._ticket_screen:
            self._ticket_screen.show_ticket(ticket_id)
            if self.store is not None:
                self.mark_read_worker(self.store.path, ticket_id)
        else:
            self.open_ticket(ticket_id)

    def open_timeline(self, customer_id: int) -> None:
        from deskterm.screens.timeline import TimelineScreen

        if self.store is not None:
            self.push_screen(TimelineScreen(store=self.store, customer_id=customer_id))

    @work(thread=True, group="mail-fetch", exit_on_error=False)
    def fetch_whole_worker(self, store_path: Path, message_rows: list[int]) -> None:
        """Download large mails stored as placeholders; errors surface as one-line notices."""
        from deskterm.sources.mail.fetch import fetch_whole_message

        with Store.open(store_path, create=False) as store:
            for message_row in message_rows:
                fetch_whole_message(store, message_row)
        self.post_message(WriteDone(f"{len(message_rows)} Nachricht(en) vollständig geladen"))

    # -- presence (small teams on one store) ---------------------------------------------

    def set_presence(self, ticket_id: int | None, activity: str = "viewing") -> None:
        """Record what this agent has open (None: nothing); others see it within a poll."""
        if self.store is not None:
            self._presence_worker(self.store.path, ticket_id, activity)

    @work(thread=True, exclusive=True, group="presence", exit_on_error=False)
    def _presence_worker(self, store_path: Path, ticket_id: int | None, activity: str) -> None:
        from deskterm.store import presence

        with Store.open(store_path, create=False) as store, store.transaction() as conn:
            if ticket_id is None:
                presence.leave(conn, self.agent_name)
            else:
                presence.enter(conn, self.agent_name, ticket_id, activity, int(self.clock()))
            presence.expire(conn, int(self.clock()))

    @work(thread=True, group="write", exit_on_error=False)
    def mark_read_worker(self, store_path: Path, ticket_id: int) -> None:
        with Store.open(store_path, create=False) as store, store.transaction() as conn:
            mark_read(conn, ticket_id)

    # -- help and palette --------------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        from deskterm.screens.gdpr import GdprScreen

        from deskterm.screens.accounts import AccountsScreen
        from deskterm.screens.compose import ComposeScreen
        from deskterm.screens.outbox import OutboxScreen
        from deskterm.screens.report import ReportScreen

        title = {InboxScreen: "Posteingang", TicketScreen: "Ticket", WelcomeScreen: "Willkommen",
                 GdprScreen: "DSGVO-Zentrale", AccountsScreen: "Konten", OutboxScreen: "Postausgang",
                 ComposeScreen: "Antworten", ReportScreen: "Bericht"}.get(type(self.screen), "deskterm")
        self.push_screen(HelpScreen(f"Tasten: {title}", bindings_of(self.screen)))

    def get_system_commands(self, screen: Screen) -> Iterator[SystemCommand]:
        """Textual's own commands, then every key-bound action of this screen and its focused
        widget (so each action is reachable by name), then actions that have no key."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        sources = [type(screen).BINDINGS] + ([type(screen.focused).BINDINGS] if screen.focused else [])
        for bindings in sources:
            for item in bindings:
                if not isinstance(item, Binding) or not item.description or item.action in seen:
                    continue
                if item.action in ("app.command_palette", "app.help"):
                    continue
                seen.add(item.action)
                keys = ", ".join(key_label(k) for k in item.key.split(","))
                yield SystemCommand(f"{item.description} ({keys})", f"Taste {keys}",
                                    partial(self._run_screen_action, item.action, screen))
        yield SystemCommand("Hilfe: Tasten dieses Bildschirms", "Zeigt alle Tasten (?)", self.action_help)
        if isinstance(screen, TicketScreen):
            from deskterm.domain.gdpr_requests import REQUEST_LABELS

            for kind, label in REQUEST_LABELS.items():
                yield SystemCommand(f"DSGVO-Anfrage anlegen: {label}", "aus diesem Ticket, Frist ein Monat",
                                    partial(screen.register_gdpr_request, str(kind)))
        if self.store is not None and not isinstance(screen, WelcomeScreen):
            yield SystemCommand("Sync: alle Konten jetzt abrufen", "Startet einen Abgleich", self.action_sync)

    def _run_screen_action(self, action: str, screen: Screen) -> None:
        self.call_later(self.run_action, action, screen)

    # -- crashes -----------------------------------------------------------------------

    def _fatal_error(self) -> None:
        """Like Textual's, but never prints local variables (secrets, message bodies)."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        log.error("deskterm crashed: %s", getattr(sys.exc_info()[0], "__name__", "unknown error"))
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()
