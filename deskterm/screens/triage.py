"""Triage from the keyboard: the same actions for the inbox (marked tickets, or the one under
the cursor) and the ticket screen (that ticket). Pickers ask for what is missing; the write
runs in a worker (app.store_write) and `u` undoes the agent's last action.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from textual.app import App
from textual.binding import Binding

from deskterm.domain.triage import (
    INTENTS,
    NO_RESPONSE_REASONS,
    PRIORITIES,
    SNOOZE_PRESETS,
    TriageError,
    parse_tag,
    snooze_until,
)
from deskterm.screens.pickers import ChoiceScreen, PromptScreen
from deskterm.store import triage

CUSTOM, CLEAR, OTHER = "\x00custom", "\x00clear", "\x00other"  # picker choices no typed text can equal

# (action name, label) for the `;` menu, in the order shown.
MENU: tuple[tuple[str, str], ...] = (
    ("resolve", "Erledigen (e)"),
    ("reopen", "Wieder öffnen (E)"),
    ("pending", "Wartet auf Kunden (w)"),
    ("snooze", "Zurückstellen … (z)"),
    ("assign", "Zuweisen … (a)"),
    ("tag", "Schlagwörter … (t)"),
    ("priority", "Priorität … (p)"),
    ("no_response", "Keine Antwort nötig … (N)"),
    ("intent", "Anliegen festlegen … (i)"),
    ("undo", "Letzte Aktion rückgängig (u)"),
)

INBOX_BINDINGS = [
    Binding("e", "triage('resolve')", "Erledigen", id="triage.resolve"),
    Binding("E", "triage('reopen')", "Wieder öffnen", show=False, id="triage.reopen"),
    Binding("w", "triage('pending')", "Wartet auf Kunden", show=False, id="triage.pending"),
    Binding("z", "triage('snooze')", "Zurückstellen", id="triage.snooze"),
    Binding("a", "triage('assign')", "Zuweisen", show=False, id="triage.assign"),
    Binding("t", "triage('tag')", "Schlagwörter", show=False, id="triage.tag"),
    Binding("p", "triage('priority')", "Priorität", show=False, id="triage.priority"),
    Binding("N", "triage('no_response')", "Keine Antwort nötig", show=False, id="triage.no_response"),
    Binding("i", "triage('intent')", "Anliegen festlegen", show=False, id="triage.intent"),
    Binding("u", "triage('undo')", "Rückgängig", id="triage.undo"),
    Binding("semicolon", "triage('menu')", "Aktionen", id="triage.menu"),
]


class Triage:
    """Runs triage actions for one screen; `ticket_ids()` says which tickets they apply to."""

    def __init__(self, app: App[None], ticket_ids: Callable[[], list[int]], *, agent: str,
                 agents: tuple[str, ...] = (), queues: tuple[str, ...] = (),
                 done: Callable[[], None] | None = None) -> None:
        self.app = app
        self.ticket_ids = ticket_ids
        self.agent = agent
        self.agents = agents
        self.queues = queues
        self.done = done or (lambda: None)

    def run(self, action: str) -> None:
        if action == "undo":
            self._write("undo", lambda conn, now: triage.undo_last(conn, agent=self.agent, now=now))
            return
        if action == "menu":
            self.app.push_screen(ChoiceScreen("Aktion für die Auswahl", MENU), self._menu_chosen)
            return
        ids = self.ticket_ids()
        if not ids:
            self.app.notify("Kein Ticket ausgewählt", severity="warning", markup=False)
            return
        if action in ("resolve", "reopen", "pending"):
            status = {"resolve": "resolved", "reopen": "open", "pending": "pending"}[action]
            self._write(action, lambda conn, now: triage.set_status(conn, ids, status, agent=self.agent, now=now))
        elif action == "snooze":
            options = [*SNOOZE_PRESETS, (CUSTOM, "Eigene Zeit …")]
            self.app.push_screen(ChoiceScreen(f"Zurückstellen ({len(ids)} Ticket(s)) bis …", options),
                                 lambda choice: self._snooze(ids, choice))
        elif action == "assign":
            options = [(f"agent:{self.agent}", f"Mir ({self.agent})")]
            options += [(f"agent:{a}", a) for a in self.agents if a != self.agent]
            options += [(f"queue:{q}", f"Warteschlange: {q}") for q in self.queues]
            options += [("agent:", "Niemand (Zuweisung entfernen)"), (OTHER, "Andere Person …")]
            self.app.push_screen(ChoiceScreen(f"Zuweisen ({len(ids)} Ticket(s))", options),
                                 lambda choice: self._assign(ids, choice))
        elif action == "tag":
            self.app.push_screen(PromptScreen(f"Schlagwörter ({len(ids)} Ticket(s))",
                                              "z. B. „vip rückfrage“ fügt hinzu, „-vip“ entfernt", check=_tag_problem),
                                 lambda text: self._tag(ids, text))
        elif action == "priority":
            options = [(str(value), label) for value, label in PRIORITIES.items()]
            self.app.push_screen(ChoiceScreen(f"Priorität ({len(ids)} Ticket(s))", options),
                                 lambda choice: self._priority(ids, choice))
        elif action == "intent":
            options = [(key, label) for key, label in INTENTS.items()]
            self.app.push_screen(ChoiceScreen(f"Anliegen ({len(ids)} Ticket(s)): wird als Beispiel gelernt", options),
                                 lambda choice: self._intent(ids, choice))
        elif action == "no_response":
            options = [(r, r) for r in NO_RESPONSE_REASONS] + [(CUSTOM, "Eigener Grund …"),
                                                               (CLEAR, "Doch Antwort nötig (Frist läuft wieder)")]
            self.app.push_screen(ChoiceScreen(f"Keine Antwort nötig ({len(ids)} Ticket(s)): Grund", options),
                                 lambda choice: self._no_response(ids, choice))

    def _menu_chosen(self, choice: str | None) -> None:
        if choice is not None:
            self.run(choice)

    def _snooze(self, ids: list[int], choice: str | None) -> None:
        if choice is None:
            return
        if choice == CUSTOM:
            now = self.app.clock()  # type: ignore[attr-defined]
            self.app.push_screen(PromptScreen("Zurückstellen bis", "1h, 3d, morgen, montag, 14:00, 2026-12-24 10:00",
                                              check=lambda text: _snooze_problem(text, now)),
                                 lambda text: self._snooze(ids, text))
            return
        when = snooze_until(choice, self.app.clock())  # type: ignore[attr-defined]
        self._write("snooze", lambda conn, now: triage.set_status(
            conn, ids, "snoozed", agent=self.agent, now=now, snoozed_until=when,
            label=f"Zurückgestellt bis {_local(when)}"))

    def _assign(self, ids: list[int], choice: str | None) -> None:
        if choice is None:
            return
        if choice == OTHER:
            self.app.push_screen(PromptScreen("Zuweisen an", "Name der Person (wie in deren [ui] agent)"),
                                 lambda text: self._assign(ids, None if text is None else f"agent:{text}"))
            return
        kind, _, name = choice.partition(":")
        if kind == "queue":
            self._write("assign", lambda conn, now: triage.set_queue(conn, ids, name, agent=self.agent, now=now))
        else:
            self._write("assign", lambda conn, now: triage.assign(conn, ids, name or None, agent=self.agent, now=now))

    def _priority(self, ids: list[int], choice: str | None) -> None:
        if choice is not None:
            self._write("priority", lambda conn, now: triage.set_priority(conn, ids, int(choice), agent=self.agent,
                                                                         now=now))

    def _tag(self, ids: list[int], text: str | None) -> None:
        if not text:
            return
        words = text.split()
        add = [w for w in words if not w.startswith("-")]
        remove = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
        self._write("tag", lambda conn, now: triage.tag(conn, ids, add, remove, agent=self.agent, now=now))

    def _intent(self, ids: list[int], choice: str | None) -> None:
        if choice is not None:
            self._write("intent", lambda conn, now: triage.label_intent(conn, ids, choice, agent=self.agent, now=now))

    def _no_response(self, ids: list[int], choice: str | None) -> None:
        if choice is None:
            return
        if choice == CUSTOM:
            self.app.push_screen(PromptScreen("Keine Antwort nötig, weil …", "ein kurzer Grund (steht im Ticket)"),
                                 lambda text: self._no_response(ids, text))
            return
        reason = None if choice == CLEAR else choice
        self._write("no_response", lambda conn, now: triage.no_response_needed(conn, ids, reason, agent=self.agent,
                                                                               now=now))

    def _write(self, name: str, change: Callable[[sqlite3.Connection, int], triage.ActionResult | None]) -> None:
        """Run the change in a worker; the notice says what happened and how to undo it."""
        def apply(conn: sqlite3.Connection, now: int) -> str:
            result = change(conn, now)
            if result is None:
                return "Nichts rückgängig zu machen"
            suffix = "" if name == "undo" else " · u macht rückgängig"
            return f"{result.label} ({result.changed} Ticket(s)){suffix}"

        self.app.triage_write(apply)  # type: ignore[attr-defined]
        self.done()


def _local(epoch: int) -> str:
    from deskterm.domain.format import local_time

    return local_time(epoch)


def _tag_problem(text: str) -> str | None:
    try:
        for word in text.split():
            parse_tag(word.lstrip("-"))
    except TriageError as exc:
        return str(exc)
    return None


def _snooze_problem(text: str, now: float) -> str | None:
    try:
        snooze_until(text, now)
    except TriageError as exc:
        return str(exc)
    return None
