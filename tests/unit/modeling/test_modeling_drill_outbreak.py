"""A drill's outbreak read off a simulator run, its schedule, and the drill clock."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from fangkong.analytics import sim
from fangkong.modeling import drill_outbreak, population
from fangkong.modeling.drill_clock import Mark, drill_hours_at
from fangkong.modeling.strategies import arm


@pytest.fixture(scope="module")
def run() -> tuple[sim.Population, sim.Parameters, sim.SimResult]:
    people = population.generated(3_000, np.random.default_rng(5), area_size=500)
    params = sim.Parameters(initial_infections=5)
    result = sim.simulate(people, params, arm("cn-10").strategy, 40, np.random.default_rng(5))
    return people, params, result


def test_reported_cases_are_the_diagnosed_earliest_first_with_onset_before_diagnosis(run) -> None:  # type: ignore[no-untyped-def]
    people, params, result = run
    outbreak = drill_outbreak.extract(result, people, params, np.random.default_rng(1), max_cases=25)
    diagnosed = result.agents["diagnosed_day"]
    assert 0 < len(outbreak.cases) <= 25
    days = [c.diagnosed_day for c in outbreak.cases]
    assert days == sorted(days)
    assert all(diagnosed[c.person] == c.diagnosed_day for c in outbreak.cases)
    for case in outbreak.cases:
        if case.onset_day is not None:
            assert case.infected_day < case.onset_day <= case.diagnosed_day
    assert outbreak.infections == int((result.agents["infected_day"] >= 0).sum())


def test_each_infector_is_a_contact_infected_shortly_before(run) -> None:  # type: ignore[no-untyped-def]
    people, params, result = run
    outbreak = drill_outbreak.extract(result, people, params, np.random.default_rng(1), max_cases=60)
    infected = result.agents["infected_day"]
    linked = [c for c in outbreak.cases if c.infector is not None]
    assert linked, "a growing outbreak has cases with a source"
    for case in linked:
        assert case.infector is not None
        contacts = set(np.concatenate([layer.contacts_of(case.person) for layer in people.layers]).tolist())
        assert case.infector in contacts
        gap = case.infected_day - infected[case.infector]
        assert 1 <= gap <= drill_outbreak.INFECTOR_WINDOW_DAYS


def test_the_answer_key_is_household_class_and_workplace_contacts(run) -> None:  # type: ignore[no-untyped-def]
    people, params, result = run
    outbreak = drill_outbreak.extract(result, people, params, np.random.default_rng(1), max_cases=10)
    for case in outbreak.cases:
        household = set(people.layers[0].contacts_of(case.person).tolist())
        keyed = {p for p, setting in case.contacts if setting == "household"}
        assert keyed == household or len(case.contacts) == drill_outbreak.MAX_KEY_CONTACTS
        assert case.person not in {p for p, _ in case.contacts}


def test_fever_clinic_visits_rise_with_the_outbreak(run) -> None:  # type: ignore[no-untyped-def]
    people, params, result = run
    outbreak = drill_outbreak.extract(result, people, params, np.random.default_rng(1), max_cases=10)
    visits = np.asarray(outbreak.fever_visits)
    assert visits.shape == (40,)
    assert visits[-10:].mean() > visits[:5].mean()


def test_the_schedule_reports_each_case_on_its_diagnosis_day_and_investigates_after_the_delay(run) -> None:  # type: ignore[no-untyped-def]
    people, params, result = run
    outbreak = drill_outbreak.extract(result, people, params, np.random.default_rng(1), max_cases=10)
    person_ids = np.arange(people.size, dtype=np.int64) + 1000
    events = drill_outbreak.schedule(outbreak, person_ids, autopilot=True, investigation_delay_hours=6.0)
    assert [e.due_hours for e in events] == sorted(e.due_hours for e in events)
    reports = [e for e in events if e.kind == "case_report"]
    investigations = {e.payload["person_id"]: e.due_hours for e in events if e.kind == "investigation"}
    assert len(reports) == len(outbreak.cases)
    for case, report in zip(outbreak.cases, reports, strict=True):
        assert report.payload["person_id"] == case.person + 1000
        assert report.due_hours == case.diagnosed_day * 24 + drill_outbreak.REPORT_HOUR
        assert investigations[report.payload["person_id"]] == report.due_hours + 6.0
    assert sum(e.kind == "signal" for e in events) == 40
    quiet = drill_outbreak.schedule(outbreak, person_ids, autopilot=False, investigation_delay_hours=6.0)
    assert not any(e.kind == "investigation" for e in quiet)


T0 = dt.datetime(2024, 1, 1, 8, 0, tzinfo=dt.UTC)


def test_the_clock_runs_at_its_speed_from_the_last_mark() -> None:
    marks = [Mark(T0, 0.0)]
    assert drill_hours_at(marks, 1440.0, T0 + dt.timedelta(minutes=1)) == pytest.approx(24.0)
    assert drill_hours_at(marks, 1.0, T0 + dt.timedelta(hours=3)) == pytest.approx(3.0)
    assert drill_hours_at(marks, 1440.0, T0 - dt.timedelta(minutes=5)) == 0.0


def test_a_jump_is_a_mark_and_time_between_marks_never_passes_the_next_one() -> None:
    marks = [
        Mark(T0, 0.0),
        Mark(T0 + dt.timedelta(seconds=1), 100.0),
        Mark(T0 + dt.timedelta(seconds=2), 130.0),
    ]
    # One second after the start at 1440 drill hours per hour is 0.4 h, capped by nothing.
    assert drill_hours_at(marks, 1440.0, T0 + dt.timedelta(seconds=0.5)) == pytest.approx(0.2)
    assert drill_hours_at(marks, 1440.0, T0 + dt.timedelta(seconds=1.5)) == pytest.approx(100.2)
    # Far past the last mark the clock runs on from it.
    assert drill_hours_at(marks, 1.0, T0 + dt.timedelta(seconds=2, hours=2)) == pytest.approx(132.0)
    slow = [Mark(T0, 0.0), Mark(T0 + dt.timedelta(hours=10), 1.0)]
    assert drill_hours_at(slow, 1.0, T0 + dt.timedelta(hours=5)) == 1.0  # capped at the next mark


def test_naive_times_read_as_utc() -> None:
    marks = [Mark(T0.replace(tzinfo=None), 0.0)]
    assert drill_hours_at(marks, 2.0, T0 + dt.timedelta(hours=1)) == pytest.approx(2.0)
