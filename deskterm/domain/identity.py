"""Who is who: normalising identities and the ordered rules that join customers.

Rules, strongest first. The strong ones merge automatically; the weak ones only suggest,
and the agent decides. Every decision carries its rule and a reason a person can read.

1. same marketplace buyer id  (one identity row: the store's UNIQUE(kind, value))
2. same order                 a ticket is about an order that belongs to another customer
3. same e-mail address        an order's buyer e-mail is another customer's address
4. same phone number (E.164)  suggestion only: households share phones
5. same name + postcode       suggestion only: two "Max Müller" in one town are possible

A marketplace relay alias (…@marketplace.amazon.de, …@members.ebay.de) identifies a buyer
on that marketplace but is never treated as the buyer's own e-mail address.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Rule(StrEnum):
    BUYER_ID = "buyer_id"
    SAME_ORDER = "same_order"
    SAME_EMAIL = "same_email"
    SAME_PHONE = "same_phone"
    NAME_POSTCODE = "name_postcode"


RULE_ORDER: tuple[Rule, ...] = (Rule.BUYER_ID, Rule.SAME_ORDER, Rule.SAME_EMAIL, Rule.SAME_PHONE, Rule.NAME_POSTCODE)
AUTOMATIC: frozenset[Rule] = frozenset({Rule.BUYER_ID, Rule.SAME_ORDER, Rule.SAME_EMAIL})

RULE_LABELS = {
    Rule.BUYER_ID: "gleiche Marktplatz-Käufer-ID",
    Rule.SAME_ORDER: "gleiche Bestellung",
    Rule.SAME_EMAIL: "gleiche E-Mail-Adresse",
    Rule.SAME_PHONE: "gleiche Telefonnummer",
    Rule.NAME_POSTCODE: "gleicher Name und gleiche PLZ",
}

# Kinds that reach a person directly; relay aliases and platform ids are not among them.
CONTACT_KINDS = frozenset({"email", "phone"})
RELAY_DOMAINS = re.compile(r"@(marketplace\.amazon\.[a-z.]+|members\.ebay\.[a-z.]+|kunden\.otto\.de)$", re.I)
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_TITLES = re.compile(r"\b(herr|frau|dr|prof|familie|fam)\b\.?", re.I)
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@dataclass(frozen=True, slots=True)
class Decision:
    """Join `merge` into `keep` (or suggest it), by `rule`, for the reason shown to people."""

    keep: int
    merge: int
    rule: Rule
    reason: str

    @property
    def automatic(self) -> bool:
        return self.rule in AUTOMATIC


def decide(customer_a: int, customer_b: int, rule: Rule, evidence: str) -> Decision:
    """The older customer (lower id) is kept, so merges are deterministic."""
    keep, merge = sorted((customer_a, customer_b))
    return Decision(keep, merge, rule, f"{RULE_LABELS[rule]}: {evidence}")


def is_relay_address(address: str) -> bool:
    return bool(RELAY_DOMAINS.search(address.strip()))


def normalize_email(address: str) -> str | None:
    """A person's own address, lower-cased; None for relay aliases and non-addresses."""
    address = address.strip().strip("<>").lower()
    if not _EMAIL.match(address) or is_relay_address(address):
        return None
    return address


def normalize_phone(raw: str, region: str = "DE") -> str | None:
    """E.164 (+491712345678), or None when it is not a valid number."""
    if not raw or not raw.strip():
        return None
    import phonenumbers

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_RELAY_KIND = (("marketplace.amazon.", "amazon_relay"), ("members.ebay.", "ebay_relay"), ("kunden.otto.de", "otto_pseudonym"))


def canonical_identity(kind: str, value: str) -> tuple[str, str]:
    """The form an identity is stored in: e-mail lower-cased, phones E.164, and a relay
    alias filed under its marketplace even when a source calls it an e-mail address."""
    value = value.strip()
    if kind in ("email", "amazon_relay", "ebay_relay", "otto_pseudonym"):
        value = value.strip("<>").lower()
        domain = value.rsplit("@", 1)[-1]
        for marker, relay_kind in _RELAY_KIND:
            if domain.startswith(marker) or domain == marker:
                return relay_kind, value
        return ("email" if kind == "email" else kind), value
    if kind == "phone":
        return kind, normalize_phone(value) or value
    return kind, value


def name_postcode_key(name: str, postcode: str) -> str:
    """'max mueller|80331' from 'Herr Max  Müller' and ' 80331'; '' if either is missing."""
    name = unicodedata.normalize("NFKC", name or "").casefold().translate(_FOLD)
    name = _TITLES.sub(" ", name)
    name = " ".join(re.sub(r"[^\w\s-]", " ", name).split())
    postcode = re.sub(r"\s+", "", postcode or "")
    if not name or not postcode:
        return ""
    return f"{name}|{postcode}"
