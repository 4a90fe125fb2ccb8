"""`r` / `n` on a ticket: write a reply or an internal note.

The draft is saved while typing (and on leaving), so a crash or restart loses nothing.
`::` (or ctrl+t) inserts a template filled from the ticket's order; a value that is
missing stays a marked gap ⟦…⟧ and blocks sending until it is filled or deleted. Before a
reply may leave, the channel's rules are checked and every broken one is listed. Sending
puts the reply in the outbox behind an undo window (U on the ticket takes it back).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from deskterm.config import Config
from deskterm.domain.format import channel_label
from deskterm.domain.reply_rules import ChannelRules, RulesError, load_rules
from deskterm.domain.sanitize import clean_line
from deskterm.domain.templates import (
    GAP_RE,
    ReplyTemplate,
    TemplateRejected,
    load_templates,
    match_templates,
    render,
)
from deskterm.store.db import Store
from deskterm.store.inbox import ticket_detail
from deskterm.store.outbox import OutboxError
from deskterm.store.replies import add_note, load_draft, queue_reply, reply_problems, save_draft
from deskterm.store.reply_context import template_values
from deskterm.widgets.key_bar import KeyBar

_DIM = "#8b8d98"
_BAD = "bold #e5484d"
_GAP = "bold reverse #e5484d"
SAVE_DELAY = 0.6  # seconds of quiet typing before the draft is written


def editor_command() -> list[str]:
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


def edit_in_editor(text: str, command: list[str]) -> str:
    """Open `text` in an external editor and return what it saved (the file is removed)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
        handle.write(text)
        path = Path(handle.name)
    try:
        subprocess.run([*command, str(path)], check=True)
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)


class TemplatesLoaded(Message):
    def __init__(self, templates: list[ReplyTemplate], problems: list[str], rules: dict[str, ChannelRules]) -> None:
        super().__init__()
        self.templates = templates
        self.problems = problems
        self.rules = rules


class Sent(Message):
    def __init__(self, outbox_id: int | None, label: str) -> None:
        super().__init__()
        self.outbox_id = outbox_id
        self.label = label


