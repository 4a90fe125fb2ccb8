"""A deterministic, seeded demo world: one German seller, its buyers, orders and conversations.

Every conversation is generated from (seed, index) alone, so any slice of the world can be
produced without generating what comes before it: the demo syncs a few hundred tickets
through per-account sources, and the benchmark builds 100,000 tickets / 1,000,000 messages
from the same code. Ticket indices run in time order (index 0 is the oldest).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from deskterm.model import (
    Channel,
    CustomerRecord,
    Direction,
    IdentityRef,
    CancellationRecord,
    MessageRecord,
    OrderItemRecord,
    OrderRecord,
    RefundRecord,
    ReturnRecord,
    ShipmentEventRecord,
    ShipmentRecord,
    TicketRecord,
    TicketStatus,
)
from deskterm.sandbox import phrases as P

BERLIN = ZoneInfo("Europe/Berlin")  # for dates written into buyer texts; records stay UTC


@dataclass(frozen=True, slots=True)
class DemoAccount:
    key: str
    channel: Channel
    name: str
    weight: int


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("amazon-de", Channel.AMAZON, "Amazon.de (Relay-Mail)", 34),
    DemoAccount("ebay-de", Channel.EBAY, "eBay.de", 18),
    DemoAccount("kaufland-de", Channel.KAUFLAND, "Kaufland.de", 10),
    DemoAccount("otto-de", Channel.OTTO, "OTTO Market (Mail)", 8),
    DemoAccount("zalando-de", Channel.ZALANDO, "Zalando Partner", 6),
    DemoAccount("shop-mail", Channel.EMAIL, "Webshop service@", 14),
    DemoAccount("facebook", Channel.MESSENGER, "Facebook-Seite", 5),
    DemoAccount("instagram", Channel.INSTAGRAM, "Instagram", 5),
)
_ACCOUNT_WEIGHTS = [a.weight for a in DEMO_ACCOUNTS]
_INTENTS = list(P.INTENT_WEIGHTS)
_INTENT_WEIGHTS = list(P.INTENT_WEIGHTS.values())
_DM_CHANNELS = frozenset({Channel.MESSENGER, Channel.INSTAGRAM})
_MAIL_CHANNELS = frozenset({Channel.AMAZON, Channel.EMAIL, Channel.OTTO})


@dataclass(slots=True)
class DemoConversation:
    """Everything one ticket brings: its customer, its order (if any), its messages."""

    account: DemoAccount
    customer: CustomerRecord
    order: OrderRecord | None
    ticket: TicketRecord
    messages: list[MessageRecord] = field(default_factory=list)
    intent: str = ""  # the generator's intent (sandbox emulators map it to their vendor's topics)


@dataclass(frozen=True, slots=True)
class _Person:
    index: int
    first: str
    last: str
    female: bool
    postcode: str
    city: str
    street: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        handle = f"{_ascii(self.first)}.{_ascii(self.last)}{self.index % 97}".lower()
        return f"{handle}@{('gmx.de', 'web.de', 't-online.de', 'gmail.com')[self.index % 4]}"

    @property
    def phone(self) -> str:
        return f"0{151 + self.index % 27} {1000000 + self.index * 7919 % 8999999}"


class DemoWorld:
    """The generator. `tickets` conversations spread over `span_days` before `anchor`."""

    def __init__(
        self,
        *,
        anchor: datetime,
        seed: int = 2026,
        tickets: int = 600,
        customers: int | None = None,
        span_days: float = 21.0,
        mean_messages: float = 2.6,
    ) -> None:
        if anchor.tzinfo is None:
            raise ValueError("anchor must be timezone-aware")
        self.anchor = anchor.astimezone(timezone.utc)
        self.seed = seed
        self.ticket_count = tickets
        self.customer_count = customers or max(40, tickets // 2)
        self.span = timedelta(days=span_days)
        self.mean_messages = mean_messages

    # -- who and where -----------------------------------------------------------------

    def account_of(self, index: int) -> DemoAccount:
        """Cheap: which account ticket `index` belongs to."""
        return random.Random(self._key(index, 1)).choices(DEMO_ACCOUNTS, _ACCOUNT_WEIGHTS)[0]

    def indices_for(self, account_key: str) -> list[int]:
        return [i for i in range(self.ticket_count) if self.account_of(i).key == account_key]

    def person(self, index: int) -> _Person:
        rng = random.Random(self._key(index, 2) ^ 0x5EED)
        female = rng.random() < 0.55
        first = rng.choice(P.FIRST_NAMES_F if female else P.FIRST_NAMES_M)
        postcode, city = rng.choice(P.CITIES)
        street = f"{rng.choice(P.STREETS)} {rng.randint(1, 140)}"
        return _Person(index, first, rng.choice(P.LAST_NAMES), female, postcode, city, street)

    def _key(self, index: int, salt: int) -> int:
        return (self.seed * 1_000_003 + index) * 31 + salt

    # -- a whole conversation ----------------------------------------------------------

    def conversation(self, index: int) -> DemoConversation:
        account = self.account_of(index)
        rng = random.Random(self._key(index, 3))
        # Returning buyers: customers are drawn with a skew so some write several times.
        person = self.person(int(self.customer_count * rng.random() ** 1.6))
        customer = self._customer(account, person)
        intent = rng.choices(_INTENTS, _INTENT_WEIGHTS)[0]
        if account.channel in _DM_CHANNELS and intent in ("invoice", "gdpr"):
            intent = "product"
        created = self._created_at(index, rng)
        has_order = intent not in P.ORDERLESS_INTENTS and not (account.channel in _DM_CHANNELS and rng.random() < 0.3)
        order = self._order(account, person, customer.key, intent, created, index, rng) if has_order else None
        slots = self._slots(person, order, created, rng)
        bank = P.INTENTS[intent]
        subject = rng.choice(bank["subjects"]).format(**slots) if order else rng.choice(
            [s for s in bank["subjects"] if "{order}" not in s] or ["Frage"]).format(**slots)
        if account.channel in _DM_CHANNELS:
            subject = ""
        ticket_external = f"{account.key}:t{index}"
        messages = self._messages(account, person, customer.key, intent, order, slots, created, ticket_external,
                                  subject, rng)
        if not subject:
            subject = messages[0].body_text.split("\n", 1)[0][:70]
        last = messages[-1].direction
        status = TicketStatus.OPEN
        if last == Direction.OUT:
            status = TicketStatus.RESOLVED if rng.random() < 0.55 else TicketStatus.PENDING
        ticket = TicketRecord(
            external_id=ticket_external,
            channel=account.channel,
            customer=customer.key,
            subject=subject,
            created_at=created,
            # DMs carry no order metadata: they are linked by the number the buyer writes.
            order_ref=order.number if order and account.channel not in _DM_CHANNELS else None,
            status=status,
        )
        return DemoConversation(account, customer, order, ticket, messages, intent)

    def _created_at(self, index: int, rng: random.Random) -> datetime:
        # Denser towards now, strictly increasing with the index.
        position = (index + 0.5) / self.ticket_count
        back = self.span * (1.0 - position) ** 1.4
        return self.anchor - back - timedelta(minutes=45) - timedelta(seconds=rng.randint(0, 50))

    def _customer(self, account: DemoAccount, person: _Person) -> CustomerRecord:
        kind, value = {
            Channel.AMAZON: ("amazon_relay", f"{_token(person.index, 15)}@marketplace.amazon.de"),
            Channel.EBAY: ("ebay_user", f"{_ascii(person.first).lower()}_{_ascii(person.last)[:3].lower()}{person.index % 90 + 10}"),
            Channel.KAUFLAND: ("kaufland_buyer", f"KL{700000 + person.index}"),
            Channel.OTTO: ("otto_pseudonym", f"{_token(person.index, 10)}@kunden.otto.de"),
            Channel.ZALANDO: ("zalando_customer", f"ZC-{900000 + person.index}"),
            Channel.EMAIL: ("email", person.email),
            Channel.MESSENGER: ("psid", str(6_100_000_000_000 + person.index * 7919)),
            Channel.INSTAGRAM: ("igsid", str(17_840_000_000_000 + person.index * 104729)),
        }[account.channel]
        return CustomerRecord(IdentityRef(kind, value), person.name)

    def _order(self, account: DemoAccount, person: _Person, customer: IdentityRef, intent: str,
               created: datetime, index: int, rng: random.Random) -> OrderRecord:
        placed = created - timedelta(days=rng.randint(1, 12), minutes=rng.randint(0, 600))
        count = rng.choices((1, 2, 3), (70, 22, 8))[0]
        picked = rng.sample(P.PRODUCTS, count)
        items = tuple(
            OrderItemRecord(n + 1, sku, title, rng.choices((1, 2, 3), (80, 15, 5))[0], price)
            for n, (sku, title, price) in enumerate(picked)
        )
        total = sum(i.quantity * i.unit_price_cents for i in items) + (0 if count > 1 else 495)
        number = _order_number(account.channel, index, rng)
        status = {"cancel": "pending", "address": "unshipped", "product": "delivered"}.get(intent, "shipped")
        if intent in ("return", "return_en", "damaged", "invoice"):
            status = "delivered"
        shipments: tuple[ShipmentRecord, ...] = ()
        if status in ("shipped", "delivered"):
            tracking = "00340434" + "".join(rng.choices(string.digits, k=12))
            shipped = placed + timedelta(days=1)
            events = _tracking_events(shipped, delivered=status == "delivered", city=person.city, rng=rng)
            shipments = (ShipmentRecord(f"s{index}", "DHL", tracking, events[-1].status, shipped, events),)
        webshop = account.channel in _DM_CHANNELS or account.channel == Channel.EMAIL
        channel_for_order = Channel.EMAIL if webshop else account.channel
        owner = IdentityRef("email", person.email) if webshop else customer
        returns: tuple[ReturnRecord, ...] = ()
        refunds: tuple[RefundRecord, ...] = ()
        cancellations: tuple[CancellationRecord, ...] = ()
        if intent in ("return", "return_en") and rng.random() < 0.8:
            state = rng.choice(("angemeldet", "unterwegs", "eingegangen"))
            returns = (ReturnRecord(f"r{index}", state, created - timedelta(hours=2), "gefällt nicht"),)
            if state == "eingegangen":
                refunds = (RefundRecord(f"rf{index}", total, "erstattet", created + timedelta(hours=1)),)
        elif intent == "damaged" and rng.random() < 0.4:
            refunds = (RefundRecord(f"rf{index}", items[0].unit_price_cents, "veranlasst", created),)
        elif intent == "cancel":
            cancellations = (CancellationRecord(f"c{index}", rng.choice(("angefragt", "bestätigt")), created,
                                                "vom Käufer gewünscht"),)
        return OrderRecord(
            external_id=f"{channel_for_order}:{number}",
            number=number,
            customer=owner,
            status=status,
            placed_at=placed,
            total_cents=total,
            payment_status="paid" if intent != "cancel" else "authorized",
            ship_to={"name": person.name, "street": person.street, "postcode": person.postcode,
                     "city": person.city, "country": "DE", "salutation": "Frau" if person.female else "Herr"},
            items=items,
            shipments=shipments,
            buyer_email=person.email if webshop else "",
            buyer_phone=person.phone if webshop and person.index % 3 else "",
            delivery_from=placed + timedelta(days=2),
            delivery_to=placed + timedelta(days=4),
            returns=returns,
            refunds=refunds,
            cancellations=cancellations,
        )

    def _slots(self, person: _Person, order: OrderRecord | None, created: datetime,
               rng: random.Random) -> dict[str, str]:
        product = order.items[0].title.split(",")[0] if order else rng.choice(P.PRODUCTS)[1].split(",")[0]
        placed = order.placed_at if order else created
        other_postcode, other_city = rng.choice(P.CITIES)
        return {
            "order": order.number if order else "",
            "product": product,
            "days": str(max(2, (created - placed).days)),
            "date": placed.astimezone(BERLIN).strftime("%d.%m."),
            "city": other_city,
            "postcode": other_postcode,
            "street": f"{rng.choice(P.STREETS)} {rng.randint(1, 140)}",
            "last_name": person.last,
            "total": _euro(order.total_cents) if order else "",
        }

    def _message_count(self, rng: random.Random) -> int:
        if self.mean_messages <= 3:
            return rng.choices((1, 2, 3, 4, 5, 6), (34, 26, 20, 10, 6, 4))[0]
        return min(60, 1 + int(rng.expovariate(1.0 / (self.mean_messages - 1))))

    def _messages(self, account: DemoAccount, person: _Person, customer: IdentityRef, intent: str,
                  order: OrderRecord | None, slots: dict[str, str], created: datetime, ticket_external: str,
                  subject: str, rng: random.Random) -> list[MessageRecord]:
        bank = P.INTENTS[intent]
        dm = account.channel in _DM_CHANNELS
        english = intent.endswith("_en")
        wanted = self._message_count(rng)
        when = created
        messages: list[MessageRecord] = []
        previous_reply = ""
        direction = Direction.IN
        for n in range(wanted):
            if n > 0:
                when = when + timedelta(minutes=rng.randint(20, 60 * 26) if direction == Direction.OUT else rng.randint(30, 60 * 40))
                if when >= self.anchor - timedelta(minutes=1):
                    break
            if direction == Direction.IN:
                raw = rng.choice(bank["bodies"] if n == 0 else bank["followups"]).format(**slots)
                body = _buyer_text(raw, person, dm=dm, english=english, first=(n == 0), rng=rng)
                quoted = ""
                if previous_reply and account.channel in _MAIL_CHANNELS and rng.random() < 0.7:
                    header = rng.choice(P.QUOTE_HEADERS).format(
                        date=messages[-1].sent_at.astimezone(BERLIN).strftime("%d.%m.%Y"),
                        time=messages[-1].sent_at.astimezone(BERLIN).strftime("%H:%M"), shop=P.SHOP_NAME)
                    quoted = header + "\n" + "\n".join("> " + line for line in previous_reply.splitlines())
                sender_name, sender_addr = _buyer_sender(account, person, customer)
            elif direction == Direction.OUT:
                agent = P.SHOP_AGENT_NAMES[rng.randrange(len(P.SHOP_AGENT_NAMES))]
                salutation = (f"Hallo {person.first}," if dm else
                              (f"Dear {person.name}," if english else
                               f"{'Sehr geehrte Frau' if person.female else 'Sehr geehrter Herr'} {person.last},"))
                text = rng.choice(bank["replies"]).format(**slots)
                sign = "Best regards" if english else "Freundliche Grüße"
                body = f"{salutation}\n\n{text[0].upper() + text[1:] if dm else text}\n\n{sign}\n{agent}\n{P.SHOP_NAME}"
                previous_reply = body
                quoted = ""
                sender_name, sender_addr = agent, "service@lindenhof-haushalt.de"
            else:
                body = rng.choice(("DHL-Nachforschung gestartet, Ticket 48213.", "Kunde hat angerufen, Ersatz zugesagt.",
                                   "Rechnung aus dem ERP gezogen und angehängt."))
                quoted = ""
                sender_name, sender_addr = P.SHOP_AGENT_NAMES[0], ""
            messages.append(MessageRecord(
                external_id=f"{ticket_external}:m{n}",
                ticket_external_id=ticket_external,
                direction=direction,
                sender_name=sender_name,
                sender_addr=sender_addr,
                sent_at=when,
                subject="" if dm else (subject if n == 0 else rng.choice(("Re: ", "AW: ", "Antw: ")) + subject),
                body_text=body,
                body_quoted=quoted,
            ))
            roll = rng.random()
            if direction == Direction.IN:
                direction = Direction.IN if roll < 0.12 else (Direction.NOTE if roll < 0.17 else Direction.OUT)
            elif direction == Direction.NOTE:
                direction = Direction.OUT
            else:
                direction = Direction.IN
        return messages


# -- helpers --------------------------------------------------------------------------

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                          "ş": "s", "ı": "i", "Ş": "S"})


def _ascii(text: str) -> str:
    return text.translate(_UMLAUTS)


def _token(seed: int, length: int) -> str:
    rng = random.Random(seed * 7 + length)
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))


def _euro(cents: int) -> str:
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", ".") + f",{rest:02d} €"


_SCANS = (
    ("pre-transit", "Die Sendung wurde elektronisch angekündigt.", "Dortmund"),
    ("transit", "Die Sendung wurde im Start-Paketzentrum bearbeitet.", "Dortmund"),
    ("transit", "Die Sendung wurde im Ziel-Paketzentrum bearbeitet.", None),
    ("transit", "Die Sendung wurde in das Zustellfahrzeug geladen.", None),
    ("delivered", "Die Sendung wurde erfolgreich zugestellt.", None),
)


def _tracking_events(shipped: datetime, *, delivered: bool, city: str,
                     rng: random.Random) -> tuple[ShipmentEventRecord, ...]:
    """DHL-like scans in German, ending in transit or delivered."""
    count = 5 if delivered else rng.randint(2, 4)
    when = shipped
    events = []
    for status, text, place in _SCANS[:count]:
        events.append(ShipmentEventRecord(when, status, text, place or city))
        when = when + timedelta(hours=rng.randint(3, 14))
    return tuple(events)


def _order_number(channel: Channel, index: int, rng: random.Random) -> str:
    digits = lambda k: "".join(rng.choices(string.digits, k=k))  # noqa: E731
    if channel == Channel.AMAZON:
        return f"{rng.choice(('302', '304', '305', '028'))}-{digits(7)}-{digits(7)}"
    if channel == Channel.EBAY:
        return f"{rng.randint(10, 27)}-{digits(5)}-{digits(5)}"
    if channel == Channel.KAUFLAND:
        return "M" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=6))
    if channel == Channel.OTTO:
        return "".join(rng.choices(string.ascii_lowercase + string.digits, k=10))
    if channel == Channel.ZALANDO:
        return "1040" + digits(10)
    return f"LH-2026-{10000 + index:05d}"


def _buyer_sender(account: DemoAccount, person: _Person, customer: IdentityRef) -> tuple[str, str]:
    if account.channel == Channel.AMAZON:
        return f"{person.name} - Amazon Marketplace", customer.value
    if account.channel == Channel.ZALANDO:
        return f"{person.name} (über Zalando Partner Care)", "partner-care@zalando.example"
    if account.channel in (Channel.EMAIL, Channel.OTTO):
        return person.name, customer.value
    return person.name, customer.value


def _buyer_text(raw: str, person: _Person, *, dm: bool, english: bool, first: bool, rng: random.Random) -> str:
    """Dress a body the way real buyers write: greeting, typos, sign-off, phone signature."""
    if dm:
        text = rng.choice(P.DM_OPENERS) + raw[0].lower() + raw[1:]
        if rng.random() < 0.3:
            text = text.rstrip(".") + rng.choice((" 🙏", " 😕", " danke!", " lg", " 🙂"))
        return _roughen(text, rng, heavy=True)
    if english:
        greeting = rng.choice(("Hello,", "Hi there,", "Dear Sir or Madam,", ""))
        closing = rng.choice(("Best regards", "Thanks", "Kind regards", ""))
    else:
        greeting = rng.choice(P.GREETINGS) if first or rng.random() < 0.5 else ""
        closing = rng.choice(P.CLOSINGS)
    body = _roughen(raw, rng, heavy=rng.random() < 0.25)
    parts = [greeting, body] if greeting else [body]
    sign = person.first if rng.random() < 0.5 else person.name
    if closing:
        parts.append(f"{closing}\n{sign}")
    return "\n\n".join(parts) + rng.choice(P.SIGNATURE_EXTRAS)


def _roughen(text: str, rng: random.Random, *, heavy: bool) -> str:
    """A few of the mistakes real messages have; deterministic for a given rng."""
    if heavy and rng.random() < 0.5:
        text = text.lower()
    if rng.random() < (0.35 if heavy else 0.12):
        words = text.split(" ")
        n = rng.randrange(len(words))
        word = words[n]
        if len(word) > 4:
            k = rng.randrange(1, len(word) - 2)
            words[n] = word[:k] + word[k + 1] + word[k] + word[k + 2:]
        text = " ".join(words)
    if rng.random() < 0.15:
        text = text.replace("ß", "ss")
    if rng.random() < 0.1:
        text = text.replace(", ", " ")
    if rng.random() < 0.08:
        text = text.rstrip(".?") + "!!"
    return text
