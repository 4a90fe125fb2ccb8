"""One raw e-mail -> the records the store keeps (shared by the IMAP and Maildir sources).

Direction: a mail from one of the account's own addresses, or found in its Sent folder, is
outgoing; everything else is a customer's. Relay mail (Amazon, eBay, OTTO, Kaufland) gets
its marketplace as channel, the buyer's own text as body and its order number linked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime, timezone

from deskterm.domain.orders import find_order_references
from deskterm.model import (
    Channel,
    CustomerRecord,
    Direction,
    IdentityRef,
    MailLocation,
    MailRecord,
    MessageRecord,
    TicketRecord,
)
from deskterm.sources.mail.parse import ParsedMail, parse_message
from deskterm.sources.mail.relay import understand_relay
from deskterm.sources.mail.threading import claims_reply, normalize_subject

PARTIAL_NOTE = ("Diese Nachricht ist {size} groß und wurde nicht automatisch geladen. "
                "Laden: deskterm mail fetch {message}")


def mail_record(raw: bytes, *, own_addresses: Collection[str], is_sent_folder: bool = False,
                location: MailLocation | None = None, flags: tuple[str, ...] = (), received_at: datetime | None = None,
                partial_size: int | None = None) -> MailRecord:
    """Parse `raw` (full message, or only its header when `partial_size` is given)."""
    parsed = parse_message(raw)
    return record_from_parsed(parsed, raw_sha256=hashlib.sha256(raw).hexdigest(), own_addresses=own_addresses,
                              is_sent_folder=is_sent_folder, location=location, flags=flags,
                              received_at=received_at, partial_size=partial_size)


def record_from_parsed(parsed: ParsedMail, *, raw_sha256: str, own_addresses: Collection[str],
                       is_sent_folder: bool = False, location: MailLocation | None = None,
                       flags: tuple[str, ...] = (), received_at: datetime | None = None,
                       partial_size: int | None = None) -> MailRecord:
    own = {address.lower() for address in own_addresses}
    sender = parsed.from_addr.strip().lower()
    outgoing = sender in own or (is_sent_folder and not own)
    sent_at = parsed.date or received_at or datetime.fromtimestamp(0, timezone.utc)
    relay = None if outgoing else understand_relay(parsed)
    channel = relay.channel if relay else Channel.EMAIL
    if outgoing:
        counterpart = next((a for a in parsed.to if a.lower() not in own), "")
        counterpart_name = ""
        if relay is None:
            # Our reply to a relay alias stays on the marketplace's channel.
            channel = _channel_of_alias(counterpart)
    else:
        counterpart = parsed.from_addr
        counterpart_name = (relay.buyer_name if relay else parsed.from_name) or ""
    customer = None
    if counterpart:
        ref = IdentityRef("email", counterpart.strip().lower())
        customer = CustomerRecord(ref, counterpart_name)
    body = relay.buyer_text if relay else parsed.body_text
    order_ref = relay.order_number if relay else None
    if order_ref is None:
        refs = find_order_references(f"{parsed.subject}\n{parsed.body_text}", limit=1)
        order_ref = refs[0].number if refs else None
    warning = parsed.parse_warning
    if partial_size is not None:
        body = PARTIAL_NOTE.format(size=_size_label(partial_size), message=parsed.message_id)
    ticket_id = f"mail:{parsed.message_id}"
    message = MessageRecord(
        external_id=parsed.message_id, ticket_external_id=ticket_id,
        direction=Direction.OUT if outgoing else Direction.IN,
        sender_name=parsed.from_name, sender_addr=parsed.from_addr, sent_at=sent_at, subject=parsed.subject,
        body_text=body, body_quoted=parsed.body_quoted, parse_warning=warning,
        attachments=tuple(parsed.attachments),
    )
    ticket = TicketRecord(ticket_id, channel, customer.key if customer else None, parsed.subject, sent_at,
                          order_ref=order_ref)
    keys = (parsed.message_id, *parsed.references, *parsed.in_reply_to, *(relay.thread_keys if relay else ()))
    return MailRecord(
        message=message, ticket=ticket, customer=customer, thread_keys=tuple(dict.fromkeys(keys)),
        raw_sha256=raw_sha256, subject_key=normalize_subject(parsed.subject),
        claims_reply=claims_reply(parsed.subject), location=location, flags=flags,
        partial=partial_size is not None,
    )


def _channel_of_alias(address: str) -> Channel:
    address = address.lower()
    if "@marketplace.amazon." in address:
        return Channel.AMAZON
    if "@members.ebay." in address:
        return Channel.EBAY
    return Channel.EMAIL


def _size_label(size: int) -> str:
    if size >= 1_048_576:
        return f"{size / 1_048_576:.1f} MB".replace(".", ",")
    return f"{max(1, size // 1024)} KB"
