"""Marketplace relay mail: which marketplace, which buyer alias, which order, what the buyer wrote.

Amazon has no API for buyer messages: they arrive as e-mail from a per-buyer alias
(…@marketplace.amazon.de) inside a wrapper. eBay relays from …@members.ebay.de; OTTO and
Kaufland send notification mails. None of these formats is a documented contract
(docs/channel-apis.md §1.8, §2.7, §7.3), so several signals are combined and the result
says what it found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deskterm.domain.orders import find_order_references
from deskterm.model import Channel
from deskterm.sources.mail.parse import ParsedMail

_AMAZON_ALIAS = re.compile(r"@marketplace\.amazon\.[a-z.]+$", re.I)
_EBAY_ALIAS = re.compile(r"@members\.ebay\.[a-z.]+$", re.I)
_OTTO = re.compile(r"@([a-z0-9.-]+\.)?otto\.de$", re.I)
_KAUFLAND = re.compile(r"@([a-z0-9.-]+\.)?kaufland\.(de|com)$", re.I)
_AMAZON_ORDER = re.compile(r"(?<![\d-])(\d{3}-\d{7}-\d{7})(?![\d-])")
_ASIN = re.compile(r"\b(B0[A-Z0-9]{8})\b")
_TOKEN = re.compile(r"\[commMgrTok:([A-Za-z0-9]+)\]")
_ITEM = re.compile(r"(?:Artikelnummer|Artikel-Nr\.?|Artikel|Item number|Item|Angebot)\s*[:#]?\s*\(?(\d{12})\b", re.I)
_AMAZON_NAME = re.compile(
    r"(?:Inquiry from Amazon customer|inquiry from Amazon customer|Frage von Amazon-Kunde|"
    r"Nachricht von Amazon-Kunde|Anfrage von Amazon-Kunde)\s+(.+?)\s*(?:\((?:Order|Bestellung)\b|$)")
_WRAPPER_START = re.compile(
    r"^-{5,}\s*(?:Begin message|Message:|Nachricht:|Beginn der Nachricht)\s*-{5,}\s*$", re.M | re.I)
_WRAPPER_END = re.compile(r"^-{5,}\s*(?:End message|Ende der Nachricht|Nachricht Ende)\s*-{5,}\s*$", re.M | re.I)


@dataclass(frozen=True, slots=True)
class RelayInfo:
    channel: Channel
    alias: str
    buyer_name: str
    order_number: str | None
    buyer_text: str
    asin: str | None = None
    item_number: str | None = None
    token: str | None = None
    thread_keys: list[str] = field(default_factory=list)


def _buyer_name(mail: ParsedMail) -> str:
    match = _AMAZON_NAME.search(mail.subject)
    if match:
        return match.group(1).strip()
    name = re.sub(r"\s*[-–]\s*Amazon Marketplace\s*$|\s*über eBay\s*$|\s*via eBay\s*$", "", mail.from_name).strip()
    return name


def _wrapped_text(body: str) -> str | None:
    start = _WRAPPER_START.search(body)
    if not start:
        return None
    end = _WRAPPER_END.search(body, start.end())
    return body[start.end():end.start() if end else len(body)].strip()


def understand_relay(mail: ParsedMail) -> RelayInfo | None:
    """Marketplace facts of a relayed mail, or None for ordinary mail."""
    sender = mail.from_addr.strip().lower()
    text = f"{mail.subject}\n{mail.body_text}"
    if _AMAZON_ALIAS.search(sender):
        orders = _AMAZON_ORDER.findall(text)
        order = orders[0] if orders else None
        token = _TOKEN.search(mail.body_text)
        asin = _ASIN.search(text)
        keys = [f"amazon:{sender}:{order}" if order else f"amazon:{sender}"]
        return RelayInfo(Channel.AMAZON, sender, _buyer_name(mail), order,
                         _wrapped_text(mail.body_text) or _TOKEN.sub("", mail.body_text).strip(),
                         asin.group(1) if asin else None, None, token.group(1) if token else None, keys)
    if _EBAY_ALIAS.search(sender):
        references = [r for r in find_order_references(text) if r.marketplace == "ebay"]
        item = _ITEM.search(text)
        item_number = item.group(1) if item else None
        keys = [f"ebay:{sender}:{item_number}"] if item_number else [f"ebay:{sender}"]
        return RelayInfo(Channel.EBAY, sender, _buyer_name(mail), references[0].number if references else None,
                         mail.body_text, None, item_number, None, keys)
    for pattern, channel, marketplace in ((_OTTO, Channel.OTTO, "otto"), (_KAUFLAND, Channel.KAUFLAND, "kaufland")):
        if pattern.search(sender):
            references = [r for r in find_order_references(text) if r.marketplace == marketplace]
            order = references[0].number if references else None
            keys = [f"{marketplace}:{order}"] if order else []
            return RelayInfo(channel, sender, _buyer_name(mail), order, mail.body_text, thread_keys=keys)
    return None


def relay_keys(mail: ParsedMail) -> list[str]:
    """Extra threading keys (see threading.thread_groups): relays rewrite Message-IDs."""
    info = understand_relay(mail)
    return info.thread_keys if info else []
