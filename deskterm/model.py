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


@dataclass(frozen=True, slots=True)
class MailLocation:
    """Where a mail sits on an IMAP server (or in a Maildir: uidvalidity 0, uid = file key hash)."""

    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True, slots=True)
class MailRecord:
    """One e-mail as a source saw it; the store decides which conversation it belongs to.

    Sources cannot know which stored ticket a mail continues, so `ticket` is only proposed:
    the store's batch writer looks the `thread_keys` (own Message-ID, referenced ids, relay
    keys) up among the mails it already holds and uses `ticket` only for a new conversation.
    `message.external_id` is the Message-ID, so the same mail seen in two folders, or again
    after a UIDVALIDITY change, is one row.
    """

    message: MessageRecord
    ticket: TicketRecord
    customer: CustomerRecord | None
    thread_keys: tuple[str, ...]
    raw_sha256: str
    subject_key: str = ""  # normalised subject, joins "Re:" mails that carry no references
    claims_reply: bool = False
    location: MailLocation | None = None
    flags: tuple[str, ...] = ()
    partial: bool = False  # too large: headers only, the body is fetched on demand


@dataclass(frozen=True, slots=True)
class MailFlags:
    """The server's current flags of a mail the store already holds."""

    location: MailLocation
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MailFolderState:
    """What is left in a folder: locations in it that are not listed were expunged on the server.

    `present_uids` covers uids up to `up_to_uid`; with `uidvalidity` changed, every location
    under an older UIDVALIDITY is forgotten (the mails themselves stay, keyed by Message-ID).
    """

    folder: str
    uidvalidity: int
    up_to_uid: int
    present_uids: frozenset[int] | None = None


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
    mails: list[MailRecord] = field(default_factory=list)
    mail_flags: list[MailFlags] = field(default_factory=list)
    folder_states: list[MailFolderState] = field(default_factory=list)
    backlog: int | None = None

    @property
    def size(self) -> int:
        return (len(self.customers) + len(self.orders) + len(self.tickets) + len(self.messages) + len(self.mails)
                + len(self.mail_flags) + len(self.folder_states))