class Failed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class TemplatePicker(ModalScreen[str | None]):
    """Type to filter (shortcut or name), Enter inserts, Esc cancels."""

    BINDINGS = [Binding("escape", "dismiss_none", "Abbrechen")]
    DEFAULT_CSS = """
    TemplatePicker { align: center middle; }
    #picker { width: 80; height: 20; border: round $accent; background: $surface; }
    #picker-input { border: none; height: 1; }
    """

    def __init__(self, templates: list[ReplyTemplate], channel: str) -> None:
        super().__init__()
        self.templates = templates
        self.channel = channel

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(id="picker"):
            yield Input(placeholder="Vorlage suchen: Kürzel oder Name", id="picker-input")
            yield OptionList(id="picker-list")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#picker-input", Input).focus()

    def _fill(self, query: str) -> None:
        options = self.query_one("#picker-list", OptionList)
        options.clear_options()
        for template in match_templates(self.templates, query, self.channel):
            options.add_option(Option(Content.assemble((f"{template.shortcut:<4}", "bold"), " ",
                                                       clean_line(template.name)), id=template.key))
        if options.option_count:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one("#picker-list", OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        options = self.query_one("#picker-list", OptionList)
        if event.key in ("down", "up") and options.option_count:
            options.action_cursor_down() if event.key == "down" else options.action_cursor_up()
            event.stop()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ComposeScreen(Screen[int | None]):
    """Returns the outbox id of a queued reply (for undo), or None."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Senden", id="compose.send", priority=True),
        Binding("ctrl+t", "template", "Vorlage (auch ::)", id="compose.template", priority=True),
        Binding("ctrl+e", "editor", "In $EDITOR", id="compose.editor", priority=True),
        Binding("ctrl+g", "suggest", "Frühere Antworten", id="compose.suggest", priority=True),
        Binding("ctrl+l", "llm_draft", "KI-Entwurf", show=False, id="compose.llm", priority=True),
        Binding("escape", "close", "Schließen (Entwurf bleibt)", id="compose.close", priority=True),
    ]
    DEFAULT_CSS = """
    #compose-header { height: auto; background: $primary-background; padding: 0 1; }
    #compose-body { height: 1fr; }
    #compose-problems { height: auto; max-height: 12; padding: 0 1; }
    """

    def __init__(self, *, store: Store, ticket_id: int, kind: str, config: Config, agent: str,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.store = store
        self.ticket_id = ticket_id
        self.kind = kind
        self.config = config
        self.agent = agent
        self.clock = clock
        self.templates: list[ReplyTemplate] = []
        self.rules: dict[str, ChannelRules] = {}
        self.template_used: ReplyTemplate | None = None
        self._save_timer: Timer | None = None
        self.opened_at = int(clock())
        self._conflict_confirmed = False
        self._saved_text = ""
        detail = ticket_detail(store.conn, ticket_id)
        self.channel = detail.row.channel if detail else "email"
        self.detail = detail

    def compose(self) -> ComposeResult:
        yield Static(id="compose-header")
        yield TextArea(id="compose-body", soft_wrap=True, tab_behavior="indent")
        yield Static(id="compose-problems")
        yield KeyBar()

    def on_mount(self) -> None:
        draft = load_draft(self.store.conn, self.ticket_id, self.kind)
        text = draft.body if draft else ""
        signature = self._signature()
        if not text and self.kind == "reply" and signature:
            text = "\n\n" + signature
        self._saved_text = text
        body = self.query_one("#compose-body", TextArea)
        body.load_text(text)
        body.move_cursor((0, 0))
        body.focus()
        self._header()
        self._check()
        self.load_worker()
        if draft is not None and draft.template and self.kind == "reply":
            note = self.store.conn.execute("SELECT draft_note FROM ticket_assist WHERE ticket_id = ?",
                                           (self.ticket_id,)).fetchone()
            if note and note[0] and note[0].startswith("Entwurf"):
                self.notify(f"Entwurf vom Assistenten ({clean_line(note[0])}): bitte prüfen", markup=False,
                            timeout=6)

    def _signature(self) -> str:
        """The signature of the ticket's account ([reply] signature / signatures)."""
        return self.config.reply.signature_for(self.detail.account_key if self.detail else "")

    def _header(self) -> None:
        row = self.detail.row if self.detail else None
        what = "Antwort" if self.kind == "reply" else "Interne Notiz (wird nicht gesendet)"
        parts: list[str | tuple[str, str]] = [(what, "bold")]
        if row is not None and self.kind == "reply":
            parts.append(f" an {clean_line(row.customer_name) or 'Kunde'} · {channel_label(row.channel)}")
            if row.order_ref:
                parts.append(f" · Bestellung {clean_line(row.order_ref)}")
            last = self.store.conn.execute(
                "SELECT sender_addr FROM messages WHERE ticket_id = ? AND direction = 'in' "
                "ORDER BY sent_at DESC, id DESC LIMIT 1", (self.ticket_id,)).fetchone()
            if last and last[0]:
                parts.append((f"  <{clean_line(last[0], max_chars=80)}>", _DIM))
        self.query_one("#compose-header", Static).update(Content.assemble(*parts))

    @work(thread=True, exclusive=True, group="compose-load", exit_on_error=False)
    def load_worker(self) -> None:
        """Template files and channel rules are read from disk off the event loop."""
        folders = [self.config.templates_dir] if self.config.templates_dir else []
        templates, problems = load_templates(*folders)
        try:
            rules = load_rules(self.config.reply_rules_file)
        except RulesError as exc:
            problems.append(str(exc))
            rules = load_rules(None)
        self.post_message(TemplatesLoaded(templates, problems, rules))

    def on_templates_loaded(self, message: TemplatesLoaded) -> None:
        self.templates = message.templates
        self.rules = message.rules
        for problem in message.problems[:3]:
            self.notify(clean_line(problem), severity="warning", markup=False)
        self._check()

    # -- typing ------------------------------------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        body = event.text_area
        row, column = body.cursor_location
        line = body.document.get_line(row)
        if column >= 2 and line[column - 2:column] == "::":
            body.delete((row, column - 2), (row, column))
            self.action_template()
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self._save_draft)
        self._check()

    def _save_draft(self) -> None:
        text = self.query_one("#compose-body", TextArea).text
        if text == self._saved_text:
            return
        self._saved_text = text
        template = self.template_used.key if self.template_used else None
        self.draft_worker(self.store.path, text, template)

    @work(thread=True, group="draft", exit_on_error=False)
    def draft_worker(self, store_path: Path, text: str, template: str | None) -> None:
        with Store.open(store_path, create=False) as store, store.transaction() as conn:
            save_draft(conn, self.ticket_id, self.kind, text, now=int(self.clock()), template=template)

    def problems(self, text: str) -> list[str]:
        """What stops this text from being sent: gaps, then the channel's rules."""
        return reply_problems(self.store.conn, self.ticket_id, text, rules=self.rules, now=self.clock(),
                              kind=self.kind)

    def _check(self) -> None:
        text = self.query_one("#compose-body", TextArea).text
        problems = self.problems(text) if text.strip() else []
        parts: list[str | tuple[str, str]] = []
        for problem in problems:
            parts.append(("✗ " + clean_line(problem, max_chars=200) + "\n", _BAD))
        gap_lines = [line for line in text.splitlines() if GAP_RE.search(line)]
        for line in gap_lines[:4]:
            position = 0
            for match in GAP_RE.finditer(line):
                parts.append(clean_line(line[position:match.start()]))
                parts.append((clean_line(match.group(0)), _GAP))
                position = match.end()
            parts.append(clean_line(line[position:]) + "\n")
        if not parts:
            parts.append(("ctrl+s sendet" if self.kind == "reply" else "ctrl+s speichert die Notiz", _DIM))
        self.query_one("#compose-problems", Static).update(Content.assemble(*parts))

    # -- templates and editor ------------------------------------------------------------

    # -- assist: past replies and an LLM draft (workers) -----------------------------------

    def action_suggest(self) -> None:
        if self.kind != "reply":
            return
        self.suggest_worker(self.store.path)

    @work(thread=True, exclusive=True, group="compose-assist", exit_on_error=False)
    def suggest_worker(self, store_path: Path) -> None:
        from deskterm.screens.assist import SuggestionsFound
        from deskterm.store.suggestions import similar_answers

        try:
            with Store.open(store_path, create=False) as store:
                found = similar_answers(store.conn, self.ticket_id, limit=5, agent=self.agent,
                                        shop=self.config.reply.shop_name)
        except Exception as exc:  # a failing search is shown, never fatal
            self.post_message(SuggestionsFound([], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(SuggestionsFound(found))

    def on_suggestions_found(self, message: object) -> None:
        from deskterm.screens.assist import SuggestionPicker, SuggestionsFound

        assert isinstance(message, SuggestionsFound)
        if message.error:
            self.notify(f"Suche fehlgeschlagen: {clean_line(message.error)}", severity="error", markup=False)
        elif not message.suggestions:
            self.notify("Keine ähnlichen beantworteten Tickets gefunden", markup=False)
        else:
            self.app.push_screen(SuggestionPicker(message.suggestions), self._insert_text)

    def action_llm_draft(self) -> None:
        if self.kind != "reply":
            return
        llm = self.config.assist.llm
        if not llm.enabled:
            self.notify("KI-Entwürfe sind aus: [assist.llm] in der Konfiguration (enabled, base_url, model)",
                        markup=False, timeout=5)
            return
        self.notify(f"Frage {clean_line(llm.model)} (Namen, Adressen, Bestellnummern als Platzhalter) …",
                    markup=False, timeout=3)
        self.llm_worker(self.store.path)

    @work(thread=True, exclusive=True, group="compose-assist", exit_on_error=False)
    def llm_worker(self, store_path: Path) -> None:
        from deskterm.screens.assist import LlmDraftReady
        from deskterm.sources.llm import llm_draft
        from deskterm.store.assist_drafts import DraftError

        try:
            with Store.open(store_path, create=False) as store:
                draft = llm_draft(store.conn, self.ticket_id, self.config.assist.llm, agent=self.agent,
                                  shop=self.config.reply.shop_name)
        except DraftError as exc:
            self.post_message(LlmDraftReady("", [], str(exc)))
            return
        self.post_message(LlmDraftReady(draft.text, draft.notes))

    def on_llm_draft_ready(self, message: object) -> None:
        from deskterm.screens.assist import LlmDraftReady

        assert isinstance(message, LlmDraftReady)
        if message.error:
            self.notify(f"Kein KI-Entwurf: {clean_line(message.error)}", severity="error", markup=False)
            return
        self._insert_text(message.text)
        self.notify(" · ".join(clean_line(n) for n in message.notes) or "KI-Entwurf eingefügt", markup=False)

    def _insert_text(self, text: str | None) -> None:
        """Take a suggestion or draft: it replaces an empty body (or one holding only the
        signature), else it goes in at the cursor."""
        if not text:
            return
        body = self.query_one("#compose-body", TextArea)
        signature = self._signature()
        if not body.text.strip() or body.text.strip() == signature.strip():
            body.load_text(text)
            body.move_cursor((0, 0))
            self._check()
            self._save_draft()
        else:
            body.insert(text.rstrip() + "\n\n")

    def action_template(self) -> None:
        if not self.templates:
            self.notify("Vorlagen werden noch geladen …", markup=False, timeout=2)
            return
        self.app.push_screen(TemplatePicker(self.templates, self.channel), self._insert_template)

    def _insert_template(self, key: str | None) -> None:
        template = next((t for t in self.templates if t.key == key), None)
        if template is None:
            return
        language = self.config.reply.language
        body_source = template.variants.get(language) or template.variants.get("de") or next(iter(
            template.variants.values()))
        rules = self.rules.get(self.channel)
        values = template_values(self.store.conn, self.ticket_id, agent=self.agent,
                                 shop=self.config.reply.shop_name,
                                 return_instructions=self.config.assist.returns_text(self.channel),
                                 links_allowed=not (rules and rules.forbid_urls))
        try:
            rendered = render(body_source, values)
        except TemplateRejected as exc:
            self.notify(clean_line(str(exc)), severity="error", markup=False)
            return
        self.template_used = template
        self.query_one("#compose-body", TextArea).insert(rendered.text)
        if rendered.gaps:
            self.notify(f"{len(rendered.gaps)} Lücke(n) in der Vorlage: bitte ausfüllen", severity="warning",
                        markup=False)

    def action_editor(self) -> None:
        """Edit in $VISUAL or $EDITOR; the app is suspended meanwhile."""
        body = self.query_one("#compose-body", TextArea)
        try:
            with self.app.suspend():
                text = edit_in_editor(body.text, editor_command())
            body.load_text(text)
        except Exception as exc:  # no terminal to suspend, editor missing ...: say so, keep the text
            self.notify(f"Editor nicht verfügbar: {clean_line(str(exc)) or type(exc).__name__}", severity="error",
                        markup=False)
        self._save_draft()
        self._check()

    # -- leaving ----------------------------------------------------------------------

    def action_close(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_draft()
        self.dismiss(None)

    def action_send(self) -> None:
        text = self.query_one("#compose-body", TextArea).text
        problems = self.problems(text)
        if problems:
            self._check()
            self.notify("Nicht gesendet: " + clean_line(problems[0]), severity="error", markup=False)
            return
        conflict = self._conflict() if self.kind == "reply" and not self._conflict_confirmed else None
        if conflict:
            from deskterm.screens.pickers import ChoiceScreen

            self.app.push_screen(ChoiceScreen(conflict, [("send", "Trotzdem senden"), ("wait", "Nicht senden (Entwurf bleibt)")]),
                                 self._conflict_answered)
            return
        if self._save_timer is not None:
            self._save_timer.stop()
        status = self.template_used.status if self.template_used else None
        tags = self.template_used.tags if self.template_used else ()
        self.send_worker(self.store.path, text, status, tags)

    def _conflict(self) -> str | None:
        """Another agent replies to this ticket right now, or replied since this composer opened."""
        from deskterm.store.presence import others_on, replied_since

        now = int(self.clock())
        replying = [p.agent for p in others_on(self.store.conn, self.ticket_id, self.agent, now)
                    if p.activity == "replying"]
        if replying:
            return f"{clean_line(replying[0], max_chars=30)} antwortet gerade auch auf dieses Ticket."
        other = replied_since(self.store.conn, self.ticket_id, self.opened_at, self.agent)
        if other:
            return f"{clean_line(other, max_chars=30)} hat inzwischen geantwortet."
        return None

    def _conflict_answered(self, choice: str | None) -> None:
        if choice == "send":
            self._conflict_confirmed = True
            self.action_send()

    @work(thread=True, exclusive=True, group="compose-send", exit_on_error=False)
    def send_worker(self, store_path: Path, text: str, status: str | None, tags: tuple[str, ...]) -> None:
        try:
            with Store.open(store_path, create=False) as store:
                if self.kind == "note":
                    add_note(store, self.ticket_id, text, author=self.agent, now=int(self.clock()))
                    self.post_message(Sent(None, "Notiz gespeichert"))
                    return
                row = queue_reply(store, self.ticket_id, text, now=int(self.clock()),
                                  undo_seconds=self.config.reply.undo_seconds, set_status=status, tags=tags,
                                  agent=self.agent)
        except OutboxError as exc:
            self.post_message(Failed(str(exc)))
            return
        seconds = self.config.reply.undo_seconds
        label = f"Antwort wird in {seconds} s gesendet – U nimmt sie zurück" if seconds else "Antwort wird gesendet"
        self.post_message(Sent(row.id, label))

    def on_sent(self, message: Sent) -> None:
        self._saved_text = ""
        self.notify(message.label, markup=False, timeout=max(3, self.config.reply.undo_seconds))
        self.dismiss(message.outbox_id)

    def on_failed(self, message: Failed) -> None:
        self.notify("Nicht gesendet: " + clean_line(message.reason), severity="error", markup=False)
