"""Team reports: response and resolution times, SLA hit rates, volume by intent and hour.

Everything is computed from the store as it is: a ticket's first customer message starts
its first response time, its first reply that actually left ends it (replies still in the
outbox do not count), and the channel's (or account's) policy in force decides whether
that reply met the deadline. Resolution time runs from the ticket's creation to the
moment an agent resolved it. Runs in a worker or the CLI: a 90-day report walks every
ticket active in those days.
"""

from __future__ import annotations

import math
import sqlite3
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from deskterm.domain.format import BERLIN
from deskterm.domain.sla import due_at, policy_for

PERIODS = (7, 30, 90)

_TICKETS = """
SELECT t.id, t.channel, a.key, t.intent, t.assignee, t.created_at, t.resolved_at, t.no_response_needed,
       (SELECT min(m.sent_at) FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'in') AS first_in
FROM tickets t JOIN accounts a ON a.id = t.account_id
WHERE t.last_message_at >= ?
"""

_FIRST_REPLY = """
SELECT r.sent_at, r.agent FROM messages r
WHERE r.ticket_id = ? AND r.direction = 'out' AND r.auto = 0 AND r.sent_at >= ?
  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_row = r.id AND o.message_row IS NOT NULL
                  AND o.status <> 'sent')
ORDER BY r.sent_at LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class Durations:
    """Median and 90th percentile (nearest rank) in seconds over `count` tickets."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> Durations:
        if not values:
            return cls(0, None, None)
        ordered = sorted(values)
        return cls(len(ordered), float(statistics.median(ordered)), float(ordered[math.ceil(0.9 * len(ordered)) - 1]))


@dataclass(frozen=True, slots=True)
class SlaRate:
    met: int
    missed: int

    @property
    def rate(self) -> float | None:
        total = self.met + self.missed
        return self.met / total if total else None


@dataclass
class Report:
    days: int
    since: int
    until: int
    first_response_by_channel: dict[str, Durations] = field(default_factory=dict)
    first_response_by_agent: dict[str, Durations] = field(default_factory=dict)
    resolution_by_channel: dict[str, Durations] = field(default_factory=dict)
    resolution_by_agent: dict[str, Durations] = field(default_factory=dict)
    sla_by_channel: dict[int, dict[str, SlaRate]] = field(default_factory=dict)  # period (days) -> channel -> rate
    volume_by_intent: dict[str, int] = field(default_factory=dict)
    volume_by_hour: list[int] = field(default_factory=lambda: [0] * 24)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["sla_by_channel"] = {str(days): {channel: {"met": r.met, "missed": r.missed, "rate": r.rate}
                                              for channel, r in rates.items()}
                                  for days, rates in self.sla_by_channel.items()}
        return data


NO_AGENT = "(ohne Agent)"


