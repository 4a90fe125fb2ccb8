"""Raw e-mail bytes -> one normalised message, whatever the bytes are.

Uses the stdlib parser in `compat32` mode (about 8x faster than `policy.default` here, and
it does not raise on malformed headers), with guards the stdlib lacks:

* header fields longer than MAX_FIELD_BYTES are cut before parsing (a field with 200,000
  semicolons makes parameter parsing quadratic) and the header block is capped;
* MIME nesting deeper than MAX_DEPTH is not descended into;
* every text part is decoded with its declared charset, then UTF-8, then Windows-1252,
  so a wrong declaration never loses text;
* HTML is converted to text with html2text; nothing remote is ever loaded;
* quoted history ("Am ... schrieb ...:", "-----Ursprüngliche Nachricht-----",
  "On ... wrote:", trailing "> " lines) is split from the new text.

A message that still cannot be parsed is kept: headers as far as they go, the body as
text, and `parse_warning` says what went wrong. Nothing is dropped and nothing raises.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from deskterm.domain.quotes import split_quoted
from deskterm.model import AttachmentRecord

MAX_DEPTH = 30
MAX_FIELD_BYTES = 16_384
MAX_HEADER_BYTES = 256_000
MAX_BODY_CHARS = 1_000_000
# Any bracketed token counts, as in notmuch: real mail has ids without "@" (sup wrote
# "References: <yes>") and obsolete spacing ("<1234 @ local .example>", spaces dropped).
_SURROGATE = re.compile("[\udc80-\udcff]")  # raw 8-bit header bytes, as compat32 keeps them
_ANGLE_ADDR = re.compile(r"<([^<>\s@]+@[^<>\s@]+)>\s*$")
_MSGID = re.compile(r"<([^<>]{1,250})>")
@dataclass(slots=True)
class ParsedMail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    subject: str
    from_name: str
    from_addr: str
    to: list[str]
    date: datetime | None
    body_text: str
    body_quoted: str
    attachments: list[AttachmentRecord] = field(default_factory=list)
    parse_warning: str | None = None
    size: int = 0


def parse_message(raw: bytes) -> ParsedMail:
    """Never raises: unparseable input comes back with a warning and its text kept."""
    warnings: list[str] = []
    guarded = _guard_headers(raw, warnings)
    try:
        message = message_from_bytes(guarded, policy=compat32)
        result = _from_message(message, raw, warnings)
    except RecursionError:  # the stdlib parser recurses per nesting level
        warnings.append(f"MIME-Verschachtelung tiefer als {MAX_DEPTH} Ebenen; Rohtext angezeigt")
        result = _raw_fallback(raw, guarded)
    except Exception as exc:  # the stdlib raises many things on hostile input
        warnings.append(f"MIME-Struktur nicht lesbar ({type(exc).__name__}); Rohtext angezeigt")
        result = _raw_fallback(raw, guarded)
    result.parse_warning = "; ".join(dict.fromkeys(warnings))[:500] or None
    result.size = len(raw)
    return result


# -- guards ----------------------------------------------------------------------------


_FIELD = re.compile(rb"^[!-9;-~]+:")


def _guard_headers(raw: bytes, warnings: list[str]) -> bytes:
    """Cap each header field and the header block, and skip lines that are no header field.

    The stdlib ends the header block at the first line that is not a field (everything
    after it becomes body); lenient parsers skip such a line when real fields follow.
    """
    split = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[:split.start()], raw[split.start():]) if split else (raw, b"")
    lines = head.split(b"\n")
    valid = [bool(_FIELD.match(line)) or line[:1] in (b" ", b"\t") for line in lines[:200]]
    if valid and not all(valid) and sum(valid) > len(valid) // 2 and any(valid[1:]):
        warnings.append("ungültige Kopfzeile übersprungen")
        head = b"\n".join(line for line, ok in zip(lines, valid + [True] * (len(lines) - len(valid))) if ok)
    if len(head) <= MAX_FIELD_BYTES and b"\n" in head:
        return head + body
    if len(head) > MAX_HEADER_BYTES:
        warnings.append("Kopfzeilen gekürzt (zu lang)")
        head = head[:MAX_HEADER_BYTES]
    fields = re.split(rb"\r?\n(?![ \t])", head)
    kept = []
    for item in fields:
        if len(item) > MAX_FIELD_BYTES:
            warnings.append("eine Kopfzeile gekürzt (zu lang)")
            item = item[:MAX_FIELD_BYTES]
        kept.append(item)
    return b"\n".join(kept) + body


# -- headers ---------------------------------------------------------------------------


def decode_words(value: str | None) -> str:
    """Decode RFC 2047 encoded words; keep the raw text where they are broken."""
    if not value:
        return ""
    try:
        text = str(make_header(decode_header(value)))
    except Exception:
        text = value
    return " ".join(text.split())


def _address(value: str | None) -> tuple[str, str]:
    """(display name, address) of a header. The address is split off *before* encoded words
    are decoded: a name like `=?utf-8?q?X=0D=0ABcc:_a@evil?=` must stay a name and never
    become the address a reply goes to (RFC 2047 forbids encoded words in an address)."""
    value = value or ""
    angle = _ANGLE_ADDR.search(value)
    if angle:  # "name <addr>": the bracketed address wins over whatever the name contains
        name, address = value[:angle.start()].strip().strip('"').strip(), angle.group(1)
    else:
        name, address = parseaddr(value)
    return " ".join(decode_words(name).split()), address


def _ids(value: str | None) -> list[str]:
    found = ("".join(token.split()) for token in _MSGID.findall(value or ""))
    return list(dict.fromkeys(token for token in found if token))


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _bytes_to_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _header(message: Message, name: str) -> str | None:
    """A header as text; raw 8-bit bytes (which compat32 keeps opaque) read as UTF-8 or Windows-1252."""
    try:
        value = message.get(name)
        if value is None:
            return None
        if isinstance(value, Header):
            return "".join(_bytes_to_text(chunk) if isinstance(chunk, bytes) else chunk
                           for chunk, _ in decode_header(value))
        text = str(value)
        if _SURROGATE.search(text):
            return _bytes_to_text(text.encode("ascii", "surrogateescape"))
        return text
    except Exception:
        return None


def _content_id(raw: bytes, message: Message | None) -> str:
    """A stable id for a message without a usable Message-ID: a hash of what identifies it."""
    basis = raw if message is None else b"\0".join(
        (_header(message, h) or "").encode("utf-8", "replace") for h in ("Date", "From", "Subject", "To")
    ) + b"\0" + raw[-4096:]
    return f"sha256-{hashlib.sha256(basis).hexdigest()[:32]}@deskterm.invalid"


# -- bodies ----------------------------------------------------------------------------


def decode_text(payload: bytes, charset: str | None, warnings: list[str]) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    if charset:
        warnings.append(f"Zeichensatz {charset[:30]!r} falsch angegeben; als Windows-1252 gelesen")
    return payload.decode("cp1252", errors="replace")


def html_to_text(html: str) -> str:
    import html2text

    converter = html2text.HTML2Text()
    converter.ignore_images = True  # nothing remote is loaded, and images are not even linked
    converter.ignore_emphasis = True
    converter.body_width = 0
    converter.unicode_snob = True
    try:
        return converter.handle(html).strip()
    except Exception:
        return re.sub(r"<[^>]+>", " ", html)


def _walk(message: Message, depth: int = 0):  # type: ignore[no-untyped-def]
    """(part, kind) depth-first: kind is "leaf", "forward" (a message/rfc822 container) or
    "too_deep"; nothing below MAX_DEPTH is visited (iterative on the stack)."""
    stack = [(message, depth)]
    while stack:
        part, level = stack.pop()
        if part.is_multipart():
            if level >= MAX_DEPTH:
                yield part, "too_deep"
                continue
            if part.get_content_type() == "message/rfc822":
                yield part, "forward"
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, level + 1) for child in reversed(children) if isinstance(child, Message))
            continue
        yield part, "leaf"


def _forward_summary(part: Message) -> str:
    """The headers of a forwarded message, as the text a mail client would show."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return ""
    lines = ["---------- Weitergeleitete Nachricht ----------"]
    for label, name in (("Von", "From"), ("Datum", "Date"), ("Betreff", "Subject"), ("An", "To")):
        value = decode_words(_header(inner, name))
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


