"""A one-line key hint bar, built once per screen.

Textual's Footer recomposes itself whenever the active bindings change (every screen
switch), which costs more than opening a ticket; this bar renders the same hints once.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from deskterm.widgets.key_names import key_label


class KeyBar(Static):
    DEFAULT_CSS = "KeyBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)

    def on_mount(self) -> None:
        self.call_after_refresh(self._build)

    def _build(self) -> None:
        parts: list[str | tuple[str, str]] = []
        seen: set[str] = set()
        sources = [type(self.screen).BINDINGS]
        if self.screen.focused is not None:
            sources.insert(0, type(self.screen.focused).BINDINGS)
        for bindings in sources:
            for item in bindings:
                if isinstance(item, Binding) and item.show and item.description and item.action not in seen:
                    seen.add(item.action)
                    parts.append((f" {key_label(item.key.split(',')[0])} ", "bold #ffc53d"))
                    parts.append(f"{item.description}  ")
        parts.append((" ctrl+p ", "bold #ffc53d"))
        parts.append("Befehle")
        self.update(Content.assemble(*parts))
