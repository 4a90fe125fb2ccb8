"""Reports: first response and resolution times against a brute-force recount, SLA hit
rates, agent attribution of replies, and the CLI's table and JSON."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from deskterm.domain.sla import due_at, policy_for
from deskterm.store import triage
from deskterm.store.db import Store
from deskterm.store.outbox import claim_due, mark_sent
from deskterm.store.replies import queue_reply
from deskterm.store.reports import build_report
from tests.conftest import FROZEN_NOW, REPO, env_without_textual_noise

NOW = int(FROZEN_NOW)


def _recount(path: Path, days: int) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """First response per channel and SLA (met, missed), from every message, in plain Python."""
    with Store.open(path, create=False) as store:
        conn = store.conn
        messages: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
        for ticket_id, sent_at, direction, message_id in conn.execute(
                "SELECT ticket_id, sent_at, direction, id FROM messages"):
            messages[ticket_id].append((sent_at, direction, message_id))
        unsent = {r[0] for r in conn.execute("SELECT message_row FROM outbox WHERE status <> 'sent' "
                                             "AND message_row IS NOT NULL")}
        tickets = conn.execute("SELECT t.id, t.channel, a.key, t.no_response_needed FROM tickets t "
                               "JOIN accounts a ON a.id = t.account_id").fetchall()
    response: dict[str, list[float]] = defaultdict(list)
    sla: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ticket_id, channel, key, no_response in tickets:
        ins = sorted(m[0] for m in messages[ticket_id] if m[1] == "in")
        if not ins or ins[0] < NOW - days * 86400:
            continue
        first_in = ins[0]
        replies = sorted(m[0] for m in messages[ticket_id] if m[1] == "out" and m[0] >= first_in and m[2] not in unsent)
        if replies:
            response[channel].append(replies[0] - first_in)
        policy = policy_for(channel, key)
        if policy is None or no_response:
            continue
        due = due_at(datetime.fromtimestamp(first_in, timezone.utc), policy).timestamp()
        if not replies and due > NOW:
            continue
        sla[channel][0 if replies and replies[0] <= due else 1] += 1
    return response, sla


def test_report_matches_a_recount_of_every_message(demo_store: Path) -> None:
    with Store.open(demo_store, create=False) as store:
        report = build_report(store.conn, now=NOW, days=30)
    response, sla = _recount(demo_store, 30)
    assert response, "the demo store should have answered tickets"
    for channel, values in response.items():
        got = report.first_response_by_channel[channel]
        ordered = sorted(values)
        assert got.count == len(values)
        assert got.median == statistics.median(values)
        assert got.p90 == ordered[math.ceil(0.9 * len(ordered)) - 1]
    for channel, (met, missed) in sla.items():
        rate = report.sla_by_channel[30][channel]
        assert (rate.met, rate.missed) == (met, missed)
    assert sum(report.volume_by_intent.values()) >= sum(len(v) for v in response.values())


def test_replies_count_for_the_agent_who_wrote_them_and_resolutions_are_timed(demo_store: Path) -> None:
    with Store.open(demo_store, create=False) as store:
        ticket = store.conn.execute("SELECT id, created_at FROM tickets WHERE awaiting_since IS NOT NULL "
                                    "AND channel = 'ebay' ORDER BY id LIMIT 1").fetchone()
        queue_reply(store, ticket[0], "Guten Tag, das Paket ist unterwegs.", now=NOW, agent="Jana")
        row = claim_due(store, NOW)
        assert row is not None
        mark_sent(store, row.id, now=NOW, server_reply="ok", refused={})
        with store.transaction() as conn:
            triage.assign(conn, [ticket[0]], "Jana", agent="jana", now=NOW)
            triage.set_status(conn, [ticket[0]], "resolved", agent="jana", now=NOW + 60)
        report = build_report(store.conn, now=NOW + 120, days=30)
    assert report.first_response_by_agent["Jana"].count == 1
    assert report.resolution_by_agent["Jana"].median == NOW + 60 - ticket[1]


def test_report_command_prints_a_table_and_json(demo_store: Path) -> None:
    table = subprocess.run([sys.executable, "-m", "deskterm", "--store", str(demo_store), "report", "--days", "90"],
                           cwd=REPO, env=env_without_textual_noise(), capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    assert "Erste Antwort je Kanal" in table.stdout and "Fristen eingehalten" in table.stdout
    raw = subprocess.run([sys.executable, "-m", "deskterm", "--store", str(demo_store), "report", "--json"],
                         cwd=REPO, env=env_without_textual_noise(), capture_output=True, text=True, timeout=60)
    data = json.loads(raw.stdout)
    assert set(data["sla_by_channel"]) == {"7", "30", "90"} and len(data["volume_by_hour"]) == 24
