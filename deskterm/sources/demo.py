"""A source over the demo world: the demo syncs through the real engine and store path.

The cursor is the position in this account's ordered list of conversations, so a sync
interrupted at any point resumes exactly where the last committed batch ended.
"""

from __future__ import annotations

from datetime import datetime, timezone

from deskterm.model import Batch
from deskterm.sandbox.demo_world import DEMO_ACCOUNTS, DemoWorld
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SourceError

DEFAULT_BATCH_TICKETS = 50


class DemoSource:
    """Serves one demo account's conversations in batches."""

    streams: tuple[str, ...] = ("conversations",)
    capabilities = Capabilities(can_send=True, has_orders=True, has_messages=True)

    def __init__(self, world: DemoWorld, account_key: str, *, batch_tickets: int = DEFAULT_BATCH_TICKETS,
                 orders: bool = True) -> None:
        account = next((a for a in DEMO_ACCOUNTS if a.key == account_key), None)
        if account is None:
            raise SourceError(f"unknown demo account {account_key!r}", temporary=False)
        self.world = world
        self.account_key = account.key
        self.account_name = account.name
        self.channel = account.channel
        self.batch_tickets = batch_tickets
        self.orders = orders  # False: a marketplace API account of the profile supplies them
        self._indices: list[int] | None = None

    @property
    def indices(self) -> list[int]:
        if self._indices is None:
            self._indices = self.world.indices_for(self.account_key)
        return self._indices

    def pull(self, stream: str, cursor: str | None) -> Batch:
        if stream != "conversations":
            raise SourceError(f"demo source has no stream {stream!r}", temporary=False)
        try:
            start = int(cursor) if cursor else 0
        except ValueError:
            raise SourceError(f"demo cursor {cursor!r} is not a position; reset the account", temporary=False) from None
        end = min(len(self.indices), start + self.batch_tickets)
        batch = Batch(cursor=str(end), has_more=end < len(self.indices), backlog=len(self.indices) - end)
        for index in self.indices[start:end]:
            conversation = self.world.conversation(index)
            batch.customers.append(conversation.customer)
            if conversation.order is not None and self.orders:
                batch.orders.append(conversation.order)
            batch.tickets.append(conversation.ticket)
            batch.messages.extend(conversation.messages)
        return batch

    def send(self, reply: OutgoingReply) -> Receipt:
        """The demo shop's buyers are generated: a reply is accepted at once, like a sandbox."""
        return Receipt(f"demo:{reply.message_id}", datetime.now(timezone.utc))

    def close(self) -> None:
        pass


def demo_sources(anchor: datetime | None = None, *, tickets: int = 600, seed: int = 2026) -> list[DemoSource]:
    """One source per demo account over a shared world."""
    world = DemoWorld(anchor=anchor or datetime.now(timezone.utc), tickets=tickets, seed=seed)
    return [DemoSource(world, account.key) for account in DEMO_ACCOUNTS]
