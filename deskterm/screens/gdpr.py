"""`D`: the GDPR centre. Requests and flagged messages, what is held about a person,
export, erasure with a dry run, retention; all from the keyboard.

Reads of a person's data, exports, erasures and retention runs happen in workers; the
screen shows their results. Nothing here shows message text: only counts and ids.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from deskterm.domain.format import day
from deskterm.domain.gdpr_requests import REQUEST_LABELS, RequestKind
from deskterm.domain.retention import RetentionPolicy
from deskterm.domain.sanitize import clean_line
from deskterm.store.audit import append_audit
from deskterm.store.db import Store
from deskterm.store.gdpr import ErasurePlan, erase_person, find_person, plan_erasure, scrub_files
from deskterm.store.gdpr_export import export_person
from deskterm.store.gdpr_register import (
    FlagRow,
    RequestRow,
    close_request,
    dismiss_flag,
    extend_request,
    open_flags,
    open_requests,
    plan_retention,
    register_from_flag,
    run_retention,
    verify_requester,
)
from deskterm.widgets.key_bar import KeyBar

_DIM = "#8b8d98"
_HEAD = "bold #8da4ef"
_WARN = "bold #ffc53d"
_BAD = "bold #e5484d"


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the list: a flagged ticket or a registered request."""

    flag: FlagRow | None = None
    request: RequestRow | None = None

    @property
    def customer_id(self) -> int | None:
        return self.flag.customer_id if self.flag else (self.request.customer_id if self.request else None)


class DetailReady(Message):
    def __init__(self, content: Content, plan: ErasurePlan | None = None) -> None:
        super().__init__()
        self.content = content
        self.plan = plan


def _kind(kind: str) -> str:
    try:
        return REQUEST_LABELS[RequestKind(kind)]
    except ValueError:
        return clean_line(kind)


