"""German (de-DE) formatting of money, dates, ages and channel names; masking of personal data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from deskterm.domain.sanitize import clean_line
from deskterm.model import Channel

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


def local_time(epoch: int | None) -> str:
    """'04.12.2026 21:15' in Europe/Berlin."""
    return datetime.fromtimestamp(epoch or 0, BERLIN).strftime("%d.%m.%Y %H:%M")


def age_label(seconds: float) -> str:
    """'jetzt', '5m', '3h', '2d', '4w', '1y'."""
    if seconds < 60:
        return "jetzt"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 14:
        return f"{days}d"
    if days < 365:
        return f"{days // 7}w"
    return f"{days // 365}y"


def channel_label(value: str) -> str:
    """'Amazon', 'E-Mail'... for a stored channel value; unknown values shown sanitised."""
    try:
        return Channel(value).label
    except ValueError:
        return clean_line(value, max_chars=12)


# German words for the states of orders, payments and parcels (order panel, reply templates).
ORDER_STATUS = {"pending": "ausstehend", "unshipped": "nicht versandt", "shipped": "versandt",
                "delivered": "zugestellt", "cancelled": "storniert"}
PAYMENT_STATUS = {"paid": "bezahlt", "authorized": "autorisiert", "pending": "offen", "refunded": "erstattet"}
SHIPMENT_STATUS = {"pre-transit": "angekündigt", "transit": "unterwegs", "in_transit": "unterwegs",
                   "delivered": "zugestellt", "failure": "Problem", "unknown": "unbekannt"}
