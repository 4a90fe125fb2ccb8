"""Marketplace relay mail in German and English: right channel, right order, the buyer's own text."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from deskterm.model import Batch, Channel, CustomerRecord, Direction, IdentityRef, MessageRecord, OrderRecord, TicketRecord
from deskterm.sources.mail.parse import parse_message
from deskterm.sources.mail.relay import understand_relay
from deskterm.sources.mail.threading import thread_groups
from deskterm.sources.mail.relay import relay_keys
from deskterm.store.db import Store
from deskterm.store.sync_writes import apply_batch, ensure_account
from tests.conftest import ANCHOR

ALIAS = "q7k2m9x4w1e5r8t@marketplace.amazon.de"

AMAZON_EN = f"""From: "Sabine Hoffmann - Amazon Marketplace" <{ALIAS}>
To: service@lindenhof.example
Subject: Order delivery inquiry from Amazon customer Sabine Hoffmann (Order: 302-4796134-7773947)
Message-ID: <0100018c2a1b-relay-1@eu-west-1.amazonses.com>
Date: Thu, 03 Dec 2026 10:00:00 +0000
X-Marketplace-ID: A1PA6795UKMFR9

Order ID 302-4796134-7773947:
1 of Edelstahl Trinkflasche 750 ml [ASIN: B0CXYZ1234]

------------- Begin message -------------

Hello, my parcel has not arrived yet. Can you check the tracking?

------------- End message -------------

For Your Information: To help arbitrate disputes ... no-response-needed.html?msg=1&d=2&mp=A1PA6795UKMFR9
[commMgrTok:AF9E104T7W2Q2]
""".encode()

AMAZON_DE = f"""From: "Sabine Hoffmann - Amazon Marketplace" <{ALIAS}>
To: service@lindenhof.example
Subject: Frage von Amazon-Kunde Sabine Hoffmann (Bestellung: 302-4796134-7773947)
Message-ID: <0100018c2a1b-relay-2@eu-west-1.amazonses.com>
Date: Fri, 04 Dec 2026 09:00:00 +0000
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

# 302-4796134-7773947:
1 von Edelstahl Trinkflasche 750 ml [ASIN: B0CXYZ1234]

------------- Nachricht: -------------

Guten Tag, das Paket ist immer noch nicht da. Bitte um Rückmeldung.
Grüße, Sabine

------------- Ende der Nachricht -------------
[commMgrTok:BX81KQ2ZZ3]
""".encode()

EBAY_DE = """From: "anna_mue84" <anna_mue84@members.ebay.de>
To: shop@lindenhof.example
Subject: Frage zu Artikel: Gusseisen Pfanne 28 cm #254711223344
Message-ID: <ebay-relay-1@ebay.de>
Date: Thu, 03 Dec 2026 12:00:00 +0000
Content-Type: text/plain; charset=utf-8

Neue Nachricht von: anna_mue84
Artikelnummer: 254711223344, Bestellung 21-48058-74832
Ist die Pfanne auch für Induktion geeignet?
""".encode()

EBAY_EN = """From: buyer_uk <buyer_uk@members.ebay.de>
To: shop@lindenhof.example
Subject: Question about item #254711223344
Message-ID: <ebay-relay-2@ebay.de>
Date: Thu, 03 Dec 2026 13:00:00 +0000

New message from: buyer_uk
Item number: 254711223344 (order 21-48058-74832)
Does it work on induction?
""".encode()


@pytest.mark.parametrize("raw", [AMAZON_EN, AMAZON_DE], ids=["amazon-en", "amazon-de"])
def test_amazon_relay_mail_is_understood(raw: bytes) -> None:
    info = understand_relay(parse_message(raw))
    assert info is not None and info.channel == Channel.AMAZON
    assert info.alias == ALIAS and info.order_number == "302-4796134-7773947" and info.asin == "B0CXYZ1234"
    assert info.buyer_name == "Sabine Hoffmann" and info.token
    assert "Begin message" not in info.buyer_text and "commMgrTok" not in info.buyer_text
    assert info.buyer_text.startswith(("Hello, my parcel", "Guten Tag, das Paket"))


@pytest.mark.parametrize("raw", [EBAY_DE, EBAY_EN], ids=["ebay-de", "ebay-en"])
def test_ebay_relay_mail_is_understood(raw: bytes) -> None:
    info = understand_relay(parse_message(raw))
    assert info is not None and info.channel == Channel.EBAY
    assert info.item_number == "254711223344" and info.order_number == "21-48058-74832"
    assert info.alias.endswith("@members.ebay.de")


def test_ordinary_mail_is_not_a_relay() -> None:
    assert understand_relay(parse_message(b"From: Erika <erika@gmx.de>\nSubject: Hallo\n\nText")) is None


def test_relay_mails_thread_by_alias_and_order_even_with_rewritten_message_ids() -> None:
    mails = [parse_message(AMAZON_EN), parse_message(AMAZON_DE)]  # no References between them
    assert len(thread_groups(mails, extra_keys=relay_keys)) == 1
    assert len(thread_groups(mails)) == 2


@pytest.mark.parametrize("raw", [AMAZON_EN, AMAZON_DE, EBAY_DE, EBAY_EN], ids=["amz-en", "amz-de", "ebay-de", "ebay-en"])
def test_relay_mail_lands_on_the_right_channel_and_order(raw: bytes, tmp_path: Path) -> None:
    mail = parse_message(raw)
    info = understand_relay(mail)
    assert info is not None
    buyer = IdentityRef("amazon_relay" if info.channel == Channel.AMAZON else "ebay_relay", info.alias)
    order = OrderRecord(info.order_number or "", info.order_number or "", buyer, "shipped",
                        ANCHOR - timedelta(days=3), 4990)
    ticket = TicketRecord(mail.message_id, info.channel, buyer, mail.subject, mail.date or ANCHOR,
                          order_ref=info.order_number)
    message = MessageRecord(mail.message_id, mail.message_id, Direction.IN, info.buyer_name, info.alias,
                            mail.date or ANCHOR, mail.subject, info.buyer_text)
    with Store.open(tmp_path / "s.sqlite3") as store:
        account = ensure_account(store, "mail", "email", "Postfach", now=0)
        apply_batch(store, account, "INBOX", Batch(cursor="1", customers=[CustomerRecord(buyer, info.buyer_name)],
                                                   orders=[order], tickets=[ticket], messages=[message]), now=0)
        channel, order_ref, order_id = store.conn.execute("SELECT channel, order_ref, order_id FROM tickets").fetchone()
        assert channel == str(info.channel) and order_ref == info.order_number and order_id is not None
        kinds = [r[0] for r in store.conn.execute("SELECT kind FROM identities")]
        assert "email" not in kinds, "a relay alias is never filed as the buyer's own address"
