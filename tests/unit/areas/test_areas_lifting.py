"""The lifting clock, day by day, under the shipped protocols (protocols.md §4): cn-9 high → medium after 7
days with no new infection and a negative day-7 round, then → low after 3 more days; cn-9 medium → low
after 7 days and a negative day-7 round; a new case restarts the clock; cn-9-20 high → low after 5 days;
cn-9-10 lifts within 5 days; cn-10 designates nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.areas.rules import lifting
from fangkong.areas.rules.lifting import ClockFacts, evaluate, next_step, projected_changes
from fangkong.core.i18n import render_text
from fangkong.protocol.loader import load_builtin
from fangkong.protocol.schema import RiskAreas

DESIGNATED = dt.date(2022, 7, 1)
SCREENING = "needs a negative screening round of everyone on day 7"


def rules(protocol_id: str) -> RiskAreas | None:
    return load_builtin(protocol_id).risk_areas


def day(n: int) -> dt.date:
    return DESIGNATED + dt.timedelta(days=n)


def walk(
    protocol_id: str, facts: ClockFacts, days: range, *, negative_round: bool
) -> list[tuple[int, str | None, tuple[str, ...]]]:
    """(day, level due, blocker kinds) for each day of ``days``: None when nothing is due."""
    table = []
    for n in days:
        found = evaluate(rules(protocol_id), facts, day(n), negative_round_found=negative_round)
        table.append(
            (
                n,
                found.step.to_level if found else None,
                tuple(b.kind for b in found.blockers) if found else (),
            )
        )
    return table


# -------------------------------------------------------------------------------------------- cn-9 high

HIGH = ClockFacts("high", DESIGNATED)

CN9_HIGH_NO_ROUND = [
    (0, None, ()),
    (1, None, ()),
    (2, None, ()),
    (3, None, ()),
    (4, None, ()),
    (5, None, ()),
    (6, None, ()),
    (7, "medium", ("screening",)),  # due, but the day-7 round of everyone is missing
    (8, "medium", ("screening",)),  # still waiting for it
]


def test_cn9_high_falls_due_on_day_7_and_waits_for_the_negative_day_7_round() -> None:
    assert walk("cn-9", HIGH, range(9), negative_round=False) == CN9_HIGH_NO_ROUND


def test_cn9_high_goes_to_medium_on_day_7_with_a_negative_round() -> None:
    table = walk("cn-9", HIGH, range(9), negative_round=True)
    assert table == [(n, level, ()) for n, level, _ in CN9_HIGH_NO_ROUND]


def test_the_screening_blocker_says_what_is_missing_in_the_users_words() -> None:
    found = evaluate(rules("cn-9"), HIGH, day(7), negative_round_found=False)
    assert found is not None and not found.ready
    assert render_text(found.blockers[0].message, None) == SCREENING
    assert found.step.screening_on == day(7)
    assert found.step.reason.render(None) == (
        "7 consecutive days with no new infection and a negative screening round of everyone on day 7"
    )


def test_a_new_case_on_day_6_restarts_the_clock_and_blocks_the_change_until_day_13() -> None:
    reset = ClockFacts("high", DESIGNATED, last_case_on=day(6))
    table = walk("cn-9", reset, range(15), negative_round=True)
    assert table == [
        (0, None, ()),
        (1, None, ()),
        (2, None, ()),
        (3, None, ()),
        (4, None, ()),
        (5, None, ()),
        (6, None, ()),
        (7, "medium", ("new_case",)),  # would have been due: the new case holds it back
        (8, "medium", ("new_case",)),
        (9, "medium", ("new_case",)),
        (10, "medium", ("new_case",)),
        (11, "medium", ("new_case",)),
        (12, "medium", ("new_case",)),
        (13, "medium", ()),  # 7 days after the case, with the negative day-7 round
        (14, "medium", ()),
    ]
    blocked = evaluate(rules("cn-9"), reset, day(7), negative_round_found=True)
    assert blocked is not None
    assert render_text(blocked.blockers[0].message, None) == (
        "a new infection on 2022-07-07 started the clock again: next change due on 2022-07-14"
    )
    without_round = evaluate(rules("cn-9"), reset, day(13), negative_round_found=False)
    assert without_round is not None
    assert [b.kind for b in without_round.blockers] == ["screening"]
    assert without_round.step.screening_on == day(13)


def test_a_case_found_before_designation_does_not_move_the_clock() -> None:
    earlier = ClockFacts("high", DESIGNATED, last_case_on=day(-2))
    assert next_step(rules("cn-9"), earlier) == next_step(rules("cn-9"), HIGH)


def test_a_downgraded_high_area_goes_to_low_after_3_more_days_without_a_round() -> None:
    downgraded = lifting.applied(HIGH, "medium", day(7))
    assert downgraded.downgraded_from_high and downgraded.level == "medium"
    assert walk("cn-9", downgraded, range(7, 12), negative_round=False) == [
        (7, None, ()),
        (8, None, ()),
        (9, None, ()),
        (10, "low", ()),
        (11, "low", ()),
    ]


def test_a_new_case_in_a_downgraded_area_restarts_its_3_days() -> None:
    downgraded = ClockFacts("medium", day(7), last_case_on=day(9), downgraded_from_high=True)
    assert walk("cn-9", downgraded, range(9, 14), negative_round=False) == [
        (9, None, ()),
        (10, "low", ("new_case",)),
        (11, "low", ("new_case",)),
        (12, "low", ()),
        (13, "low", ()),
    ]


# ------------------------------------------------------------------------------------------ cn-9 medium


def test_cn9_medium_goes_to_low_after_7_days_and_a_negative_day_7_round() -> None:
    medium = ClockFacts("medium", DESIGNATED)
    assert walk("cn-9", medium, range(5, 9), negative_round=False) == [
        (5, None, ()),
        (6, None, ()),
        (7, "low", ("screening",)),
        (8, "low", ("screening",)),
    ]
    assert walk("cn-9", medium, range(6, 8), negative_round=True) == [(6, None, ()), (7, "low", ())]


def test_cn9_medium_with_a_case_on_day_6() -> None:
    medium = ClockFacts("medium", DESIGNATED, last_case_on=day(6))
    assert [row[1:] for row in walk("cn-9", medium, range(6, 14), negative_round=True)] == [
        (None, ()),
        ("low", ("new_case",)),
        ("low", ("new_case",)),
        ("low", ("new_case",)),
        ("low", ("new_case",)),
        ("low", ("new_case",)),
        ("low", ("new_case",)),
        ("low", ()),
    ]


# -------------------------------------------------------------------------------------- cn-9-20, cn-9-10


@pytest.mark.parametrize("protocol_id", ["cn-9-20", "cn-9-10"])
def test_high_goes_to_low_after_5_days_with_no_round_needed(protocol_id: str) -> None:
    assert walk(protocol_id, HIGH, range(7), negative_round=False) == [
        (0, None, ()),
        (1, None, ()),
        (2, None, ()),
        (3, None, ()),
        (4, None, ()),
        (5, "low", ()),
        (6, "low", ()),
    ]


def test_cn9_20_a_new_case_on_day_3_moves_the_lifting_to_day_8() -> None:
    reset = ClockFacts("high", DESIGNATED, last_case_on=day(3))
    assert walk("cn-9-20", reset, range(4, 9), negative_round=False) == [
        (4, None, ()),
        (5, "low", ("new_case",)),
        (6, "low", ("new_case",)),
        (7, "low", ("new_case",)),
        (8, "low", ()),
    ]


def test_cn9_10_lifts_within_5_days_of_designation() -> None:
    step = next_step(rules("cn-9-10"), HIGH)
    assert step is not None
    assert step.to_level == "low" and (step.due_on - DESIGNATED).days <= 5
    assert step.screening_on is None


def test_an_area_at_a_tier_the_protocol_in_force_dropped_is_due_to_low_at_once() -> None:
    """A cn-9 medium area when cn-9-20 (high and low only) comes into force."""
    found = evaluate(rules("cn-9-20"), ClockFacts("medium", DESIGNATED), day(1), negative_round_found=False)
    assert found is not None and found.ready
    assert found.step.to_level == "low" and found.step.due_on == DESIGNATED
    assert found.step.reason.render(None) == "the protocol in force has no medium tier"


# ----------------------------------------------------------------------------------------------- cn-10


def test_cn10_designates_nothing_and_an_area_left_standing_is_due_to_low_at_once() -> None:
    cn10 = rules("cn-10")
    assert cn10 is not None and not cn10.designated
    found = evaluate(cn10, HIGH, DESIGNATED, negative_round_found=False)
    assert found is not None and found.ready and found.step.to_level == "low"
    assert found.step.reason.render(None) == "the protocol in force designates no risk areas"


# ------------------------------------------------------------------------------------------ the calendar


def test_the_calendar_projects_every_change_if_nothing_new_happens() -> None:
    assert projected_changes(rules("cn-9"), HIGH) == [
        lifting.ProjectedChange(day(7), "high", "medium", True),
        lifting.ProjectedChange(day(10), "medium", "low", False),
    ]
    assert projected_changes(rules("cn-9"), ClockFacts("medium", DESIGNATED)) == [
        lifting.ProjectedChange(day(7), "medium", "low", True)
    ]
    assert projected_changes(rules("cn-9-20"), HIGH) == [
        lifting.ProjectedChange(day(5), "high", "low", False)
    ]
    assert projected_changes(rules("cn-9"), ClockFacts("low", DESIGNATED)) == []
