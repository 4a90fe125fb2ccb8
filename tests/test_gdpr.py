"""Erasure that is provable: canary scan of every file, no re-import, legal hold, audit chain."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from deskterm.model import (
    AttachmentRecord,
    Batch,
    Channel,
    CustomerRecord,
    Direction,
    IdentityRef,
    MessageRecord,
    OrderItemRecord,
    OrderRecord,
    TicketRecord,
)
from deskterm.store.audit import append_audit, verify_audit
from deskterm.store.db import Store
from deskterm.store.gdpr import erase_person, plan_erasure, scrub_files
from deskterm.store.gdpr_export import DATA_SCHEMA, export_person
from deskterm.store.order_context import customer_orders, order_detail
from deskterm.store.sync_writes import apply_batch, ensure_account
from tests.conftest import ANCHOR, synced_demo_store

CANARY = "ZqxCanary7731"
NOW = int(ANCHOR.timestamp()) + 3600


def _found(conn, text: str) -> list[int]:  # type: ignore[no-untyped-def]
    """Tickets the inbox's search finds for `text` (the FTS index, as the app queries it)."""
    from deskterm.domain.query import parse_query
    from deskterm.store.query import run_query

    return run_query(conn, parse_query(text, now=0), now=0).ticket_ids


def _canary_batches() -> list[tuple[Channel, Batch]]:
    """One person on two channels, with the marker in every kind of field."""
    email = IdentityRef("email", f"erika.{CANARY.lower()}@example.test")
    relay = IdentityRef("amazon_relay", f"{CANARY.lower()}x1@marketplace.amazon.de")
    batches = []
    for channel, who, number in ((Channel.EMAIL, email, "LH-2026-77001"), (Channel.AMAZON, relay, "302-7700001-7700001")):
        payload = f"Anhang {CANARY} Inhalt".encode()
        attachment = AttachmentRecord(f"rechnung-{CANARY}.pdf", "application/pdf", len(payload),
                                      hashlib.sha256(payload).hexdigest(), payload)
        order = OrderRecord(number, number, who, "pending", ANCHOR - timedelta(days=2), 1999,
                            payment_status="authorized",  # not paid: nothing here is under a legal hold
                            ship_to={"name": f"Erika {CANARY}", "street": f"{CANARY}weg 5", "postcode": "50667",
                                     "city": "Köln"},
                            items=(OrderItemRecord(1, "SKU", "Trinkflasche", 1, 1999),))
        ticket = TicketRecord(f"{channel}-t", channel, who, f"Frage {CANARY}", ANCHOR, order_ref=number)
        messages = [MessageRecord(f"{channel}-m{n}", f"{channel}-t", Direction.IN, f"Erika {CANARY}", who.value,
                                  ANCHOR + timedelta(minutes=n), f"Frage {CANARY}",
                                  f"Hallo, hier ist {CANARY} mit Bestellung {number}. Nachricht {n}.",
                                  body_quoted=f"> alt {CANARY}", attachments=(attachment,) if n == 0 else ())
                    for n in range(3)]
        batches.append((channel, Batch(cursor="1", customers=[CustomerRecord(who, f"Erika {CANARY}")],
                                       orders=[order], tickets=[ticket], messages=messages)))
    return batches


def _load(store: Store, batches: list[tuple[Channel, Batch]], *, now: int) -> None:
    for channel, batch in batches:
        account = ensure_account(store, f"canary-{channel}", str(channel), "Canary", now=0)
        apply_batch(store, account, "s", batch, now=now)


SCANNER = r"""
import os, sys
marker = sys.argv[1].lower().encode()
hits = []
for root in sys.argv[2:]:
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            try:
                data = open(path, 'rb').read()
            except OSError:
                continue
            for form in (marker, marker.decode().encode('utf-16-le')):
                if form in data.lower():
                    hits.append(path)
print('\n'.join(sorted(set(hits))))
"""