class GdprScreen(Screen[None]):
    BINDINGS = [
        Binding("q,escape", "back", "Zurück", id="gdpr.back"),
        Binding("a", "register", "Anfrage anlegen", id="gdpr.register"),
        Binding("v", "verify", "Identität geprüft", id="gdpr.verify"),
        Binding("x", "export", "Export", id="gdpr.export"),
        Binding("E", "erase_preview", "Löschen…", id="gdpr.erase"),
        Binding("y", "confirm", "Bestätigen", show=False, id="gdpr.confirm"),
        Binding("Y", "confirm(True)", "Bestätigen, danach VACUUM", show=False, id="gdpr.confirm_vacuum"),
        Binding("e", "extend", "Verlängern", show=False, id="gdpr.extend"),
        Binding("c", "close(True)", "Erledigt", show=False, id="gdpr.done"),
        Binding("r", "close(False)", "Ablehnen", show=False, id="gdpr.reject"),
        Binding("d", "dismiss_flag", "Markierung verwerfen", show=False, id="gdpr.dismiss"),
        Binding("t", "retention_preview", "Aufbewahrung", id="gdpr.retention"),
        Binding("question_mark", "app.help", "Hilfe", id="help"),
    ]
    DEFAULT_CSS = """
    #gdpr-title { height: 1; background: $primary-background; padding: 0 1; text-style: bold; }
    #gdpr-body { height: 1fr; }
    #gdpr-list { width: 1fr; height: 1fr; }
    #gdpr-detail { width: 64; height: 1fr; padding: 0 1; border-left: vkey $panel-lighten-2; }
    #gdpr-prompt { display: none; }
    #gdpr-prompt.visible { display: block; }
    """

    def __init__(self, *, store: Store, policy: RetentionPolicy, export_dir: Path,
                 clock: Callable[[], float]) -> None:
        super().__init__()
        self.store = store
        self.policy = policy
        self.export_dir = export_dir
        self.clock = clock
        self.items: list[Item] = []
        self.pending: Callable[[bool], None] | None = None  # what y (False) or Y (True: then VACUUM) confirms
        self._shown_index: int | None = None
        self.prompt_action: Callable[[str], object] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="gdpr-title", markup=False)
        with Horizontal(id="gdpr-body"):
            yield OptionList(id="gdpr-list")
            with VerticalScroll(id="gdpr-detail"):
                yield Static("", id="gdpr-detail-body", markup=False)
        yield Input(id="gdpr-prompt")
        yield KeyBar()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(OptionList).focus()

    # -- list ----------------------------------------------------------------------------

    def reload(self) -> None:
        conn = self.store.conn
        now = int(self.clock())
        requests, flags = open_requests(conn), open_flags(conn)
        self.items = [Item(request=r) for r in requests] + [Item(flag=f) for f in flags]
        options = []
        for item in self.items:
            if item.request:
                r = item.request
                late = r.due_at < now
                options.append(Option(Content.assemble(
                    (f"§{r.id:<4}", "bold"), f" {_kind(r.kind):<32}",
                    (f" fällig {day(r.due_at)}", _BAD if late else _WARN),
                    (f"  Kunde {r.customer_id or '–'} · Identität {r.verification}", _DIM))))
            else:
                f = item.flag
                assert f is not None
                options.append(Option(Content.assemble(
                    ("⚑ erkannt ", _WARN), f"{_kind(f.kind):<32}", (f" {day(f.received_at)}", _DIM),
                    (f"  Ticket {f.ticket_id} · „{clean_line(f.phrase, max_chars=30)}“", _DIM))))
        option_list = self.query_one(OptionList)
        highlighted = option_list.highlighted
        option_list.clear_options()
        option_list.add_options(options)
        if options:
            option_list.highlighted = min(highlighted or 0, len(options) - 1)
        title = f"DSGVO-Zentrale · {len(requests)} offene Anfragen · {len(flags)} erkannte Anfragen in Nachrichten"
        self.query_one("#gdpr-title", Static).update(Content(title))
        if not options:
            self._detail(Content("Keine offenen Anfragen. t prüft die Aufbewahrungsfristen."))

    @property
    def selected(self) -> Item | None:
        index = self.query_one(OptionList).highlighted
        return self.items[index] if index is not None and index < len(self.items) else None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        # A reload re-highlights the same row: keep showing the result of the last action then.
        if event.option_index == self._shown_index:
            return
        self._shown_index = event.option_index
        self.pending = None
        item = self.selected
        if item is not None and item.customer_id is not None:
            self.find_worker(item.customer_id)

    def _detail(self, content: Content) -> None:
        self.query_one("#gdpr-detail-body", Static).update(content)

    def on_detail_ready(self, message: DetailReady) -> None:
        self._detail(message.content)

    # -- workers -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="gdpr-read", exit_on_error=False)
    def find_worker(self, customer_id: int) -> None:
        with Store.open(self.store.path, create=False) as store:
            data = find_person(store.conn, customer_id, policy=self.policy)
            with store.transaction() as conn:  # viewing a person's full data is recorded
                append_audit(conn, self._now(), self.actor, "gdpr.viewed", f"customer:{data.customers[0]}")
        parts: list[str | tuple[str, str]] = [(f"Gespeichert zu Kunde {customer_id}\n", _HEAD)]
        if len(data.customers) > 1:
            parts.append((f"zusammengeführt aus {len(data.customers)} Kundenkonten\n", _DIM))
        tree = [("Kennungen", sum(data.identities.values()), ", ".join(f"{k} {v}" for k, v in data.identities.items())),
                ("Tickets", sum(data.tickets.values()), ", ".join(f"{k} {v}" for k, v in data.tickets.items())),
                ("  Nachrichten", data.messages, ""), ("  Anhänge", data.attachments, f"{data.attachment_bytes} Bytes"),
                ("  Postausgang", data.outbox, ""), ("Bestellungen", data.orders, f"{data.orders_held} aufbewahrungspflichtig"),
                ("  Sendungen", data.shipments, ""), ("  Retouren", data.returns, ""), ("  Erstattungen", data.refunds, ""),
                ("  Stornierungen", data.cancellations, ""), ("Zusammenführungen", data.merges, ""),
                ("Vorschläge", data.suggestions, ""), ("Einwilligungen", data.consents, ""),
                ("Anfragen", data.requests, ""), ("Exporte", data.exports, ""), ("Protokolleinträge", data.audit_entries,
                                                                              "bleiben (ohne Inhalte)")]
        for label, count, note in tree:
            parts.append(f"{label:<20}{count:>6}")
            parts.append((f"  {clean_line(note)}\n" if note else "\n", _DIM))
        parts.append(("\nx Export · E Löschen (mit Vorschau) · v Identität geprüft", _DIM))
        self.post_message(DetailReady(Content.assemble(*parts)))

    @work(thread=True, exclusive=True, group="gdpr-write", exit_on_error=False)
    def write_worker(self, label: str, change: Callable[[Store], Content | None]) -> None:
        with Store.open(self.store.path, create=False) as store:
            content = change(store)
        self.post_message(DetailReady(content or Content(label)))
        self.app.call_from_thread(self.reload)

    def _now(self) -> int:
        return int(self.clock())

    @property
    def actor(self) -> str:
        return str(getattr(self.app, "agent_name", "admin"))

    # -- actions -------------------------------------------------------------------------

    def _ask(self, placeholder: str, value: str, then: Callable[[str], object]) -> None:
        prompt = self.query_one("#gdpr-prompt", Input)
        prompt.placeholder, prompt.value = placeholder, value
        prompt.add_class("visible")
        prompt.focus()
        self.prompt_action = then

    def on_input_submitted(self, event: Input.Submitted) -> None:
        prompt = self.query_one("#gdpr-prompt", Input)
        prompt.remove_class("visible")
        self.query_one(OptionList).focus()
        action, self.prompt_action = self.prompt_action, None
        if action and event.value.strip():
            action(event.value.strip())

    def action_back(self) -> None:
        prompt = self.query_one("#gdpr-prompt", Input)
        if prompt.has_class("visible"):
            prompt.remove_class("visible")
            self.query_one(OptionList).focus()
            return
        self.app.pop_screen()

    def action_register(self) -> None:
        item = self.selected
        if item and item.flag:
            ticket, now, actor = item.flag.ticket_id, self._now(), self.actor
            self.write_worker("Anfrage angelegt", lambda s: _tx(s, lambda c: register_from_flag(c, ticket, now=now,
                                                                                                 actor=actor)))

    def action_dismiss_flag(self) -> None:
        item = self.selected
        if item and item.flag:
            ticket, now, actor = item.flag.ticket_id, self._now(), self.actor
            self.write_worker("Markierung verworfen", lambda s: _tx(s, lambda c: dismiss_flag(c, ticket, now=now,
                                                                                              actor=actor)))

    def action_verify(self) -> None:
        item = self.selected
        if item and item.request:
            request, now, actor = item.request.id, self._now(), self.actor
            self._ask("Wie wurde die Identität geprüft? (z. B. Bestellnummer + PLZ bestätigt)", "",
                      lambda evidence: self.write_worker("Identität geprüft", lambda s: _tx(
                          s, lambda c: verify_requester(c, request, verified=True, evidence=evidence, now=now,
                                                        actor=actor))))

    def action_extend(self) -> None:
        item = self.selected
        if item and item.request:
            request, now, actor = item.request.id, self._now(), self.actor
            self._ask("Grund der Verlängerung (wird der Person mitgeteilt)", "",
                      lambda reason: self.write_worker("Frist verlängert", lambda s: _tx(
                          s, lambda c: extend_request(c, request, reason, now=now, actor=actor))))

    def action_close(self, done: bool) -> None:
        item = self.selected
        if item and item.request:
            request, now, actor = item.request.id, self._now(), self.actor
            self.write_worker("Anfrage erledigt" if done else "Anfrage abgelehnt", lambda s: _tx(
                s, lambda c: close_request(c, request, done=done, now=now, actor=actor)))

    def action_export(self) -> None:
        item = self.selected
        if item and item.customer_id is not None:
            customer, now, actor = item.customer_id, self._now(), self.actor
            default = self.export_dir / f"auskunft-kunde-{customer}-{time.strftime('%Y%m%d')}.zip"
            self._ask("Wohin soll der Export? (ZIP-Datei)", str(default), lambda path: self.write_worker(
                "Export geschrieben", lambda s: _tx(s, lambda c: Content(
                    f"Export geschrieben: {export_person(c, customer, Path(path).expanduser(), now=now, actor=actor).path}"))))

    def action_erase_preview(self) -> None:
        item = self.selected
        if item is None or item.customer_id is None:
            return
        plan = plan_erasure(self.store.conn, item.customer_id, policy=self.policy)  # bounded reads
        receipt = plan.receipt()
        lines = [(f"Löschen: Vorschau für Kunde {item.customer_id}\n\n", _BAD)]
        erased = receipt["erased"]
        assert isinstance(erased, dict)
        text = "Wird gelöscht: " + ", ".join(f"{k} {v}" for k, v in erased.items()) + "\n"
        kept = receipt["kept"]
        text += f"Wird eingeschränkt aufbewahrt: {len(kept)} Bestellungen\n"  # type: ignore[arg-type]
        for entry in kept[:10]:  # type: ignore[index]
            text += f"  {clean_line(entry['order'])}: bis {day(entry['delete_after'])} ({entry['reason']})\n"
        self._detail(Content.assemble(*lines, text, ("\ny löscht endgültig · Y löscht und komprimiert die Datei "
                                                     "(VACUUM, langsam) · Esc bricht ab", _WARN)))
        now, actor, policy = self._now(), self.actor, self.policy

        def erase(vacuum: bool) -> None:
            def change(store: Store) -> Content:
                with store.transaction() as conn:
                    fresh = plan_erasure(conn, item.customer_id or 0, policy=policy)
                    done = erase_person(conn, fresh, now=now, actor=actor)
                scrub = scrub_files(store.conn, vacuum=vacuum)
                return Content(f"Gelöscht. Beleg Nr. {done['erasure_id']}: {json.dumps(done['erased'])}\n"
                               f"Aufbewahrt: {len(done['kept'])} Bestellungen. Suchindex bereinigt, WAL geleert: "  # type: ignore[arg-type]
                               f"{'ja' if scrub['wal_truncated'] else 'nein (anderer Leser aktiv)'}")
            self.write_worker("Gelöscht", change)

        self.pending = erase

    def action_retention_preview(self) -> None:
        plan = plan_retention(self.store.conn, self._now(), self.policy)
        summary = plan.as_dict()
        self._detail(Content.assemble(("Aufbewahrungsfristen\n\n", _HEAD),
                                      "\n".join(f"{k}: {v}" for k, v in summary.items()),
                                      ("\n\ny löscht diese Daten jetzt · Esc bricht ab" if any(summary.values())
                                       else "\n\nNichts ist abgelaufen.", _WARN)))
        if any(summary.values()):
            now, actor = self._now(), self.actor
            def apply(vacuum: bool) -> None:
                self.write_worker("Aufbewahrung angewendet", lambda s: _tx(
                    s, lambda c: Content(f"Gelöscht: {run_retention(c, plan, now=now, actor=actor)}")))

            self.pending = apply

    def action_confirm(self, vacuum: bool = False) -> None:
        action, self.pending = self.pending, None
        if action is not None:
            action(vacuum)


def _tx(store: Store, change: Callable[[sqlite3.Connection], object]) -> Content | None:
    """Run `change` in one transaction; a Content it returns is shown as the result."""
    with store.transaction() as conn:
        result = change(conn)
    return result if isinstance(result, Content) else None
