"""Data-subject requests: what kind a buyer's words ask for, and when the answer is due.

Art. 12(3) GDPR: answer within one month of receipt; extendable by two further months
where necessary, with the reasons given to the person within the first month.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum


class RequestKind(StrEnum):
    ACCESS = "access"
    PORTABILITY = "portability"
    ERASURE = "erasure"
    RECTIFICATION = "rectification"
    OBJECTION = "objection"


REQUEST_LABELS = {
    RequestKind.ACCESS: "Auskunft (Art. 15)",
    RequestKind.PORTABILITY: "Datenübertragbarkeit (Art. 20)",
    RequestKind.ERASURE: "Löschung (Art. 17)",
    RequestKind.RECTIFICATION: "Berichtigung (Art. 16)",
    RequestKind.OBJECTION: "Widerspruch (Art. 21)",
}

# Checked in this order; the first match names the request.
_PATTERNS: tuple[tuple[RequestKind, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern, re.I)) for kind, pattern in (
    (RequestKind.ERASURE, r"\bart\.?\s*17\b|l[öo]sch\w*\s+(meiner|aller|meine|alle)\s+(pers[öo]nlichen\s+)?daten"
                          r"|l[öo]sch\w*\b[^.!?\n]{0,30}?\b(meine|alle)\s+(meine\s+)?(pers[öo]nlichen\s+)?daten"
                          r"|(meine|alle)\s+(pers[öo]nlichen\s+)?daten\s+(zu\s+)?l[öo]schen|recht auf vergessen"
                          r"|(delete|erase|remove)\s+(all\s+)?(of\s+)?my\s+(personal\s+)?(data|information|account)"
                          r"|right to (be forgotten|erasure)"),
    (RequestKind.PORTABILITY, r"\bart\.?\s*20\b|daten[üu]bertragbarkeit|data portability"),
    (RequestKind.RECTIFICATION, r"\bart\.?\s*16\b|berichtigung\s+(meiner|der)\s+daten|rectif(y|ication) of my data"),
    (RequestKind.OBJECTION, r"\bart\.?\s*21\b|widerspr\w*\s+(der|gegen die)\s+(verarbeitung|nutzung)"
                            r"|object to (the )?processing"),
    (RequestKind.ACCESS, r"\bart\.?\s*15\b|auskunft\s+(nach|gem[äa][ßs]s?|über)\s+(art\.?\s*15\b|dsgvo|die|alle|meine)"
                         r"|welche daten (sie )?(über|von) mir|(subject\s+)?access request|copy of (all )?my (personal )?data"
                         r"|what (personal )?data do you (hold|have|store)"),
))


# One cheap pass first: every pattern above needs one of these words, most messages have none.
_ANY_CUE = re.compile(r"\bart\.?\s*(?:15|16|17|20|21)\b|l[öo]sch|daten|data\b|vergessen|forgotten|erasure|"
                      r"widerspr|object|auskunft|access|rectif|berichtig|information|account", re.I)


@dataclass(frozen=True, slots=True)
class Detected:
    kind: RequestKind
    phrase: str


def detect_request(text: str) -> Detected | None:
    """The request a buyer's message makes, with the words that show it (for the admin)."""
    if not _ANY_CUE.search(text):
        return None
    for kind, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            return Detected(kind, match.group(0))
    return None


def add_months(epoch: int, months: int) -> int:
    """The same day `months` later (clamped to the month's last day), same time of day, UTC."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def due_at(received_at: int) -> int:
    return add_months(received_at, 1)


def latest_extension(received_at: int) -> int:
    return add_months(received_at, 3)
