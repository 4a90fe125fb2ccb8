"""Meta Graph (Messenger and Instagram) against the sandbox: paging, the reply windows,
HUMAN_AGENT, and a dead token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from deskterm.domain.reply_rules import load_rules
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.meta import IG_ACCOUNT_ID, PAGE_ID, MetaSandbox
from deskterm.sources.base import OutgoingReply, SourceError
from deskterm.sources.engine import SyncEngine
from deskterm.sources.meta import MetaSource
from deskterm.store.db import Store
from deskterm.store.replies import reply_problems
from tests.conftest import ANCHOR

WORLD = DemoWorld(anchor=ANCHOR, tickets=400)


@pytest.fixture
def sandbox() -> Iterator[MetaSandbox]:
    with MetaSandbox(WORLD) as server:
        yield server  # type: ignore[misc]


def _source(sandbox: MetaSandbox, platform: str = "messenger", *, human_agent: bool = False,
            now: float | None = None, token: str | None = None) -> MetaSource:
    return MetaSource(f"{platform}-test", platform, base_url=sandbox.base_url,
                      node_id=PAGE_ID if platform == "messenger" else IG_ACCOUNT_ID, platform=platform,
                      page_token=token or sandbox.page_token, human_agent=human_agent, page_size=5,
                      clock=(lambda: now) if now is not None else time.time)


def test_both_platforms_sync_with_paging_then_nothing_new_is_one_request(sandbox: MetaSandbox, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    for platform in ("messenger", "instagram"):
        threads = [t for t in sandbox.threads.values() if t.platform == platform]
        assert len(threads) > 10
        source = _source(sandbox, platform)
        [run] = SyncEngine(path, [source]).run_once()
        assert run.error is None and run.messages == sum(len(t.messages) for t in threads)
        lists = [r for r in sandbox.log if r.path.endswith("/conversations") and r.arg("platform") == platform]
        assert len(lists) >= 3 and any(r.arg("after") for r in lists)
        before = len(sandbox.log)
        [run] = SyncEngine(path, [source]).run_once()
        assert run.error is None and run.messages == 0 and len(sandbox.log) - before == 1
    thread = next(iter(sandbox.threads.values()))
    sandbox.add_user_message(thread.thread_id, "Hallo? Ist noch jemand da?")
    [run] = SyncEngine(path, [_source(sandbox, thread.platform)]).run_once()
    assert run.error is None and run.messages == 1
    with Store.open(path, create=False) as store:
        kinds = {r[0] for r in store.conn.execute("SELECT DISTINCT kind FROM identities")}
    assert {"psid", "igsid"} <= kinds


def _thread_and_last(sandbox: MetaSandbox) -> tuple[str, str, datetime]:
    thread = next(t for t in sandbox.threads.values() if t.platform == "messenger" and t.last_user_at())
    last = thread.last_user_at()
    assert last is not None
    return thread.thread_id, thread.user_id, last


def test_reply_windows_response_human_agent_and_refusal(sandbox: MetaSandbox) -> None:
    thread_id, user, last = _thread_and_last(sandbox)
    reply = lambda at: OutgoingReply(f"messenger:{thread_id}", "m@x", "Danke, wir kümmern uns.",  # noqa: E731
                                     customer_last_at=last, recipient_id=user)
    inside = last + timedelta(hours=2)
    sandbox.clock = inside.timestamp
    _source(sandbox, now=inside.timestamp()).send(reply(inside))
    assert sandbox.sent[-1]["messaging_type"] == "RESPONSE"
    late = last + timedelta(hours=25)
    sandbox.clock = late.timestamp
    before = len(sandbox.log)
    with pytest.raises(SourceError, match="outside Meta's reply window.*nothing was sent"):
        _source(sandbox, now=late.timestamp(), human_agent=False).send(reply(late))
    assert len(sandbox.log) == before  # refused locally: no request at all
    six_days = last + timedelta(days=6)
    sandbox.clock = six_days.timestamp
    _source(sandbox, now=six_days.timestamp(), human_agent=True).send(reply(six_days))
    assert sandbox.sent[-1]["messaging_type"] == "MESSAGE_TAG" and sandbox.sent[-1]["tag"] == "HUMAN_AGENT"
    eight_days = last + timedelta(days=8)
    with pytest.raises(SourceError, match="outside Meta's reply window"):
        _source(sandbox, now=eight_days.timestamp(), human_agent=True).send(reply(eight_days))


def test_the_sandbox_enforces_the_window_too(sandbox: MetaSandbox) -> None:
    """If a client got it wrong, Meta would refuse with code 10 / 2018278: so does the sandbox."""
    thread_id, user, last = _thread_and_last(sandbox)
    sandbox.clock = (last + timedelta(hours=30)).timestamp
    source = _source(sandbox)
    with pytest.raises(SourceError, match="outside Meta's reply window"):
        source.api.request("POST", f"/v25.0/{PAGE_ID}/messages", json_body={
            "recipient": {"id": user}, "message": {"text": "Hallo"}, "messaging_type": "RESPONSE"})
    sandbox.human_agent = False
    with pytest.raises(SourceError, match="outside Meta's reply window"):
        source.api.request("POST", f"/v25.0/{PAGE_ID}/messages", json_body={
            "recipient": {"id": user}, "message": {"text": "Hallo"}, "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT"})


def test_the_composer_rules_refuse_a_late_reply_before_anything_is_queued(demo_store: Path) -> None:
    rules = load_rules()
    with Store.open(demo_store, create=False) as store:
        ticket_id, last = store.conn.execute(
            "SELECT id, last_customer_message_at FROM tickets WHERE channel = 'messenger' "
            "AND last_customer_message_at IS NOT NULL ORDER BY id LIMIT 1").fetchone()
        late = reply_problems(store.conn, ticket_id, "Hallo", rules=rules, now=last + 25 * 3600)
        assert late and "Antwortfenster von 24 h" in late[0] and "nicht freigeschaltet" in late[0]
        with store.transaction() as conn:
            conn.execute("UPDATE accounts SET settings = json_set(settings, '$.human_agent', json('true')) "
                         "WHERE id = (SELECT account_id FROM tickets WHERE id = ?)", (ticket_id,))
        assert reply_problems(store.conn, ticket_id, "Hallo", rules=rules, now=last + 6 * 86400) == []
        assert reply_problems(store.conn, ticket_id, "Hallo", rules=rules, now=last + 8 * 86400)


def test_an_expired_token_is_named(sandbox: MetaSandbox, tmp_path: Path) -> None:
    [run] = SyncEngine(tmp_path / "s.sqlite3", [_source(sandbox, token="EAA-wrong")]).run_once()
    assert run.error == ("Messenger: page token expired or invalid (code 190); create a new one and store it in "
                         "the keyring")
    sandbox.faults.expire_tokens = True
    [run] = SyncEngine(tmp_path / "t.sqlite3", [_source(sandbox, "instagram")]).run_once()
    assert run.error is not None and run.error.startswith("Instagram: page token expired")


def test_the_webhook_verifies_refuses_bad_signatures_and_stores_a_delivery_once(tmp_path: Path) -> None:
    import hashlib
    import hmac
    import json

    import httpx

    from deskterm.sources.meta_webhook import WebhookServer

    path = tmp_path / "s.sqlite3"
    Store.open(path).close()
    synced: list[int] = []
    server = WebhookServer(path, "facebook", app_secret="app-secret", verify_token="verify-me",
                           on_new=lambda: synced.append(1), port=0).start()
    try:
        ok = httpx.get(server.url, params={"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                           "hub.challenge": "1158201444"})
        assert (ok.status_code, ok.text) == (200, "1158201444")
        assert httpx.get(server.url, params={"hub.mode": "subscribe", "hub.verify_token": "wrong",
                                             "hub.challenge": "1"}).status_code == 403
        body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [{
            "sender": {"id": "6100000000000007"}, "recipient": {"id": PAGE_ID}, "timestamp": 1,
            "message": {"mid": "m_webhook_1", "text": "Hallo!"}}]}]}).encode()
        good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
        assert httpx.post(server.url, content=body).status_code == 403  # unsigned
        assert httpx.post(server.url, content=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
                          ).status_code == 403
        assert httpx.post(server.url, content=body + b" ", headers={"X-Hub-Signature-256": good}).status_code == 403
        for _ in range(2):  # Meta delivers again when unsure: stored once, synced once
            answer = httpx.post(server.url, content=body, headers={"X-Hub-Signature-256": good})
            assert answer.status_code == 200
        deadline = time.monotonic() + 2
        while not synced and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.close()
    with Store.open(path, create=False) as store:
        rows = store.conn.execute("SELECT mid, account_key FROM webhook_events").fetchall()
    assert rows == [("m_webhook_1", "facebook")] and synced == [1]


def test_accounts_add_meta_keeps_the_page_token_in_the_keyring(sandbox: MetaSandbox, monkeypatch,
                                                               isolated_home) -> None:  # type: ignore[no-untyped-def]
    import io
    import json

    from deskterm.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(sandbox.page_token + "\n"))
    assert main(["accounts", "add", "meta", "--key", "insta", "--base-url", sandbox.base_url, "--platform",
                 "instagram", "--node-id", IG_ACCOUNT_ID, "--human-agent", "--secrets-stdin", "--profile", "shop"]) == 0
    with Store.open(isolated_home.store_path("shop"), create=False) as store:
        channel, raw = store.conn.execute("SELECT channel, settings FROM accounts WHERE key = 'insta'").fetchone()
    settings = json.loads(raw)
    assert channel == "instagram" and settings["human_agent"] is True
    assert settings["page_token"] == "keyring:deskterm/insta:page_token" and sandbox.page_token not in raw
    assert main(["sync", "--profile", "shop"]) == 0
