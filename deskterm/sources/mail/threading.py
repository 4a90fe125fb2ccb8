"""Grouping mail into conversations.

1. Message-ID, In-Reply-To and References join messages, through ghost parents too (a
   referenced message that is not here still links its replies). A union-find has no
   recursion over the graph, so reference loops end by construction.
2. Extra keys a caller supplies (marketplace relay alias + order number, ...) join
   messages that carry no usable references.
3. A message that calls itself a reply (its subject starts with "Re:", "AW:", "WG:",
   "Fwd:"...) but carries no references joins the conversation with the same normalised
   subject if that conversation had a message within `subject_window` before it. A new
   subject line without such a prefix always starts a conversation of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import timedelta

from deskterm.sources.mail.parse import ParsedMail

_PREFIX = re.compile(r"^\s*(?:(?:re|aw|wg|fw|fwd|antw|antwort|sv|vs|tr)\s*(?:\[\d+\])?\s*:|\[[^\]]{1,40}\])\s*",
                     re.IGNORECASE)


_REPLY = re.compile(r"^\s*(?:\[[^\]]{1,40}\]\s*)*(?:re|aw|wg|fw|fwd|antw|antwort|sv|vs|tr)\s*(?:\[\d+\])?\s*:",
                    re.IGNORECASE)


def claims_reply(subject: str | None) -> bool:
    """True for "Re:", "AW:", "Fwd:"... subjects (also after a "[tag]")."""
    return _REPLY.match(subject or "") is not None


def normalize_subject(subject: str) -> str:
    previous = None
    subject = subject or ""
    while previous != subject:
        previous = subject
        subject = _PREFIX.sub("", subject)
    return " ".join(subject.casefold().split())


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression, iteratively
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def thread_groups(mails: Sequence[ParsedMail], *, subject_window: timedelta | None = timedelta(days=14),
                  extra_keys: Callable[[ParsedMail], list[str]] | None = None) -> list[list[str]]:
    """Conversations as lists of Message-IDs (each list sorted by date, groups by first date)."""
    links = _UnionFind()
    by_id: dict[str, ParsedMail] = {}
    for mail in mails:
        by_id.setdefault(mail.message_id, mail)
        links.find(mail.message_id)
        for reference in [*mail.references, *mail.in_reply_to]:
            links.union(mail.message_id, reference)
        for key in (extra_keys(mail) if extra_keys else []):
            links.union(mail.message_id, f"key:{key}")
    if subject_window is not None:
        _join_by_subject(by_id, links, subject_window)
    groups: dict[str, list[str]] = {}
    for message_id in by_id:
        groups.setdefault(links.find(message_id), []).append(message_id)
    ordered = [sorted(ids, key=lambda i: _sort_key(by_id[i])) for ids in groups.values()]
    return sorted(ordered, key=lambda ids: _sort_key(by_id[ids[0]]))


def _sort_key(mail: ParsedMail) -> tuple[float, str]:
    return (mail.date.timestamp() if mail.date else 0.0, mail.message_id)


def _join_by_subject(by_id: dict[str, ParsedMail], links: _UnionFind, window: timedelta) -> None:
    latest: dict[str, tuple[float, str]] = {}  # normalised subject -> (time, a message of that thread)
    for mail in sorted(by_id.values(), key=_sort_key):
        subject = normalize_subject(mail.subject)
        if not subject:
            continue
        moment = mail.date.timestamp() if mail.date else None
        seen = latest.get(subject)
        unreferenced = not mail.references and not mail.in_reply_to
        is_reply = claims_reply(mail.subject)
        if unreferenced and is_reply and seen and moment is not None and 0 <= moment - seen[0] <= window.total_seconds():
            links.union(mail.message_id, seen[1])
        if moment is not None:
            latest[subject] = (moment, mail.message_id)
