"""`A`: accounts. The profile's accounts with their last sync, and a form to add an IMAP
mailbox: the login is tested in a worker before anything is saved, and the password goes
to the OS keyring only (the same path as `deskterm accounts add imap`)."""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Input, Label, Select, Static

from deskterm.domain.format import local_time
from deskterm.domain.sanitize import clean_line
from deskterm.store.db import Store
from deskterm.store.status import account_overview
from deskterm.widgets.key_bar import KeyBar

_DIM = "#8b8d98"
_BAD = "bold #e5484d"
_GOOD = "bold #46a758"
SECURITY = [("TLS (Port 993/465)", "tls"), ("STARTTLS (Port 143/587)", "starttls"),
            ("unverschlüsselt (nur Test)", "plain")]


class AccountAdded(Message):
    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


class AccountFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def account_lines(store: Store) -> Content:
    """One line per account: key, channel, where it syncs from, last sync or error."""
    accounts = account_overview(store.conn)
    parts: list[str | tuple[str, str]] = [("Konten\n\n", "bold")]
    for account in accounts:
        parts.append((f"{clean_line(account.key):<16} ", "bold"))
        parts.append(f"{clean_line(account.name)[:28]:<30}{account.channel:<10}{account.source:<8}"
                     f"{clean_line(account.location)[:40]:<42}")
        if account.state == "error" and account.last_error:
            parts.append(("✗ " + clean_line(account.last_error, max_chars=80) + "\n", _BAD))
        else:
            parts.append((f"zuletzt {local_time(account.last_success)}\n" if account.last_success
                          else "noch nicht abgeglichen\n", _DIM))
    if not accounts:
        parts.append(("Noch keine Konten. a: IMAP-Postfach hinzufügen\n", _DIM))
    return Content.assemble(*parts)


class AccountsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Zurück", id="accounts.back"),
        Binding("a", "add", "IMAP-Postfach hinzufügen", id="accounts.add"),
        Binding("ctrl+s", "save", "Testen und speichern", id="accounts.save"),
        Binding("question_mark", "app.help", "Hilfe", id="help"),
    ]

    DEFAULT_CSS = """
    #accounts-list { height: auto; max-height: 14; padding: 0 1; }
    #accounts-form { height: 1fr; padding: 0 1; }
    #accounts-form.hidden { display: none; }
    #accounts-form Horizontal { height: auto; }
    #accounts-form Input { width: 1fr; }
    #accounts-form Label { width: 18; padding: 1 1 0 0; }
    #accounts-form Select { width: 1fr; }
    #accounts-result { height: auto; padding: 0 1; }
    """

    def __init__(self, *, store: Store, on_added: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.store = store
        self.on_added = on_added

    def compose(self) -> ComposeResult:
        yield Static(id="accounts-list")
        with VerticalScroll(id="accounts-form", classes="hidden"):
            for label, field, placeholder, password in (
                ("Kürzel", "key", "z. B. shop-mail", False),
                ("Name", "name", "z. B. Lindenhof Kundenservice", False),
                ("Absender", "address", "service@ihr-shop.de", False),
                ("IMAP-Server", "host", "imap.ihr-anbieter.de", False),
                ("IMAP-Port", "port", "leer: 993 bzw. 143", False),
                ("Benutzer", "user", "Login des Postfachs", False),
                ("Passwort", "password", "kommt in den Schlüsselbund, nie in eine Datei", True),
                ("SMTP-Server", "smtp_host", "leer: Antworten können nicht gesendet werden", False),
                ("SMTP-Port", "smtp_port", "leer: 465 bzw. 587", False),
            ):
                with Horizontal():
                    yield Label(label)
                    yield Input(placeholder=placeholder, password=password, id=f"acc-{field}")
            with Horizontal():
                yield Label("Verschlüsselung")
                yield Select(SECURITY, value="tls", allow_blank=False, id="acc-security")
            yield Checkbox("Unverschlüsselte Verbindung erlauben (nur für Tests auf diesem Rechner)",
                           id="acc-plaintext")
            yield Static(Content.assemble(("ctrl+s: Verbindung testen und speichern · Esc: abbrechen", _DIM)))
        yield Static(id="accounts-result")
        yield KeyBar()

    def on_mount(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        self.query_one("#accounts-list", Static).update(account_lines(self.store))

    def action_back(self) -> None:
        form = self.query_one("#accounts-form")
        if not form.has_class("hidden"):
            form.add_class("hidden")
            return
        self.app.pop_screen()

    def action_add(self) -> None:
        self.query_one("#accounts-form").remove_class("hidden")
        self.query_one("#acc-key", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#acc-{field}", Input).value.strip()

    def action_save(self) -> None:
        from deskterm.sources.mail.settings import MailAccountSettings, ServerSettings

        if self.query_one("#accounts-form").has_class("hidden"):
            return
        security = str(self.query_one("#acc-security", Select).value)
        plaintext = self.query_one("#acc-plaintext", Checkbox).value
        try:
            port = int(self._value("port") or (993 if security == "tls" else 143))
            smtp_port = int(self._value("smtp_port") or (465 if security == "tls" else 587))
        except ValueError:
            self._show("Port: bitte eine Zahl eingeben", _BAD)
            return
        user = self._value("user")
        imap = ServerSettings(self._value("host"), port, security, user, "", allow_plaintext=plaintext)
        smtp = ServerSettings(self._value("smtp_host"), smtp_port, security, user, "", allow_plaintext=plaintext) \
            if self._value("smtp_host") else None
        settings = MailAccountSettings(imap, smtp, (self._value("address"),) if self._value("address") else ())
        self._show("Verbindung wird getestet …", _DIM)
        self.add_worker(self.store.path, self._value("key"), self._value("name") or self._value("key"), settings,
                        self.query_one("#acc-password", Input).value)

    def _show(self, text: str, style: str) -> None:
        self.query_one("#accounts-result", Static).update(Content.assemble((text, style)))

    @work(thread=True, exclusive=True, group="account-add", exit_on_error=False)
    def add_worker(self, store_path, key, name, settings, password) -> None:  # type: ignore[no-untyped-def]
        from deskterm.accounts import AccountError, add_mail_account

        try:
            with Store.open(store_path, create=False) as store:
                add_mail_account(store, key, name, settings, imap_password=password)
        except AccountError as exc:
            self.post_message(AccountFailed(str(exc)))
            return
        self.post_message(AccountAdded(key))

    def on_account_failed(self, message: AccountFailed) -> None:
        self._show("✗ " + clean_line(message.reason, max_chars=300), _BAD)

    def on_account_added(self, message: AccountAdded) -> None:
        self._show(f"✓ Konto {clean_line(message.key)} gespeichert; Passwort im Schlüsselbund. Abgleich startet.",
                   _GOOD)
        self.query_one("#acc-password", Input).value = ""
        self.query_one("#accounts-form").add_class("hidden")
        self.refresh_list()
        if self.on_added is not None:
            self.on_added()
