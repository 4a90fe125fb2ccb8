"""Triage: actions on many tickets with undo, snooze and wake-up, pauses that move the
deadline, the search language against a brute-force filter, and the keyboard flow in the
app with a controlled clock."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from deskterm.cli import build_app
from deskterm.config import Config
from deskterm.domain.query import QueryError, parse_query
from deskterm.domain.sla import PRESETS, counted_between
from deskterm.domain.triage import TriageError, snooze_until
from deskterm.model import Batch, Direction, MessageRecord, TicketRecord
from deskterm.store import triage
from deskterm.store.db import Store
from deskterm.store.query import run_query
from deskterm.store.sync_writes import apply_batch
from tests.conftest import FROZEN_NOW
from tests.test_app import wait_for

NOW = int(FROZEN_NOW)


def _fields(conn: sqlite3.Connection, ticket_id: int) -> dict[str, object]:
    row = conn.execute("SELECT status, assignee, priority, snoozed_until, no_response_needed, sla_due_at, resolved_at "
                       "FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    tags = [r[0] for r in conn.execute("SELECT tag FROM ticket_tags WHERE ticket_id = ? ORDER BY tag", (ticket_id,))]
    return dict(zip(("status", "assignee", "priority", "snoozed", "no_response", "due", "resolved_at"), row),
                tags=tags)


def _running(conn: sqlite3.Connection, n: int, channel: str | None = None) -> list[int]:
    where = " AND channel = ?" if channel else ""
    return [r[0] for r in conn.execute(
        f"SELECT id FROM tickets WHERE sla_due_at IS NOT NULL AND status = 'open'{where} ORDER BY id LIMIT ?",
        (*([channel] if channel else []), n))]


def test_every_action_is_undone_exactly(demo_store: Path) -> None:
    with Store.open(demo_store, create=False) as store, store.transaction() as conn:
        ids = _running(conn, 3)
        before = {i: _fields(conn, i) for i in ids}
        steps = [
            lambda: triage.set_status(conn, ids, "resolved", agent="jana", now=NOW),
            lambda: triage.assign(conn, ids, "Anna", agent="jana", now=NOW),
            lambda: triage.tag(conn, ids, ["vip", "rückfrage"], agent="jana", now=NOW),
            lambda: triage.set_priority(conn, ids, 2, agent="jana", now=NOW),
            lambda: triage.no_response_needed(conn, ids[:1], "Dankesnachricht", agent="jana", now=NOW),
            lambda: triage.set_status(conn, ids, "snoozed", agent="jana", now=NOW, snoozed_until=NOW + 3600),
        ]
        for step in steps:
            snapshot = {i: _fields(conn, i) for i in ids}
            result = step()
            assert result.changed == len(ids) or result.label.startswith("Keine Antwort")
            assert {i: _fields(conn, i) for i in ids} != snapshot
            undone = triage.undo_last(conn, agent="jana", now=NOW)
            assert undone is not None and undone.label.startswith("Rückgängig")
            assert {i: _fields(conn, i) for i in ids} == snapshot == before
        assert triage.undo_last(conn, agent="jana", now=NOW) is None  # each action undone once
        # Undo is per agent: another agent's action is not mine to undo.
        triage.assign(conn, ids, "Ben", agent="ben", now=NOW)
        assert triage.undo_last(conn, agent="jana", now=NOW) is None
        assert _fields(conn, ids[0])["assignee"] == "Ben"


def test_resolving_stops_the_clock_and_no_response_needed_keeps_its_reason(demo_store: Path) -> None:
    with Store.open(demo_store, create=False) as store, store.transaction() as conn:
        first, second = _running(conn, 2)
        triage.set_status(conn, [first], "resolved", agent="jana", now=NOW)
        assert _fields(conn, first)["due"] is None and _fields(conn, first)["resolved_at"] == NOW
        triage.no_response_needed(conn, [second], "Automatische Nachricht", agent="jana", now=NOW)
        assert _fields(conn, second)["due"] is None
        assert _fields(conn, second)["no_response"] == "Automatische Nachricht"
        triage.no_response_needed(conn, [second], None, agent="jana", now=NOW)
        assert _fields(conn, second)["due"] is not None


def test_snoozed_tickets_wake_at_their_time_or_with_the_next_buyer_message(demo_store: Path) -> None:
    with Store.open(demo_store, create=False) as store:
        with store.transaction() as conn:
            a, b = _running(conn, 2, "amazon")
            triage.set_status(conn, [a, b], "snoozed", agent="jana", now=NOW, snoozed_until=NOW + 3600)
            assert triage.next_wake(conn) == NOW + 3600
            assert triage.wake_snoozed(conn, NOW + 3599) == []
        account_id, external_id = store.conn.execute("SELECT account_id, external_id FROM tickets WHERE id = ?",
                                                     (b,)).fetchone()
        sent = datetime.fromtimestamp(NOW + 60, timezone.utc)
        batch = Batch(cursor="woken", tickets=[TicketRecord(external_id, "amazon", None, "Frage", sent)],  # type: ignore[arg-type]
                      messages=[MessageRecord("wake-1", external_id, Direction.IN, "Kunde", "", sent, "Frage",
                                              "Wo bleibt mein Paket?")])
        apply_batch(store, account_id, "test", batch, now=NOW + 60)
        assert _fields(store.conn, b)["status"] == "open" and _fields(store.conn, b)["snoozed"] is None
        with store.transaction() as conn:
            assert triage.wake_snoozed(conn, NOW + 3600) == [a]
        assert _fields(store.conn, a)["status"] == "open"
        assert store.conn.execute("SELECT unread FROM tickets WHERE id = ?", (a,)).fetchone()[0] == 1


def test_time_spent_waiting_for_the_customer_moves_the_deadline(demo_store: Path) -> None:
    """Kaufland counts working hours and pauses while waiting: a pause from Friday 16:00 to
    Monday 10:00 adds the counted time in between (Friday 8 h + Monday 10 h), not 66 h."""
    with Store.open(demo_store, create=False) as store, store.transaction() as conn:
        (ticket,) = _running(conn, 1, "kaufland")
        due_before = _fields(conn, ticket)["due"]
        friday = int(datetime(2026, 12, 4, 16, 0, tzinfo=timezone(timedelta(hours=1))).timestamp())
        monday = int(datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=1))).timestamp())
        triage.set_status(conn, [ticket], "pending", agent="jana", now=friday)
        assert _fields(conn, ticket)["due"] is None  # paused
        triage.set_status(conn, [ticket], "open", agent="jana", now=monday)
        paused = counted_between(datetime.fromtimestamp(friday, timezone.utc),
                                 datetime.fromtimestamp(monday, timezone.utc), PRESETS["kaufland"])
        assert paused == 18 * 3600
        assert conn.execute("SELECT sla_paused_seconds FROM tickets WHERE id = ?", (ticket,)).fetchone()[0] == paused
        due_after = _fields(conn, ticket)["due"]
        assert isinstance(due_before, int) and isinstance(due_after, int)
        assert counted_between(datetime.fromtimestamp(due_before, timezone.utc),
                               datetime.fromtimestamp(due_after, timezone.utc), PRESETS["kaufland"]) == paused


def test_bad_triage_values_are_refused_in_one_line(demo_store: Path) -> None:
    with pytest.raises(TriageError, match="Vergangenheit"):
        snooze_until("2020-01-01 10:00", NOW)
    with pytest.raises(TriageError, match="Beispiele"):
        snooze_until("irgendwann", NOW)
    assert snooze_until("1h", NOW) == NOW + 3600
    with Store.open(demo_store, create=False) as store, store.transaction() as conn:
        (ticket,) = _running(conn, 1)
        with pytest.raises(TriageError, match="Schlagwort"):
            triage.tag(conn, [ticket], ["zwei wörter"], agent="jana", now=NOW)
        with pytest.raises(TriageError, match="Zeitpunkt"):
            triage.set_status(conn, [ticket], "snoozed", agent="jana", now=NOW, snoozed_until=NOW - 1)


# -- the search language -------------------------------------------------------------


def test_query_errors_say_what_to_change() -> None:
    for text, expected in [("kanal:amazonas", "unbekannter Kanal"), ("due:4h", "due:<4h"),
                           ("status:zu", "unbekannter Status"), ("https://example.com", "als Text suchen"),
                           ("foo OR", "braucht ein Wort"), ("before:gestern", "Datum"), ("is:wichtig", "bekannt"),
                           ("", "mindestens ein Wort")]:
        with pytest.raises(QueryError, match=expected):
            parse_query(text, now=NOW)


def _brute_force(conn: sqlite3.Connection, now: int) -> dict[str, set[int]]:
    rows = conn.execute("SELECT id, channel, status, sla_due_at, unread, assignee, order_ref, last_message_at "
                        "FROM tickets").fetchall()
    tagged = {r[0] for r in conn.execute("SELECT ticket_id FROM ticket_tags WHERE tag = 'vip'")}
    return {
        "channel:amazon due:<4h": {r[0] for r in rows if r[1] == "amazon" and r[3] is not None and r[3] < now + 4 * 3600},
        "channel:ebay,kaufland -is:unread": {r[0] for r in rows if r[1] in ("ebay", "kaufland") and not r[4]},
        "-status:resolved -tag:vip": {r[0] for r in rows if r[2] != "resolved" and r[0] not in tagged},
        "is:overdue assignee:me": {r[0] for r in rows if r[3] is not None and r[3] < now and r[5] == "jana"},
        "assignee:none status:open": {r[0] for r in rows if r[5] is None and r[2] == "open"},
        "after:3d before:1d": {r[0] for r in rows if now - 3 * 86400 <= r[7] < now - 86400},
        "due:>1d": {r[0] for r in rows if r[3] is not None and r[3] >= now + 86400},
    }


def test_filters_match_a_brute_force_scan(demo_store: Path) -> None:
    with Store.open(demo_store, create=False) as store, store.transaction() as conn:
        some = [r[0] for r in conn.execute("SELECT id FROM tickets ORDER BY id LIMIT 40")]
        triage.assign(conn, some[:25], "jana", agent="jana", now=NOW)
        triage.tag(conn, some[10:30], ["vip"], agent="jana", now=NOW)
    with Store.open(demo_store, create=False) as store:
        for text, expected in _brute_force(store.conn, NOW).items():
            result = run_query(store.conn, parse_query(text, now=NOW, agent="jana"), now=NOW, agent="jana")
            assert set(result.ticket_ids) == expected, text
            assert expected, f"{text}: the demo store should have matches, else this test proves little"
        due_sorted = run_query(store.conn, parse_query("channel:amazon due:<4h", now=NOW), now=NOW)
        dues = [store.conn.execute("SELECT sla_due_at FROM tickets WHERE id = ?", (i,)).fetchone()[0]
                for i in due_sorted.ticket_ids]
        assert dues == sorted(dues)  # a due filter sorts by deadline


def test_words_and_filters_combine(demo_store: Path) -> None:
    with Store.open(demo_store, create=False) as store:
        words = set(run_query(store.conn, parse_query("paket", now=NOW), now=NOW).ticket_ids)
        amazon = {r[0] for r in store.conn.execute("SELECT id FROM tickets WHERE channel = 'amazon'")}
        both = set(run_query(store.conn, parse_query("paket channel:amazon", now=NOW), now=NOW).ticket_ids)
        assert both == words & amazon and both
        without = set(run_query(store.conn, parse_query("channel:amazon -paket", now=NOW), now=NOW).ticket_ids)
        assert without == amazon - words


# -- in the app --------------------------------------------------------------------------


async def test_select_by_query_snooze_wake_resolve_and_undo(demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    now = [FROZEN_NOW]
    app = build_app(store=Store.open(demo_store, create=False), profile="test", config=Config(), where=isolated_home,
                    clock=lambda: now[0], poll_seconds=0.1)
    with Store.open(demo_store, create=False) as store:
        chosen = [r[0] for r in store.conn.execute(
            "SELECT id FROM tickets WHERE channel = 'kaufland' AND status = 'open' AND order_ref <> '' "
            "ORDER BY id LIMIT 3")]
    assert len(chosen) == 3
    async with app.run_test(size=(160, 48)) as pilot:
        inbox = app.inbox
        assert inbox is not None
        await wait_for(pilot, lambda: inbox.ticket_list.rows.total > 0)
        visible = lambda: {inbox.ticket_list.rows.get(i).id for i in range(inbox.ticket_list.rows.total)}  # noqa: E731
        assert set(chosen) <= visible()
        query = f"channel:kaufland status:open order:{_order_refs(demo_store, chosen)}"
        await pilot.press("T", *query, "enter")
        await wait_for(pilot, lambda: inbox.marked == set(chosen))
        await pilot.press("z")
        await pilot.pause()
        await pilot.press("1")  # 1 hour
        await wait_for(pilot, lambda: _statuses(demo_store, chosen) == {"snoozed"})
        assert inbox.marked == set()
        await pilot.press("escape")  # back from the search results to the inbox view
        await wait_for(pilot, lambda: not set(chosen) & visible())
        now[0] = FROZEN_NOW + 3601  # an hour later they are back, unread
        await wait_for(pilot, lambda: set(chosen) <= visible(), timeout=5)
        assert _statuses(demo_store, chosen) == {"open"}
        # Resolve the one under the cursor, then undo.
        await pilot.press("g")
        first = inbox.ticket_list.selected
        assert first is not None
        await pilot.press("e")
        await wait_for(pilot, lambda: _statuses(demo_store, [first.id]) == {"resolved"})
        await wait_for(pilot, lambda: first.id not in visible())
        await pilot.press("u")
        await wait_for(pilot, lambda: _statuses(demo_store, [first.id]) == {"open"})
        await wait_for(pilot, lambda: first.id in visible())
        assert any("Rückgängig" in str(n.message) for n in app._notifications)


async def test_marks_tags_and_a_bad_query_in_the_app(demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    app = build_app(store=Store.open(demo_store, create=False), profile="test", config=Config(), where=isolated_home,
                    clock=lambda: FROZEN_NOW, poll_seconds=0.1)
    async with app.run_test(size=(160, 48)) as pilot:
        inbox = app.inbox
        assert inbox is not None
        await wait_for(pilot, lambda: inbox.ticket_list.rows.total > 2)
        first, second = inbox.ticket_list.rows.get(0), inbox.ticket_list.rows.get(1)
        await pilot.press("x", "x")
        assert inbox.marked == {first.id, second.id}
        assert "2 markiert" in inbox.query_one("#inbox-title").render().plain
        await pilot.press("semicolon")
        await pilot.pause()
        await pilot.press("6")  # "Schlagwörter …" in the menu
        await pilot.pause()
        await pilot.press(*"vip", "enter")
        await wait_for(pilot, lambda: _tags(demo_store, [first.id, second.id]) == {"vip"})
        await pilot.press("slash", *"tag:vip", "enter")
        await wait_for(pilot, lambda: inbox.search_query == "tag:vip")
        assert inbox.ticket_list.rows.total == 2
        await pilot.press("escape", "slash", *"due:bald", "enter")
        await wait_for(pilot, lambda: inbox.query_one("#search-error").has_class("visible"))
        assert "due:<4h" in inbox.query_one("#search-error").render().plain
        assert app.is_running


def _order_refs(path: Path, ids: list[int]) -> str:
    with Store.open(path, create=False) as store:
        marks = ",".join("?" * len(ids))
        refs = [r[0] for r in store.conn.execute(f"SELECT order_ref FROM tickets WHERE id IN ({marks})", ids)]
    assert all(refs), "the chosen tickets need order numbers"
    return ",".join(refs)


def _statuses(path: Path, ids: list[int]) -> set[str]:
    with Store.open(path, create=False) as store:
        marks = ",".join("?" * len(ids))
        return {r[0] for r in store.conn.execute(f"SELECT status FROM tickets WHERE id IN ({marks})", ids)}


def _tags(path: Path, ids: list[int]) -> set[str]:
    with Store.open(path, create=False) as store:
        marks = ",".join("?" * len(ids))
        return {r[0] for r in store.conn.execute(f"SELECT tag FROM ticket_tags WHERE ticket_id IN ({marks})", ids)}


def test_the_undo_journal_holds_no_message_text(demo_store: Path) -> None:
    """The journal keeps ticket fields and tags only: nothing a GDPR erasure would miss."""
    with Store.open(demo_store, create=False) as store, store.transaction() as conn:
        ids = _running(conn, 2)
        triage.set_status(conn, ids, "resolved", agent="jana", now=NOW)
        before = json.loads(conn.execute("SELECT before FROM triage_actions ORDER BY id DESC LIMIT 1").fetchone()[0])
        assert set(before[str(ids[0])]) == {"status", "assignee", "queue", "priority", "snoozed_until",
                                             "no_response_needed", "resolved_at", "sla_paused_at",
                                             "sla_paused_seconds", "intent", "intent_source", "tags"}


def test_triage_and_search_from_the_command_line(demo_store: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO, env_without_textual_noise

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**env_without_textual_noise(), "DESKTERM_AGENT": "Jana"}
        return subprocess.run([sys.executable, "-m", "deskterm", "--store", str(demo_store), *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=60)

    with Store.open(demo_store, create=False) as store:
        otto = {r[0] for r in store.conn.execute("SELECT id FROM tickets WHERE channel = 'otto' AND status = 'open'")}
    done = run("triage", "snooze", "2h", "--query", "channel:otto status:open")
    assert done.returncode == 0 and f"{len(otto)} tickets" in done.stdout, done.stderr
    found = run("search", "status:snoozed", "--json", "--limit", "500")
    assert {json.loads(line)["id"] for line in found.stdout.splitlines()} == otto
    assert "Rückgängig" in run("triage", "undo").stdout
    with Store.open(demo_store, create=False) as store:
        assert _statuses(demo_store, sorted(otto)) == {"open"}
        assert store.conn.execute("SELECT agent FROM triage_actions").fetchone()[0] == "Jana"
    bad = run("search", "due:morgen")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "due:<4h" in bad.stderr
    bad = run("triage", "tag", "x" * 50, "--ids", "1")
    assert bad.returncode == 2 and "Schlagwort" in bad.stderr


async def test_saved_and_built_in_views_switch_by_key(demo_store: Path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    config = Config(views={"kaufland": {"query": "channel:kaufland -status:resolved", "key": "9"}})
    app = build_app(store=Store.open(demo_store, create=False), profile="test", config=config, where=isolated_home,
                    clock=lambda: FROZEN_NOW, poll_seconds=0.1)
    with Store.open(demo_store, create=False) as store:
        kaufland = {r[0] for r in store.conn.execute(
            "SELECT id FROM tickets WHERE channel = 'kaufland' AND status <> 'resolved'")}
        overdue = {r[0] for r in store.conn.execute(
            "SELECT id FROM tickets WHERE sla_due_at < ? AND status <> 'snoozed'", (NOW,))}
    async with app.run_test(size=(160, 48)) as pilot:
        inbox = app.inbox
        assert inbox is not None
        ids = lambda: {inbox.ticket_list.rows.get(i).id for i in range(inbox.ticket_list.rows.total)}  # noqa: E731
        await pilot.press("9")
        await wait_for(pilot, lambda: ids() == kaufland)
        assert "kaufland" in inbox.query_one("#inbox-title").render().plain
        await pilot.press("7")
        await wait_for(pilot, lambda: ids() == overdue)
        assert overdue and "Überfällig" in inbox.query_one("#inbox-title").render().plain
