"""Row providers for the virtual ticket list: windows of the store, cached by block.

The list asks for row `i`; a provider fetches the 64-row block around it with one indexed
query (keyset from the previous block when it is cached, else OFFSET on the covering
index) and keeps a bounded LRU of blocks. Nothing here holds more than a few hundred rows.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass

from deskterm.domain.sanitize import clean_line
from deskterm.domain.format import channel_label
from deskterm.store.inbox import (
    TicketRow,
    count_due,
    count_tickets,
    count_rest,
    due_window,
    due_window_after,
    rest_window,
    rest_window_after,
    ticket_window,
    ticket_window_after,
    tickets_by_ids,
)

BLOCK = 64
MAX_BLOCKS = 48
STATUS_LABELS = {"open": "offen", "pending": "wartend", "resolved": "erledigt", "snoozed": "zurückg."}


@dataclass(frozen=True, slots=True)
class DisplayRow:
    """A ticket row with every external string already sanitised for one line."""

    id: int
    channel: str
    customer: str
    subject: str
    order_ref: str
    last_message_at: int
    status: str
    unread: bool
    sort_key: tuple[int, int]
    due: int | None = None  # when the channel's response clock runs out (None: no clock running)
    priority: int = 0
    assignee: str = ""
    snoozed_until: int | None = None


def to_display(row: TicketRow) -> DisplayRow:
    return DisplayRow(
        id=row.id,
        channel=channel_label(row.channel),
        customer=clean_line(row.customer_name, max_chars=80) or "—",
        subject=clean_line(row.subject, max_chars=200) or "(kein Betreff)",
        order_ref=clean_line(row.order_ref, max_chars=40),
        last_message_at=row.last_message_at,
        status=row.status,
        unread=row.unread,
        sort_key=row.sort_key,
        due=row.sla_due_at,
        priority=row.priority,
        assignee=clean_line(row.assignee or "", max_chars=20),
        snoozed_until=row.snoozed_until,
    )


class _BlockRows:
    """Rows by index, loaded and cached 64 at a time (at most MAX_BLOCKS blocks)."""

    total: int

    def __init__(self) -> None:
        self._blocks: OrderedDict[int, list[DisplayRow]] = OrderedDict()

    def _load_block(self, number: int) -> list[DisplayRow]:
        raise NotImplementedError

    def get(self, index: int) -> DisplayRow | None:
        if index < 0 or index >= self.total:
            return None
        return self._cached(index)

    def _cached(self, index: int) -> DisplayRow | None:
        number = index // BLOCK
        block = self._blocks.get(number)
        if block is None:
            block = self._load_block(number)
            self._blocks[number] = block
            while len(self._blocks) > MAX_BLOCKS:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(number)
        offset = index - number * BLOCK
        return block[offset] if offset < len(block) else None


class InboxRows(_BlockRows):
    """All tickets (optionally of one status), newest activity first."""

    def __init__(self, conn: sqlite3.Connection, *, status: str | None = None) -> None:
        super().__init__()
        self.conn = conn
        self.status = status
        self.total = count_tickets(conn, status)

    def reload(self) -> None:
        """Forget cached rows after the store changed."""
        self._blocks.clear()
        self.total = count_tickets(self.conn, self.status)

    def _load_block(self, number: int) -> list[DisplayRow]:
        previous = self._blocks.get(number - 1)
        if previous and len(previous) == BLOCK:
            rows = ticket_window_after(self.conn, previous[-1].sort_key, BLOCK, status=self.status)
        else:
            rows = ticket_window(self.conn, number * BLOCK, BLOCK, total=self.total, status=self.status)
        return [to_display(r) for r in rows]


class DueRows(_BlockRows):
    """Tickets whose response clock runs (not snoozed), the soonest or most overdue first."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self.conn = conn
        self.total = count_due(conn)

    def reload(self) -> None:
        self._blocks.clear()
        self.total = count_due(self.conn)

    def _load_block(self, number: int) -> list[DisplayRow]:
        previous = self._blocks.get(number - 1)
        if previous and len(previous) == BLOCK and previous[-1].due is not None:
            rows = due_window_after(self.conn, (previous[-1].due, previous[-1].id), BLOCK)
        else:
            rows = due_window(self.conn, number * BLOCK, BLOCK)
        return [to_display(r) for r in rows]


class QueueRows(_BlockRows):
    """The inbox: unresolved, unsnoozed tickets; running clocks by deadline first, then the
    rest by newest activity. Two index walks glued at `due_total`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self.conn = conn
        self._count()

    def _count(self) -> None:
        self.due_total = count_due(self.conn)
        self.total = self.due_total + count_rest(self.conn, self.due_total)

    def reload(self) -> None:
        self._blocks.clear()
        self._count()

    def get(self, index: int) -> DisplayRow | None:
        if index < 0 or index >= self.total:
            return None
        if index < self.due_total:
            return self._cached(index)
        # The rest starts at the next block boundary so both parts stay block-aligned.
        return self._cached(self._rest_base + index - self.due_total)

    @property
    def _rest_base(self) -> int:
        return ((self.due_total + BLOCK - 1) // BLOCK) * BLOCK

    def _load_block(self, number: int) -> list[DisplayRow]:
        previous = self._blocks.get(number - 1)
        if number * BLOCK < self.due_total:
            if previous and len(previous) == BLOCK and previous[-1].due is not None:
                rows = due_window_after(self.conn, (previous[-1].due, previous[-1].id), BLOCK)
            else:
                rows = due_window(self.conn, number * BLOCK, BLOCK)
            return [to_display(r) for r in rows[:max(0, self.due_total - number * BLOCK)]]
        rest_offset = number * BLOCK - self._rest_base
        if previous and len(previous) == BLOCK and rest_offset > 0 and previous[-1].due is None:
            rows = rest_window_after(self.conn, previous[-1].sort_key, BLOCK)
        else:
            rows = rest_window(self.conn, rest_offset, BLOCK)
        return [to_display(r) for r in rows]


class IdRows(_BlockRows):
    """A fixed list of ticket ids (a search result page), fetched by block."""

    def __init__(self, conn: sqlite3.Connection, ids: list[int]) -> None:
        super().__init__()
        self.conn = conn
        self.ids = ids
        self.total = len(ids)

    def reload(self) -> None:
        self._blocks.clear()

    def _load_block(self, number: int) -> list[DisplayRow]:
        chunk = self.ids[number * BLOCK:(number + 1) * BLOCK]
        by_id = {r.id: r for r in tickets_by_ids(self.conn, chunk)}
        return [to_display(by_id[i]) if i in by_id else _gone(i) for i in chunk]


def _gone(ticket_id: int) -> DisplayRow:
    return DisplayRow(ticket_id, "", "", "(ticket no longer exists)", "", 0, "", False, (0, ticket_id), None)
