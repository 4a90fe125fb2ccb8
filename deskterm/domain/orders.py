"""Order numbers inside free text: which marketplace's format, and where.

Formats (docs/channel-apis.md §9): Amazon 3-7-7 digits; eBay 2-5-5 digits; the web shop's
LH-YYYY-NNNNN; Zalando 14 digits starting 10; Kaufland 7 characters (a letter, then
upper-case letters and digits); OTTO 10 lower-case letters and digits. The loose formats
(Kaufland, OTTO) count only next to a word such as "Bestellung" or "order", so ordinary
words are not mistaken for order numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STRICT = {
    "amazon": re.compile(r"(?<![\d-])(\d{3}-\d{7}-\d{7})(?![\d-])"),
    "ebay": re.compile(r"(?<![\d-])(\d{2}-\d{5}-\d{5})(?![\d-])"),
    "webshop": re.compile(r"\b(LH-\d{4}-\d{5})\b", re.I),
    "zalando": re.compile(r"(?<!\d)(10\d{12})(?!\d)"),
}
_CONTEXT = r"(?:bestell(?:ung|nummer|nr)?\.?|auftrag(?:snummer)?|order(?:\s+number)?|nr\.?|#)\s*[:#]?\s*"
_LOOSE = {
    "kaufland": re.compile(_CONTEXT + r"\b([A-Z][A-Z0-9]{6})\b", re.I),
    "otto": re.compile(_CONTEXT + r"\b((?=[a-z0-9]*\d[a-z0-9]*\d)(?=[a-z0-9]*[a-z][a-z0-9]*[a-z])[a-z0-9]{10})\b", re.I),
}


@dataclass(frozen=True, slots=True)
class OrderReference:
    number: str
    marketplace: str


def find_order_references(text: str, *, limit: int = 10) -> list[OrderReference]:
    """Distinct order numbers in `text`, in order of appearance."""
    found: dict[str, OrderReference] = {}
    hits: list[tuple[int, OrderReference]] = []
    for marketplace, pattern in _STRICT.items():
        for match in pattern.finditer(text):
            number = match.group(1).upper() if marketplace == "webshop" else match.group(1)
            hits.append((match.start(1), OrderReference(number, marketplace)))
    for marketplace, pattern in _LOOSE.items():
        for match in pattern.finditer(text):
            number = match.group(1)
            number = number.upper() if marketplace == "kaufland" else number.lower()
            if marketplace == "kaufland" and not any(c.isdigit() for c in number):
                continue
            hits.append((match.start(1), OrderReference(number, marketplace)))
    for _, reference in sorted(hits, key=lambda hit: hit[0]):
        found.setdefault(reference.number, reference)
        if len(found) >= limit:
            break
    return list(found.values())