def build_report(conn: sqlite3.Connection, *, now: int, days: int = 30) -> Report:
    """Figures for tickets whose first customer message falls in the last `days` days; SLA
    hit rates for each of 7, 30 and 90 days (and `days`, if different)."""
    periods = sorted({*PERIODS, days})
    longest = max(periods)
    start = now - days * 86400
    report = Report(days=days, since=start, until=now)
    first_response: dict[str, list[float]] = defaultdict(list)
    first_by_agent: dict[str, list[float]] = defaultdict(list)
    resolution: dict[str, list[float]] = defaultdict(list)
    resolution_by_agent: dict[str, list[float]] = defaultdict(list)
    sla: dict[int, dict[str, list[int]]] = {p: defaultdict(lambda: [0, 0]) for p in periods}
    intents: Counter[str] = Counter()
    for (ticket_id, channel, account_key, intent, assignee, created, resolved_at, no_response,
         first_in) in conn.execute(_TICKETS, (now - longest * 86400,)).fetchall():
        if first_in is None or first_in < now - longest * 86400:
            continue
        reply = conn.execute(_FIRST_REPLY, (ticket_id, first_in)).fetchone()
        in_window = first_in >= start
        if in_window:
            intents[intent or "unklassifiziert"] += 1
            if reply is not None:
                first_response[channel].append(reply[0] - first_in)
                first_by_agent[reply[1] or NO_AGENT].append(reply[0] - first_in)
            if resolved_at is not None:
                resolution[channel].append(resolved_at - created)
                resolution_by_agent[assignee or NO_AGENT].append(resolved_at - created)
        policy = policy_for(channel, account_key)
        if policy is None or no_response:
            continue
        due = due_at(datetime.fromtimestamp(first_in, timezone.utc), policy).timestamp()
        if reply is None and due > now:
            continue  # the clock still runs: neither met nor missed yet
        met = reply is not None and reply[0] <= due
        for period in periods:
            if first_in >= now - period * 86400:
                sla[period][channel][0 if met else 1] += 1
    for sent_at, in conn.execute("SELECT m.sent_at FROM tickets t JOIN messages m ON m.ticket_id = t.id "
                                 "WHERE t.last_message_at >= ? AND m.direction = 'in' AND m.sent_at >= ?",
                                 (start, start)):
        report.volume_by_hour[datetime.fromtimestamp(sent_at, BERLIN).hour] += 1
    report.first_response_by_channel = {k: Durations.of(v) for k, v in sorted(first_response.items())}
    report.first_response_by_agent = {k: Durations.of(v) for k, v in sorted(first_by_agent.items())}
    report.resolution_by_channel = {k: Durations.of(v) for k, v in sorted(resolution.items())}
    report.resolution_by_agent = {k: Durations.of(v) for k, v in sorted(resolution_by_agent.items())}
    report.sla_by_channel = {p: {c: SlaRate(*v) for c, v in sorted(rates.items())} for p, rates in sla.items()}
    report.volume_by_intent = dict(intents.most_common())
    return report


def duration_label(seconds: float | None) -> str:
    """'3h 12m', '2d 4h', '45m', '–' for none."""
    if seconds is None:
        return "–"
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def report_lines(report: Report) -> list[str]:
    """The report as plain text tables (CLI and the report screen)."""
    from deskterm.domain.format import channel_label
    from deskterm.domain.sanitize import clean_line
    from deskterm.domain.triage import INTENTS

    lines = [f"Bericht über {report.days} Tage ({datetime.fromtimestamp(report.since, BERLIN):%d.%m.%Y} – "
             f"{datetime.fromtimestamp(report.until, BERLIN):%d.%m.%Y %H:%M})", ""]

    def durations(title: str, rows: dict[str, Durations], label: object) -> None:
        lines.append(f"{title:<28}{'Tickets':>9}{'Median':>10}{'90 %':>10}")
        for key, d in rows.items():
            name = label(key) if callable(label) else key
            lines.append(f"  {clean_line(str(name), max_chars=26):<26}{d.count:>9}{duration_label(d.median):>10}"
                         f"{duration_label(d.p90):>10}")
        if not rows:
            lines.append("  (keine Daten)")
        lines.append("")

    durations("Erste Antwort je Kanal", report.first_response_by_channel, channel_label)
    durations("Erste Antwort je Agent", report.first_response_by_agent, None)
    durations("Lösungszeit je Kanal", report.resolution_by_channel, channel_label)
    durations("Lösungszeit je Agent", report.resolution_by_agent, None)
    periods = sorted(report.sla_by_channel)
    lines.append(f"{'Fristen eingehalten':<28}" + "".join(f"{str(p) + ' Tage':>14}" for p in periods))
    channels = sorted({c for rates in report.sla_by_channel.values() for c in rates})
    for channel in channels:
        cells = []
        for period in periods:
            rate = report.sla_by_channel[period].get(channel)
            cells.append(f"{rate.rate:.0%} ({rate.met}/{rate.met + rate.missed})" if rate and rate.rate is not None
                         else "–")
        lines.append(f"  {channel_label(channel):<26}" + "".join(f"{c:>14}" for c in cells))
    if not channels:
        lines.append("  (keine Daten)")
    lines.append("")
    lines.append("Anliegen")
    for intent, count in report.volume_by_intent.items():
        lines.append(f"  {INTENTS.get(intent, intent):<26}{count:>9}")
    lines.append("")
    peak = max(report.volume_by_hour) or 1
    lines.append("Kundennachrichten je Stunde (Ortszeit)")
    for hour, count in enumerate(report.volume_by_hour):
        lines.append(f"  {hour:02d}:00 {count:>7}  {'█' * round(30 * count / peak)}")
    return lines
