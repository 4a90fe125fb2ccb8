"""All marketplace sources at once against their sandboxes, while one fails for good."""

from __future__ import annotations

from pathlib import Path

from deskterm.sandbox.amazon import AmazonSandbox
from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sandbox.ebay import SELLER, EbaySandbox
from deskterm.sandbox.kaufland import KauflandSandbox
from deskterm.sandbox.otto import OttoSandbox
from deskterm.sandbox.zalando import MERCHANT_ID, ZalandoSandbox
from deskterm.sources.engine import SyncEngine
from deskterm.sources.registry import sources_for_store
from deskterm.store.db import Store
from deskterm.store.status import source_statuses
from deskterm.store.sync_writes import ensure_account
from tests.conftest import ANCHOR


def test_one_failing_marketplace_does_not_stop_the_others(tmp_path: Path) -> None:
    world = DemoWorld(anchor=ANCHOR, tickets=150)
    with KauflandSandbox(world) as kaufland, EbaySandbox(world) as ebay, KauflandSandbox(world) as broken, \
            AmazonSandbox(world) as amazon, ZalandoSandbox(world) as zalando, OttoSandbox(world) as otto:
        broken.faults.fail_always = 500
        path = tmp_path / "s.sqlite3"
        with Store.open(path) as store:
            for key, channel, settings in [
                ("kaufland-de", "kaufland", {"source": "kaufland", "base_url": kaufland.base_url,
                                             "client_key": kaufland.client_key, "secret_key": kaufland.secret_key}),
                ("kaufland-at", "kaufland", {"source": "kaufland", "base_url": broken.base_url,
                                             "client_key": broken.client_key, "secret_key": broken.secret_key}),
                ("ebay-de", "ebay", {"source": "ebay", "base_url": ebay.base_url, "client_id": ebay.client_id,
                                     "client_secret": ebay.client_secret, "refresh_token": ebay.refresh_token,
                                     "seller": SELLER}),
                ("amazon-de", "amazon", {"source": "amazon", "base_url": amazon.base_url,
                                         "token_url": amazon.base_url + "/auth/o2/token", "client_id": amazon.client_id,
                                         "client_secret": amazon.client_secret,
                                         "refresh_token": amazon.refresh_token}),
                ("zalando-de", "zalando", {"source": "zalando", "base_url": zalando.base_url,
                                           "merchant_id": MERCHANT_ID, "client_id": zalando.client_id,
                                           "client_secret": zalando.client_secret}),
                ("otto-de", "otto", {"source": "otto", "base_url": otto.base_url, "client_id": otto.client_id,
                                     "client_secret": otto.client_secret}),
            ]:
                ensure_account(store, key, channel, key, settings=settings, now=0)
            sources = sources_for_store(store)
        for source in sources:  # no waiting between the broken server's retries in a test
            source.api.sleep = lambda seconds: None  # type: ignore[attr-defined]
        runs = {run.account_key: run for run in SyncEngine(path, sources, clock=lambda: 1000.0).run_once()}
        assert runs["kaufland-de"].error is None and runs["kaufland-de"].messages > 0
        assert runs["ebay-de"].error is None and runs["ebay-de"].messages > 0
        assert all(runs[k].error is None for k in ("amazon-de", "zalando-de", "otto-de"))
        assert runs["kaufland-at"].error == "Kaufland: server error 500 after 5 tries; the next sync retries"
        with Store.open(path, create=False) as store:
            statuses = {s.account_key: s for s in source_statuses(store.conn)}
            per_account = dict(store.conn.execute(
                "SELECT a.key, count(t.id) FROM accounts a LEFT JOIN tickets t ON t.account_id = a.id GROUP BY a.key"))
        assert statuses["kaufland-at"].state == "error" and "server error 500" in (statuses["kaufland-at"].last_error
                                                                                 or "")
        assert statuses["kaufland-de"].state == "idle" and statuses["ebay-de"].state == "idle"
        assert per_account["kaufland-at"] == 0 and per_account["kaufland-de"] == len(kaufland.tickets)
        orders = store_orders(path)
        assert orders["zalando"] > 0 and orders["otto"] > 0 and orders["amazon"] > 0


