"""The close-contact classifier on concrete investigation cases."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.protocol.classifier import (
    ClassifierError,
    Exposure,
    IndexCase,
    LinkedCloseContact,
    classify,
    classify_exposure,
    exposure_window,
)
from fangkong.protocol.loader import load_builtin

# Onset 2022-07-04, isolated 2022-07-05 10:00: under cn-9 the window is 2022-06-30 00:00 .. 07-05 10:00.
INDEX = IndexCase("case-1", isolated_at=dt.datetime(2022, 7, 5, 10, 0), onset=dt.date(2022, 7, 4))


def _at(day: int, hour: int = 12) -> dt.datetime:
    """A time in July 2022."""
    return dt.datetime(2022, 7, day, hour, 0)


def test_household_exposure_inside_the_window_without_protection_is_a_close_contact() -> None:
    result = classify_exposure(load_builtin("cn-9"), INDEX, Exposure("p1", "household", dt.date(2022, 7, 3)))

    assert result.outcome == "close_contact"
    assert result.reason == (
        "household exposure on 2022-07-03, inside the window 2022-06-30..2022-07-05 "
        "(4 days before onset until isolation), no protection"
    )


@pytest.mark.parametrize(
    ("start", "outcome"),
    [
        (dt.datetime(2022, 6, 29, 23, 0), "not_a_contact"),  # the evening before the window opens
        (dt.datetime(2022, 6, 30, 0, 30), "close_contact"),  # first hour of the window
        (dt.datetime(2022, 7, 5, 9, 0), "close_contact"),  # just before isolation
        (dt.datetime(2022, 7, 5, 11, 0), "not_a_contact"),  # after isolation
    ],
)
def test_the_window_runs_from_four_days_before_onset_until_isolation(
    start: dt.datetime, outcome: str
) -> None:
    result = classify_exposure(load_builtin("cn-9"), INDEX, Exposure("p", "office", start))
    assert result.outcome == outcome
    if outcome == "not_a_contact":
        assert "outside the window 2022-06-30..2022-07-05" in result.reason


def test_an_exposure_spanning_the_start_of_the_window_counts() -> None:
    exposure = Exposure("p", "shared_meal", dt.datetime(2022, 6, 29, 20, 0), dt.datetime(2022, 6, 30, 1, 0))
    assert classify_exposure(load_builtin("cn-9"), INDEX, exposure).outcome == "close_contact"


def test_an_asymptomatic_index_counts_from_sampling_and_the_days_are_a_parameter() -> None:
    index = IndexCase("case-2", isolated_at=dt.datetime(2022, 7, 5, 10, 0), sampling=dt.date(2022, 7, 4))

    window = exposure_window(load_builtin("cn-9"), index)
    assert window.start == dt.datetime(2022, 6, 30)
    assert str(window.description) == "4 days before sampling until isolation"
    wider = exposure_window(load_builtin("cn-9", {"contact_window_days_asymptomatic": 5}), index)
    assert wider.start == dt.datetime(2022, 6, 29)


def test_protection_turns_a_close_exposure_into_a_general_contact() -> None:
    result = classify_exposure(load_builtin("cn-9"), INDEX, Exposure("p", "office", _at(2), protected=True))
    assert result.outcome == "general_contact"
    assert result.reason.endswith("with effective protection")


@pytest.mark.parametrize(
    ("distance", "outcome", "words"),
    [
        (0.8, "close_contact", "within 0.8 m"),
        (3.0, "general_contact", "3 m apart (close contact needs ≤ 1 m)"),
        (None, "general_contact", "distance not recorded"),
    ],
)
def test_on_a_train_only_those_within_one_metre_are_close_contacts(
    distance: float | None, outcome: str, words: str
) -> None:
    exposure = Exposure("p", "train", _at(3), _at(3, 15), distance_m=distance)
    result = classify_exposure(load_builtin("cn-9"), INDEX, exposure)
    assert result.outcome == outcome
    assert words in result.reason


def test_a_market_co_exposure_is_a_general_contact_and_an_unlisted_setting_is_not_a_contact() -> None:
    protocol = load_builtin("cn-9")
    assert classify_exposure(protocol, INDEX, Exposure("p", "market", _at(2))).outcome == "general_contact"
    other = classify_exposure(protocol, INDEX, Exposure("q", "other", _at(2)))
    assert other.outcome == "not_a_contact"
    assert "investigators may judge otherwise" in other.reason


LINKED = LinkedCloseContact("p1", first_exposure=dt.datetime(2022, 7, 2, 18, 0), isolated_at=_at(5, 20))


def test_a_household_member_of_a_close_contact_is_a_contact_of_a_contact_under_cn9() -> None:
    exposure = Exposure("p2", "household", _at(4), via=LINKED)
    result = classify_exposure(load_builtin("cn-9"), INDEX, exposure)

    assert result.outcome == "contact_of_contact"
    assert "household exposure to close contact p1 on 2022-07-04" in result.reason
    assert (
        "2022-07-02..2022-07-05 (from p1's first exposure to the index until p1's isolation)" in result.reason
    )


@pytest.mark.parametrize(
    ("exposure", "words"),
    [
        (Exposure("p2", "household", _at(1), via=LINKED), "outside the window"),  # before p1 was exposed
        (Exposure("p2", "household", _at(6), via=LINKED), "outside the window"),  # after p1 was isolated
        (Exposure("p2", "mall", _at(4), via=LINKED), "only household"),
        (Exposure("p2", "household", _at(4), protected=True, via=LINKED), "with effective protection"),
        (
            Exposure(
                "p2",
                "household",
                _at(4),
                via=LinkedCloseContact("p1", _at(2, 18), _at(5, 20), high_risk=False),
            ),
            "not a higher-risk close contact",
        ),
    ],
)
def test_second_ring_exposures_that_do_not_qualify(exposure: Exposure, words: str) -> None:
    result = classify_exposure(load_builtin("cn-9"), INDEX, exposure)
    assert result.outcome == "not_a_contact"
    assert words in result.reason


def test_cn9_20_says_it_no_longer_identifies_contacts_of_contacts() -> None:
    protocol = load_builtin("cn-9-20")
    second = classify_exposure(protocol, INDEX, Exposure("p2", "household", _at(4), via=LINKED))
    first = classify_exposure(protocol, INDEX, Exposure("p1", "household", _at(3)))

    assert second.outcome == "not_identified"
    assert "contacts of close contacts are not identified under cn-9-20" in second.reason
    assert first.outcome == "close_contact"


def test_cn10_says_it_identifies_no_contacts_at_all() -> None:
    result = classify_exposure(load_builtin("cn-10"), INDEX, Exposure("p1", "household", _at(3)))
    assert result.outcome == "not_identified"
    assert "close contacts are not identified under cn-10" in result.reason


def test_a_person_with_several_exposures_gets_the_most_serious_outcome() -> None:
    exposures = [
        Exposure("a", "market", _at(2)),
        Exposure("b", "household", _at(1, 8), via=LINKED),
        Exposure("a", "household", _at(3)),
        Exposure("c", "office", _at(7)),
    ]
    results = classify(load_builtin("cn-9"), INDEX, exposures)

    assert [(r.person, r.outcome) for r in results] == [
        ("a", "close_contact"),
        ("b", "not_a_contact"),
        ("c", "not_a_contact"),
    ]


def test_who_contact_is_face_to_face_within_one_metre_for_fifteen_minutes_in_the_infectious_period() -> None:
    protocol = load_builtin("who-2021")
    index = IndexCase("who-1", onset=dt.date(2022, 7, 4))
    start = dt.datetime(2022, 7, 3, 9, 0)

    long_close = Exposure("p", "office", start, start + dt.timedelta(minutes=20), distance_m=0.5)
    short_close = Exposure("q", "office", start, start + dt.timedelta(minutes=10), distance_m=0.5)
    assert classify_exposure(protocol, index, long_close).outcome == "close_contact"
    short = classify_exposure(protocol, index, short_close)
    assert short.outcome == "not_a_contact"
    assert "10 min (close contact needs ≥ 15 min)" in short.reason

    window = exposure_window(protocol, index)
    assert window.start == dt.datetime(2022, 7, 2)
    assert window.end.date() == dt.date(2022, 7, 17)  # at least 13 days after onset
    later = exposure_window(
        protocol, IndexCase("who-2", onset=dt.date(2022, 7, 4), symptoms_resolved=dt.date(2022, 7, 20))
    )
    assert later.end.date() == dt.date(2022, 7, 23)  # 3 symptom-free days


def test_a_protocol_without_a_contact_definition_refuses_to_classify() -> None:
    with pytest.raises(ClassifierError, match="defines no exposure window"):
        classify_exposure(load_builtin("us-cdc-2021-12-27"), INDEX, Exposure("p", "household", _at(3)))


def test_an_index_without_onset_or_sampling_cannot_be_classified_against() -> None:
    with pytest.raises(ClassifierError, match="neither an onset nor a sampling date"):
        exposure_window(load_builtin("cn-9"), IndexCase("case-x", isolated_at=_at(5)))
