"""Every row of the categories table (protocols.md §3) for cn-9, cn-9-20 and cn-9-10, as plans with dates.

Each row is written down as protocols.md states it; the plan computed from the shipped file must give
the same stages, places, days and test days, and the dates that follow from them, both when the day of
the clock event is day 0 and when it is day 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from fangkong.protocol.loader import load_builtin
from fangkong.protocol.plan import ManagementPlan, PlanFacts, compute_plan
from fangkong.protocol.schema import CtAtLeast, Protocol

EVENT = dt.date(2022, 7, 1)
FACTS = PlanFacts(last_exposure=EVENT, arrival=EVENT, area_departure=EVENT, diagnosis=EVENT, duty_end=EVENT)


@dataclass(frozen=True)
class Stage:
    type: str
    days: int
    place: str
    may_leave_home: bool
    test_days: tuple[int, ...]
    alternative_place: str | None = None


@dataclass(frozen=True)
class TableRow:
    protocol: str
    category: str
    clock: str
    stages: tuple[Stage, ...]
    release: tuple[str, ...]


ROWS = [
    TableRow(
        "cn-9",
        "close_contact",
        "last_exposure",
        (
            Stage("centralized_quarantine", 7, "quarantine_site", False, (1, 2, 3, 5, 7)),
            Stage("home_health_monitoring", 3, "home", False, (3,)),
        ),
        ("all_tests_negative",),
    ),
    TableRow(
        "cn-9",
        "contact_of_contact",
        "last_exposure",
        (Stage("home_isolation", 7, "home", False, (1, 4, 7)),),
        ("all_tests_negative", "linked_first_tests_negative"),
    ),
    TableRow(
        "cn-9",
        "inbound_traveller",
        "arrival",
        (
            Stage("centralized_quarantine", 7, "quarantine_site", False, (1, 2, 3, 5, 7)),
            Stage("home_health_monitoring", 3, "home", False, (3,)),
        ),
        ("all_tests_negative",),
    ),
    TableRow(
        "cn-9",
        "high_risk_area_arrival",
        "area_departure",
        (Stage("centralized_quarantine", 7, "quarantine_site", False, (1, 2, 3, 5, 7)),),
        ("all_tests_negative",),
    ),
    TableRow(
        "cn-9",
        "medium_risk_area_arrival",
        "area_departure",
        (Stage("home_isolation", 7, "home", False, (1, 4, 7), alternative_place="quarantine_site"),),
        ("all_tests_negative",),
    ),
    TableRow(
        "cn-9",
        "closed_loop_worker",
        "duty_end",
        (Stage("centralized_quarantine", 7, "quarantine_site", False, (1, 4, 7), alternative_place="home"),),
        ("all_tests_negative",),
    ),
    TableRow(
        "cn-9-20",
        "close_contact",
        "last_exposure",
        (
            Stage("centralized_quarantine", 5, "quarantine_site", False, (1, 2, 3, 5)),
            Stage("home_isolation", 3, "home", False, (1, 3)),
        ),
        ("all_tests_negative",),
    ),
    TableRow(
        "cn-9-20",
        "inbound_traveller",
        "arrival",
        (
            Stage("centralized_quarantine", 5, "quarantine_site", False, (1, 2, 3, 5)),
            Stage("home_isolation", 3, "home", False, (1, 3)),
        ),
        ("all_tests_negative",),
    ),
    TableRow(
        "cn-9-20",
        "high_risk_area_arrival",
        "area_departure",
        (Stage("home_isolation", 7, "home", False, (1, 3, 5, 7)),),
        ("all_tests_negative",),
    ),
    TableRow(
        "cn-9-20",
        "closed_loop_worker",
        "duty_end",
        (Stage("home_health_monitoring", 5, "home", True, (1, 3, 5)),),
        (),
    ),
    TableRow(
        "cn-9-10",
        "close_contact",
        "last_exposure",
        (Stage("home_isolation", 5, "home", False, (5,), alternative_place="quarantine_site"),),
        ("final_test_negative",),
    ),
    TableRow(
        "cn-9-10",
        "confirmed",
        "diagnosis",
        (Stage("home_isolation", 7, "home", False, (6, 7), alternative_place="makeshift_hospital"),),
        ("ct_at_least",),
    ),
    TableRow(
        "cn-9-10",
        "asymptomatic",
        "diagnosis",
        (Stage("home_isolation", 7, "home", False, (6, 7), alternative_place="makeshift_hospital"),),
        ("ct_at_least",),
    ),
]


def _protocol(protocol_id: str, clock_event_day: int) -> Protocol:
    return load_builtin(protocol_id, {"clock_event_day": clock_event_day})


def _day(plan_day: int, clock_event_day: int) -> dt.date:
    """The date of a plan day, written out from the definition of day 0 / day 1."""
    first = EVENT + dt.timedelta(days=1) if clock_event_day == 0 else EVENT
    return first + dt.timedelta(days=plan_day - 1)


@pytest.mark.parametrize("clock_event_day", [0, 1])
@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.protocol}:{r.category}")
def test_category_row_gives_its_stages_tests_and_dates(row: TableRow, clock_event_day: int) -> None:
    protocol = _protocol(row.protocol, clock_event_day)
    plan = compute_plan(protocol, row.category, FACTS)

    assert plan.template.clock == row.clock
    assert [(s.type, s.days, s.place, s.may_leave_home, s.alternative_place) for s in plan.stages] == [
        (s.type, s.days, s.place, s.may_leave_home, s.alternative_place) for s in row.stages
    ]
    before = 0
    expected_tests: list[tuple[dt.date, int, int]] = []
    for number, (stage, expected) in enumerate(zip(plan.stages, row.stages, strict=True), start=1):
        assert stage.start == _day(before + 1, clock_event_day)
        assert stage.end == _day(before + expected.days, clock_event_day)
        expected_tests.extend((_day(before + d, clock_event_day), number, d) for d in expected.test_days)
        before += expected.days
    assert [(t.due, t.stage_number, t.stage_day) for t in plan.tests] == expected_tests
    assert plan.end_date == _day(before, clock_event_day)
    assert tuple(rule.rule for rule in plan.release) == row.release


@pytest.mark.parametrize(
    ("clock_event_day", "centralized", "monitoring", "tests"),
    [
        (
            0,
            (dt.date(2022, 7, 2), dt.date(2022, 7, 8)),
            (dt.date(2022, 7, 9), dt.date(2022, 7, 11)),
            ["2022-07-02", "2022-07-03", "2022-07-04", "2022-07-06", "2022-07-08", "2022-07-11"],
        ),
        (
            1,
            (dt.date(2022, 7, 1), dt.date(2022, 7, 7)),
            (dt.date(2022, 7, 8), dt.date(2022, 7, 10)),
            ["2022-07-01", "2022-07-02", "2022-07-03", "2022-07-05", "2022-07-07", "2022-07-10"],
        ),
    ],
)
def test_cn9_close_contact_seven_plus_three_in_calendar_dates(
    clock_event_day: int,
    centralized: tuple[dt.date, dt.date],
    monitoring: tuple[dt.date, dt.date],
    tests: list[str],
) -> None:
    plan = compute_plan(_protocol("cn-9", clock_event_day), "close_contact", PlanFacts(last_exposure=EVENT))

    first, second = plan.stages
    assert (first.start, first.end) == centralized
    assert (second.start, second.end) == monitoring
    assert [t.due.isoformat() for t in plan.tests] == tests
    assert plan.end_date == monitoring[1]
    assert {t.specimen for t in plan.tests} == {"oropharyngeal"}


def test_cn9_contact_of_contact_has_daily_checks_and_upgrades_on_linked_positive() -> None:
    protocol = load_builtin("cn-9")
    category = protocol.categories["contact_of_contact"]
    linked = category.release[1]

    assert category.stages[0].daily_health_check
    assert linked.rule == "linked_first_tests_negative"
    assert linked.count == 2
    upgrade = next(u for u in protocol.upgrades if u.when == "linked_positive_in_first_tests")
    assert upgrade.from_ == ("contact_of_contact",)
    assert upgrade.to == ("close_contact",)
    assert upgrade.first_tests == 2


def test_cn9_low_risk_area_arrival_is_two_tests_within_three_days() -> None:
    plan = compute_plan(load_builtin("cn-9"), "low_risk_area_arrival", PlanFacts(arrival=EVENT))

    (stage,) = plan.stages
    assert stage.type == "testing_only"
    assert stage.days == 3
    assert stage.may_leave_home
    assert len(plan.tests) == 2
    assert all(stage.start <= t.due <= stage.end for t in plan.tests)
    assert plan.tests[1].due > plan.tests[0].due  # samples at least 24 h apart


def test_cn9_leaving_a_low_risk_area_needs_a_48_hour_test() -> None:
    areas = load_builtin("cn-9").risk_areas
    assert areas is not None
    assert areas.tiers["low"].leave_requires_negative_test_hours == 48


def test_cn9_frontline_workers_are_screened_daily_by_pcr_with_antigen_as_supplement() -> None:
    protocol = load_builtin("cn-9")
    plan = compute_plan(protocol, "frontline_worker", PlanFacts())

    assert not plan.managed
    screening = protocol.categories["frontline_worker"].screening
    assert screening is not None
    assert (screening.every_days, screening.method, screening.supplementary) == (1, "pcr", "antigen")


@pytest.mark.parametrize("category", ["confirmed", "asymptomatic"])
def test_cn9_infected_release_on_two_ct_35_tests_then_monitoring(category: str) -> None:
    protocol = load_builtin("cn-9")
    plan = compute_plan(protocol, category, PlanFacts(diagnosis=EVENT))

    isolation, monitoring = plan.stages
    assert isolation.type == "medical_isolation"
    assert isolation.place == "makeshift_hospital"
    (exit_rule,) = isolation.exit
    assert isinstance(exit_rule, CtAtLeast)
    assert (exit_rule.threshold, exit_rule.consecutive, exit_rule.min_interval_hours) == (35, 2, 24)
    assert monitoring.type == "home_health_monitoring"
    assert monitoring.days == 7
    assert [t.stage_day for t in plan.tests if t.stage_number == 2] == [7]
    assert protocol.parameters["discharge_monitoring_days"].tag == "G"


def test_cn9_infected_placement_and_planning_days_are_declared_unconfirmed() -> None:
    parameters = load_builtin("cn-9").parameters
    assert parameters["infected_isolation_days"].tag == "U"
    assert parameters["discharge_monitoring_test_days"].tag == "L"


def test_cn9_20_stops_identifying_contacts_of_close_contacts() -> None:
    protocol = load_builtin("cn-9-20")
    plan = compute_plan(protocol, "contact_of_contact", FACTS)

    assert not plan.managed
    assert not plan.template.identified
    contact_of_contact = protocol.contact_tracing.contact_of_contact
    assert contact_of_contact is not None
    assert not contact_of_contact.identified
    assert not any("contact_of_contact" in rule.from_ for rule in protocol.upgrades)


def test_cn9_20_inbound_positive_is_ct_below_35_with_48_hour_pre_boarding_test() -> None:
    inbound = load_builtin("cn-9-20").categories["inbound_traveller"]
    assert inbound.positive_ct_below == 35
    assert inbound.pre_travel_test_hours == 48


def test_cn9_20_drops_the_medium_tier_and_lifts_high_areas_after_five_days() -> None:
    areas = load_builtin("cn-9-20").risk_areas
    assert areas is not None
    assert set(areas.tiers) == {"high", "low"}
    (step,) = areas.tiers["high"].downgrade
    assert (step.to, step.no_new_infection_days) == ("low", 5)


def test_cn9_10_infected_release_needs_ct_35_on_days_six_and_seven() -> None:
    plan = compute_plan(load_builtin("cn-9-10"), "confirmed", PlanFacts(diagnosis=EVENT))
    (rule,) = plan.release
    assert isinstance(rule, CtAtLeast)
    assert rule.threshold == 35
    assert rule.consecutive == 2
    assert [t.plan_day for t in plan.tests] == [6, 7]


def test_cn9_10_ends_mass_testing_and_temporary_lockdowns() -> None:
    protocol = load_builtin("cn-9-10")
    assert protocol.regional_testing is not None
    assert not protocol.regional_testing.enabled
    assert protocol.risk_areas is not None
    assert not protocol.risk_areas.temporary_lockdown_allowed


def test_cn10_manages_nobody_and_traces_no_contacts() -> None:
    protocol = load_builtin("cn-10")
    plans: list[ManagementPlan] = [compute_plan(protocol, name, FACTS) for name in protocol.categories]

    assert not any(plan.managed for plan in plans)
    assert not protocol.contact_tracing.identified
    assert protocol.risk_areas is not None
    assert not protocol.risk_areas.designated
    assert protocol.categories["inbound_traveller"].pre_travel_test_hours == 48


def test_cn8_close_contact_fourteen_plus_seven_with_double_test_at_release() -> None:
    plan = compute_plan(load_builtin("cn-8"), "close_contact", PlanFacts(last_exposure=EVENT))

    assert [(s.type, s.days) for s in plan.stages] == [
        ("centralized_quarantine", 14),
        ("home_health_monitoring", 7),
    ]
    assert [(t.stage_number, t.stage_day) for t in plan.tests] == [
        (1, 1),
        (1, 4),
        (1, 7),
        (1, 14),
        (2, 2),
        (2, 7),
    ]
    assert {t.specimen for t in plan.tests} == {"nasopharyngeal"}
    assert [rule.rule for rule in plan.release] == ["all_tests_negative", "double_sample_double_test"]
