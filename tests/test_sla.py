"""SLA deadlines: weekends, national and state holidays, daylight-saving changes, opening
hours, pauses and "no response needed"."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from deskterm.domain.sla import BERLIN, PRESETS, SlaPolicy, clock, counted_between, countdown_label, due_at


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_amazon_counts_24_hours_through_the_weekend() -> None:
    friday_evening = berlin(2026, 12, 4, 18, 0)
    assert due_at(friday_evening, PRESETS["amazon"]) == berlin(2026, 12, 5, 18, 0).astimezone(timezone.utc)


def test_kaufland_48_working_hours_skip_the_weekend() -> None:
    friday_noon = berlin(2026, 12, 4, 12, 0)
    # Friday 12:00 -> 12 h left on Friday, Saturday and Sunday do not count, Monday 24 h, Tuesday 12:00.
    assert due_at(friday_noon, PRESETS["kaufland"]).astimezone(BERLIN) == berlin(2026, 12, 8, 12, 0)


def test_a_national_holiday_does_not_count() -> None:
    # 3 October 2025 (Tag der Deutschen Einheit) is a Friday.
    thursday = berlin(2025, 10, 2, 10, 0)
    # Thursday 14 h, Friday is the holiday, the weekend does not count, Monday 24 h, Tuesday 10 h.
    assert due_at(thursday, PRESETS["kaufland"]).astimezone(BERLIN) == berlin(2025, 10, 7, 10, 0)
    # The same start a week later, without a holiday: Thursday 14 h, Friday 24 h, Monday 10 h.
    assert due_at(berlin(2025, 10, 9, 10, 0), PRESETS["kaufland"]).astimezone(BERLIN) == berlin(2025, 10, 13, 10, 0)


def test_state_holidays_depend_on_the_federal_state() -> None:
    # 6 January 2026 (Heilige Drei Könige, a Tuesday) is a holiday in Bavaria, not in Berlin.
    monday = berlin(2026, 1, 5, 9, 0)
    bavaria = PRESETS["kaufland"].with_overrides(state="BY")
    berlin_state = PRESETS["kaufland"].with_overrides(state="BE")
    assert due_at(monday, berlin_state).astimezone(BERLIN) == berlin(2026, 1, 7, 9, 0)
    assert due_at(monday, bavaria).astimezone(BERLIN) == berlin(2026, 1, 8, 9, 0)


def test_daylight_saving_days_count_their_real_hours() -> None:
    # 29 March 2026: clocks go from 02:00 to 03:00, the day has 23 hours.
    saturday = berlin(2026, 3, 28, 12, 0)
    amazon = due_at(saturday, PRESETS["amazon"]).astimezone(BERLIN)
    assert amazon == berlin(2026, 3, 29, 13, 0)  # 24 real hours later, wall clock one hour on
    calendar_days = SlaPolicy("calendar days", 24, working_days_only=False, opening=(time(0), time(23, 59, 59)))
    assert counted_between(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0), calendar_days) < 23 * 3600
    # 25 October 2026: the day has 25 hours.
    assert counted_between(berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0), PRESETS["amazon"]) == 25 * 3600


def test_opening_hours_count_only_inside_them() -> None:
    office = SlaPolicy("Büro 9-17, 8 h", 8, working_days_only=True, opening=(time(9), time(17)))
    friday_afternoon = berlin(2026, 12, 4, 15, 0)
    assert due_at(friday_afternoon, office).astimezone(BERLIN) == berlin(2026, 12, 7, 15, 0)
    before_opening = berlin(2026, 12, 7, 6, 30)
    assert due_at(before_opening, office).astimezone(BERLIN) == berlin(2026, 12, 7, 17, 0)


def test_pause_resume_and_no_response_needed() -> None:
    start = berlin(2026, 12, 7, 10, 0)
    email = PRESETS["email"]
    assert clock(email, awaiting_since=start).state == "running"
    assert clock(email, awaiting_since=start, waiting_for_customer=True).state == "paused"
    resumed = clock(email, awaiting_since=start, paused_seconds=3 * 3600)
    assert resumed.due == due_at(start, email) + timedelta(hours=3)
    assert clock(PRESETS["amazon"], awaiting_since=start, waiting_for_customer=True).state == "running"
    stopped = clock(PRESETS["amazon"], awaiting_since=start, no_response_needed="Danke-Nachricht")
    assert (stopped.state, stopped.reason) == ("no_response_needed", "Danke-Nachricht")
    assert clock(email, awaiting_since=None).state == "answered"


def test_countdown_labels() -> None:
    now = berlin(2026, 12, 7, 10, 0)
    assert countdown_label(now + timedelta(hours=3, minutes=12), now) == "3h 12m"
    assert countdown_label(now + timedelta(minutes=45, seconds=30), now) == "45m"
    assert countdown_label(now - timedelta(hours=1, minutes=5), now) == "überfällig 1h 05m"
    assert countdown_label(now + timedelta(days=2, hours=5), now) == "2d 5h"


@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
       st.sampled_from(sorted(PRESETS)))
def test_the_deadline_is_exactly_the_target_of_counted_time(moment: datetime, channel: str) -> None:
    policy = PRESETS[channel]
    start = moment.replace(tzinfo=timezone.utc)
    due = due_at(start, policy)
    assert due > start
    assert abs(counted_between(start, due, policy) - policy.hours * 3600) < 1e-6


def test_the_holiday_table_matches_the_holidays_library() -> None:
    """The table the app reads (scripts/gen_holidays.py) says what the library says."""
    import holidays

    from deskterm.domain.sla import _holiday_table

    table = _holiday_table()
    for state, years in table["states"].items():
        library = holidays.country_holidays("DE", subdiv=None if state == "DE" else state,
                                            years=range(table["first_year"], table["last_year"] + 1))
        assert sorted(d for days in years.values() for d in days) == sorted(d.isoformat() for d in library), state


def test_years_outside_the_table_come_from_the_library() -> None:
    from datetime import date

    from deskterm.domain.sla import is_working_day

    assert not is_working_day(date(2050, 10, 3))  # Tag der Deutschen Einheit, a Monday
    assert is_working_day(date(2050, 10, 4))


def test_stored_deadlines_follow_the_channel_and_the_status() -> None:
    from deskterm.store.awaiting import due_for

    start = int(berlin(2026, 12, 4, 18, 0).timestamp())
    assert due_for("amazon", "open", start) == start + 24 * 3600
    assert due_for("amazon", "pending", start) == start + 24 * 3600  # Amazon's clock runs while waiting
    assert due_for("email", "pending", start) is None  # paused
    assert due_for("amazon", "resolved", start) is None
    assert due_for("amazon", "open", None) is None


def test_policies_come_from_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from deskterm.config import ConfigError, load_config
    from deskterm.domain.sla import configure, policy_for

    path = tmp_path / "config.toml"
    path.write_text('[sla]\nstate = "BY"\n[sla.email]\nhours = 8\nopening = "09:00-17:00"\n', encoding="utf-8")
    config = load_config(path)
    try:
        configure(config.sla.state, config.sla.channels)
        email, kaufland = policy_for("email"), policy_for("kaufland")
        assert email is not None and kaufland is not None
        assert (email.hours, email.opening, email.state) == (8.0, (time(9), time(17)), "BY")
        assert kaufland.state == "BY" and kaufland.hours == 48
        monday = berlin(2026, 1, 5, 9, 0)  # 6 January is a holiday in Bavaria
        assert due_at(monday, kaufland).astimezone(BERLIN) == berlin(2026, 1, 8, 9, 0)
    finally:
        configure()
    assert policy_for("email") == PRESETS["email"]
    for bad, message in (('[sla.email]\nopening = "neun bis fünf"\n', "09:00-17:00"),
                         ('[sla.email]\nhours = "acht"\n', "not a valid setting"),
                         ('[sla.fax]\nhours = 8\n', "unknown channel")):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            load_config(path)


async def test_the_due_view_lists_running_clocks_soonest_first(demo_store, isolated_home) -> None:  # type: ignore[no-untyped-def]
    from tests.test_app import _app, wait_for

    app = _app(demo_store, isolated_home)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.inbox is not None and app.inbox.ticket_list.rows.total > 0)
        everything = app.inbox.ticket_list.rows.total
        title = app.inbox.query_one("#inbox-title").render().plain
        assert "überfällig" in title and "(f)" in title
        await pilot.press("f")
        rows = app.inbox.ticket_list.rows
        assert 0 < rows.total < everything
        dues = [rows.get(i).due for i in range(rows.total)]
        assert all(d is not None for d in dues) and dues == sorted(dues)
        assert "laufende Antwortfristen" in app.inbox.query_one("#inbox-title").render().plain
        await pilot.press("f")
        assert app.inbox.ticket_list.rows.total == everything


def test_a_changed_policy_recomputes_the_stored_deadlines(demo_store) -> None:  # type: ignore[no-untyped-def]
    from deskterm.domain.sla import configure
    from deskterm.store.awaiting import due_is_current, recompute_due
    from deskterm.store.db import Store

    with Store.open(demo_store, create=False) as store:
        assert due_is_current(store.conn)
        before = dict(store.conn.execute("SELECT id, sla_due_at FROM tickets WHERE channel = 'amazon' "
                                         "AND sla_due_at IS NOT NULL"))
        try:
            configure("", {"amazon": {"hours": 12}})
            assert not due_is_current(store.conn)
            with store.transaction() as conn:
                assert recompute_due(conn) >= len(before) > 0
            after = dict(store.conn.execute("SELECT id, sla_due_at FROM tickets WHERE channel = 'amazon' "
                                            "AND sla_due_at IS NOT NULL"))
            assert {i: before[i] - after[i] for i in before} == {i: 12 * 3600 for i in before}
            assert due_is_current(store.conn)
        finally:
            configure()