def store_orders(path: Path) -> dict[str, int]:
    with Store.open(path, create=False) as store:
        return {prefix: store.conn.execute("SELECT count(*) FROM orders WHERE external_id LIKE ?",
                                           (prefix + ":%",)).fetchone()[0] for prefix in ("zalando", "otto", "amazon")}


def test_the_demo_syncs_marketplaces_through_the_real_clients_and_buyers_keep_writing(tmp_path: Path) -> None:
    import random

    from deskterm.sandbox import runtime
    from deskterm.sources.registry import register_demo_accounts

    path = tmp_path / "demo.sqlite3"
    runtime.stop_all()  # emulators an earlier test's demo left running in this process
    try:
        with Store.open(path) as store:
            register_demo_accounts(store, anchor=ANCHOR, tickets=120, marketplaces=True)
            sources = sources_for_store(store)
        kinds = {type(s).__name__ for s in sources}
        assert {"KauflandSource", "EbaySource", "AmazonSource", "ZalandoSource", "OttoSource", "DemoSource"} <= kinds
        runs = SyncEngine(path, sources).run_once()
        assert all(run.error is None for run in runs), [run.error for run in runs]
        with Store.open(path, create=False) as store:
            conn = store.conn
            api_tickets = conn.execute("SELECT count(*) FROM tickets WHERE external_id LIKE 'kaufland:001%' "
                                       "OR external_id LIKE 'ebay:C-%'").fetchone()[0]
            orders, numbers = conn.execute("SELECT count(*), count(DISTINCT number) FROM orders").fetchone()
            unlinked = conn.execute("SELECT count(*) FROM tickets WHERE order_ref <> '' AND order_id IS NULL"
                                    ).fetchone()[0]
            before = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert api_tickets > 0 and orders == numbers and unlinked == 0  # each order once, every ticket linked
        where = runtime.feed_once(random.Random(1))
        assert where is not None
        runs = SyncEngine(path, sources).run_once()
        with Store.open(path, create=False) as store:
            after = store.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            unread = store.conn.execute("SELECT unread FROM tickets WHERE external_id = ?", (where,)).fetchone()[0]
        assert after == before + 1 and unread == 1
    finally:
        runtime.stop_all()


def test_accounts_add_tests_the_keys_and_keeps_them_in_the_keyring(tmp_path: Path, monkeypatch, isolated_home) -> None:  # type: ignore[no-untyped-def]
    import io
    import json

    import keyring

    from deskterm.cli import main

    with KauflandSandbox(DemoWorld(anchor=ANCHOR, tickets=60)) as sandbox:
        monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n" + sandbox.secret_key + "\n"))
        assert main(["accounts", "add", "kaufland", "--key", "kl", "--base-url", sandbox.base_url,
                     "--secrets-stdin", "--profile", "shop"]) == 2  # refused: nothing saved
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{sandbox.client_key}\n{sandbox.secret_key}\n"))
        assert main(["accounts", "add", "kaufland", "--key", "kl", "--base-url", sandbox.base_url,
                     "--secrets-stdin", "--profile", "shop"]) == 0
        path = isolated_home.store_path("shop")
        with Store.open(path, create=False) as store:
            (raw,) = store.conn.execute("SELECT settings FROM accounts WHERE key = 'kl'").fetchone()
        settings = json.loads(raw)
        assert settings["client_key"] == "keyring:deskterm/kl:client_key"
        assert sandbox.secret_key not in raw and sandbox.client_key not in raw  # only references in the store
        assert keyring.get_password("deskterm", "kl:secret_key") == sandbox.secret_key
        assert main(["sync", "--profile", "shop"]) == 0
        with Store.open(path, create=False) as store:
            assert store.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == len(sandbox.tickets)
