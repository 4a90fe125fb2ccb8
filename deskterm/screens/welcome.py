"""Shown when no profile exists yet: start the demo, or learn how to add an account."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from deskterm.widgets.key_bar import KeyBar

WELCOME = Content.assemble(
    ("Willkommen bei deskterm\n\n", "bold"),
    "Alle Kanäle Ihres Shops in einem Posteingang: Amazon, eBay, Kaufland, OTTO, Zalando,\n"
    "E-Mail, Facebook und Instagram, mit Bestellung und Fristen neben jedem Ticket.\n\n",
    ("  d  ", "bold #8da4ef"), "Demo starten: ein Beispiel-Shop mit echten Abläufen, sofort durchsuchbar\n",
    ("  a  ", "bold #8da4ef"), "Konto hinzufügen: zeigt, wo die Konfiguration liegt und was hinein gehört\n",
    ("  q  ", "bold #8da4ef"), "Beenden\n",
)


class WelcomeScreen(Screen[None]):
    BINDINGS = [
        Binding("d", "app.start_demo", "Demo starten"),
        Binding("a", "show_setup", "Konto hinzufügen"),
        Binding("q", "app.quit", "Beenden"),
        Binding("question_mark", "app.help", "Hilfe"),
    ]
    DEFAULT_CSS = """
    WelcomeScreen { align: center middle; }
    WelcomeScreen Vertical { width: 90; height: auto; border: round $accent; padding: 1 2; }
    #setup { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, setup_text: str) -> None:
        super().__init__()
        self.setup_text = setup_text

    def compose(self) -> ComposeResult:
        with Center():
            with Vertical():
                yield Static(WELCOME, markup=False)
                yield Static("", id="setup", markup=False)
        yield KeyBar()

    def action_show_setup(self) -> None:
        self.query_one("#setup", Static).update(Content(self.setup_text))
