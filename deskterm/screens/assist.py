"""The composer's assist: suggestions from past replies (ctrl+g) and an LLM draft (ctrl+l).

Both search or call out, so both run in workers with their own store connection and post
a message; the composer inserts what the agent picks. Everything shown comes from buyers
or an external model: it is sanitised and shown as Content, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from deskterm.domain.sanitize import clean_line, clean_text
from deskterm.store.suggestions import Suggestion


class SuggestionsFound(Message):
    def __init__(self, suggestions: list[Suggestion], error: str | None = None) -> None:
        super().__init__()
        self.suggestions = suggestions
        self.error = error


class LlmDraftReady(Message):
    def __init__(self, text: str, notes: list[str], error: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.notes = notes
        self.error = error


class SuggestionPicker(ModalScreen[str | None]):
    """Answered tickets like this one: the question on the left, the adapted reply below;
    Enter takes the reply into the composer, Esc cancels."""

    BINDINGS = [Binding("escape", "dismiss_none", "Abbrechen")]
    DEFAULT_CSS = """
    SuggestionPicker { align: center middle; }
    SuggestionPicker > Vertical { width: 90%; height: 80%; border: round $accent; background: $surface; padding: 0 1; }
    SuggestionPicker #suggest-title { text-style: bold; }
    SuggestionPicker OptionList { height: auto; max-height: 8; border: none; }
    SuggestionPicker #suggest-preview { height: 1fr; border-top: solid $primary; padding: 1 0 0 0; }
    SuggestionPicker #suggest-hint { color: $text-muted; }
    """

    def __init__(self, suggestions: Sequence[Suggestion]) -> None:
        super().__init__()
        self.suggestions = list(suggestions)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content("Ähnliche beantwortete Tickets (eigene frühere Antworten)"), id="suggest-title",
                         markup=False)
            yield OptionList(*[Option(Content(f"{n}  Ticket {s.ticket_id}{' · gleiches Anliegen' if s.same_intent else ''}"
                                              f" · {clean_line(s.question, max_chars=90)}"), id=f"suggestion-{n}")
                               for n, s in enumerate(self.suggestions, start=1)])
            yield Static(Content(""), id="suggest-preview", markup=False)
            yield Static(Content("Enter übernimmt die angepasste Antwort · ⟦…⟧ = bitte prüfen/ergänzen · Esc bricht ab"),
                         id="suggest-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._preview(0)

    def _preview(self, index: int) -> None:
        if 0 <= index < len(self.suggestions):
            self.query_one("#suggest-preview", Static).update(Content(clean_text(self.suggestions[index].adapted)))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._preview(event.option_index)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.suggestions[event.option_index].adapted)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
