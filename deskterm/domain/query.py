"""The search language: free text plus filters, parsed into a `Query` the store can run.

    lieferung channel:amazon due:<4h -tag:vip is:unread
    "nicht angekommen" from:anna order:302-* status:open assignee:me before:2026-12-01

Words search the messages (FTS5; `"…"` is a phrase, `wort*` a prefix, `a OR b`);
`key:value` filters the tickets; a leading `-` negates either. A comma inside a value
means "any of" (`channel:amazon,ebay`). Nothing here touches the store: store/query.py
turns a Query into SQL. A bad query raises QueryError with one line that says what to
change, shown inline under the search box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from deskterm.domain.format import BERLIN
from deskterm.domain.triage import TriageError, parse_intent, parse_priority, parse_status, parse_tag
from deskterm.model import Channel


class QueryError(ValueError):
    """A search the user typed cannot be run; the message explains why in one line."""


CHANNEL_ALIASES = {"mail": "email", "e-mail": "email", "webshop": "email", "fb": "messenger", "facebook": "messenger",
                   "ig": "instagram"}
IS_VALUES = {"unread": "unread", "ungelesen": "unread", "read": "read", "gelesen": "read",
             "overdue": "overdue", "überfällig": "overdue", "ueberfaellig": "overdue",
             "due": "due", "fällig": "due", "snoozed": "snoozed", "zurückgestellt": "snoozed",
             "mine": "mine", "meine": "mine", "unassigned": "unassigned", "frei": "unassigned",
             "assigned": "assigned", "open": "open", "offen": "open", "resolved": "resolved", "erledigt": "resolved"}
SORTS = ("due", "activity", "wake")
FILTER_KEYS = ("channel", "from", "order", "status", "tag", "assignee", "queue", "intent", "priority", "due",
               "before", "after", "is", "sort")
KEY_ALIASES = {"kanal": "channel", "von": "from", "bestellung": "order", "schlagwort": "tag", "zugewiesen": "assignee",
               "anliegen": "intent", "frist": "due", "vor": "before", "nach": "after", "ist": "is",
               "prio": "priority", "priorität": "priority", "warteschlange": "queue"}

_TOKEN_RE = re.compile(r'-?[\w.\-äöüÄÖÜß]+:(?:"[^"]*"?|\S*)|-?"[^"]*"?\*?|\S+')
_DURATION_RE = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_WORDS = 32


@dataclass(frozen=True, slots=True)
class Filter:
    """One `key:value` term: `values` are normalised (any of them matches)."""

    key: str
    values: tuple[object, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search: what the store filters on and how it sorts."""

    text: str
    words: str = ""  # a safe FTS5 expression of the positive words ("" when none)
    negated_words: tuple[str, ...] = ()  # quoted FTS5 strings that must not match
    filters: tuple[Filter, ...] = field(default_factory=tuple)
    sort: str = "activity"

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.negated_words and not self.filters


def fts_string(word: str) -> str:
    """One typed word as a quoted FTS5 string; a trailing * keeps it a prefix search."""
    prefix = word.endswith("*")
    word = word.rstrip("*")
    if word.startswith('"'):
        word = word[1:-1] if word.endswith('"') and len(word) > 1 else word[1:]
    word = word.strip()
    if not word:
        return ""
    return '"' + word.replace('"', '""') + '"' + ("*" if prefix else "")


def _duration(text: str, what: str) -> int:
    match = _DURATION_RE.match(text.strip().lower())
    if not match:
        raise QueryError(f"{what}: Dauer wie 30m, 4h, 2d oder 1w erwartet, nicht „{text}“")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _moment(text: str, now: float, what: str) -> int:
    """A date (`2026-12-01`, Berlin midnight), a date and time, or an age (`7d`: 7 days ago)."""
    value = text.strip()
    if _DURATION_RE.match(value.lower()):
        return int(now) - _duration(value, what)
    try:
        if len(value) == 10:
            return int(datetime.combine(datetime.fromisoformat(value).date(), time(0), BERLIN).timestamp())
        return int(datetime.fromisoformat(value).replace(tzinfo=BERLIN).timestamp())
    except ValueError:
        raise QueryError(f"{what}: Datum wie 2026-12-01 oder Alter wie 7d erwartet, nicht „{text}“") from None


def _due_value(text: str, now: float) -> tuple[str, int]:
    """`due:<4h` (deadline within 4 hours, overdue included), `due:>1d`, `due:overdue`,
    `due:today` (before midnight, Berlin time): returned as (operator, epoch bound)."""
    value = text.strip().lower()
    if value in ("overdue", "überfällig"):
        return ("<", int(now))
    if value in ("today", "heute"):
        local = datetime.fromtimestamp(now, timezone.utc).astimezone(BERLIN)
        return ("<", int(datetime.combine(local.date() + timedelta(days=1), time(0), BERLIN).timestamp()))
    if value[:1] in "<>":
        op = value[0]
        return (op, int(now) + _duration(value[1:].lstrip("="), "due"))
    raise QueryError(f"due: schreiben Sie due:<4h, due:>1d, due:overdue oder due:today, nicht „{text}“")


