"""The vocabulary of triage: statuses, priorities, intents, snooze times and the reasons
for "no response needed", with the German labels the screens show.

Shared by the search language (domain/query.py), the store's triage actions
(store/triage.py), the CLI and the screens, so every layer accepts the same words.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from deskterm.domain.format import BERLIN

STATUSES: dict[str, str] = {"open": "offen", "pending": "wartet auf Kunden", "snoozed": "zurückgestellt",
                            "resolved": "erledigt"}
STATUS_ALIASES: dict[str, str] = {"offen": "open", "wartend": "pending", "wartet": "pending",
                                  "zurückgestellt": "snoozed", "zurueckgestellt": "snoozed", "erledigt": "resolved",
                                  "geschlossen": "resolved", "closed": "resolved", "solved": "resolved"}

PRIORITIES: dict[int, str] = {2: "dringend", 1: "hoch", 0: "normal", -1: "niedrig"}
PRIORITY_ALIASES: dict[str, int] = {"urgent": 2, "dringend": 2, "high": 1, "hoch": 1, "normal": 0, "low": -1,
                                    "niedrig": -1}

# Intents of buyer messages (assisted triage labels tickets with these; search filters by them).
INTENTS: dict[str, str] = {
    "where_is_my_order": "Wo ist meine Bestellung",
    "return": "Rücksendung",
    "refund": "Erstattung",
    "cancellation": "Stornierung",
    "damaged": "Beschädigt/defekt",
    "invoice": "Rechnung",
    "address_change": "Adressänderung",
    "product_question": "Produktfrage",
    "delivery_problem": "Lieferproblem",
    "complaint": "Beschwerde",
    "gdpr": "DSGVO-Anfrage",
    "auto_reply": "Autoantwort/Spam",
    "other": "Sonstiges",
}
INTENT_ALIASES: dict[str, str] = {"wismo": "where_is_my_order", "wo": "where_is_my_order", "retoure": "return",
                                  "ruecksendung": "return", "rücksendung": "return", "erstattung": "refund",
                                  "storno": "cancellation", "stornierung": "cancellation", "defekt": "damaged",
                                  "rechnung": "invoice", "adresse": "address_change", "dsgvo": "gdpr",
                                  "spam": "auto_reply", "beschwerde": "complaint"}

NO_RESPONSE_REASONS: tuple[str, ...] = (
    "Dankesnachricht, keine Frage",
    "Automatische Nachricht",
    "Schon auf anderem Weg beantwortet",
    "Spam oder Werbung",
)


class TriageError(ValueError):
    """A triage value the user gave cannot be used; the message says why in one line."""


def parse_status(text: str) -> str:
    value = text.strip().lower()
    value = STATUS_ALIASES.get(value, value)
    if value not in STATUSES:
        raise TriageError(f"unbekannter Status „{text}“ (bekannt: {', '.join(STATUSES)})")
    return value


def parse_priority(text: str) -> int:
    value = text.strip().lower()
    if value not in PRIORITY_ALIASES:
        raise TriageError(f"unbekannte Priorität „{text}“ (bekannt: urgent, high, normal, low)")
    return PRIORITY_ALIASES[value]


def parse_intent(text: str) -> str:
    value = text.strip().lower().replace("-", "_")
    value = INTENT_ALIASES.get(value, value)
    if value not in INTENTS:
        raise TriageError(f"unbekanntes Anliegen „{text}“ (bekannt: {', '.join(INTENTS)})")
    return value


def parse_tag(text: str) -> str:
    tag = text.strip().lower()
    if not tag or len(tag) > 40 or any(c.isspace() or not c.isprintable() for c in tag):
        raise TriageError(f"ungültiges Schlagwort „{text[:40]}“ (ein Wort, höchstens 40 Zeichen)")
    return tag


def _local(now: float) -> datetime:
    return datetime.fromtimestamp(now, timezone.utc).astimezone(BERLIN)


def _at_nine(day: datetime) -> int:
    return int(datetime.combine(day.date(), time(9), BERLIN).timestamp())


SNOOZE_PRESETS: tuple[tuple[str, str], ...] = (
    ("1h", "1 Stunde"),
    ("3h", "3 Stunden"),
    ("tomorrow", "Morgen 9:00"),
    ("monday", "Montag 9:00"),
    ("1w", "Eine Woche"),
)


def snooze_until(text: str, now: float) -> int:
    """When a snooze of `text` ends: "1h", "30m", "2d", "1w", "tomorrow"/"morgen" (9:00),
    "monday"/"montag" (next Monday 9:00), "2026-12-24", "2026-12-24 14:00" or "14:00"
    (today, or tomorrow if already past), all in Europe/Berlin."""
    value = text.strip().lower()
    local = _local(now)
    units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    if value[:-1].isdigit() and value[-1:] in units:
        amount = int(value[:-1]) * units[value[-1]]
        if not 0 < amount <= 366 * 86400:
            raise TriageError("zurückstellen: zwischen 1 Minute und einem Jahr")
        return int(now) + amount
    if value in ("tomorrow", "morgen"):
        return _at_nine(local + timedelta(days=1))
    if value in ("monday", "montag"):
        return _at_nine(local + timedelta(days=7 - local.weekday()))
    try:
        if len(value) == 5 and value[2] == ":":
            moment = datetime.combine(local.date(), time.fromisoformat(value), BERLIN)
            if moment.timestamp() <= now:
                moment += timedelta(days=1)
        elif len(value) == 10:
            moment = datetime.combine(datetime.fromisoformat(value).date(), time(9), BERLIN)
        else:
            moment = datetime.fromisoformat(value).replace(tzinfo=BERLIN)
    except ValueError:
        raise TriageError(f"zurückstellen bis „{text}“? Beispiele: 1h, 2d, morgen, montag, 14:00, "
                          "2026-12-24 14:00") from None
    if moment.timestamp() <= now:
        raise TriageError(f"„{text}“ liegt in der Vergangenheit")
    return int(moment.timestamp())
