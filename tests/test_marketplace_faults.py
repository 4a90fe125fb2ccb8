"""The same faults for every marketplace client: 5xx retried then reported in one line,
malformed JSON refused with nothing written, 429 waited out, a token that dies mid-sync
replaced (token-based APIs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from deskterm.sandbox import runtime
from deskterm.sandbox.server import SandboxServer
from deskterm.sources.engine import SyncEngine
from deskterm.sources.registry import marketplace_source
from deskterm.store.db import Store
from tests.conftest import ANCHOR

KINDS = ("kaufland", "ebay", "amazon", "zalando", "otto")
WORLD = {"anchor": ANCHOR.isoformat(), "tickets": 300, "seed": 2026}


@pytest.fixture
def servers() -> Iterator[Callable[[str], SandboxServer]]:
    runtime.stop_all()
    yield lambda kind: runtime.sandbox_for(kind, WORLD)
    runtime.stop_all()


def _source(kind: str, sleeps: list[float]) -> Any:
    source = marketplace_source(f"{kind}-test", kind, {"source": kind, "sandbox": True, "history_days": 90,
                                                       **WORLD})
    source.api.sleep = sleeps.append
    return source


def _stored(path: Path) -> int:
    with Store.open(path, create=False) as store:
        return int(store.conn.execute("SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM orders)"
                                      ).fetchone()[0])


@pytest.mark.parametrize("kind", KINDS)
def test_server_errors_are_retried_with_backoff_then_reported(kind: str, servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = servers(kind)
    sleeps: list[float] = []
    source = _source(kind, sleeps)
    source.api.auth.refresh(None)  # logged in (token APIs); then the API fails
    server.faults.server_errors = 2
    [run] = SyncEngine(tmp_path / "a.sqlite3", [source]).run_once()
    assert run.error is None and len(sleeps) == 2 and sleeps[1] > sleeps[0]
    failing = _source(kind, [])
    failing.api.auth.refresh(None)
    server.faults.server_errors = 1000
    [run] = SyncEngine(tmp_path / "b.sqlite3", [failing]).run_once()
    server.faults.server_errors = 0
    assert run.error is not None and "after 5 tries" in run.error and "\n" not in run.error


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_json_writes_nothing(kind: str, servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = servers(kind)
    source = _source(kind, [])
    source.api.auth.refresh(None)
    server.faults.malformed = 1
    path = tmp_path / "s.sqlite3"
    [run] = SyncEngine(path, [source]).run_once()
    assert run.error is not None and "not valid JSON; nothing was saved" in run.error
    assert _stored(path) == 0
    [run] = SyncEngine(path, [source]).run_once()  # the same cursor, now it works
    assert run.error is None and _stored(path) > 0


@pytest.mark.parametrize("kind", KINDS)
def test_429_is_waited_out(kind: str, servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = servers(kind)
    sleeps: list[float] = []
    source = _source(kind, sleeps)
    source.api.auth.refresh(None)
    server.faults.rate_limited, server.faults.retry_after = 2, 2
    [run] = SyncEngine(tmp_path / "s.sqlite3", [source]).run_once()
    assert run.error is None and len(sleeps) == 2
    if kind != "amazon":  # SP-API sends no Retry-After (it documents token buckets): backoff instead
        assert sleeps == [2.0, 2.0]


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "kaufland"])  # Kaufland signs; nothing expires
def test_a_token_that_dies_mid_sync_is_replaced(kind: str, servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = servers(kind)
    source = _source(kind, [])
    source.api.auth.refresh(None)
    server.faults.expire_tokens = True
    [run] = SyncEngine(tmp_path / "s.sqlite3", [source]).run_once()
    assert run.error is None and _stored(tmp_path / "s.sqlite3") > 0
    token_paths = {"ebay": "/identity/v1/oauth2/token", "amazon": "/auth/o2/token", "zalando": "/auth/token",
                   "otto": "/v1/token"}
    assert len(server.requests_to("POST", token_paths[kind])) == 2


def test_a_slow_server_times_out_retries_and_reports(servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = servers("kaufland")
    sleeps: list[float] = []
    source = _source("kaufland", sleeps)
    source.api.timeout = 0.3
    server.faults.slow_seconds = 1.0
    [run] = SyncEngine(tmp_path / "s.sqlite3", [source]).run_once()
    server.faults.slow_seconds = 0.0
    assert run.error == "Kaufland: no answer within 0.3 s (GET /v2/tickets/messages)" and len(sleeps) == 4