def _values(key: str, raw: str, now: float, agent: str) -> tuple[object, ...]:
    parts = [p.strip() for p in raw.split(",")] if key not in ("before", "after", "due", "from") else [raw.strip()]
    parts = [p.strip('"') for p in parts if p.strip('"')]
    if not parts:
        raise QueryError(f"{key}: fehlt ein Wert, z. B. {key}:{_EXAMPLES[key]}")
    try:
        if key == "channel":
            known = {c.value for c in Channel}
            result = []
            for part in parts:
                value = CHANNEL_ALIASES.get(part.lower(), part.lower())
                if value not in known:
                    raise QueryError(f"unbekannter Kanal „{part}“ (bekannt: {', '.join(sorted(known))})")
                result.append(value)
            return tuple(result)
        if key == "status":
            return tuple(parse_status(p) for p in parts)
        if key == "priority":
            return tuple(parse_priority(p) for p in parts)
        if key == "intent":
            return tuple(parse_intent(p) for p in parts)
        if key == "tag":
            return tuple(parse_tag(p) for p in parts)
        if key in ("assignee", "queue"):
            return tuple(agent if p.lower() in ("me", "ich", "mir") and key == "assignee" else
                         None if p.lower() in ("none", "niemand", "keine", "keiner") else p for p in parts)
        if key == "is":
            result = []
            for part in parts:
                if part.lower() not in IS_VALUES:
                    raise QueryError(f"is:{part}? bekannt: unread, read, overdue, due, snoozed, mine, unassigned, "
                                     "assigned, open, resolved")
                result.append(IS_VALUES[part.lower()])
            return tuple(result)
        if key == "sort":
            if parts[0].lower() not in SORTS:
                raise QueryError(f"sort:{parts[0]}? bekannt: {', '.join(SORTS)}")
            return (parts[0].lower(),)
        if key == "due":
            return (_due_value(parts[0], now),)
        if key in ("before", "after"):
            return (_moment(parts[0], now, key),)
        if key == "order":
            return tuple(parts)
        return (parts[0],)  # from
    except TriageError as exc:
        raise QueryError(str(exc)) from None


_EXAMPLES = {"channel": "amazon", "from": "anna", "order": "302-1234567-1234567", "status": "open", "tag": "vip",
             "assignee": "me", "queue": "returns", "intent": "return", "priority": "high", "due": "<4h",
             "before": "2026-12-01", "after": "7d", "is": "unread", "sort": "due"}


def parse_query(text: str, *, now: float, agent: str = "") -> Query:
    """Parse what the user typed. `now` fixes relative times (`due:<4h`, `after:7d`);
    `agent` is who `assignee:me` and `is:mine` mean."""
    words: list[str] = []
    negated: list[str] = []
    filters: list[Filter] = []
    sort: str | None = None
    expect_word = True
    for token in _TOKEN_RE.findall(text.strip()):
        key, sep, raw = token.partition(":")
        bare_key = key.lstrip("-").lower()
        if sep and not token.startswith(('"', '-"')) and (bare_key in FILTER_KEYS or bare_key in KEY_ALIASES):
            name = KEY_ALIASES.get(bare_key, bare_key)
            values = _values(name, raw, now, agent)
            if name == "sort":
                sort = str(values[0])
                continue
            filters.append(Filter(name, values, negated=key.startswith("-")))
            continue
        if sep and raw and not token.startswith(('"', '-"')) and re.fullmatch(r"-?[a-zäöüß]+", key.lower()):
            raise QueryError(f"unbekannter Filter „{bare_key}:“ (bekannt: {', '.join(FILTER_KEYS)}); "
                             f"als Text suchen: \"{token.lstrip('-')}\"")
        if token in ("AND", "OR", "NOT"):
            if expect_word or not words:
                raise QueryError(f"„{token}“ braucht ein Wort davor und danach")
            if token != "AND":
                words.append(token)
            expect_word = True
            continue
        if token.startswith("-") and len(token) > 1:
            fts = fts_string(token[1:])
            if fts:
                negated.append(fts)
            continue
        fts = fts_string(token)
        if not fts:
            continue
        if not expect_word:
            words.append("AND")
        words.append(fts)
        expect_word = False
        if len(words) > 2 * MAX_WORDS:
            raise QueryError(f"zu viele Suchwörter (höchstens {MAX_WORDS})")
    if words and expect_word:
        raise QueryError(f"„{words[-1]}“ braucht ein Wort danach")
    if not words and not negated and not filters:
        raise QueryError("mindestens ein Wort oder einen Filter eingeben, z. B. channel:amazon due:<4h")
    if sort is None:
        keys = {f.key for f in filters if not f.negated}
        overdue = any(f.key == "is" and ("overdue" in f.values or "due" in f.values) for f in filters)
        sort = "due" if "due" in keys or overdue else "wake" if ("snoozed",) in [f.values for f in filters
                                                                                   if f.key in ("status", "is")] \
            else "activity"
    return Query(text=text.strip(), words=" ".join(words), negated_words=tuple(negated), filters=tuple(filters),
                 sort=sort)
