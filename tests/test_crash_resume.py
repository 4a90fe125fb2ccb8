"""A sync killed between any two writes, then run again, gives exactly the uninterrupted store."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from deskterm.sources.registry import register_demo_accounts
from deskterm.store.db import Store
from tests.conftest import ANCHOR, REPO

CONTENT_TABLES = ("accounts", "customers", "identities", "orders", "order_items", "shipments", "tickets",
                  "messages", "attachments", "sync_state", "source_status")


def _harness(store: Path, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.helpers.crash_sync", str(store), str(kill_at)],
                          capture_output=True, text=True, timeout=120, cwd=REPO)


def _dump(path: Path) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
        dump = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in CONTENT_TABLES}
        dump["fts"] = conn.execute(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'bestellung OR paket OR hallo' ORDER BY rowid"
        ).fetchall()
        return dump
    finally:
        conn.close()


@pytest.fixture(scope="module")
def fresh_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = tmp_path_factory.mktemp("crash") / "template.sqlite3"
    with Store.open(template) as store:
        register_demo_accounts(store, anchor=ANCHOR, tickets=60, batch_tickets=4)
    return template


@pytest.fixture(scope="module")
def reference(fresh_profile: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:  # type: ignore[type-arg]
    path = tmp_path_factory.mktemp("ref") / "ref.sqlite3"
    shutil.copy(fresh_profile, path)
    result = _harness(path, 0)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert not plan["errors"]
    assert len(plan["commits"]) > 20, "the sync should take many transactions"
    return plan, _dump(path)


def _kill_points(plan: dict) -> list[int]:  # type: ignore[type-arg]
    commits = plan["commits"]
    points = {1, 2, 3, plan["writes"] // 3, plan["writes"] // 2, plan["writes"] - 1, plan["writes"]}
    for commit in commits[1:len(commits):max(1, len(commits) // 6)]:
        points |= {commit - 1, commit, commit + 1}  # mid-batch, right before COMMIT, right after it
    return sorted(p for p in points if 1 <= p <= plan["writes"])


def test_killed_sync_resumes_to_the_uninterrupted_result(fresh_profile: Path, reference, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan, expected = reference
    points = _kill_points(plan)
    assert len(points) >= 12
    for kill_at in points:
        store = tmp_path / f"k{kill_at}.sqlite3"
        shutil.copy(fresh_profile, store)
        crashed = _harness(store, kill_at)
        assert crashed.returncode == -signal.SIGKILL, f"write {kill_at}: {crashed.stdout} {crashed.stderr}"
        resumed = _harness(store, 0)
        assert resumed.returncode == 0, resumed.stderr
        assert _dump(store) == expected, f"store differs after a kill before write {kill_at}"


def test_second_sync_writes_nothing(reference, tmp_path: Path, fresh_profile: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "twice.sqlite3"
    shutil.copy(fresh_profile, store)
    assert _harness(store, 0).returncode == 0
    again = json.loads(_harness(store, 0).stdout)
    # Only the per-source status rows are touched (syncing -> idle), never content.
    content_writes = again["writes"] - 2 * 8 * 2  # 8 sources x 2 status updates x (INSERT/UPDATE + COMMIT)
    assert content_writes == 0, again
