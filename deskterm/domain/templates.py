"""Reply templates: plain TOML files, rendered in a sandbox, with every gap made visible.

A template file holds one template with language variants:

    name = "Wo ist meine Bestellung?"
    shortcut = "wo"
    channels = []            # empty: every channel; else e.g. ["amazon", "ebay"]
    status = "pending"       # optional: the ticket's status after sending
    [variants.de]            # de (formal "Sie"), de_du, en, fr ...
    body = '''{{ customer.salutation }}, ...'''

Rendering uses Jinja2's SandboxedEnvironment: templates can read the values they are given
and nothing else; an attempt to reach Python internals (`''.__class__`) raises
TemplateRejected with a clear message. A value that is missing (no shipment, no tracking
number) renders as a visible gap `⟦shipment.tracking_number fehlt⟧`, and a text with a gap
cannot be sent. Values are formatted for de-DE by the caller (domain.format).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment, SecurityError

GAP_OPEN, GAP_CLOSE = "⟦", "⟧"
GAP_RE = re.compile(f"{GAP_OPEN}[^{GAP_CLOSE}]*{GAP_CLOSE}")
STARTER_DIR = Path(__file__).parent / "data" / "templates"
LANGUAGE_LABELS = {"de": "Deutsch (Sie)", "de_du": "Deutsch (du)", "en": "English", "fr": "Français"}


class TemplateRejected(Exception):
    """A template that is broken or unsafe; one line saying which and why."""


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    key: str  # file stem
    name: str
    shortcut: str
    variants: dict[str, str]  # language -> body
    channels: tuple[str, ...] = ()
    status: str | None = None
    tags: tuple[str, ...] = ()
    source: str = ""  # where it was loaded from

    def allowed_on(self, channel: str) -> bool:
        return not self.channels or channel in self.channels


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    gaps: list[str] = field(default_factory=list)  # the names of missing values, in order

    @property
    def complete(self) -> bool:
        return not self.gaps


def parse_template(key: str, text: str, *, source: str = "") -> ReplyTemplate:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateRejected(f"{source or key}: not valid TOML ({exc})") from None
    variants = data.get("variants")
    if not isinstance(variants, dict) or not variants:
        raise TemplateRejected(f"{source or key}: needs at least one [variants.<language>] with a body")
    bodies: dict[str, str] = {}
    for language, variant in variants.items():
        body = variant.get("body") if isinstance(variant, dict) else None
        if not isinstance(body, str) or not body.strip():
            raise TemplateRejected(f"{source or key}: variant {language!r} has no body")
        bodies[str(language)] = body.strip("\n")
    status = data.get("status")
    if status not in (None, "open", "pending", "resolved"):
        raise TemplateRejected(f"{source or key}: status must be open, pending or resolved")
    return ReplyTemplate(key, str(data.get("name", key)), str(data.get("shortcut", "")), bodies,
                         tuple(str(c) for c in data.get("channels", ())), status,
                         tuple(str(t) for t in data.get("tags", ())), source)


def load_templates(*folders: Path) -> tuple[list[ReplyTemplate], list[str]]:
    """Templates from the starter folder and the user's folders (a user file replaces a
    starter of the same name). Returns (templates, one-line problems of broken files)."""
    found: dict[str, ReplyTemplate] = {}
    problems: list[str] = []
    for folder in (STARTER_DIR, *folders):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                found[path.stem] = parse_template(path.stem, path.read_text(encoding="utf-8"), source=str(path))
            except (TemplateRejected, OSError, UnicodeDecodeError) as exc:
                problems.append(str(exc).splitlines()[0])
    return sorted(found.values(), key=lambda t: t.name.casefold()), problems


class _GapUndefined(Undefined):
    """A missing value: renders as a marked gap instead of nothing or "None"."""

    __slots__ = ()

    def _path(self) -> str:
        name = str(self._undefined_name) if self._undefined_name is not None else "Wert"
        owner = getattr(self._undefined_obj, "_deskterm_path", None)
        if owner is None:
            return name
        return f"{owner}[{name}]" if isinstance(self._undefined_name, int) else f"{owner}.{name}"

    def __str__(self) -> str:
        return f"{GAP_OPEN}{self._path()} fehlt{GAP_CLOSE}"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _GapUndefined(name=f"{self._path()}.{name}")

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        """`order.items[0]` of a missing list is a gap named `order.items[0]`, not an error."""
        if isinstance(key, str):
            return self.__getattr__(key)
        return _GapUndefined(name=f"{self._path()}[{key}]")

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(())

    def __bool__(self) -> bool:
        return False


class _Environment(SandboxedEnvironment):
    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"access to {attribute!r} is not allowed in a template")


def _wrap(path: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return Values(path, value)
    if isinstance(value, (list, tuple)):
        return ValueList(path, [_wrap(f"{path}[{i}]", item) for i, item in enumerate(value)])
    return value


class ValueList(list[Any]):
    """A list that knows its path, so `order.items[5]` names itself when missing."""

    def __init__(self, path: str, items: list[Any]) -> None:
        super().__init__(items)
        self._deskterm_path = path


class Values:
    """Values under a path (`order`): missing or empty ones render as gaps named by their
    full path (`order.number`). Not a dict, so names like `items` are never dict methods."""

    __slots__ = ("_deskterm_path", "_data")

    def __init__(self, path: str, data: Mapping[str, Any]) -> None:
        self._deskterm_path = path
        self._data = {k: _wrap(f"{path}.{k}", v) for k, v in data.items()}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._data.get(name)
        if value is None or value == "":
            return _GapUndefined(name=f"{self._deskterm_path}.{name}")
        return value

    __getitem__ = __getattr__

    def __bool__(self) -> bool:
        return bool(self._data)


_ENV = _Environment(undefined=_GapUndefined, autoescape=False, keep_trailing_newline=False, trim_blocks=True)


def render(body: str, values: Mapping[str, Any]) -> Rendered:
    """Fill a template body. Raises TemplateRejected for syntax errors and unsafe access."""
    context = {k: _wrap(k, v) for k, v in values.items()}
    try:
        text = _ENV.from_string(body).render(context)
    except SecurityError as exc:
        raise TemplateRejected(f"Vorlage abgelehnt: {exc}") from None
    except TemplateError as exc:
        raise TemplateRejected(f"Vorlage fehlerhaft: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") \
            from None
    gaps = [match.group(0)[1:-1].removesuffix(" fehlt") for match in GAP_RE.finditer(text)]
    return Rendered(text, gaps)


def gaps_in(text: str) -> list[str]:
    """Gaps still in an edited text (the agent must fill or delete them before sending)."""
    return [match.group(0) for match in GAP_RE.finditer(text)]


def match_templates(templates: Iterable[ReplyTemplate], query: str, channel: str) -> list[ReplyTemplate]:
    """Templates for this channel whose shortcut or name fits `query` (subsequence, shortcut first)."""
    query = query.casefold().strip()

    def fits(text: str) -> bool:
        position = 0
        for char in query:
            position = text.find(char, position) + 1
            if position == 0:
                return False
        return True

    usable = [t for t in templates if t.allowed_on(channel)]
    exact = [t for t in usable if query and t.shortcut.casefold() == query]
    rest = [t for t in usable if t not in exact and fits(f"{t.shortcut} {t.name}".casefold())]
    return exact + rest


__all__ = ["GAP_RE", "LANGUAGE_LABELS", "Rendered", "ReplyTemplate", "TemplateRejected",
           "gaps_in", "load_templates", "match_templates", "parse_template", "render"]


_TRACKING_URLS = {
    "dhl": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={n}",
    "dpd": "https://tracking.dpd.de/status/de_DE/parcel/{n}",
    "hermes": "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{n}",
    "gls": "https://gls-group.com/DE/de/paketverfolgung?match={n}",
    "ups": "https://www.ups.com/track?tracknum={n}",
}


def tracking_url(carrier: str, number: str) -> str:
    """The carrier's public tracking page for a parcel ('' for carriers we do not know)."""
    pattern = _TRACKING_URLS.get(carrier.strip().casefold().split()[0] if carrier.strip() else "")
    return pattern.format(n=number) if pattern and number else ""


def salutations(name: str, title: str = "") -> dict[str, str]:
    """Greetings by language: formal German by title ("Sehr geehrte Frau Schneider"), a
    neutral "Guten Tag Alex Schmidt" when the title is unknown, never a guessed gender."""
    name = " ".join(name.split())
    last = name.split(" ")[-1] if name else ""
    title = title.strip().casefold()
    if title in ("frau", "ms", "mrs", "ms.", "mrs.") and last:
        return {"de": f"Sehr geehrte Frau {last}", "de_du": f"Hallo {name.split(' ')[0]}", "en": f"Dear Ms {last}"}
    if title in ("herr", "mr", "mr.") and last:
        return {"de": f"Sehr geehrter Herr {last}", "de_du": f"Hallo {name.split(' ')[0]}", "en": f"Dear Mr {last}"}
    if name:
        return {"de": f"Guten Tag {name}", "de_du": f"Hallo {name.split(' ')[0]}", "en": f"Hello {name}"}
    return {"de": "Guten Tag", "de_du": "Hallo", "en": "Hello"}
