"""Suggestions from the seller's own past replies: the answered tickets most like this one.

The newest buyer message's distinctive words become an FTS5 query (OR, BM25-ranked, over
subject and text of buyer messages in the newest SEARCH_WINDOW messages, so the work stays
bounded on a million-message store). Each hit's ticket gives the first reply an agent
wrote after that message (automatic replies and notes are not suggestions); tickets with
the same intent come first. The reply is adapted: the old ticket's order number, tracking
number, greeting and name become this ticket's, and where this ticket lacks the value a
visible gap ⟦...⟧ is left so it cannot be sent unchecked. Runs in a worker (it searches).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from deskterm.domain.classify import normalise
from deskterm.domain.classify_lexicon import LANGUAGE_WORDS
from deskterm.domain.quotes import own_text
from deskterm.domain.templates import GAP_CLOSE, GAP_OPEN
from deskterm.store.reply_context import template_values

SEARCH_WINDOW = 200_000  # newest message rows searched
MAX_TERMS = 8
_STOP = frozenset().union(*LANGUAGE_WORDS.values()) | frozenset(
    "bitte danke hallo guten morgen abend viele gruesse grüße freundlichen mfg lg gruss gruß vielen dank noch "
    "schon habe haben hatte wurde werden würde koennen können sie ihnen ihr ihre mein meine meinen meinem nicht "
    "eine einen einem einer dass diese dieser dieses wieder jetzt heute gestern about would could thanks regards".split())
_WORD = re.compile(r"[^\W\d_]{4,}")


@dataclass(frozen=True, slots=True)
class Suggestion:
    ticket_id: int
    score: float  # BM25 (higher is more similar here)
    question: str  # the buyer message that matched
    reply: str  # the agent's reply as it was sent
    adapted: str  # the reply with this ticket's values
    same_intent: bool


def query_terms(text: str) -> list[str]:
    """The buyer's distinctive words: no stop words, longest first, at most MAX_TERMS."""
    words = dict.fromkeys(w for w in _WORD.findall(own_text(text).casefold()) if normalise(w) not in _STOP
                          and w not in _STOP)
    return sorted(words, key=len, reverse=True)[:MAX_TERMS]


_GREETING = re.compile(r"\A\s*(?:Sehr geehrte[rs]?|Guten Tag|Hallo|Liebe[rs]?|Dear|Hello|Hi)\b[^\n,]*,?")


def _adapt(reply: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    """The reply with this ticket's greeting, name, order and parcel instead of the old one's."""
    greeting = str((new.get("customer") or {}).get("salutation") or "")
    if greeting:
        reply = _GREETING.sub(greeting + ",", reply, count=1)
    pairs = [(("customer", "name"), "customer.name"),
             (("order", "number"), "order.number"), (("shipment", "tracking_number"), "shipment.tracking_number"),
             (("shipment", "tracking_url"), "shipment.tracking_url"), (("shipment", "carrier"), "shipment.carrier")]
    for (group, key), label in pairs:
        before = str((old.get(group) or {}).get(key) or "")
        if len(before) < 3 or before not in reply:
            continue
        after = str((new.get(group) or {}).get(key) or "") or f"{GAP_OPEN}{label} fehlt{GAP_CLOSE}"
        reply = reply.replace(before, after)
    return reply


def similar_answers(conn: sqlite3.Connection, ticket_id: int, *, limit: int = 3, agent: str = "",
                    shop: str = "") -> list[Suggestion]:
    row = conn.execute("SELECT m.subject, m.body_text, t.intent FROM messages m JOIN tickets t ON t.id = m.ticket_id "
                       "WHERE m.ticket_id = ? AND m.direction = 'in' ORDER BY m.sent_at DESC, m.id DESC LIMIT 1",
                       (ticket_id,)).fetchone()
    if row is None:
        return []
    subject, body, intent = row
    terms = query_terms(f"{subject} {body}")
    if not terms:
        return []
    match = "{subject body_text} : (" + " OR ".join('"' + t.replace('"', "") + '"' for t in terms) + ")"
    newest = conn.execute("SELECT max(id) FROM messages").fetchone()[0] or 0
    hits = conn.execute(
        "SELECT m.ticket_id, m.id, m.sent_at, m.body_text, -bm25(messages_fts) AS score FROM messages_fts "
        "JOIN messages m ON m.id = messages_fts.rowid "
        "WHERE messages_fts MATCH ? AND messages_fts.rowid > ? AND m.direction = 'in' AND m.ticket_id <> ? "
        "ORDER BY bm25(messages_fts) LIMIT 60", (match, newest - SEARCH_WINDOW, ticket_id)).fetchall()
    current = template_values(conn, ticket_id, agent=agent, shop=shop)
    found: list[Suggestion] = []
    seen: set[int] = set()
    for other_ticket, message_id, sent_at, question, score in hits:
        if other_ticket in seen:
            continue
        seen.add(other_ticket)
        reply = conn.execute("SELECT body_text FROM messages WHERE ticket_id = ? AND direction = 'out' AND auto = 0 "
                             "AND (sent_at > ? OR (sent_at = ? AND id > ?)) ORDER BY sent_at, id LIMIT 1",
                             (other_ticket, sent_at, sent_at, message_id)).fetchone()
        if reply is None or not reply[0].strip():
            continue
        other_intent = conn.execute("SELECT intent FROM tickets WHERE id = ?", (other_ticket,)).fetchone()[0]
        old = template_values(conn, other_ticket, agent=agent, shop=shop)
        found.append(Suggestion(other_ticket, float(score), own_text(question), reply[0],
                                _adapt(reply[0], old, current), bool(intent) and other_intent == intent))
        if len(found) >= limit * 4:
            break
    found.sort(key=lambda s: (not s.same_intent, -s.score))
    return found[:limit]
