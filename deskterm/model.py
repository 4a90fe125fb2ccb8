"""Domain records shared by every layer (stdlib only).

Sources produce these normalised records; the store persists them; screens read rows
built from them. Times are timezone-aware `datetime`s in records and integer UTC epoch
seconds in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    """Where a conversation happens. The value is stored in the database."""

    AMAZON = "amazon"
    EBAY = "ebay"
    KAUFLAND = "kaufland"
    OTTO = "otto"
    ZALANDO = "zalando"
    EMAIL = "email"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"

    @property
    def label(self) -> str:
        """Short human label for lists."""
        return _CHANNEL_LABELS[self]


_CHANNEL_LABELS = {
    Channel.AMAZON: "Amazon",
    Channel.EBAY: "eBay",
    Channel.KAUFLAND: "Kaufland",
    Channel.OTTO: "OTTO",
    Channel.ZALANDO: "Zalando",
    Channel.EMAIL: "E-Mail",
    Channel.MESSENGER: "Messenger",
    Channel.INSTAGRAM: "Instagram",
}


class Direction(StrEnum):
    """Who wrote a message: the buyer (in), the seller (out) or an internal note."""

    IN = "in"
    OUT = "out"
    NOTE = "note"


class TicketStatus(StrEnum):
    """Workflow state of a ticket; owned locally, never overwritten by a sync."""

    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class IdentityRef:
    """One way to recognise a person: an e-mail address, relay alias, buyer id, PSID..."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A person as a source sees them; `key` is the identity the store resolves first."""

    key: IdentityRef
    display_name: str
    identities: tuple[IdentityRef, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderItemRecord:
    line_no: int
    sku: str
    title: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class ShipmentEventRecord:
    """One carrier scan: when, a status code, the carrier's text and where."""

    at: datetime
    status: str
    description: str = ""
    location: str = ""


@dataclass(frozen=True, slots=True)
class ShipmentRecord:
    external_id: str
    carrier: str
    tracking_number: str
    status: str
    shipped_at: datetime | None = None
    events: tuple[ShipmentEventRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    external_id: str
    status: str
    created_at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RefundRecord:
    external_id: str
    amount_cents: int
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CancellationRecord:
    external_id: str
    status: str
    requested_at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderRecord:
    external_id: str
    number: str
    customer: IdentityRef | None
    status: str
    placed_at: datetime
    total_cents: int
    currency: str = "EUR"
    payment_status: str = ""
    ship_to: dict[str, str] = field(default_factory=dict)
    items: tuple[OrderItemRecord, ...] = ()
    shipments: tuple[ShipmentRecord, ...] = ()
    buyer_email: str = ""  # a real address only; marketplace relay aliases are identities, not contacts
    buyer_phone: str = ""
    delivery_from: datetime | None = None
    delivery_to: datetime | None = None
    returns: tuple[ReturnRecord, ...] = ()
    refunds: tuple[RefundRecord, ...] = ()
    cancellations: tuple[CancellationRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class AttachmentRecord:
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """A conversation on one channel. `order_ref` is an order number to link, if known.

    `status` is the channel's state when the ticket is first seen; afterwards the status is
    owned locally and a sync never overwrites it.
    """

    external_id: str
    channel: Channel
    customer: IdentityRef | None
    subject: str
    created_at: datetime
    order_ref: str | None = None
    status: TicketStatus = TicketStatus.OPEN


@dataclass(frozen=True, slots=True)
class MessageRecord:
    external_id: str
    ticket_external_id: str
    direction: Direction
    sender_name: str
    sender_addr: str
    sent_at: datetime
    subject: str
    body_text: str
    body_quoted: str = ""
    parse_warning: str | None = None
    attachments: tuple[AttachmentRecord, ...] = ()


@dataclass(slots=True)
class Batch:
    """One unit of sync work: records plus the cursor that is valid once they are stored.

    The store commits all records of a batch and its cursor in one transaction.
    """

    cursor: str | None
    has_more: bool = False
    customers: list[CustomerRecord] = field(default_factory=list)
    orders: list[OrderRecord] = field(default_factory=list)
    tickets: list[TicketRecord] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)
    backlog: int | None = None

    @property
    def size(self) -> int:
        return len(self.customers) + len(self.orders) + len(self.tickets) + len(self.messages)
