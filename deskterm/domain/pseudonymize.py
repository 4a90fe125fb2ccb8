"""Placeholders for personal data before text leaves the machine (the optional LLM path).

Names, e-mail addresses, phone numbers, postal addresses and order numbers are replaced
by placeholders such as `[KUNDE_1]` or `[BESTELLNUMMER_1]`; the same value always gets
the same placeholder, so the model can refer to it, and `restore` puts the values back
into the model's answer. Known values (the ticket's customer, the order's address and
number) are replaced first, then patterns catch what the buyer wrote themselves (another
e-mail address, a phone number, a street, a postcode and town, a marketplace order number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

import phonenumbers

KINDS = {"name": "KUNDE", "email": "EMAIL", "phone": "TELEFON", "address": "ADRESSE", "place": "ORT",
         "order": "BESTELLNUMMER", "tracking": "SENDUNGSNUMMER", "iban": "IBAN"}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,4})?\b")
_ORDER = re.compile(r"\b\d{3}-\d{7}-\d{7}\b|\b\d{2}-\d{5}-\d{5}\b|\b[A-Z0-9]{2,5}-\d{4,}(?:-\d+)*\b|\b\d{6,}\b")
_STREET = re.compile(r"\b[A-ZÄÖÜ][\wäöüß.-]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|"
                     r"steig|pfad|markt|hof)\s+\d+\s?[a-zA-Z]?\b|\b(?:Am|An der|Auf der|Im|In der|Zum|Zur)\s+[A-ZÄÖÜ]\w+"
                     r"\s+\d+\s?[a-zA-Z]?\b|\b\d+\s+[A-Z]\w+\s+(?:Street|Road|Avenue|Lane|Way)\b")
_PLACE = re.compile(r"\b\d{5}\s+[A-ZÄÖÜ][\wäöüß-]+(?:\s+[A-ZÄÖÜ][\wäöüß-]+)?")
_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(KINDS.values()) + r")_\d+\]")


@dataclass(slots=True)
class Pseudonyms:
    """The placeholders handed out so far (placeholder -> original)."""

    originals: dict[str, str] = field(default_factory=dict)
    _by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, value.casefold())
        if key not in self._by_value:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            token = f"[{KINDS[kind]}_{self._counts[kind]}]"
            self._by_value[key] = token
            self.originals[token] = value
        return self._by_value[key]

    def hide(self, text: str, known: Iterable[tuple[str, str]] = ()) -> str:
        """`text` with every known value (kind, value) and every recognisable pattern replaced."""
        text = _EMAIL.sub(lambda m: self.placeholder("email", m.group(0)), text)  # before names: "anna@..."
        text = _IBAN.sub(lambda m: self.placeholder("iban", m.group(0)), text)
        values = sorted({(k, v.strip()) for k, v in known if v and len(v.strip()) >= 2}, key=lambda kv: -len(kv[1]))
        for kind, value in values:
            pattern = re.compile(r"(?<![\w\[])" + re.escape(value) + r"(?![\w\]])", re.IGNORECASE)
            text = pattern.sub(partial(self._replace, kind), text)
        text = self._phones(text)
        text = _STREET.sub(lambda m: self.placeholder("address", m.group(0)), text)
        text = _PLACE.sub(lambda m: self.placeholder("place", m.group(0)), text)
        return _ORDER.sub(lambda m: m.group(0) if _inside_placeholder(text, m) else self.placeholder("order", m.group(0)),
                          text)

    def _replace(self, kind: str, match: re.Match[str]) -> str:
        return self.placeholder(kind, match.group(0))

    def _phones(self, text: str) -> str:
        found = [(m.start, m.end, m.raw_string) for m in phonenumbers.PhoneNumberMatcher(text, "DE")]
        for start, end, raw in reversed(found):
            text = text[:start] + self.placeholder("phone", raw) + text[end:]
        return text

    def restore(self, text: str) -> str:
        """Put the original values back into an answer written with the placeholders."""
        return _PLACEHOLDER.sub(lambda m: self.originals.get(m.group(0), m.group(0)), text)


def _inside_placeholder(text: str, match: re.Match[str]) -> bool:
    before = text.rfind("[", 0, match.start())
    return before != -1 and "]" not in text[before:match.start()] and text.find("]", match.end()) != -1


def name_parts(name: str) -> list[str]:
    """A full name and its parts of three letters or more ("Anna Schneider", "Anna", "Schneider")."""
    name = " ".join(name.split())
    parts = [p for p in name.split(" ") if len(p) >= 3 and p[0].isupper()]
    return [name, *parts] if name else []