def _from_message(message: Message, raw: bytes, warnings: list[str]) -> ParsedMail:
    if message.defects:
        warnings.append("fehlerhafte MIME-Struktur: " + ", ".join(sorted({type(d).__name__ for d in message.defects}))[:120])
    message_ids = _ids(_header(message, "Message-ID"))
    message_id = message_ids[0] if message_ids else _content_id(raw, message)
    from_name, from_addr = _address(_header(message, "From"))
    to = [address for _, address in getaddresses([_header(message, "To") or ""]) if address]
    plain: list[str] = []
    html: list[str] = []
    attachments: list[AttachmentRecord] = []
    for part, kind in _walk(message):
        if kind == "too_deep":
            warnings.append(f"MIME-Verschachtelung tiefer als {MAX_DEPTH} Ebenen nicht gelesen")
            continue
        if kind == "forward":
            plain.append(_forward_summary(part))
            continue
        try:
            content_type = part.get_content_type()
            filename = part.get_filename()
            disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
            payload = part.get_payload(decode=True)
        except Exception as exc:
            warnings.append(f"ein Teil nicht lesbar ({type(exc).__name__})")
            continue
        if isinstance(payload, str):
            payload = payload.encode("utf-8", "replace")
        payload = payload or b""
        if filename or disposition == "attachment" or not content_type.startswith("text/"):
            if content_type.startswith("multipart/"):
                continue
            name = decode_words(filename) if filename else f"teil-{len(attachments) + 1}"
            attachments.append(AttachmentRecord(name[:255], content_type, len(payload),
                                                hashlib.sha256(payload).hexdigest(), payload))
            continue
        text = decode_text(payload, part.get_content_charset(), warnings)
        (html if content_type == "text/html" else plain).append(text)
    body = "\n\n".join(t.strip() for t in plain if t.strip())
    if not body and html:
        body = "\n\n".join(html_to_text(h) for h in html)
    body = body.replace("\r\n", "\n").replace("\r", "\n")[:MAX_BODY_CHARS]
    new_text, quoted = split_quoted(body)
    return ParsedMail(
        message_id=message_id,
        in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")),
        subject=decode_words(_header(message, "Subject")),
        from_name=from_name,
        from_addr=from_addr,
        to=to,
        date=_date(_header(message, "Date")),
        body_text=new_text,
        body_quoted=quoted,
        attachments=attachments,
    )


def _raw_fallback(raw: bytes, guarded: bytes) -> ParsedMail:
    """Headers as far as they parse, and the body as plain text."""
    split = re.search(rb"\r?\n\r?\n", guarded)
    body = guarded[split.end():] if split else guarded
    text = _bytes_to_text(body)[:MAX_BODY_CHARS]
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(guarded[:split.start()] if split else b"")
    except Exception:
        return ParsedMail(_content_id(raw, None), [], [], "", "", "", [], None, text, "")
    ids = _ids(_header(headers, "Message-ID"))
    from_name, from_addr = _address(_header(headers, "From"))
    return ParsedMail(ids[0] if ids else _content_id(raw, headers), _ids(_header(headers, "In-Reply-To")),
                      _ids(_header(headers, "References")), decode_words(_header(headers, "Subject")), from_name,
                      from_addr, [], _date(_header(headers, "Date")), text, "")
