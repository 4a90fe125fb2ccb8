"""Small modal pickers for triage: choose one of a few options, or type a value.

Options are plain labels chosen by the agent's config or fixed vocabularies; they are still
shown as Content (never markup) because agent and queue names come from a file.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from deskterm.domain.sanitize import clean_line

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 64; height: auto; max-height: 80%; border: round $accent; background: $surface;
                    padding: 0 1; }}
{name} #picker-title {{ text-style: bold; padding: 0 0 1 0; }}
{name} OptionList {{ height: auto; max-height: 20; border: none; }}
{name} #picker-hint {{ color: $text-muted; }}
{name} #picker-error {{ color: $error; height: auto; }}
"""


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one option (Enter, or the digit shown before it); Esc cancels."""

    BINDINGS = [Binding("escape", "dismiss_none", "Abbrechen")]
    DEFAULT_CSS = _CSS.format(name="ChoiceScreen")

    def __init__(self, title: str, options: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.picker_title = title
        self.choices = list(options)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.picker_title), id="picker-title", markup=False)
            yield OptionList(*[Option(Content(f"{n}  {clean_line(label)}" if n < 10 else f"   {clean_line(label)}"),
                                      id=f"choice-{n}")
                               for n, (_, label) in enumerate(self.choices, start=1)])
            yield Static(Content("Enter wählt · Ziffer wählt direkt · Esc bricht ab"), id="picker-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event: object) -> None:
        character = getattr(event, "character", None)
        if character and character.isdigit() and character != "0" and int(character) <= len(self.choices):
            getattr(event, "stop")()
            self.dismiss(self.choices[int(character) - 1][0])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index][0])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """Type one value; `check` returns an error line (shown, the prompt stays) or None."""

    BINDINGS = [Binding("escape", "dismiss_none", "Abbrechen")]
    DEFAULT_CSS = _CSS.format(name="PromptScreen")

    def __init__(self, title: str, hint: str, *, value: str = "", check: object = None) -> None:
        super().__init__()
        self.prompt_title = title
        self.hint = hint
        self.value = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.prompt_title), id="picker-title", markup=False)
            yield Input(value=self.value, id="picker-input")
            yield Static(Content(self.hint), id="picker-hint", markup=False)
            yield Static("", id="picker-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.dismiss(None)
            return
        problem = self.check(text) if callable(self.check) else None
        if problem:
            self.query_one("#picker-error", Static).update(Content(clean_line(str(problem))))
            return
        self.dismiss(text)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