def _scan(*folders: Path) -> list[str]:
    """Scan from a separate process, as an auditor would, case-insensitively (UTF-8 and UTF-16)."""
    result = subprocess.run([sys.executable, "-c", SCANNER, CANARY, *map(str, folders)], capture_output=True,
                            text=True, timeout=120, check=True)
    return [line for line in result.stdout.splitlines() if line]


def test_canary_is_gone_from_every_file_after_erasure(isolated_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from deskterm.logs import setup_logging

    setup_logging(isolated_home.log_file)
    path = isolated_home.store_path("shop")
    synced_demo_store(path, tickets=60)  # other customers' data around it
    with Store.open(path) as store:
        _load(store, _canary_batches(), now=NOW)
        assert _found(store.conn, CANARY.lower()), "the marker must be in the FTS index first"
        store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # part of it in the main file, part in the WAL
        customer = store.conn.execute("SELECT customer_id FROM identities WHERE value LIKE 'erika.%'").fetchone()[0]
        other = store.conn.execute("SELECT customer_id FROM identities WHERE value LIKE ?",
                                   (f"{CANARY.lower()}x1@%",)).fetchone()[0]
        with store.transaction() as conn:  # the agent merged the two (same person)
            from deskterm.domain.identity import Rule, decide
            from deskterm.store.customers import merge_customers

            merge_customers(conn, decide(customer, other, Rule.SAME_EMAIL, "x"), now=NOW, actor="jana")
        exports = tmp_path / "exports"
        with store.transaction() as conn:
            export_person(conn, customer, exports / "auskunft.zip", now=NOW, actor="admin")
        assert _scan(path.parent) and _scan(exports), "the marker must be on disk before the erasure"
        plan = plan_erasure(store.conn, customer)
        assert plan.data.exports == 1
        assert sorted(plan.data.tickets.items()) == [("amazon", 1), ("email", 1)] and plan.data.messages == 6
        assert plan.held_orders == []
        with store.transaction() as conn:
            erase_person(conn, plan, now=NOW, actor="admin")
        scrub = scrub_files(store.conn)
        assert scrub["wal_truncated"]
        assert _found(store.conn, CANARY.lower()) == []
        assert store.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 60
        assert verify_audit(store.conn).ok
        # Scanned while the store is still open, as it is while the app runs (closing would drop the WAL).
        hits = _scan(path.parent, isolated_home.log_file.parent, tmp_path)
        assert hits == [], f"the erased marker is still in: {hits}"
    assert _scan(path.parent, isolated_home.log_file.parent, tmp_path) == []


def test_resync_after_erasure_does_not_bring_the_conversations_back(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    batches = _canary_batches()
    with Store.open(path) as store:
        _load(store, batches, now=NOW)
        customers = [r[0] for r in store.conn.execute("SELECT id FROM customers")]
        for customer in customers:
            with store.transaction() as conn:
                erase_person(conn, plan_erasure(conn, customer), now=NOW, actor="admin")
        _load(store, batches, now=NOW + 60)  # every source sends everything again (cursor reset, UIDVALIDITY...)
        assert store.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
        assert store.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 0
        assert store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
        # New contact after the erasure is a new conversation, and it is accepted.
        channel, old = batches[0]
        who = old.customers[0].key
        later = ANCHOR + timedelta(days=30)
        new = Batch(cursor="2", customers=[CustomerRecord(who, "Erika")],
                    tickets=[TicketRecord("new-t", channel, who, "Neue Frage", later)],
                    messages=[MessageRecord("new-m", "new-t", Direction.IN, "Erika", who.value, later, "Neue Frage",
                                            "Ich habe eine neue Frage.")])
        apply_batch(store, ensure_account(store, f"canary-{channel}", str(channel), "Canary", now=0), "s", new,
                    now=int(later.timestamp()) + 60)
        assert [r[0] for r in store.conn.execute("SELECT subject FROM tickets")] == ["Neue Frage"]
        assert store.conn.execute("SELECT display_name FROM customers").fetchone()[0] == "Erika"


def test_resync_of_the_demo_after_erasure_brings_nothing_back(demo_store: Path) -> None:
    from deskterm.sources.engine import SyncEngine
    from deskterm.sources.registry import sources_for_store

    with Store.open(demo_store) as store:
        customer = store.conn.execute(
            "SELECT customer_id FROM tickets GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        with store.transaction() as conn:
            receipt = erase_person(conn, plan_erasure(conn, customer), now=NOW, actor="admin")
        tickets_after = store.conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
        with store.transaction() as conn:
            conn.execute("DELETE FROM sync_state")  # every source starts from scratch
        sources = sources_for_store(store)
    runs = SyncEngine(demo_store, sources, clock=lambda: NOW + 120).run_once()
    assert not [r.error for r in runs if r.error]
    with Store.open(demo_store) as store:
        assert store.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == tickets_after
    assert receipt["erased"]["tickets"] >= 1  # type: ignore[index]


def test_invoice_relevant_order_is_kept_restricted_and_hidden(tmp_path: Path) -> None:
    who = IdentityRef("kaufland_buyer", "KL1")
    paid = OrderRecord("MB7UWLD", "MB7UWLD", who, "delivered", ANCHOR - timedelta(days=40), 4990,
                       payment_status="paid", ship_to={"name": "Uwe Günther", "street": "Bergstraße 7",
                                                       "postcode": "01067", "city": "Dresden"},
                       buyer_phone="0171 2345678", items=(OrderItemRecord(1, "LH-PF-28", "Pfanne", 1, 4990),))
    unpaid = OrderRecord("MK2X9QA", "MK2X9QA", who, "pending", ANCHOR - timedelta(days=3), 1000,
                         payment_status="authorized")
    batch = Batch(cursor="1", customers=[CustomerRecord(who, "Uwe Günther")], orders=[paid, unpaid],
                  tickets=[TicketRecord("t", Channel.KAUFLAND, who, "Rechnung MB7UWLD", ANCHOR, order_ref="MB7UWLD")],
                  messages=[MessageRecord("m", "t", Direction.IN, "Uwe", "KL1", ANCHOR, "", "Rechnung bitte")])
    with Store.open(tmp_path / "s.sqlite3") as store:
        account = ensure_account(store, "kl", "kaufland", "Kaufland", now=0)
        apply_batch(store, account, "s", batch, now=NOW)
        customer = store.conn.execute("SELECT id FROM customers").fetchone()[0]
        with store.transaction() as conn:
            receipt = erase_person(conn, plan_erasure(conn, customer), now=NOW, actor="admin")
        kept = receipt["kept"]
        assert [k["order"] for k in kept] == ["MB7UWLD"] and "HGB §257" in kept[0]["reason"]  # type: ignore[index]
        assert kept[0]["delete_after"] > NOW + 8 * 365 * 86400  # type: ignore[index]
        row = store.conn.execute("SELECT id, customer_id, buyer_phone, restricted_reason, total_cents, ship_to "
                                 "FROM orders").fetchall()
        assert len(row) == 1 and row[0][1] is None and row[0][2] == "" and row[0][3] and row[0][4] == 4990
        assert json.loads(row[0][5])["street"] == "Bergstraße 7", "the invoice address is what the law keeps"
        assert order_detail(store.conn, row[0][0]) is None, "restricted orders are hidden from the panel"
        # A new buyer message naming the order does not link (and so cannot resurface) the restricted order.
        buyer = IdentityRef("email", "someone@else.test")
        apply_batch(store, account, "s", Batch(cursor="2", tickets=[TicketRecord("t2", Channel.KAUFLAND, buyer,
                    "MB7UWLD?", ANCHOR + timedelta(days=1), order_ref="MB7UWLD")]), now=NOW)
        assert store.conn.execute("SELECT order_id FROM tickets WHERE external_id = 't2'").fetchone()[0] is None
        new_customer = store.conn.execute("SELECT customer_id FROM tickets WHERE external_id = 't2'").fetchone()[0]
        assert customer_orders(store.conn, new_customer) == []


def test_changing_one_audit_entry_is_detected_and_named(isolated_home) -> None:  # type: ignore[no-untyped-def]
    path = isolated_home.store_path("shop")
    with Store.open(path) as store, store.transaction() as conn:
        for n in range(5):
            append_audit(conn, NOW + n, "jana", "order.address_revealed", f"order:{n}")
    with Store.open(path) as store:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            with store.transaction() as conn:
                conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    ok = subprocess.run([sys.executable, "-m", "deskterm", "audit", "verify", "--profile", "shop"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "5 entries" in ok.stdout
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_log_append_only_update")  # someone with the file removes the guard
    raw.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    raw.commit()
    raw.close()
    bad = subprocess.run([sys.executable, "-m", "deskterm", "audit", "verify", "--profile", "shop"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "entry 3 was changed" in bad.stderr


def test_export_zip_validates(tmp_path: Path) -> None:
    import email
    import email.policy
    import zipfile

    import jsonschema

    path = tmp_path / "s.sqlite3"
    with Store.open(path) as store:
        _load(store, _canary_batches(), now=NOW)
        customer = store.conn.execute("SELECT customer_id FROM identities WHERE kind = 'email'").fetchone()[0]
        with store.transaction() as conn:
            result = export_person(conn, customer, tmp_path / "out" / "export.zip", now=NOW, actor="admin")
        assert oct(result.path.stat().st_mode)[-3:] == "600"
        assert store.conn.execute("SELECT action FROM audit_log").fetchall()[-1] == ("gdpr.export",)
    with zipfile.ZipFile(result.path) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        listed = {entry["path"] for entry in manifest["files"]}
        assert listed == names - {"manifest.json"}
        for entry in manifest["files"]:
            content = archive.read(entry["path"])
            assert hashlib.sha256(content).hexdigest() == entry["sha256"] and len(content) == entry["bytes"]
        data = json.loads(archive.read("data.json"))
        schema = json.loads(archive.read("schema/data.schema.json"))
        assert schema == DATA_SCHEMA
        jsonschema.validate(data, schema, format_checker=jsonschema.FormatChecker())
        assert len(data["messages"]) == 3 and len(data["orders"]) == 1
        emls = [n for n in names if n.endswith(".eml")]
        assert len(emls) == 3
        for name in emls:
            parsed = email.message_from_bytes(archive.read(name), policy=email.policy.default)
            assert not parsed.defects and CANARY in parsed.get_content() and parsed["Message-ID"]
        attachments = [n for n in names if n.startswith("attachments/")]
        assert len(attachments) == 1 and archive.read(attachments[0]) == f"Anhang {CANARY} Inhalt".encode()
        letter = archive.read("Anschreiben.txt").decode()
        for words in ("Art. 15", "Art. 20", "Zwecke", "Empfänger", "Speicherdauer", "Rechte", "Purposes",
                      "Recipients", "Retention", "rights"):
            assert words in letter
        assert "messages.csv" in " ".join(names) and archive.read("csv/messages.csv").count(b"\n") >= 4


def test_commercial_letters_are_kept_out_of_search_when_the_seller_enables_the_class(tmp_path: Path) -> None:
    from deskterm.domain.retention import RetentionPolicy
    from deskterm.store.gdpr_register import plan_retention, run_retention

    with Store.open(tmp_path / "s.sqlite3") as store:
        _load(store, _canary_batches(), now=NOW)
        customer = store.conn.execute("SELECT customer_id FROM identities WHERE kind = 'email'").fetchone()[0]
        policy = RetentionPolicy(letter_years=6)
        plan = plan_erasure(store.conn, customer, policy=policy)
        assert plan.held_letters == 3
        with store.transaction() as conn:
            receipt = erase_person(conn, plan, now=NOW, actor="admin")
        assert any("Handelsbrief" in str(k.get("reason")) for k in receipt["kept"])  # type: ignore[union-attr]
        assert store.conn.execute("SELECT count(*) FROM held_messages").fetchone()[0] == 3
        # Only the other (not erased) customer's Amazon ticket still matches; the held letters do not.
        found = _found(store.conn, CANARY.lower())
        assert [store.conn.execute("SELECT channel FROM tickets WHERE id = ?", (t,)).fetchone()[0] for t in found] == \
            ["amazon"]
        assert store.conn.execute("SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id "
                                  "WHERE t.channel = 'email'").fetchone()[0] == 0
        expiry = store.conn.execute("SELECT max(delete_after) FROM held_messages").fetchone()[0]
        assert expiry >= NOW + 6 * 365 * 86400
        with store.transaction() as conn:
            run_retention(conn, plan_retention(conn, expiry, policy), now=expiry, actor="admin")
        assert store.conn.execute("SELECT count(*) FROM held_messages").fetchone()[0] == 0


def test_mail_data_of_an_erased_customer_is_gone_too(isolated_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Mail adds places where a person's data sits: conversation keys (addresses, relay
    aliases), server locations, raw outbox bytes, drafts, tags. The erasure reaches them all."""
    import mailbox

    from deskterm.accounts import add_mail_account
    from deskterm.model import MailLocation
    from deskterm.sources.mail.records import mail_record
    from deskterm.sources.mail.settings import MailAccountSettings, ServerSettings
    from deskterm.store.replies import queue_reply, save_draft

    marker = CANARY.lower()
    path = isolated_home.store_path("mailshop")
    path.parent.mkdir(parents=True, exist_ok=True)
    mailbox.Maildir(str(tmp_path / "Mail"), create=True)
    settings = MailAccountSettings(None, ServerSettings("127.0.0.1", 9, "plain", "", "", allow_plaintext=True),
                                   ("service@shop.example.test",), maildir=str(tmp_path / "Mail"))
    raw = (f"From: Erika {CANARY} <{marker}@example.org>\r\nTo: service@shop.example.test\r\n"
           f"Subject: Frage von {CANARY}\r\nMessage-ID: <{marker}-1@example.org>\r\n"
           "Date: Fri, 04 Dec 2026 09:00:00 +0000\r\n\r\nMein Name ist " + CANARY + ".\r\n").encode()
    with Store.open(path) as store:
        account = add_mail_account(store, "mail", "Shop", settings, imap_password="", test_connection=False)
        record = mail_record(raw, own_addresses=("service@shop.example.test",), location=MailLocation("INBOX", 0, 1))
        apply_batch(store, account, None, Batch(cursor=None, mails=[record]), now=NOW)
        ticket = store.conn.execute("SELECT id FROM tickets").fetchone()[0]
        queue_reply(store, ticket, f"Guten Tag {CANARY}", now=NOW, set_status="pending", tags=("canary",))
        with store.transaction() as conn:
            save_draft(conn, ticket, "note", f"Notiz zu {CANARY}", now=NOW)
            conn.execute("INSERT INTO ticket_tags(ticket_id, tag) VALUES (?, ?)", (ticket, marker))
        assert store.conn.execute("SELECT count(*) FROM mail_keys WHERE key LIKE ?", (f"%{marker}%",)).fetchone()[0]
        assert _scan(path.parent), "the marker must be on disk before the erasure"
        customer = store.conn.execute("SELECT customer_id FROM tickets").fetchone()[0]
        with store.transaction() as conn:
            erase_person(conn, plan_erasure(store.conn, customer), now=NOW, actor="admin")
        scrub_files(store.conn)
        for table in ("mail_keys", "mail_locations", "outbox", "drafts", "ticket_tags", "messages", "tickets"):
            assert store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert _scan(path.parent) == []
        # The mail is still on the server: the next sync must not bring it back.
        apply_batch(store, account, None, Batch(cursor=None, mails=[record]), now=NOW + 60)
        assert store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
        scrub_files(store.conn)
        assert _scan(path.parent) == []
