"""A ticket's whole thread as one block of plain (sanitised) content.

One `Static` holding one `Content` lays out faster than a widget per message, which keeps
opening a long ticket within a frame or two. Nothing here parses markup: every external
string goes through the sanitiser and is added as literal text.
"""

from __future__ import annotations

from textual.content import Content

from deskterm.domain.sanitize import clean_line, clean_text
from deskterm.store.inbox import MessageRow
from deskterm.widgets.timefmt import local_time

_DIRECTION = {"in": ("◀ Kunde", "bold #8da4ef"), "out": ("▶ Antwort", "bold #46a758"), "note": ("✎ Notiz", "bold #ffc53d")}
_DIM = "#8b8d98"


def thread_content(messages: list[MessageRow], *, show_quoted: bool = False, total: int | None = None) -> Content:
    parts: list[str | tuple[str, str]] = []
    if total is not None and total > len(messages):
        parts.append((f"… {total - len(messages)} ältere Nachrichten nicht geladen\n\n", _DIM))
    for message in messages:
        label, style = _DIRECTION.get(message.direction, ("?", "bold"))
        sender = clean_line(message.sender_name, max_chars=80)
        address = clean_line(message.sender_addr, max_chars=120)
        parts.append((label, style))
        parts.append(("  " + sender, "bold"))
        if address:
            parts.append((f" <{address}>", _DIM))
        parts.append((f"  {local_time(message.sent_at)}\n", _DIM))
        if message.subject:
            parts.append((clean_line(message.subject) + "\n", _DIM))
        if message.parse_warning:
            parts.append(("⚠ " + clean_line(message.parse_warning) + "\n", "bold #ffc53d"))
        parts.append("\n" + clean_text(message.body_text).rstrip() + "\n")
        if message.body_quoted:
            quoted = clean_text(message.body_quoted).rstrip()
            if show_quoted:
                parts.append(("\n" + quoted + "\n", _DIM))
            else:
                lines = quoted.count("\n") + 1
                parts.append((f"\n▸ {lines} zitierte Zeilen ausgeblendet (z zeigt sie)\n", _DIM))
        parts.append(("─" * 60 + "\n", _DIM))
    if not messages:
        parts.append(("Dieses Ticket hat noch keine Nachrichten.", _DIM))
    return Content.assemble(*parts)
