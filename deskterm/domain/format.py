"""German (de-DE) formatting of money and dates, and masking of personal data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def euro(cents: int, currency: str = "EUR") -> str:
    """de-DE money: 1.234,56 €."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    symbol = "€" if currency == "EUR" else currency
    return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d} {symbol}"


def day(epoch: int | None) -> str:
    """04.12.2026 in Europe/Berlin; '–' when unknown."""
    return datetime.fromtimestamp(epoch, BERLIN).strftime("%d.%m.%Y") if epoch else "–"


def mask(text: str) -> str:
    """Keep the first letter of each word and every number: 'Hauptstraße 12' -> 'H********* 12'."""
    return " ".join(word if word.isdigit() else word[:1] + "*" * (len(word) - 1) for word in text.split())
