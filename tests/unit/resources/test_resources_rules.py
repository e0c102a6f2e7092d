"""The resources rules without a database: certification validity, eligibility, readiness, a round's
consumption, the learned rate, days left and the reorder decision."""

from __future__ import annotations

import datetime as dt

from fangkong.resources import rules
from fangkong.resources.models import Skill, SupplyKind, TeamKind

DAY = dt.date(2026, 12, 7)


def test_a_certification_is_valid_from_the_exam_to_the_expiry_day_inclusive() -> None:
    passed, expires = dt.date(2026, 1, 1), dt.date(2026, 12, 7)
    assert rules.certification_valid(passed, expires, DAY)
    assert not rules.certification_valid(passed, expires, DAY + dt.timedelta(days=1))
    assert not rules.certification_valid(passed, expires, dt.date(2025, 12, 31))


def test_eligibility_needs_availability_presence_and_the_skill_certified() -> None:
    assert rules.eligible(True, False, {Skill.sampling}, Skill.sampling)
    assert not rules.eligible(False, False, {Skill.sampling}, Skill.sampling)
    assert not rules.eligible(True, True, {Skill.sampling}, Skill.sampling)
    assert not rules.eligible(True, False, {Skill.disinfection}, Skill.sampling)


def test_readiness_against_the_standard_size() -> None:
    assert rules.readiness(TeamKind.investigation, 3, 3).state is rules.ReadinessState.ready
    partly = rules.readiness(TeamKind.sampling, 8, 5)
    assert (partly.state, partly.gap, partly.ratio) == (rules.ReadinessState.partly_ready, 5, 0.5)
    assert rules.readiness(TeamKind.sampling, 8, 4).state is rules.ReadinessState.not_ready


def test_a_round_uses_a_tube_and_a_reaction_per_tube_and_a_swab_per_person() -> None:
    assert rules.round_consumption(tubes=100, people=950) == {
        SupplyKind.tube: 100,
        SupplyKind.reagent: 100,
        SupplyKind.swab: 950,
    }


def test_the_rate_is_learned_from_the_days_of_use_and_the_alert_follows_days_left() -> None:
    # 300 used since five days ago: 60 a day.
    rate = rules.daily_rate(300, DAY - dt.timedelta(days=4), DAY)
    assert rate == 60
    assert rules.days_left(300, rate) == 5
    assert rules.needs_reorder(300, rate, reorder_days=7)
    assert not rules.needs_reorder(600, rate, reorder_days=7)
    assert rules.reorder_quantity(300, rate, reorder_days=7) == 540
    # Nothing used: no rate, no alert, whatever is on hand.
    assert rules.daily_rate(0, None, DAY) == 0
    assert rules.days_left(10, 0) is None and not rules.needs_reorder(0, 0, 7)
    # Use older than the window is spread over the window, not over the days since it began.
    assert rules.daily_rate(140, DAY - dt.timedelta(days=40), DAY) == 10


def test_renewal_is_due_within_the_window_or_after_expiry() -> None:
    assert rules.renewal_due(DAY + dt.timedelta(days=30), DAY)
    assert not rules.renewal_due(DAY + dt.timedelta(days=31), DAY)
    assert rules.renewal_due(DAY - dt.timedelta(days=1), DAY)
