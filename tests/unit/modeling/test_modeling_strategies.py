"""Protocol → strategy: each shipped protocol file drives its simulator arm, number for number."""

from __future__ import annotations

import pytest

from fangkong.analytics import sim
from fangkong.analytics.sim.interventions import compile_strategy
from fangkong.modeling import strategies
from fangkong.modeling.strategies import BUILDING_SHARE_OF_AREA, DEFAULT_BEHAVIOUR, arm, strategy_for_protocol
from fangkong.protocol.loader import BUILTIN_DIR, builtin_ids, load_builtin, parse_protocol


def _plan_days(stages: tuple[sim.QuarantineStage, ...]) -> list[tuple[int, str, tuple[int, ...]]]:
    return [(s.days, s.place, s.test_days) for s in stages]


def test_cn9_is_seven_days_centralised_plus_three_at_home_with_its_test_days() -> None:
    mapping = arm("cn-9")
    tracing = mapping.strategy.tracing
    assert tracing is not None
    assert _plan_days(tracing.quarantine.stages) == [(7, "centralized", (1, 2, 3, 5, 7)), (3, "home", (3,))]
    assert tracing.quarantine.release_requires_negative  # all_tests_negative
    # 8 h to transfer a close contact (cn-9 deadlines) → household contacts quarantined the same day.
    assert tracing.trace_delay_days[0] == 0
    assert tracing.trace_delay_days[1] == DEFAULT_BEHAVIOUR.extra_trace_days_outside_household
    assert mapping.strategy.isolation is not None and mapping.strategy.isolation.place == "centralized"


def test_cn9_locks_a_compound_with_a_case_until_seven_clean_days_and_tests_it_in_ten_tube_pools() -> None:
    mapping = arm("cn-9")
    lockdown, rounds = mapping.strategy.lockdown, mapping.strategy.rounds
    assert lockdown is not None and rounds is not None
    assert lockdown.case_threshold == 1
    assert lockdown.lift_after_clean_days == 7  # high → medium after 7 days without a new infection
    assert lockdown.reduction == pytest.approx(DEFAULT_BEHAVIOUR.lockdown_reduction)
    assert rounds.pool_size == 10  # pool_sizes: [5, 10]
    assert rounds.scope == "locked"
    assert rounds.result_delay_days == 1  # completion within 24 h


def test_cn9_20_is_five_plus_three_with_building_lockdowns_lifted_after_five_days() -> None:
    mapping = arm("cn-9-20")
    tracing, lockdown = mapping.strategy.tracing, mapping.strategy.lockdown
    assert tracing is not None and lockdown is not None
    assert _plan_days(tracing.quarantine.stages) == [(5, "centralized", (1, 2, 3, 5)), (3, "home", (1, 3))]
    assert lockdown.lift_after_clean_days == 5
    # High-risk areas are buildings: the compound-wide reduction is scaled to one building's share.
    assert lockdown.reduction == pytest.approx(DEFAULT_BEHAVIOUR.lockdown_reduction * BUILDING_SHARE_OF_AREA)
    assert mapping.strategy.rounds is not None


def test_cn9_10_isolates_at_home_and_quarantines_five_days_at_home_without_lockdown_or_rounds() -> None:
    mapping = arm("cn-9-10")
    tracing = mapping.strategy.tracing
    assert tracing is not None
    assert _plan_days(tracing.quarantine.stages) == [(5, "home", (5,))]
    assert mapping.strategy.isolation is not None and mapping.strategy.isolation.place == "home"
    assert mapping.strategy.lockdown is None  # temporary_lockdown_allowed: false
    assert mapping.strategy.rounds is None  # regional testing disabled
    assert any("快封快解" in note for note in mapping.notes)


def test_cn10_and_no_measures_do_nothing_but_cn10_still_tests_the_ill() -> None:
    class_b = arm("cn-10").strategy
    assert class_b.isolation is None and class_b.tracing is None
    assert class_b.lockdown is None and class_b.rounds is None
    assert class_b.testing is not None and class_b.testing.symptomatic_daily_prob > 0
    nothing = arm("none").strategy
    assert nothing == sim.Strategy(name="none", isolation=None)


def test_contacts_of_contacts_are_named_as_not_simulated_where_the_protocol_identifies_them() -> None:
    assert any("contacts of close contacts" in n.lower() for n in arm("cn-9").notes)
    assert not any("contacts of close contacts" in n.lower() for n in arm("cn-9-20").notes)


@pytest.mark.parametrize("protocol_id", builtin_ids())
def test_every_shipped_protocol_gives_a_strategy_the_simulator_accepts(protocol_id: str) -> None:
    protocol = load_builtin(protocol_id)
    mapping = strategy_for_protocol(protocol)
    compile_strategy(mapping.strategy)  # raises on a bad strategy
    close = protocol.categories.get("close_contact")
    tracing = mapping.strategy.tracing
    if tracing is None:
        assert close is None or not close.stages or not protocol.contact_tracing.identified
        return
    assert close is not None
    assert [s.days for s in tracing.quarantine.stages] == [s.days for s in close.stages]
    assert [s.test_days for s in tracing.quarantine.stages] == [
        tuple(sorted({d for t in stage.tests for d in t.days})) for stage in close.stages
    ]


def test_the_arm_follows_an_edit_of_the_protocol_file() -> None:
    text = (BUILTIN_DIR / "cn-9.yaml").read_text(encoding="utf-8")
    edited = text.replace("days: 7                       # §3 cn-9: 7 d centralized", "days: 14  #", 1)
    assert edited != text
    edited = edited.replace("days: [1, 2, 3, 5, 7]}   # §3 (C, S1, S7x)", "days: [1, 7, 14]}", 1)
    protocol = parse_protocol(edited, "edited cn-9")
    tracing = strategy_for_protocol(protocol).strategy.tracing
    assert tracing is not None
    assert _plan_days(tracing.quarantine.stages)[0] == (14, "centralized", (1, 7, 14))


def test_behaviour_is_shared_by_every_arm_and_can_be_changed() -> None:
    from dataclasses import replace

    eager = replace(DEFAULT_BEHAVIOUR, symptomatic_test_prob=0.5, vaccine_doses_per_day=100)
    for name in strategies.STANDARD_ARMS:
        strategy = arm(name, eager).strategy
        assert strategy.vaccination is not None and strategy.vaccination.doses_per_day == 100
        if strategy.testing is not None:
            assert strategy.testing.symptomatic_daily_prob == 0.5
