"""The contract every channel source implements, and the errors it may raise.

A source pulls normalised records from a cursor (`pull`) and sends replies (`send`). It
knows nothing of the store or the UI: the sync engine stores what it returns, together
with the next cursor, in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from deskterm.model import Batch, Channel


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a source can do; screens and the outbox ask before offering an action."""

    can_send: bool
    has_orders: bool
    has_messages: bool
    reply_window_hours: int | None = None  # e.g. Meta's 24 h rule; None = no window


@dataclass(frozen=True, slots=True)
class OutgoingReply:
    """A reply as the outbox hands it to a source; `message_id` is fixed before the first try."""

    ticket_external_id: str
    message_id: str
    body_text: str
    attempt: int = 1  # > 1: an earlier try may have arrived (crash after sending); check before sending again
    queued_at: datetime | None = None
    customer_last_at: datetime | None = None  # the buyer's last message (Meta's reply windows count from it)
    recipient_id: str = ""  # the buyer's id on the channel (Meta: PSID/IGSID)


@dataclass(frozen=True, slots=True)
class Receipt:
    external_id: str
    sent_at: datetime


class SourceError(Exception):
    """A source failed; the message is one line for the status bar. `temporary` failures retry."""

    def __init__(self, message: str, *, temporary: bool = True) -> None:
        super().__init__(message)
        self.temporary = temporary


# What each marketplace source needs from the keyring (account settings hold references).
MARKETPLACE_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "kaufland": ("client_key", "secret_key"),
    "ebay": ("client_id", "client_secret", "refresh_token"),
    "amazon": ("client_id", "client_secret", "refresh_token"),
    "zalando": ("client_id", "client_secret"),
    "otto": ("client_id", "client_secret"),
    "meta": ("page_token",),
}


def json_cursor(label: str, cursor: str | None) -> dict[str, Any]:
    """A source's JSON cursor (None: from the start); garbage is a permanent one-line error."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise SourceError(f"{label}: cursor {cursor[:40]!r} is not readable; reset the account", temporary=False)
    return value


class SendNotSupported(SourceError):
    def __init__(self, channel: str) -> None:
        super().__init__(f"{channel}: this source cannot send replies", temporary=False)


@runtime_checkable
class Source(Protocol):
    """One account on one channel."""

    account_key: str
    account_name: str
    channel: Channel
    capabilities: Capabilities
    streams: tuple[str, ...]

    def pull(self, stream: str, cursor: str | None) -> Batch:
        """Records after `cursor` (None = from the start), at most one batch's worth."""
        ...

    def send(self, reply: OutgoingReply) -> Receipt:
        ...

    def close(self) -> None:
        ...
