"""The protocol classifier applied per person to an index case's exposures."""

from __future__ import annotations

import datetime as dt

from fangkong.core.i18n import render_text
from fangkong.protocol.loader import load_builtin
from fangkong.tracing.classification import ExposureFact, IndexTiming, Via, decide
from fangkong.tracing.models import ContactCategory

CN9 = load_builtin("cn-9")
INDEX = IndexTiming(1, onset=dt.date(2022, 7, 5), sampling=None, isolated_at=dt.datetime(2022, 7, 6, 10))
NOW = dt.datetime(2022, 7, 7, 12)


def _one(facts: list[ExposureFact], index: IndexTiming = INDEX):  # type: ignore[no-untyped-def]
    return {d.subject_key: d for d in decide(CN9, index, facts, NOW)}


def test_a_person_with_several_exposures_gets_the_most_serious_outcome() -> None:
    decisions = _one(
        [
            ExposureFact("p:1", "bus", dt.datetime(2022, 7, 2, 8), None, distance_m=3),
            ExposureFact("p:1", "household", dt.datetime(2022, 7, 4, 19), None),
            ExposureFact("p:2", "bus", dt.datetime(2022, 7, 2, 8), None, distance_m=3),
        ]
    )
    assert decisions["p:1"].category is ContactCategory.close_contact
    assert decisions["p:1"].setting == "household"
    assert decisions["p:1"].first_exposure == dt.datetime(2022, 7, 2, 8)
    assert decisions["p:1"].last_exposure == dt.datetime(2022, 7, 4, 19)
    assert decisions["p:2"].category is ContactCategory.general_contact


def test_second_ring_through_a_close_contact() -> None:
    via = Via(9, "contact 9", dt.datetime(2022, 7, 4, 19), dt.datetime(2022, 7, 6, 12), True)
    decisions = _one(
        [ExposureFact("p:3", "office", dt.datetime(2022, 7, 5, 9), dt.datetime(2022, 7, 5, 17), via=via)]
    )
    assert decisions["p:3"].category is ContactCategory.contact_of_contact
    assert decisions["p:3"].via_contact_id == 9


def test_an_index_not_yet_isolated_keeps_the_window_open() -> None:
    open_index = IndexTiming(1, onset=dt.date(2022, 7, 5), sampling=None, isolated_at=None)
    decision = _one([ExposureFact("p:1", "household", dt.datetime(2022, 7, 7, 8), None)], open_index)["p:1"]
    assert decision.category is ContactCategory.close_contact
    assert "not isolated yet" in render_text(decision.reason, None)


def test_an_index_without_dates_cannot_classify() -> None:
    blank = IndexTiming(1, onset=None, sampling=None, isolated_at=None)
    decision = _one([ExposureFact("p:1", "household", dt.datetime(2022, 7, 4, 8), None)], blank)["p:1"]
    assert decision.category is ContactCategory.not_classified
    assert "neither an onset nor a sampling date" in render_text(decision.reason, None)


def test_a_protocol_that_stopped_tracing_says_so() -> None:
    decision = {
        d.subject_key: d
        for d in decide(
            load_builtin("cn-10"),
            INDEX,
            [ExposureFact("p:1", "household", dt.datetime(2022, 7, 4, 8), None)],
            NOW,
        )
    }["p:1"]
    assert decision.category is ContactCategory.not_classified
    assert "not identified under cn-10" in render_text(decision.reason, None)
