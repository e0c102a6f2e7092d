"""A plan against the calendar: past test days without a sample are missed, today's are due, a late
sample still does its test, and missed tests with nothing planned today call for a sample now."""

from __future__ import annotations

import datetime as dt

from fangkong.protocol.loader import load_builtin
from fangkong.protocol.plan import PlanFacts, compute_plan, schedule_on

CN9 = load_builtin("cn-9")


def _close_contact(last_exposure: dt.date):  # type: ignore[no-untyped-def]
    return compute_plan(CN9, "close_contact", PlanFacts(last_exposure=last_exposure))


def _states(schedule) -> dict[dt.date, str]:  # type: ignore[no-untyped-def]
    return {t.test.due: t.state for t in schedule.tests}


def test_a_contact_found_late_has_missed_the_first_tests_and_one_due_today() -> None:
    plan = _close_contact(dt.date(2026, 12, 2))
    today = dt.date(2026, 12, 7)
    schedule = schedule_on(plan, today)
    states = _states(schedule)
    planned = [t.due for t in plan.tests]
    assert [d for d in planned if d < today] == [t.test.due for t in schedule.missed]
    assert all(states[d] == "missed" for d in planned if d < today)
    assert [t.test.due for t in schedule.due_today] == [d for d in planned if d == today]
    assert all(states[d] == "upcoming" for d in planned if d > today)
    assert schedule.due_now
    # Today's test takes the sample that makes up for the missed ones: no separate catch-up.
    assert not schedule.catch_up


def test_missed_tests_and_none_planned_today_mean_a_sample_now() -> None:
    plan = _close_contact(dt.date(2026, 12, 2))
    planned = [t.due for t in plan.tests]
    # The first day after the first test on which no test is planned.
    today = next(d for d in (planned[0] + dt.timedelta(days=i) for i in range(1, 30)) if d not in planned)
    schedule = schedule_on(plan, today)
    assert not schedule.due_today
    assert schedule.missed
    assert schedule.catch_up and schedule.due_now


def test_a_sample_does_the_test_of_its_day_or_the_last_one_before_it() -> None:
    plan = _close_contact(dt.date(2026, 12, 2))
    days = [t.due for t in plan.tests]
    # Two tests with a free day between them: a sample on that day is the earlier test, done late.
    gap = next(i for i in range(len(days) - 1) if (days[i + 1] - days[i]).days > 1)
    first, early, later = days[0], days[gap], days[gap + 1]
    late = early + dt.timedelta(days=1)
    today = later + dt.timedelta(days=1)
    results = [(first, "pcr"), (late, "pcr"), (later, "antigen")]
    schedule = schedule_on(plan, today, results)
    states = _states(schedule)
    assert (states[first], states[early]) == ("done", "done")
    # An antigen test does not stand in for a PCR test.
    assert states[later] == "missed"
    done = {t.test.due: t.sampled for t in schedule.tests if t.state == "done"}
    assert done == {first: first, early: late}


def test_before_the_plan_starts_every_test_lies_ahead() -> None:
    plan = _close_contact(dt.date(2026, 12, 2))
    schedule = schedule_on(plan, dt.date(2026, 12, 1))
    assert {t.state for t in schedule.tests} == {"upcoming"}
    assert not schedule.due_now
