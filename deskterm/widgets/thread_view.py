"""A ticket's thread: sanitised content per message, shown by a lazily wrapping view.

`ThreadView` is a Line-API ScrollView: it wraps a message only when a line of it (or of a
message below it) is about to be painted, so opening a ticket costs the visible lines,
not the whole thread. Nothing here parses markup: every external string goes through the
sanitiser and is added as literal text.
"""

from __future__ import annotations

import json

from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual

from deskterm.domain.sanitize import clean_line, clean_text
from deskterm.store.inbox import MessageRow
from deskterm.domain.format import local_time

_DIRECTION = {"in": ("◀ Kunde", "bold #8da4ef"), "out": ("▶ Antwort", "bold #46a758"), "note": ("✎ Notiz", "bold #ffc53d")}
_DIM = "#8b8d98"


def thread_blocks(messages: list[MessageRow], *, show_quoted: bool = False, total: int | None = None) -> list[Content]:
    """One Content per message (plus a note when older messages were not loaded)."""
    blocks: list[Content] = []
    if total is not None and total > len(messages):
        blocks.append(Content.assemble((f"… {total - len(messages)} ältere Nachrichten nicht geladen\n", _DIM)))
    for message in messages:
        parts: list[str | tuple[str, str]] = []
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
        if message.partial:
            parts.append(("⤓ nur Kopfzeilen geladen – f lädt die ganze Nachricht\n", "bold #ffc53d"))
        delivery = _delivery_line(message)
        if delivery is not None:
            parts.append(delivery)
        parts.append("\n" + clean_text(message.body_text).rstrip() + "\n")
        if message.body_quoted:
            quoted = clean_text(message.body_quoted).rstrip()
            if show_quoted:
                parts.append(("\n" + quoted + "\n", _DIM))
            else:
                lines = quoted.count("\n") + 1
                parts.append((f"\n▸ {lines} zitierte Zeilen ausgeblendet (z zeigt sie)\n", _DIM))
        parts.append(("─" * 60, _DIM))
        blocks.append(Content.assemble(*parts))
    if not messages:
        blocks.append(Content.assemble(("Dieses Ticket hat noch keine Nachrichten.", _DIM)))
    return blocks


_DELIVERY = {
    "queued": ("◷ wartet auf Versand", "#ffc53d"),
    "sending": ("◷ wird gesendet", "#ffc53d"),
    "sent": ("✓ gesendet", "#46a758"),
    "failed": ("✗ nicht gesendet", "bold #e5484d"),
}


def _delivery_line(message: MessageRow) -> tuple[str, str] | None:
    """A reply's outbox state: waiting, sent, refused recipients, or why it failed."""
    if message.delivery is None:
        return None
    text, style = _DELIVERY.get(message.delivery, (message.delivery, _DIM))
    if message.delivery == "failed" and message.delivery_error:
        text += ": " + clean_line(message.delivery_error, max_chars=200) + " (deskterm outbox retry)"
    elif message.delivery == "queued" and message.delivery_error:
        text += " – letzter Versuch: " + clean_line(message.delivery_error, max_chars=160)
    if message.refused:
        try:
            refused = json.loads(message.refused)
        except ValueError:
            refused = {}
        if refused:
            text += " – abgelehnt: " + clean_line(", ".join(f"{k} ({v})" for k, v in refused.items()), max_chars=200)
            style = "bold #ffc53d"
    return text + "\n", style


class ThreadView(ScrollView, can_focus=True):
    """Shows message blocks, wrapping each one the first time it is needed."""

    BINDINGS = [
        Binding("j,down", "scroll_down", "Runter", show=False),
        Binding("k,up", "scroll_up", "Hoch", show=False),
        Binding("g,home", "scroll_home", "Anfang", show=False),
        Binding("G,end", "scroll_end", "Ende", show=False),
        Binding("space,pagedown", "page_down", "Seite runter", show=False),
        Binding("b,pageup", "page_up", "Seite hoch", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._blocks: list[Content] = []
        self._strips: list[list[Strip] | None] = []
        self._heights: list[int] = []
        self._wrap_width = 0

    def set_blocks(self, blocks: list[Content]) -> None:
        self._blocks = blocks
        self._wrap_width = 0
        self._reset()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def _reset(self) -> None:
        width = max(10, self.scrollable_content_region.width or self.size.width or 80)
        self._wrap_width = width
        self._strips = [None] * len(self._blocks)
        self._heights = [self._estimate(block, width) for block in self._blocks]
        self._resize()

    @staticmethod
    def _estimate(block: Content, width: int) -> int:
        return sum(max(1, -(-len(line) // width)) for line in block.plain.split("\n"))

    def _resize(self) -> None:
        self.virtual_size = Size(self._wrap_width, sum(self._heights))

    def on_resize(self) -> None:
        if self._blocks and self.scrollable_content_region.width != self._wrap_width:
            self._reset()
            self.refresh()

    def _wrapped(self, index: int) -> list[Strip]:
        strips = self._strips[index]
        if strips is None:
            strips = Visual.to_strips(self, self._blocks[index], self._wrap_width, None, self.visual_style)
            self._strips[index] = strips
            if len(strips) != self._heights[index]:
                self._heights[index] = len(strips)
                self.call_later(self._resize)
        return strips

    def action_scroll_end(self) -> None:
        """The end needs exact heights: wrap every block, then scroll."""
        for index in range(len(self._blocks)):
            self._wrapped(index)
        self._resize()
        self.scroll_to(y=max(0, sum(self._heights) - self.scrollable_content_region.height), animate=False,
                       immediate=True)

    def render_line(self, y: int) -> Strip:
        target = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        top = 0
        for index in range(len(self._blocks)):
            strips = self._wrapped(index)  # blocks above are wrapped too, so positions are exact
            if target < top + len(strips):
                return strips[target - top].extend_cell_length(width, self.rich_style).crop(0, width)
            top += len(strips)
        return Strip.blank(width, self.rich_style)
