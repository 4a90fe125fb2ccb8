"""The demo world: deterministic, German, varied, on every channel, scalable."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from deskterm.model import Direction
from deskterm.sandbox.demo_world import DemoWorld
from tests.conftest import ANCHOR


def test_same_seed_gives_the_same_world() -> None:
    a = DemoWorld(anchor=ANCHOR, tickets=100).conversation(42)
    b = DemoWorld(anchor=ANCHOR, tickets=100).conversation(42)
    assert a == b
    c = DemoWorld(anchor=ANCHOR, tickets=100, seed=7).conversation(42)
    assert c != a


def test_conversations_are_varied_german_and_on_time() -> None:
    world = DemoWorld(anchor=ANCHOR, tickets=600)
    conversations = [world.conversation(i) for i in range(600)]
    first_bodies = [c.messages[0].body_text for c in conversations]
    assert len(set(first_bodies)) > 300, "buyer texts should vary like real ones"
    text = " ".join(first_bodies).lower()
    for word in ("bestellung", "paket", "rücksend", "rechnung", "beschädigt", "storn"):
        assert word in text
    assert "lorem" not in text
    assert any("order" in b.lower() for b in first_bodies), "some buyers write in English"
    assert any(c.messages[-1].body_quoted for c in conversations), "follow-ups quote earlier mails"
    for c in conversations:
        times = [m.sent_at for m in c.messages]
        assert times == sorted(times) and times[-1] <= ANCHOR
        assert c.messages[0].direction == Direction.IN
    intents = Counter(c.ticket.subject for c in conversations)
    assert len(intents) > 40
    gdpr = [c for c in conversations if "dsgvo" in c.messages[0].body_text.lower()]
    assert gdpr, "the demo includes a GDPR request"


def test_tickets_are_in_time_order_and_scale_by_index() -> None:
    world = DemoWorld(anchor=ANCHOR, tickets=100_000, mean_messages=11, span_days=365)
    created = [world.conversation(i).ticket.created_at for i in (0, 50_000, 99_999)]
    assert created == sorted(created)
    assert ANCHOR - created[0] > timedelta(days=20)
    sample = [len(world.conversation(i).messages) for i in range(0, 100_000, 997)]
    assert 8 <= sum(sample) / len(sample) <= 13
