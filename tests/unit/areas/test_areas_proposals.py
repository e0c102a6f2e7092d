"""Proposals (pure): the units each protocol allows, read from its words; frequented places high, places
stayed at medium where the protocol has a medium tier; cn-10 proposes nothing and says so; reasons."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.areas.models import UnitKind
from fangkong.areas.rules import proposals
from fangkong.areas.rules.proposals import VisitFact, place_proposals, tier_unit_rule, unit_rule
from fangkong.protocol.loader import load_builtin

U = UnitKind


def rules(protocol_id: str):  # type: ignore[no-untyped-def]
    return load_builtin(protocol_id).risk_areas


def test_cn9_high_is_a_compound_or_village_adjustable_after_the_investigation() -> None:
    rule = tier_unit_rule(rules("cn-9"), "high")
    assert rule is not None
    assert rule.home_unit is U.compound
    assert rule.allowed == frozenset(UnitKind)  # "adjustable after the investigation"
    assert rule.place_unit is U.building


def test_cn9_medium_extent_is_set_by_the_investigation() -> None:
    rule = tier_unit_rule(rules("cn-9"), "medium")
    assert rule is not None and rule.allowed == frozenset(UnitKind)


def test_cn9_20_high_is_a_unit_or_building_never_larger() -> None:
    rule = tier_unit_rule(rules("cn-9-20"), "high")
    assert rule is not None
    assert rule.home_unit is U.unit
    assert rule.allowed == {U.household, U.floor, U.unit, U.building}
    assert tier_unit_rule(rules("cn-9-20"), "medium") is None  # the medium tier was dropped


def test_cn9_10_allows_only_building_unit_floor_or_household() -> None:
    rule = tier_unit_rule(rules("cn-9-10"), "high")
    assert rule is not None
    assert rule.allowed == {U.building, U.unit, U.floor, U.household}
    assert U.compound not in rule.allowed and U.community not in rule.allowed
    assert U.township not in rule.allowed  # "never the ... street"
    assert rule.home_unit is U.building


def test_cn10_designates_none_and_proposals_say_so() -> None:
    cn10 = rules("cn-10")
    assert not proposals.designates(cn10)
    assert tier_unit_rule(cn10, "high") is None
    assert place_proposals(cn10, [VisitFact(1, "k", "超市", dt.date(2023, 1, 9))]) == []
    assert proposals.no_designation_notice("cn-10").render(None) == (
        "the protocol in force (cn-10) designates no risk areas"
    )


@pytest.mark.parametrize(
    ("text", "allowed", "home"),
    [
        ("楼栋、单元; 不得扩大到小区", {U.household, U.floor, U.unit, U.building}, U.building),
        ("household", {U.household}, U.household),
        ("the whole community (社区)", {k for k in UnitKind if proposals.UNIT_SIZE[k] <= 6}, U.community),
    ],
)
def test_an_uploaded_protocols_unit_words_are_read_the_same_way(
    text: str, allowed: set[UnitKind], home: UnitKind
) -> None:
    rule = unit_rule(text)
    assert rule.allowed == allowed and rule.home_unit is home


DAY = dt.date(2022, 7, 1)


def test_a_place_visited_on_two_days_is_frequent_and_high_a_single_stay_is_medium() -> None:
    visits = [
        VisitFact(1, "office", "翠苑大厦", DAY),
        VisitFact(2, "office", "翠苑大厦", DAY + dt.timedelta(days=1)),
        VisitFact(3, "market", "文三路菜场", DAY),
        VisitFact(4, "market", "文三路菜场", DAY),  # twice the same day: a stay, not a habit
    ]
    found = place_proposals(rules("cn-9"), visits)
    assert [(p.place_name, p.level, p.link, p.visit_id) for p in found] == [
        ("文三路菜场", "medium", proposals.STAYED, 3),
        ("翠苑大厦", "high", proposals.FREQUENT, 1),
    ]


def test_without_a_medium_tier_only_frequented_places_are_proposed() -> None:
    visits = [
        VisitFact(1, "office", "翠苑大厦", DAY),
        VisitFact(2, "office", "翠苑大厦", DAY + dt.timedelta(days=2)),
        VisitFact(3, "market", "文三路菜场", DAY),
    ]
    for protocol_id in ("cn-9-20", "cn-9-10"):
        found = place_proposals(rules(protocol_id), visits)
        assert [(p.place_name, p.level) for p in found] == [("翠苑大厦", "high")]


def test_the_reason_names_the_cases_by_how_they_are_linked() -> None:
    reason = proposals.reason_for(
        [
            proposals.LinkFact("330106-2", proposals.HOME, DAY),
            proposals.LinkFact("330106-1", proposals.HOME, DAY),
            proposals.LinkFact("330106-3", proposals.STAYED, DAY),
        ]
    )
    assert reason.render(None) == "home of 330106-1, 330106-2; 330106-3 stayed here"
    assert proposals.reason_for([]).render(None) == ""
