"""`?`: the keys of the screen underneath (and of its focused widget), in a modal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from deskterm.widgets.key_names import key_label

GLOBAL_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+p, :", "Befehlspalette: jede Aktion per Name"),
    ("?", "Diese Hilfe"),
    ("ctrl+q", "deskterm beenden"),
)


def _key_label(binding: Binding) -> str:
    return ", ".join(key_label(k) for k in binding.key.split(","))


def bindings_of(screen: Screen) -> list[tuple[str, str]]:
    """(keys, description) for the screen's own bindings and its focused widget's."""
    rows: list[tuple[str, str]] = []
    sources: list[list[BindingType]] = [list(type(screen).BINDINGS)]
    focused = screen.focused
    if focused is not None:
        sources.append(list(type(focused).BINDINGS))
    for bindings in sources:
        for item in bindings:
            if isinstance(item, Binding) and item.description:
                rows.append((_key_label(item), item.description))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Schließen")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; height: auto; max-height: 80%; border: round $accent;
                                  background: $surface; padding: 1 2; }
    """

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.help_title = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        parts: list[str | tuple[str, str]] = [(f"{self.help_title}\n\n", "bold")]
        for key, text in [*self.keys, *GLOBAL_KEYS]:
            parts.append((f"{key:>18}  ", "bold #8da4ef"))
            parts.append(text + "\n")
        parts.append(("\nEsc schließt diese Hilfe.", "#8b8d98"))
        with VerticalScroll():
            yield Static(Content.assemble(*parts), markup=False)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
