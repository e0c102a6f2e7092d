"""Re-planning: a protocol switch, a new exposure, an upgrade, and what each person is told changed."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.protocol.loader import load_builtin
from fangkong.protocol.plan import (
    PlanError,
    PlanFacts,
    compute_plan,
    count_changes,
    replan_for_protocol,
    replan_many,
    replan_on_exposure,
    upgrade_plan,
    upgrade_targets,
)

EXPOSURE = dt.date(2022, 11, 8)
FACTS = PlanFacts(last_exposure=EXPOSURE, arrival=EXPOSURE, area_departure=EXPOSURE, diagnosis=EXPOSURE)


def test_switching_a_close_contact_from_cn9_to_cn9_20_shortens_the_plan_by_two_days() -> None:
    cn9, cn920 = load_builtin("cn-9"), load_builtin("cn-9-20")
    old = compute_plan(cn9, "close_contact", FACTS)

    new, change = replan_for_protocol(FACTS, old, cn920)

    assert old.end_date == dt.date(2022, 11, 18)
    assert new.end_date == dt.date(2022, 11, 16)
    assert change.changed
    assert change.end_moved_days == -2
    assert [t.due for t in change.tests_removed] == [dt.date(2022, 11, 15), dt.date(2022, 11, 18)]
    assert [t.due for t in change.tests_added] == [dt.date(2022, 11, 14), dt.date(2022, 11, 16)]
    assert change.stage_changes == (
        "stage 1 centralized quarantine: 7 → 5 days",
        "stage 2 home health monitoring 3 d → home isolation 3 d",
    )
    assert "end 2022-11-18 → 2022-11-16 (2 days earlier)" in change.summary
    assert change.summary.startswith("close_contact, cn-9 → cn-9-20: ")


def test_a_contact_of_a_contact_is_released_when_the_new_protocol_no_longer_identifies_them() -> None:
    old = compute_plan(load_builtin("cn-9"), "contact_of_contact", FACTS)
    new, change = replan_for_protocol(FACTS, old, load_builtin("cn-9-20"))

    assert not new.managed
    assert new.end_date is None
    assert change.changed
    assert change.end_moved_days is None
    assert "no longer identified under cn-9-20" in change.summary
    assert "management that was to end 2022-11-15 ends now" in change.summary


def test_a_category_the_new_protocol_lacks_ends_management_and_says_so() -> None:
    old = compute_plan(load_builtin("cn-9"), "medium_risk_area_arrival", FACTS)
    new, change = replan_for_protocol(FACTS, old, load_builtin("cn-9-20"))

    assert not new.managed
    assert not new.template.defined
    assert "cn-9-20 does not define this category" in change.pattern


def test_a_switch_to_the_same_rules_changes_nothing() -> None:
    old = compute_plan(load_builtin("cn-9"), "close_contact", FACTS)
    same_rules = load_builtin("cn-9", {"clock_event_day": 0})  # a separate load of the same rules
    new, change = replan_for_protocol(FACTS, old, same_rules)

    assert new.end_date == old.end_date
    assert not change.changed
    assert change.pattern == "no change"


def test_replanning_keeps_a_clock_restarted_by_a_later_exposure() -> None:
    cn9 = load_builtin("cn-9")
    restarted = replan_on_exposure(compute_plan(cn9, "close_contact", FACTS), EXPOSURE + dt.timedelta(days=3))

    new, _ = replan_for_protocol(FACTS, restarted, load_builtin("cn-9-20"))
    assert new.clock_date == EXPOSURE + dt.timedelta(days=3)


def test_replan_many_matches_one_by_one_and_counts_changes_by_category() -> None:
    cn9, cn920 = load_builtin("cn-9"), load_builtin("cn-9-20")
    people = []
    for i in range(30):
        facts = PlanFacts(last_exposure=EXPOSURE + dt.timedelta(days=i % 5), arrival=EXPOSURE)
        category = ("close_contact", "contact_of_contact", "inbound_traveller")[i % 3]
        people.append((facts, compute_plan(cn9, category, facts)))

    batch = replan_many(people, cn920)
    single = [replan_for_protocol(facts, plan, cn920) for facts, plan in people]

    assert [new for new, _ in batch] == [new for new, _ in single]
    counts = {category: n for category, _, n in count_changes(change for _, change in batch)}
    assert counts == {"close_contact": 10, "contact_of_contact": 10, "inbound_traveller": 10}


def test_an_earlier_exposure_changes_nothing_and_a_later_one_restarts_the_clock() -> None:
    cn9 = load_builtin("cn-9")
    plan = compute_plan(cn9, "close_contact", FACTS)

    assert replan_on_exposure(plan, EXPOSURE - dt.timedelta(days=2)) is plan
    later = compute_plan(cn9, "close_contact", PlanFacts(last_exposure=EXPOSURE + dt.timedelta(days=4)), plan)
    assert later.clock_date == EXPOSURE + dt.timedelta(days=4)
    assert later.end_date == dt.date(2022, 11, 22)


def test_a_new_exposure_on_an_arrival_plan_is_an_upgrade_not_a_restart() -> None:
    plan = compute_plan(load_builtin("cn-9"), "inbound_traveller", FACTS)
    with pytest.raises(PlanError, match="upgrade"):
        replan_on_exposure(plan, EXPOSURE + dt.timedelta(days=1))


def test_a_contact_of_a_contact_is_upgraded_to_close_contact_on_the_linked_positive() -> None:
    cn9 = load_builtin("cn-9")
    plan = compute_plan(cn9, "contact_of_contact", FACTS)

    assert upgrade_targets(cn9, "contact_of_contact", "linked_positive_in_first_tests") == ("close_contact",)
    upgraded = upgrade_plan(cn9, plan, "close_contact", FACTS, "linked_positive_in_first_tests")

    assert upgraded.category == "close_contact"
    assert [s.type for s in upgraded.stages] == ["centralized_quarantine", "home_health_monitoring"]
    assert upgraded.end_date == dt.date(2022, 11, 18)


def test_any_positive_makes_a_case_and_other_upgrades_are_refused() -> None:
    cn9 = load_builtin("cn-9")
    plan = compute_plan(cn9, "close_contact", FACTS)
    case = upgrade_plan(
        cn9, plan, "confirmed", PlanFacts(diagnosis=EXPOSURE + dt.timedelta(days=2)), "own_positive"
    )

    assert case.category == "confirmed"
    assert case.clock_date == EXPOSURE + dt.timedelta(days=2)
    with pytest.raises(PlanError, match="no upgrade from close_contact to contact_of_contact"):
        upgrade_plan(cn9, plan, "contact_of_contact", FACTS, "own_positive")


def test_a_plan_needs_the_date_its_clock_counts_from() -> None:
    with pytest.raises(PlanError, match="counts from arrival"):
        compute_plan(load_builtin("cn-9"), "inbound_traveller", PlanFacts(last_exposure=EXPOSURE))
    with pytest.raises(PlanError, match="no category 'suspect'"):
        compute_plan(load_builtin("cn-9"), "suspect", FACTS)


def test_plan_to_dict_is_json_ready() -> None:
    data = compute_plan(load_builtin("cn-9"), "close_contact", FACTS).to_dict()
    assert data["end_date"] == "2022-11-18"
    assert [s["days"] for s in data["stages"]] == [7, 3]
    assert data["tests"][0] == {
        "due": "2022-11-09",
        "plan_day": 1,
        "stage": 1,
        "stage_day": 1,
        "method": "pcr",
        "specimen": "oropharyngeal",
    }


def test_each_person_is_told_their_own_dates() -> None:
    cn9, cn920 = load_builtin("cn-9"), load_builtin("cn-9-20")
    summaries = []
    for day in (EXPOSURE, EXPOSURE + dt.timedelta(days=1), EXPOSURE):
        facts = PlanFacts(last_exposure=day)
        _, change = replan_for_protocol(facts, compute_plan(cn9, "close_contact", facts), cn920)
        summaries.append(change.summary)

    assert "end 2022-11-18 → 2022-11-16" in summaries[0]
    assert "end 2022-11-19 → 2022-11-17" in summaries[1]
    assert summaries[2] == summaries[0]
    assert "tests added: 2022-11-15 (pcr, stage 2 day 1), 2022-11-17 (pcr, stage 2 day 3)" in summaries[1]
