"""The sync engine: one failing source never stops the others; status is recorded."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from deskterm.model import Batch, Channel
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SourceError
from deskterm.sources.demo import DemoSource
from deskterm.sources.engine import SyncEngine, SyncEvent
from deskterm.store.db import Store
from deskterm.store.status import source_statuses
from tests.conftest import ANCHOR


class BrokenSource:
    """A real source implementation whose upstream always fails (like a server returning 500)."""

    account_key = "broken"
    account_name = "Kaputtes Konto"
    channel = Channel.EBAY
    capabilities = Capabilities(can_send=False, has_orders=False, has_messages=True)
    streams = ("messages",)

    def pull(self, stream: str, cursor: str | None) -> Batch:
        raise SourceError("eBay answered 503 Service Unavailable; will retry")

    def send(self, reply: OutgoingReply) -> Receipt:
        raise SourceError("cannot send")

    def close(self) -> None:
        pass


def test_failing_source_is_recorded_and_the_others_still_sync(tmp_path: Path) -> None:
    world = DemoWorld(anchor=ANCHOR, tickets=40)
    good_before = DemoSource(world, "amazon-de")
    good_after = DemoSource(world, "ebay-de")
    events: list[SyncEvent] = []
    path = tmp_path / "s.sqlite3"
    runs = SyncEngine(path, [good_before, BrokenSource(), good_after], clock=lambda: 1_000.0,
                      listener=events.append).run_once()
    assert [r.error is None for r in runs] == [True, False, True]
    assert runs[1].error == "eBay answered 503 Service Unavailable; will retry"
    assert runs[0].messages > 0 and runs[2].messages > 0
    with Store.open(path) as store:
        statuses = {s.account_key: s for s in source_statuses(store.conn)}
    assert statuses["broken"].state == "error" and statuses["broken"].last_error.startswith("eBay answered 503")
    assert statuses["amazon-de"].state == "idle" and statuses["amazon-de"].last_success == 1000
    assert any(e.kind == "failed" and e.account_key == "broken" for e in events)


def test_unexpected_exception_in_a_source_is_one_line(tmp_path: Path) -> None:
    class Exploding(BrokenSource):
        def pull(self, stream: str, cursor: str | None) -> Batch:
            raise KeyError("line one\nline two")

    runs = SyncEngine(tmp_path / "s.sqlite3", [Exploding()]).run_once()
    assert runs[0].error is not None and "\n" not in runs[0].error and runs[0].error.startswith("KeyError")


def test_demo_sources_cover_every_channel(tmp_path: Path) -> None:
    world = DemoWorld(anchor=datetime(2026, 12, 1, tzinfo=timezone.utc), tickets=200)
    keys = {world.account_of(i).key for i in range(200)}
    channels = {world.account_of(i).channel for i in range(200)}
    assert len(keys) == 8 and len(channels) == 8
