"""Compact time labels for lists and thread headers (German UI)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


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


def local_time(epoch: int) -> str:
    """'04.12.2026 21:15' in Europe/Berlin."""
    return datetime.fromtimestamp(epoch, BERLIN).strftime("%d.%m.%Y %H:%M")
