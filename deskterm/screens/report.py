"""The report screen (R): what `deskterm report` prints, computed in a worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from deskterm.store.db import Store
from deskterm.widgets.key_bar import KeyBar


class ReportReady(Message):
    def __init__(self, days: int, lines: list[str]) -> None:
        super().__init__()
        self.days = days
        self.lines = lines


class ReportScreen(Screen[None]):
    BINDINGS = [
        Binding("q,escape", "back", "Zurück", id="report.back"),
        Binding("1", "period(7)", "7 Tage", id="report.7"),
        Binding("2", "period(30)", "30 Tage", id="report.30"),
        Binding("3", "period(90)", "90 Tage", id="report.90"),
        Binding("question_mark", "app.help", "Hilfe", id="help"),
    ]
    DEFAULT_CSS = """
    #report-body { padding: 0 2; }
    """

    def __init__(self, *, store: Store, clock: Callable[[], float], days: int = 30) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.days = days

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Content("Bericht wird berechnet …"), id="report-body", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_period(self.days)

    def action_period(self, days: int) -> None:
        self.days = days
        self.query_one("#report-body", Static).update(Content(f"Bericht über {days} Tage wird berechnet …"))
        self.report_worker(self.store.path, days, int(self.clock()))

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def report_worker(self, store_path: Path, days: int, now: int) -> None:
        from deskterm.store.reports import build_report, report_lines

        with Store.open(store_path, create=False) as store:
            lines = report_lines(build_report(store.conn, now=now, days=days))
        self.post_message(ReportReady(days, lines))

    def on_report_ready(self, message: ReportReady) -> None:
        if message.days == self.days:
            self.query_one("#report-body", Static).update(Content("\n".join(message.lines)))

    def action_back(self) -> None:
        self.app.pop_screen()
