"""The one TOML config file: typed, validated, with errors that name file, line and key.

Secrets never live here: a setting that holds one must be a keyring reference
(`keyring:<service>/<user>`); a literal password or token is refused.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from deskterm.domain.assist_policy import AssistConfigError, AssistSettings, parse_assist
from deskterm.domain.retention import RetentionPolicy
from deskterm.paths import PROFILE_NAME_RE

SECRET_KEY_RE = re.compile(r"(pass(word)?|secret|token|api[_-]?key)$", re.IGNORECASE)
KEYRING_REF_RE = re.compile(r"^keyring:[^/\s]+/[^\s]+$")

STARTER_CONFIG = """\
# deskterm configuration. Secrets never go here: use keyring references, e.g.
#   password = "keyring:deskterm/mail-main"
# and store the secret with:  python -m keyring set deskterm mail-main

# Profile opened by plain `deskterm` (one SQLite store per profile).
# default_profile = "shop"

[ui]
# Any Textual theme name, e.g. "textual-dark", "nord", "gruvbox".
theme = "textual-dark"
# Your name in the audit log (merges, revealed addresses). Empty: your login name.
# agent = "Jana"

[sync]
# How often the TUI (and `deskterm sync --watch`) pulls every source, in seconds.
interval_seconds = 300

[gdpr]
# Years an erased customer's paid or shipped orders are kept, restricted (HGB §257, AO §147).
invoice_retention_years = 8
# Years after which resolved tickets are deleted by 'deskterm gdpr retention --run' (0: keep).
ticket_retention_years = 6
# If your buyer correspondence about orders counts as commercial letters (Handelsbriefe),
# keep it this long after an erasure request (HGB §257: 6), out of search and views. 0: off.
commercial_letter_years = 0

[reply]
# Seconds a sent reply waits before it leaves; U on the ticket takes it back meanwhile.
undo_seconds = 10
# Template language used first: de (formal "Sie"), de_du, en, fr.
language = "de"
# Appended to every new reply (\\n for line breaks). Templates: one TOML file each in the
# "templates" folder next to this file (same name as a starter template replaces it).
# signature = "Viele Grüße\\nIhr Lindenhof-Team"
# shop_name = "Lindenhof Haushaltswaren"
# A different signature per account (by account key, see 'deskterm accounts list'):
# [reply.signatures]
# amazon-de = "Ihr Lindenhof-Team auf Amazon"

[team]
# Agents and queues offered when assigning (a). Each agent sets their own name in [ui] agent.
# agents = ["Jana", "Anna"]
# queues = ["retouren", "dsgvo"]

# Saved views: a search on a key (1-8 are built in: inbox, due, mine, snoozed, resolved,
# all, overdue, due within 4 hours).
# [views.amazon-heute]
# query = "channel:amazon due:today"
# key = "9"
# [views.retouren]
# query = "intent:return -status:resolved sort:due"
# key = "0"

[demo]
# In the demo profile a buyer writes again this often, in seconds (0: never), so new mail
# and live countdowns can be watched.
new_message_seconds = 20

[assist]
# Assisted triage: every new buyer message is classified (intent, language, urgency, needs an
# answer?) on this machine; 'deskterm assist eval' shows how well. Routine intents get a
# draft from the order data (where is my order, return, invoice).
# classify = true
# no_response_for = ["auto_reply"]      # these tickets need no answer (the clock stops)
# return_address = "Lindenhof Haushaltswaren, Retouren, Industriestr. 4, 34117 Kassel"
# [assist.policy]                       # "draft" (default), "auto_send" (data complete) or "off"
# "email.where_is_my_order" = "auto_send"
# [[assist.route]]                      # routing: every matching rule applies, in order
# intent = "return"
# channel = "kaufland"
# queue = "retouren"
# assignee = "Jana"
# [[assist.route]]
# intent = "gdpr"
# queue = "dsgvo"
# priority = "high"
# [assist.llm]                          # optional drafts by an OpenAI-compatible API; off by default
# enabled = true
# base_url = "http://127.0.0.1:11434/v1"
# model = "llama3.1"
# api_key = "keyring:deskterm/llm"      # only if the provider needs one

[keymap]
# Any key by its binding id ('?' lists keys; the command palette shows every action), e.g.
# "inbox.due" = "F"
# "ticket.reply" = "ctrl+r"

