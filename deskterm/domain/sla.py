"""Response-time clocks per marketplace: when an answer is due, and how much time is left.

A policy counts either **calendar** time (Amazon: 24 hours, weekends and holidays
included) or **working** time: only on working days (Monday–Friday, minus German public
holidays of the shop's federal state, from the `holidays` library), optionally only within
opening hours. All counting happens in Europe/Berlin local time on aware datetimes, so a
daylight-saving day has 23 or 25 real hours and a deadline lands where the wall clock says.

The clock starts at the first customer message not yet answered, stops with an agent reply
on the channel (internal notes and auto-replies do not count), pauses while the ticket
waits for the customer where the policy allows, and stops with "no response needed".
Presets follow ../shared/docs/channel-apis.md; every value can be overridden in config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from deskterm.domain.format import BERLIN

MAX_DAYS = 400  # a deadline further out than this is a configuration error, not a date


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    name: str
    hours: float  # the target, in counted hours
    working_days_only: bool = False  # count only Monday–Friday outside public holidays
    opening: tuple[time, time] | None = None  # count only between these local times (working policies)
    state: str = ""  # federal state for state holidays (BY, BE, NW ...); "" = national holidays only
    pause_when_waiting: bool = True  # waiting for the customer pauses the clock

    def with_overrides(self, **values: object) -> SlaPolicy:
        return replace(self, **values)  # type: ignore[arg-type]


# Presets per channel; "[I]" marks informed guesses (configurable).
PRESETS: dict[str, SlaPolicy] = {
    "amazon": SlaPolicy("Amazon: 24 h, auch am Wochenende", 24, pause_when_waiting=False),
    "ebay": SlaPolicy("eBay: 3 Werktage", 72, working_days_only=True),
    "kaufland": SlaPolicy("Kaufland: 48 h an Werktagen", 48, working_days_only=True),
    "otto": SlaPolicy("OTTO: 24 h an Werktagen [I]", 24, working_days_only=True),
    "zalando": SlaPolicy("Zalando: 24 h an Werktagen [I]", 24, working_days_only=True),
    "messenger": SlaPolicy("Messenger: 24-h-Antwortfenster", 24, pause_when_waiting=False),
    "instagram": SlaPolicy("Instagram: 24-h-Antwortfenster", 24, pause_when_waiting=False),
    "email": SlaPolicy("E-Mail/Webshop: 1 Werktag [I]", 24, working_days_only=True),
}


HOLIDAY_FILE = Path(__file__).parent / "data" / "holidays_de.json"


_active: dict[str, SlaPolicy] = dict(PRESETS)
_per_account: dict[str, SlaPolicy] = {}  # account key -> policy ([sla.account.<key>])


def configure(state: str = "", overrides: dict[str, dict[str, object]] | None = None) -> dict[str, SlaPolicy]:
    """Set the policies this process uses: the presets, the shop's federal state, per channel
    overrides from config (`hours`, `working_days_only`, `opening` "09:00-17:00",
    `pause_when_waiting`), and per account overrides under `account` (an account's own
    settings start from its channel's policy; `channel` names that channel). Raises
    ValueError with one line for a bad value."""
    overrides = dict(overrides or {})
    accounts = overrides.pop("account", {})
    policies: dict[str, SlaPolicy] = {}
    for channel, preset in PRESETS.items():
        policy = preset.with_overrides(state=state) if state else preset
        for key, value in overrides.get(channel, {}).items():
            policy = _override(policy, f"sla.{channel}", key, value)
        policies[channel] = policy
    unknown = sorted(set(overrides) - set(PRESETS))
    if unknown:
        raise ValueError(f"sla.{unknown[0]}: unknown channel (known: {', '.join(sorted(PRESETS))}, account)")
    per_account: dict[str, SlaPolicy] = {}
    for account_key, values in (accounts or {}).items():
        where = f"sla.account.{account_key}"
        if not isinstance(values, dict):
            raise ValueError(f"{where}: must be a table of settings")
        channel = str(values.get("channel", ""))
        if channel not in policies:
            raise ValueError(f"{where}.channel: name the account's channel ({', '.join(sorted(PRESETS))})")
        policy = policies[channel]
        policy = policy.with_overrides(name=f"{policy.name.split(':')[0]} ({account_key}): {policy.name.split(': ', 1)[-1]}")
        for key, value in values.items():
            if key != "channel":
                policy = _override(policy, where, key, value)
        per_account[account_key] = policy
    _active.clear()
    _active.update(policies)
    _per_account.clear()
    _per_account.update(per_account)
    return policies


def _override(policy: SlaPolicy, where_prefix: str, key: str, value: object) -> SlaPolicy:
    where = f"{where_prefix}.{key}"
    if key == "hours" and isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 24 * 60:
        return policy.with_overrides(hours=float(value), name=f"{policy.name.split(':')[0]}: {value:g} h (eigene Vorgabe)")
    if key in ("working_days_only", "pause_when_waiting") and isinstance(value, bool):
        return policy.with_overrides(**{key: value})
    if key == "opening" and isinstance(value, str):
        try:
            start, end = (time.fromisoformat(part.strip()) for part in value.split("-", 1))
        except ValueError:
            raise ValueError(f"{where}: write opening hours as \"09:00-17:00\"") from None
        if end <= start:
            raise ValueError(f"{where}: the end must be after the start")
        return policy.with_overrides(opening=(start, end), working_days_only=True)
    raise ValueError(f"{where}: not a valid setting ({value!r})")


def signature() -> str:
    """A fingerprint of the policies in force (stored deadlines are recomputed when it changes)."""
    return repr((sorted(_active.items()), sorted(_per_account.items())))


def policy_for(channel: str, account_key: str = "") -> SlaPolicy | None:
    """The policy in force for an account (its own, if configured) or else its channel."""
    return _per_account.get(account_key) or _active.get(channel)


@lru_cache(maxsize=1)
def _holiday_table() -> dict[str, Any]:
    return dict(json.loads(HOLIDAY_FILE.read_text(encoding="utf-8")))


@lru_cache(maxsize=64)
def _holidays(state: str, year: int) -> frozenset[date]:
    """Public holidays of Germany (and of `state`): from the table the `holidays` library
    generated (scripts/gen_holidays.py), or from the library itself outside its years."""
    table = _holiday_table()
    states = table["states"]
    if table["first_year"] <= year <= table["last_year"] and (state or "DE") in states:
        return frozenset(date.fromisoformat(d) for d in states[state or "DE"].get(str(year), []))
    import holidays  # about 20 MiB: only for years the table does not cover

    return frozenset(holidays.country_holidays("DE", subdiv=state or None, years=year).keys())


def is_working_day(day: date, state: str = "") -> bool:
    return day.weekday() < 5 and day not in _holidays(state, day.year)


def _counted_windows(day: date, policy: SlaPolicy) -> list[tuple[datetime, datetime]]:
    """The stretches of one local day that count, as aware datetimes."""
    if policy.working_days_only and not is_working_day(day, policy.state):
        return []
    if policy.opening is not None:
        start, end = policy.opening
        return [(datetime.combine(day, start, BERLIN), datetime.combine(day, end, BERLIN))]
    return [(datetime.combine(day, time(0), BERLIN), datetime.combine(day + timedelta(days=1), time(0), BERLIN))]


def _elapsed(a: datetime, b: datetime) -> float:
    """Real seconds between two aware datetimes (DST-safe: compared in UTC)."""
    return (b.astimezone(timezone.utc) - a.astimezone(timezone.utc)).total_seconds()


def due_at(start: datetime, policy: SlaPolicy) -> datetime:
    """When `policy.hours` of counted time have passed after `start` (UTC)."""
    if not policy.working_days_only and policy.opening is None:
        # in UTC: adding to a Europe/Berlin datetime would add wall-clock time across a DST change
        return start.astimezone(timezone.utc) + timedelta(hours=policy.hours)
    remaining = policy.hours * 3600
    local = start.astimezone(BERLIN)
    day = local.date()
    for _ in range(MAX_DAYS):
        for window_start, window_end in _counted_windows(day, policy):
            begin = max(window_start, local)
            if begin >= window_end:
                continue
            available = _elapsed(begin, window_end)
            if available >= remaining:
                return (begin.astimezone(timezone.utc) + timedelta(seconds=remaining))
            remaining -= available
        day += timedelta(days=1)
    raise ValueError(f"{policy.name}: no deadline within {MAX_DAYS} days; check the policy")


def counted_between(start: datetime, end: datetime, policy: SlaPolicy) -> float:
    """Counted seconds between two moments (for pauses and reports)."""
    if end <= start:
        return 0.0
    if not policy.working_days_only and policy.opening is None:
        return _elapsed(start, end)
    total = 0.0
    day = start.astimezone(BERLIN).date()
    last = end.astimezone(BERLIN).date()
    while day <= last:
        for window_start, window_end in _counted_windows(day, policy):
            begin, finish = max(window_start, start), min(window_end, end)
            if finish > begin:
                total += _elapsed(begin, finish)
        day += timedelta(days=1)
    return total


@dataclass(frozen=True, slots=True)
class ClockState:
    """What the inbox shows: running (due at), paused, stopped, or no clock at all."""

    state: str  # "running", "paused", "answered", "no_response_needed", "none"
    due: datetime | None = None
    reason: str = ""


def clock(policy: SlaPolicy, *, awaiting_since: datetime | None, waiting_for_customer: bool = False,
          paused_seconds: float = 0.0, no_response_needed: str = "") -> ClockState:
    """The clock of one ticket. `awaiting_since`: the first customer message not yet answered
    (None: answered or nothing to answer). `paused_seconds`: counted time the clock was
    paused since it started; the deadline moves by as much counted time."""
    if no_response_needed:
        return ClockState("no_response_needed", reason=no_response_needed)
    if awaiting_since is None:
        return ClockState("answered")
    if waiting_for_customer and policy.pause_when_waiting:
        return ClockState("paused")
    if paused_seconds > 0:  # counted time spent paused moves the deadline by as much counted time
        policy = policy.with_overrides(hours=policy.hours + paused_seconds / 3600)
    return ClockState("running", due_at(awaiting_since, policy))


SOON_SECONDS = 4 * 3600  # "due soon" in the inbox header and the amber colour


def urgency(due: float, now: float) -> str:
    """'overdue', 'soon' (within SOON_SECONDS) or 'ok', for epoch seconds."""
    return "overdue" if due < now else ("soon" if due - now < SOON_SECONDS else "ok")


def countdown_label(due: datetime, now: datetime) -> str:
    """'3h 12m', '45m', 'überfällig 1h 05m' (minutes; the inbox ticks once a minute)."""
    seconds = int((due - now).total_seconds())
    overdue = seconds < 0
    minutes = abs(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    text = f"{days}d {hours}h" if days else (f"{hours}h {minutes:02d}m" if hours else f"{minutes}m")
    return f"überfällig {text}" if overdue else text
