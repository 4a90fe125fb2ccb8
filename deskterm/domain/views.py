"""Inbox views: the built-in ones and the agent's saved searches from config, each on a key.

A built-in view with a `provider` is served by a dedicated index walk (any size, O(page));
every other view is a search in the query language (domain/query.py) run in a worker and
cut at a few thousand tickets.

    [views.amazon-heute]
    query = "channel:amazon due:today"
    key = "9"
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class View:
    name: str
    key: str
    query: str = ""  # the search language; empty for a provider view
    provider: str = ""  # "inbox" (unresolved, deadline first), "due", "all", "resolved"
    description: str = ""


BUILTIN_VIEWS: tuple[View, ...] = (
    View("Posteingang", "1", provider="inbox", description="offen und wartend, früheste Frist zuerst"),
    View("Fällig", "2", provider="due", description="laufende Antwortfristen, überfällige zuerst"),
    View("Meine", "3", query="assignee:me -status:resolved sort:due", description="mir zugewiesen, offen"),
    View("Zurückgestellt", "4", query="status:snoozed sort:wake", description="nach Weckzeit"),
    View("Erledigt", "5", provider="resolved", description="erledigte Tickets, neueste zuerst"),
    View("Alle", "6", provider="all", description="alle Tickets, neueste Aktivität zuerst"),
    View("Überfällig", "7", query="is:overdue -status:snoozed sort:due", description="Frist verpasst"),
    View("Bald fällig", "8", query="due:<4h -is:overdue -status:snoozed sort:due",
         description="Frist endet in den nächsten 4 Stunden"),
)


def all_views(saved: dict[str, dict[str, str]]) -> list[View]:
    """Built-in views, then the saved ones from config in file order."""
    views = list(BUILTIN_VIEWS)
    for name, values in saved.items():
        views.append(View(name, values.get("key", ""), query=values.get("query", ""),
                          description=values.get("description", values.get("query", ""))))
    return views


def check_saved_view(name: str, values: dict[str, object], *, now: float) -> str | None:
    """One line on what is wrong with a saved view, or None."""
    from deskterm.domain.query import QueryError, parse_query

    unknown = sorted(set(values) - {"query", "key", "description"})
    if unknown:
        return f"views.{name}.{unknown[0]}: unknown setting (query, key, description)"
    query = values.get("query")
    if not isinstance(query, str) or not query.strip():
        return f"views.{name}.query: a search such as \"channel:amazon due:today\" is required"
    try:
        parse_query(query, now=now, agent="me")
    except QueryError as exc:
        return f"views.{name}.query: {exc}"
    key = values.get("key", "")
    if not isinstance(key, str) or (key and len(key.split(",")[0]) > 12):
        return f"views.{name}.key: a key such as \"7\" or \"ctrl+r\""
    if key in {v.key for v in BUILTIN_VIEWS}:
        return f"views.{name}.key: \"{key}\" belongs to a built-in view (1-8); use 9, 0 or another key"
    return None
