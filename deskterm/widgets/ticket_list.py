"""The inbox list: a Line-API ScrollView that renders only the visible rows.

It never holds all tickets: `render_line(y)` asks a row provider (see rows.py) for the one
row at that position, and the provider reads a small indexed window from SQLite. Cost per
frame is O(visible rows) whether the store has a hundred tickets or a million.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Protocol

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from deskterm.domain.format import BERLIN, age_label
from deskterm.domain.sla import countdown_label, urgency
from deskterm.widgets.rows import STATUS_LABELS, DisplayRow


class RowProvider(Protocol):
    total: int

    def get(self, index: int) -> DisplayRow | None: ...

    def reload(self) -> None: ...


_CHANNEL_STYLES = {
    "Amazon": Style(color="#ff9900"),
    "eBay": Style(color="#4f8ff7"),
    "Kaufland": Style(color="#e5484d"),
    "OTTO": Style(color="#f76b15"),
    "Zalando": Style(color="#ff6a00"),
    "E-Mail": Style(color="#8da4ef"),
    "Messenger": Style(color="#3e63dd"),
    "Instagram": Style(color="#d6409f"),
}

# Column widths (cells); the subject takes what is left.
W_MARK, W_CHANNEL, W_CUSTOMER, W_ORDER, W_AGE, W_DUE, W_STATUS = 3, 10, 22, 21, 6, 18, 9
TICK_SECONDS = 60  # countdowns move once a minute: only the visible lines are repainted


def columns_for(width: int) -> tuple[int, int, int]:
    """(subject, order, due) widths for a list `width` cells wide; narrow lists keep the subject."""
    order = W_ORDER if width >= 120 else 0
    due = W_DUE if width >= 96 else 0
    fixed = W_MARK + W_CHANNEL + W_CUSTOMER + order + W_AGE + due + W_STATUS + 4 + (order > 0) + (due > 0)
    return max(8, width - fixed), order, due


def header_text(width: int) -> str:
    subject, order, due = columns_for(width)
    parts = [" " * W_MARK, set_cell_size("Kanal", W_CHANNEL), set_cell_size("Kunde", W_CUSTOMER),
             set_cell_size("Betreff", subject)]
    if order:
        parts.append(set_cell_size("Bestellung", order))
    parts.append(set_cell_size("Alter", W_AGE))
    if due:
        parts.append(set_cell_size("Antwort fällig", due))
    parts.append(set_cell_size("Status", W_STATUS))
    return " ".join(parts)


_MARK_STYLE = Style(color="#8da4ef", bold=True)
_PRIORITY_MARKS = {2: "‼", 1: "!", -1: "↓"}
_PRIORITY_STYLES = {2: Style(color="#e5484d", bold=True), 1: Style(color="#ffc53d", bold=True),
                    -1: Style(color="#8b8d98")}

DUE_STYLES = {"overdue": Style(color="#e5484d", bold=True), "soon": Style(color="#ffc53d"),
              "ok": Style(color="#46a758")}


class TicketList(ScrollView, can_focus=True):
    """Virtual list of tickets with a keyboard cursor."""

    BINDINGS = [
        Binding("j,down", "cursor_down", "Nächstes Ticket", show=False),
        Binding("k,up", "cursor_up", "Voriges Ticket", show=False),
        Binding("g,home", "cursor_first", "Zum Anfang", show=False),
        Binding("G,end", "cursor_last", "Zum Ende", show=False),
        Binding("pagedown,ctrl+f", "page_down_rows", "Seite runter", show=False),
        Binding("pageup,ctrl+b", "page_up_rows", "Seite hoch", show=False),
        Binding("enter", "open", "Öffnen", id="inbox.open"),
    ]

    COMPONENT_CLASSES = {"ticket-list--cursor", "ticket-list--unread", "ticket-list--dim", "ticket-list--marked"}

    DEFAULT_CSS = """
    TicketList { background: $surface; }
    TicketList > .ticket-list--cursor { background: $accent 40%; text-style: bold; }
    TicketList:focus > .ticket-list--cursor { background: $accent 70%; }
    TicketList > .ticket-list--unread { text-style: bold; }
    TicketList > .ticket-list--dim { color: $text-muted; }
    TicketList > .ticket-list--marked { background: $secondary 30%; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True)

    class Opened(Message):
        """The user asked to open a ticket."""

        def __init__(self, ticket_id: int) -> None:
            super().__init__()
            self.ticket_id = ticket_id

    def __init__(self, rows: RowProvider, *, clock: Callable[[], float], marked: set[int] | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = rows
        self.clock = clock
        self.marked = marked if marked is not None else set()  # shared with the screen (x, T)

    # -- data --------------------------------------------------------------------------

    def set_rows(self, rows: RowProvider) -> None:
        """Show another provider (e.g. search results) from its first row."""
        self.rows = rows
        self.cursor_row = 0
        self._resize_virtual()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def replace_rows(self, rows: RowProvider) -> None:
        """Show a refreshed provider of the same list (a view's query ran again): keep the cursor."""
        self.rows = rows
        self._resize_virtual()
        if self.cursor_row >= self.rows.total:
            self.cursor_row = max(0, self.rows.total - 1)
        self.refresh()

    def reload(self) -> None:
        """The store changed: re-count and re-read what is visible, keep the cursor."""
        self.rows.reload()
        self._resize_virtual()
        if self.cursor_row >= self.rows.total:
            self.cursor_row = max(0, self.rows.total - 1)
        self.refresh()

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self.size.width, self.rows.total)

    def on_mount(self) -> None:
        self._resize_virtual()
        self.set_interval(TICK_SECONDS, self.refresh)

    @staticmethod
    def _due_segment(row: DisplayRow, now: float, base: Style, dim: Style) -> Segment:
        """'3h 12m' (green), under 4 h (amber), 'überfällig 1h 05m' (red); '–' without a clock."""
        if row.due is None:
            return Segment(set_cell_size("–", W_DUE) + " ", dim)
        label = countdown_label(datetime.fromtimestamp(row.due, timezone.utc), datetime.fromtimestamp(now, timezone.utc))
        colour = DUE_STYLES[urgency(row.due, now)]
        return Segment(set_cell_size(label, W_DUE) + " ", base + colour)

    @staticmethod
    def _status_label(row: DisplayRow, now: float) -> str:
        """The status; a snoozed ticket shows when it comes back ("bis 14:00", "bis 07.12.")."""
        if row.status == "snoozed" and row.snoozed_until:
            wake = datetime.fromtimestamp(row.snoozed_until, BERLIN)
            same_day = wake.date() == datetime.fromtimestamp(now, BERLIN).date()
            return f"bis {wake:%H:%M}" if same_day else f"bis {wake:%d.%m.}"
        return STATUS_LABELS.get(row.status, row.status)

    def on_resize(self) -> None:
        self._resize_virtual()

    @property
    def selected(self) -> DisplayRow | None:
        return self.rows.get(self.cursor_row)

    # -- rendering ---------------------------------------------------------------------

    @property
    def content_width(self) -> int:
        """Cells available for a row (the scrollbar takes the rest)."""
        return self.scrollable_content_region.width

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.content_width
        row = self.rows.get(index)
        if row is None:
            return Strip.blank(width, self.rich_style)
        return Strip(self._segments(row, width, index == self.cursor_row), width)

    def _segments(self, row: DisplayRow, width: int, selected: bool) -> list[Segment]:
        base = self.rich_style
        if row.unread:
            base = base + self.get_component_rich_style("ticket-list--unread")
        marked = row.id in self.marked
        if marked:
            base = base + self.get_component_rich_style("ticket-list--marked")
        if selected:
            base = base + self.get_component_rich_style("ticket-list--cursor")
        dim = base + self.get_component_rich_style("ticket-list--dim")
        subject_w, order_w, due_w = columns_for(width)
        channel_style = base + _CHANNEL_STYLES.get(row.channel, Style())
        segments = [
            Segment("✓" if marked else " ", base + _MARK_STYLE),
            Segment("●" if row.unread else " ", base),
            Segment(_PRIORITY_MARKS.get(row.priority, " "), base + _PRIORITY_STYLES.get(row.priority, Style())),
            Segment(set_cell_size(row.channel, W_CHANNEL) + " ", channel_style),
            Segment(set_cell_size(row.customer, W_CUSTOMER) + " ", base),
            Segment(set_cell_size(row.subject, subject_w) + " ", base),
        ]
        if order_w:
            segments.append(Segment(set_cell_size(row.order_ref, order_w) + " ", dim))
        now = self.clock()
        segments.append(Segment(set_cell_size(age_label(now - row.last_message_at), W_AGE) + " ", dim))
        if due_w:
            segments.append(self._due_segment(row, now, base, dim))
        segments.append(Segment(set_cell_size(self._status_label(row, now), W_STATUS), dim))
        used = sum(segment.cell_length for segment in segments)  # cells, not characters: emoji are wide
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        return segments

    # -- cursor ------------------------------------------------------------------------

    def watch_cursor_row(self, old: int, new: int) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False, immediate=True)
        self.refresh()

    def _move(self, delta: int) -> None:
        if self.rows.total:
            self.cursor_row = max(0, min(self.rows.total - 1, self.cursor_row + delta))

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_cursor_first(self) -> None:
        self.cursor_row = 0

    def action_cursor_last(self) -> None:
        self.cursor_row = max(0, self.rows.total - 1)

    def action_page_down_rows(self) -> None:
        page = max(1, self.scrollable_content_region.height)
        target = min(max(0, self.rows.total - 1), self.cursor_row + page)
        self.scroll_to(y=min(self.scroll_offset.y + page, max(0, self.rows.total - page)), animate=False,
                       immediate=True)
        self.cursor_row = target

    def action_page_up_rows(self) -> None:
        page = max(1, self.scrollable_content_region.height)
        self.scroll_to(y=max(0, self.scroll_offset.y - page), animate=False, immediate=True)
        self.cursor_row = max(0, self.cursor_row - page)

    def action_open(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Opened(row.id))

    def on_click(self, event: object) -> None:
        offset = getattr(event, "y", None)
        if isinstance(offset, int):
            self.cursor_row = min(max(0, self.rows.total - 1), int(self.scroll_offset.y) + offset)