[sla]
# Response clocks per channel (presets: Amazon 24 h incl. weekends, Kaufland 48 working
# hours, eBay 3 working days, ...). The federal state decides state holidays (BY, BE, NW ...).
# state = "BY"
# [sla.email]
# hours = 8
# opening = "09:00-17:00"     # count only within opening hours on working days
# [sla.kaufland]
# pause_when_waiting = false
"""


class ConfigError(Exception):
    """Invalid config; str() is one line: `<file>:<line>: <key>: <problem>`."""

    def __init__(self, path: Path, line: int | None, key: str, problem: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class UiConfig:
    theme: str = "textual-dark"
    agent: str = ""  # name recorded in the audit log; empty = the login name


@dataclass(frozen=True, slots=True)
class SyncConfig:
    interval_seconds: int = 300


@dataclass(frozen=True, slots=True)
class GdprConfig:
    invoice_retention_years: int = 8  # HGB §257, AO §147: accounting records
    ticket_retention_years: int = 6  # resolved conversations are deleted after this; 0 = keep
    commercial_letter_years: int = 0  # keep order correspondence after erasure (HGB §257: 6); 0 = off

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(invoice_years=self.invoice_retention_years, ticket_years=self.ticket_retention_years,
                               letter_years=self.commercial_letter_years)


@dataclass(frozen=True, slots=True)
class ReplyConfig:
    undo_seconds: int = 10  # a sent reply waits this long in the outbox; U takes it back
    language: str = "de"  # template variant used first: de (Sie), de_du, en, fr ...
    signature: str = ""  # appended to a new reply; empty: none
    shop_name: str = ""  # {{ shop.name }}; empty: the account's name
    signatures: dict[str, str] = field(default_factory=dict)  # per account key, replacing `signature`

    def signature_for(self, account_key: str) -> str:
        """The signature of an account (\\n in the config is a line break)."""
        return self.signatures.get(account_key, self.signature).replace("\\n", "\n")


@dataclass(frozen=True, slots=True)
class SlaConfig:
    state: str = ""  # federal state for state holidays (BY, BE, NW ...); "" = national holidays only
    channels: dict[str, dict[str, object]] = field(default_factory=dict)  # [sla.<channel>] overrides


@dataclass(frozen=True, slots=True)
class DemoConfig:
    new_message_seconds: int = 20  # in the demo, a buyer writes again this often (0: never)


@dataclass(frozen=True, slots=True)
class TeamConfig:
    agents: tuple[str, ...] = ()  # offered when assigning
    queues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    default_profile: str | None = None
    ui: UiConfig = field(default_factory=UiConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    gdpr: GdprConfig = field(default_factory=GdprConfig)
    reply: ReplyConfig = field(default_factory=ReplyConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys, e.g. "inbox.due" = "F"
    team: TeamConfig = field(default_factory=TeamConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)
    views: dict[str, dict[str, str]] = field(default_factory=dict)  # saved views: name -> query, key
    assist: AssistSettings = field(default_factory=AssistSettings)
    path: Path | None = None

    @property
    def templates_dir(self) -> Path | None:
        """Reply templates of the user (TOML files, one per template) next to the config file."""
        return self.path.parent / "templates" if self.path else None

    @property
    def reply_rules_file(self) -> Path | None:
        return self.path.parent / "reply_rules.toml" if self.path else None


def current_agent(config: Config) -> str:
    """Who is working: $DESKTERM_AGENT (several agents sharing one login), else [ui] agent,
    else the login name. Recorded on replies, triage actions, presence and the audit log."""
    import getpass
    import os

    return os.environ.get("DESKTERM_AGENT") or config.ui.agent or getpass.getuser()


_SCHEMA: dict[str, dict[str, type]] = {
    "": {"default_profile": str},
    "ui": {"theme": str, "agent": str},
    "sync": {"interval_seconds": int},
    "gdpr": {"invoice_retention_years": int, "ticket_retention_years": int, "commercial_letter_years": int},
    "reply": {"undo_seconds": int, "language": str, "signature": str, "shop_name": str, "signatures": dict},
    "sla": {"state": str},
    "keymap": {},
    "team": {"agents": list, "queues": list},
    "demo": {"new_message_seconds": int},
    "views": {},
    "assist": {},
}


def load_config(path: Path) -> Config:
    """Read and validate `path`; a missing file means all defaults."""
    if not path.exists():
        return Config(path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, "", f"cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ConfigError(path, int(match.group(1)) if match else None, "", f"not valid TOML ({exc})") from None
    _check_no_secrets(path, text, data, "")
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in _SCHEMA or key == "":
                raise ConfigError(path, _line_of(text, key, table=True), key, "unknown section")
            if key == "sla":
                _check_sla(path, text, value)
                continue
            if key == "keymap":
                _check_keymap(path, text, value)
                continue
            if key == "views":
                _check_views(path, text, value)
                continue
            if key == "assist":
                continue  # parsed below
            _check_table(path, text, key, value)
            for name, inner in value.items():
                if isinstance(inner, dict) and not all(isinstance(v, str) for v in inner.values()):
                    raise ConfigError(path, _line_of(text, name, table=True), f"{key}.{name}",
                                      "every value must be a string")
        elif key not in _SCHEMA[""]:
            raise ConfigError(path, _line_of(text, key), key, "unknown setting")
    _check_table(path, text, "", {k: v for k, v in data.items() if not isinstance(v, dict)})
    profile = data.get("default_profile")
    if profile is not None and not PROFILE_NAME_RE.match(profile):
        raise ConfigError(path, _line_of(text, "default_profile"), "default_profile",
                          "use letters, digits, '-', '_' or '.'")
    undo = data.get("reply", {}).get("undo_seconds", 10)
    if not 0 <= undo <= 300:
        raise ConfigError(path, _line_of(text, "undo_seconds"), "reply.undo_seconds", "must be between 0 and 300")
    interval = data.get("sync", {}).get("interval_seconds", 300)
    if interval < 10:
        raise ConfigError(path, _line_of(text, "interval_seconds"), "sync.interval_seconds", "must be at least 10")
    try:
        assist = parse_assist(data.get("assist", {}))
    except AssistConfigError as exc:
        last = exc.key.rsplit(".", 1)[-1].split("[")[0]
        line = _line_of(text, last) or _line_of(text, exc.key.split("[")[0], table=True)
        raise ConfigError(path, line, exc.key, exc.problem) from None
    return Config(
        default_profile=profile,
        assist=assist,
        ui=UiConfig(**data.get("ui", {})),
        sync=SyncConfig(**data.get("sync", {})),
        gdpr=GdprConfig(**data.get("gdpr", {})),
        reply=ReplyConfig(**data.get("reply", {})),
        keymap=dict(data.get("keymap", {})),
        demo=DemoConfig(**data.get("demo", {})),
        team=TeamConfig(*(tuple(str(v) for v in data.get("team", {}).get(k, [])) for k in ("agents", "queues"))),
        views={name: {k: str(v) for k, v in values.items()} for name, values in data.get("views", {}).items()},
        sla=SlaConfig(str(data.get("sla", {}).get("state", "")),
                      {k: v for k, v in data.get("sla", {}).items() if isinstance(v, dict)}),
        path=path,
    )


def _check_keymap(path: Path, text: str, table: dict[str, object]) -> None:
    """[keymap] "binding.id" = "keys": keys are strings like "F" or "ctrl+d,f5". Unknown ids
    are reported by the app, which knows its bindings."""
    for binding_id, keys in table.items():
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(path, _line_of(text, binding_id), f"keymap.{binding_id}",
                              "must be keys as a string, e.g. \"F\" or \"ctrl+d\"")


def _check_views(path: Path, text: str, table: dict[str, object]) -> None:
    """[views.<name>] query = "...", key = "7": each query must parse."""
    import time

    from deskterm.domain.views import check_saved_view

    for name, values in table.items():
        if not isinstance(values, dict):
            raise ConfigError(path, _line_of(text, name), f"views.{name}", "must be a table: [views.name]")
        problem = check_saved_view(name, values, now=time.time())
        if problem:
            key = problem.split(":", 1)[0]
            raise ConfigError(path, _line_of(text, key.rsplit(".", 1)[-1]), key, problem.split(": ", 1)[-1])


def _check_sla(path: Path, text: str, table: dict[str, object]) -> None:
    """[sla] state = "BY" and [sla.<channel>] tables, checked by the SLA engine itself."""
    from deskterm.domain.sla import configure

    state = table.get("state", "")
    if not isinstance(state, str):
        raise ConfigError(path, _line_of(text, "state"), "sla.state", "must be a string such as \"BY\"")
    channels = {k: v for k, v in table.items() if isinstance(v, dict)}
    others = [k for k, v in table.items() if not isinstance(v, dict) and k != "state"]
    if others:
        raise ConfigError(path, _line_of(text, others[0]), f"sla.{others[0]}", "unknown setting")
    try:
        configure(state, channels)
    except ValueError as exc:
        key = str(exc).split(":", 1)[0]
        raise ConfigError(path, _line_of(text, key.rsplit(".", 1)[-1]), key, str(exc).split(": ", 1)[-1]) from None
    finally:
        configure()  # validation only: the app applies the config when it starts


def _check_table(path: Path, text: str, table: str, values: dict[str, object]) -> None:
    schema = _SCHEMA[table]
    for key, value in values.items():
        dotted = f"{table}.{key}" if table else key
        if key not in schema:
            raise ConfigError(path, _line_of(text, key), dotted, "unknown setting")
        wanted = schema[key]
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise ConfigError(path, _line_of(text, key), dotted,
                              f"must be {_type_name(wanted)}, not {_type_name(type(value))}")


def _check_no_secrets(path: Path, text: str, data: dict[str, object], prefix: str) -> None:
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _check_no_secrets(path, text, value, dotted)
        elif SECRET_KEY_RE.search(key) and not (isinstance(value, str) and KEYRING_REF_RE.match(value)):
            raise ConfigError(path, _line_of(text, key), dotted,
                              "secrets never go in the config file; use \"keyring:<service>/<user>\"")


def _line_of(text: str, key: str, *, table: bool = False) -> int | None:
    pattern = re.compile(rf"^\s*\[+\s*{re.escape(key)}\b" if table else rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _type_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false", float: "a number",
            dict: "a table", list: "a list"}.get(kind, kind.__name__)
