"""One customer across channels: rules, merges, exact unmerge, relay aliases, order links."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from deskterm.domain.identity import Rule, canonical_identity, name_postcode_key, normalize_email, normalize_phone
from deskterm.domain.orders import find_order_references
from deskterm.model import (
    Batch,
    Channel,
    CustomerRecord,
    Direction,
    IdentityRef,
    MessageRecord,
    OrderRecord,
    TicketRecord,
)
from deskterm.store.customers import answer_link_suggestion, answer_suggestion, open_suggestions, unmerge
from deskterm.store.db import Store
from deskterm.store.sync_writes import apply_batch, ensure_account
from deskterm.widgets.order_panel import PanelData, panel_content
from deskterm.store.order_context import customer_summary
from deskterm.store.customers import merges_of
from tests.conftest import ANCHOR

NOW = int(ANCHOR.timestamp())


class World:
    """A store plus helpers to deliver records the way a source would."""

    def __init__(self, path: Path) -> None:
        self.store = Store.open(path)
        self.accounts: dict[str, int] = {}
        self.n = 0

    def account(self, channel: Channel) -> int:
        if channel not in self.accounts:
            self.accounts[channel] = ensure_account(self.store, str(channel), str(channel), channel.label, now=NOW)
        return self.accounts[channel]

    def deliver(self, channel: Channel, *, who: IdentityRef, name: str, text: str, subject: str = "",
                order_ref: str | None = None, orders: list[OrderRecord] | None = None) -> int:
        self.n += 1
        ticket = TicketRecord(f"t{self.n}", channel, who, subject or text[:30], ANCHOR + timedelta(minutes=self.n),
                              order_ref=order_ref)
        message = MessageRecord(f"m{self.n}", f"t{self.n}", Direction.IN, name, who.value,
                                ANCHOR + timedelta(minutes=self.n), subject, text)
        batch = Batch(cursor=str(self.n), customers=[CustomerRecord(who, name)], orders=orders or [],
                      tickets=[ticket], messages=[message])
        apply_batch(self.store, self.account(channel), "s", batch, now=NOW)
        return int(self.store.conn.execute("SELECT id FROM tickets WHERE external_id = ?", (f"t{self.n}",)).fetchone()[0])

    def customer_of(self, ticket_id: int) -> int:
        return int(self.store.conn.execute("SELECT customer_id FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0])

    def write(self, change) -> None:  # type: ignore[no-untyped-def]
        with self.store.transaction() as conn:
            change(conn)


def order(number: str, who: IdentityRef, *, name: str, postcode: str, city: str, email: str = "",
          phone: str = "", total: int = 4990) -> OrderRecord:
    return OrderRecord(number, number, who, "shipped", ANCHOR - timedelta(days=3), total,
                       ship_to={"name": name, "street": "Hauptstraße 1", "postcode": postcode, "city": city},
                       buyer_email=email, buyer_phone=phone)


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path / "s.sqlite3")
    yield w
    w.store.close()


def _dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
            for t in ("customers", "identities", "tickets", "orders")}


# -- pure rules --------------------------------------------------------------------------


def test_normalisers() -> None:
    assert normalize_email(" Anna.M@GMX.de ") == "anna.m@gmx.de"
    assert normalize_email("x1y2@marketplace.amazon.de") is None
    assert normalize_phone("0171 2345678") == normalize_phone("+49 (171) 234-5678") == "+491712345678"
    assert normalize_phone("12") is None
    assert name_postcode_key("Herr Dr. Max  Müller", " 80331") == name_postcode_key("max mueller", "80331")
    assert name_postcode_key("Max Müller", "") == ""
    assert canonical_identity("email", "Abc@Marketplace.Amazon.de") == ("amazon_relay", "abc@marketplace.amazon.de")
    assert canonical_identity("email", "buyer-77@members.ebay.de")[0] == "ebay_relay"


def test_order_references_in_text() -> None:
    text = ("Meine Bestellung 302-1234567-7654321 kam nicht, eBay-Kauf 12-34567-89012, Webshop lh-2026-10003, "
            "Zalando 10408693493198, Kaufland Bestellnr MB7UWLD, OTTO order: a1b2c3d4e5")
    numbers = [r.number for r in find_order_references(text)]
    assert numbers == ["302-1234567-7654321", "12-34567-89012", "LH-2026-10003", "10408693493198", "MB7UWLD",
                       "a1b2c3d4e5"]
    assert find_order_references("Tel. 0171 2345678, PLZ 80331, Bestellung bitte bald, Kundennummer 1234567") == []


# -- merges ------------------------------------------------------------------------------


def test_same_buyer_by_email_and_instagram_with_matching_order_is_merged_with_reason(world: World) -> None:
    email = IdentityRef("email", "erika.mustermann@gmx.de")
    webshop_order = order("LH-2026-10001", email, name="Erika Mustermann", postcode="50667", city="Köln",
                          email="erika.mustermann@gmx.de", phone="0171 2345678")
    mail_ticket = world.deliver(Channel.EMAIL, who=email, name="Erika Mustermann",
                                text="Wo bleibt LH-2026-10001?", order_ref="LH-2026-10001", orders=[webshop_order])
    ig_ticket = world.deliver(Channel.INSTAGRAM, who=IdentityRef("igsid", "1784000001"), name="erika_koeln",
                              text="hi, meine bestellung lh-2026-10001 ist noch nicht da 🙏")
    customer = world.customer_of(mail_ticket)
    assert world.customer_of(ig_ticket) == customer
    merges = merges_of(world.store.conn, customer)
    assert len(merges) == 1 and merges[0].rule == Rule.SAME_ORDER
    assert merges[0].reason == "gleiche Bestellung: LH-2026-10001"
    summary = customer_summary(world.store.conn, customer)
    assert summary is not None and {"email", "instagram"} <= set(summary.channels)
    shown = panel_content(PanelData(customer=summary, merges=merges)).plain
    assert "Zusammengeführt" in shown and "gleiche Bestellung: LH-2026-10001" in shown
    audit = world.store.conn.execute("SELECT actor, action FROM audit_log").fetchall()
    assert ("sync", "customer.merge") in audit


def test_same_email_on_an_order_merges_automatically(world: World) -> None:
    mail = world.deliver(Channel.EMAIL, who=IdentityRef("email", "paul@web.de"), name="Paul Weber", text="Frage")
    kaufland_order = order("MB7UWLD", IdentityRef("kaufland_buyer", "KL1"), name="Paul Weber", postcode="10115",
                           city="Berlin", email="Paul@Web.de")
    kl = world.deliver(Channel.KAUFLAND, who=IdentityRef("kaufland_buyer", "KL1"), name="Paul Weber",
                       text="Rechnung bitte", order_ref="MB7UWLD", orders=[kaufland_order])
    assert world.customer_of(mail) == world.customer_of(kl)
    assert merges_of(world.store.conn, world.customer_of(mail))[0].rule == Rule.SAME_EMAIL


def test_two_max_mueller_in_different_cities_are_neither_merged_nor_suggested(world: World) -> None:
    a = IdentityRef("amazon_relay", "aaa@marketplace.amazon.de")
    b = IdentityRef("ebay_user", "max_mue")
    ta = world.deliver(Channel.AMAZON, who=a, name="Max Müller", text="Paket?", order_ref="302-1111111-1111111",
                       orders=[order("302-1111111-1111111", a, name="Max Müller", postcode="80331", city="München")])
    tb = world.deliver(Channel.EBAY, who=b, name="Max Müller", text="Paket?", order_ref="12-11111-11111",
                       orders=[order("12-11111-11111", b, name="Max Müller", postcode="20095", city="Hamburg")])
    assert world.customer_of(ta) != world.customer_of(tb)
    assert open_suggestions(world.store.conn, world.customer_of(ta)) == []


def test_same_name_and_postcode_is_only_suggested_then_accepted_or_rejected(world: World) -> None:
    a = IdentityRef("amazon_relay", "aaa@marketplace.amazon.de")
    b = IdentityRef("ebay_user", "max_mue")
    ta = world.deliver(Channel.AMAZON, who=a, name="Max Müller", text="x", order_ref="302-1111111-1111111",
                       orders=[order("302-1111111-1111111", a, name="Max Müller", postcode="80331", city="München")])
    tb = world.deliver(Channel.EBAY, who=b, name="Max Müller", text="y", order_ref="12-11111-11111",
                       orders=[order("12-11111-11111", b, name="Herr Max Mueller", postcode="80331", city="München")])
    assert world.customer_of(ta) != world.customer_of(tb), "a weak rule never merges by itself"
    suggestions = open_suggestions(world.store.conn, world.customer_of(ta))
    assert len(suggestions) == 1 and suggestions[0].rule == Rule.NAME_POSTCODE
    world.write(lambda conn: answer_suggestion(conn, suggestions[0].id, accept=True, now=NOW, actor="jana"))
    assert world.customer_of(ta) == world.customer_of(tb)


def test_unmerge_restores_both_customers_and_their_tickets_exactly(world: World) -> None:
    a = IdentityRef("amazon_relay", "aaa@marketplace.amazon.de")
    b = IdentityRef("ebay_user", "max_mue")
    ta = world.deliver(Channel.AMAZON, who=a, name="Max Müller", text="x", order_ref="302-1111111-1111111",
                       orders=[order("302-1111111-1111111", a, name="Max Müller", postcode="80331", city="München")])
    world.deliver(Channel.EBAY, who=b, name="Max Müller", text="y", order_ref="12-11111-11111",
                  orders=[order("12-11111-11111", b, name="Max Müller", postcode="80331", city="München")])
    before = _dump(world.store.conn)
    suggestion = open_suggestions(world.store.conn, world.customer_of(ta))[0]
    world.write(lambda conn: answer_suggestion(conn, suggestion.id, accept=True, now=NOW, actor="jana"))
    # After the merge, the eBay buyer writes again: the new ticket joins the merged customer.
    late = world.deliver(Channel.EBAY, who=b, name="Max Müller", text="noch eine Frage")
    assert world.customer_of(late) == world.customer_of(ta)
    merge_id = merges_of(world.store.conn, world.customer_of(ta))[0].id
    world.write(lambda conn: unmerge(conn, merge_id, now=NOW, actor="jana"))
    after = _dump(world.store.conn)
    late_row = [r for r in after["tickets"] if r[0] == late]
    after["tickets"] = [r for r in after["tickets"] if r[0] != late]
    assert after == before, "unmerge must restore customers, identities, tickets and orders exactly"
    assert world.customer_of(late) != world.customer_of(ta), "what came through the eBay identity goes back too"
    assert late_row and world.store.conn.execute(
        "SELECT count(*) FROM merge_suggestions WHERE status = 'rejected'").fetchone()[0] == 1


def test_an_undone_automatic_merge_is_not_redone_by_the_next_sync(world: World) -> None:
    email = IdentityRef("email", "erika@gmx.de")
    world.deliver(Channel.EMAIL, who=email, name="Erika", text="x", order_ref="LH-2026-10001",
                  orders=[order("LH-2026-10001", email, name="Erika M", postcode="50667", city="Köln")])
    ig = world.deliver(Channel.INSTAGRAM, who=IdentityRef("igsid", "1"), name="erika", text="LH-2026-10001 ?")
    merge_id = merges_of(world.store.conn, world.customer_of(ig))[0].id
    world.write(lambda conn: unmerge(conn, merge_id, now=NOW, actor="jana"))
    world.deliver(Channel.INSTAGRAM, who=IdentityRef("igsid", "1"), name="erika", text="wieder LH-2026-10001")
    customers = {world.customer_of(t) for (t,) in world.store.conn.execute("SELECT id FROM tickets")}
    assert len(customers) == 2


def test_a_relay_alias_never_becomes_the_customers_contact_address(world: World) -> None:
    alias = "x7k2m9q4w1e5r8t@marketplace.amazon.de"
    # A source that (wrongly) labels the alias as e-mail, and an order whose buyer e-mail is the alias.
    ticket = world.deliver(Channel.AMAZON, who=IdentityRef("email", alias), name="Anna - Amazon Marketplace",
                           text="Paket?", order_ref="302-2222222-2222222",
                           orders=[order("302-2222222-2222222", IdentityRef("amazon_relay", alias), name="Anna B",
                                         postcode="10115", city="Berlin", email=alias)])
    customer = world.customer_of(ticket)
    kinds = dict(world.store.conn.execute("SELECT kind, value FROM identities WHERE customer_id = ?", (customer,)))
    assert kinds == {"amazon_relay": alias}
    assert world.store.conn.execute("SELECT buyer_email FROM orders").fetchone()[0] == ""


def test_ambiguous_order_references_become_suggestions_confirmed_with_one_key(world: World) -> None:
    who = IdentityRef("email", "kim@web.de")
    world.deliver(Channel.EMAIL, who=who, name="Kim", text="erste", order_ref="LH-2026-10001",
                  orders=[order("LH-2026-10001", who, name="Kim", postcode="1", city="x"),
                          order("LH-2026-10002", who, name="Kim", postcode="1", city="x")])
    ticket = world.deliver(Channel.EMAIL, who=who, name="Kim",
                           text="Es geht um LH-2026-10001 oder vielleicht LH-2026-10002?")
    conn = world.store.conn
    assert conn.execute("SELECT order_id FROM tickets WHERE id = ?", (ticket,)).fetchone()[0] is None
    suggestions = conn.execute("SELECT id, reference FROM order_link_suggestions WHERE ticket_id = ? ORDER BY id",
                               (ticket,)).fetchall()
    assert [r[1] for r in suggestions] == ["LH-2026-10001", "LH-2026-10002"]
    world.write(lambda c: answer_link_suggestion(c, suggestions[1][0], accept=True, now=NOW, actor="jana"))
    assert conn.execute("SELECT order_ref FROM tickets WHERE id = ?", (ticket,)).fetchone()[0] == "LH-2026-10002"
    assert conn.execute("SELECT count(*) FROM order_link_suggestions WHERE status = 'open'").fetchone()[0] == 0


def test_a_single_reference_in_a_message_links_by_itself(world: World) -> None:
    who = IdentityRef("amazon_relay", "q@marketplace.amazon.de")
    world.deliver(Channel.AMAZON, who=who, name="Q", text="x", order_ref="302-3333333-3333333",
                  orders=[order("302-3333333-3333333", who, name="Q", postcode="1", city="x")])
    ticket = world.deliver(Channel.AMAZON, who=who, name="Q", text="Zu Bestellung 302-3333333-3333333: kaputt")
    assert world.store.conn.execute("SELECT order_ref FROM tickets WHERE id = ?", (ticket,)).fetchone()[0] == \
        "302-3333333-3333333"
