"""The 2022 schedule as a table: one row per situation, the state, the dates reached and the next dose
with its due day (protocols.md §8: vax.intervals, vax.second_booster, vax.cn10, vax.contraindications)."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.vaccination.models import ContraindicationReason as R
from fangkong.vaccination.models import DoseKind as K
from fangkong.vaccination.models import Platform as P  # noqa: N817 (a table reads better short)
from fangkong.vaccination.models import StatusState as S
from fangkong.vaccination.rules import schedule

D = dt.date
TODAY = D(2022, 12, 13)
ELDER = D(1950, 5, 10)  # 72
ADULT = D(1990, 5, 10)  # 32
TEEN = D(2006, 1, 20)  # 16, turns 18 on 2024-01-20
CHILD = D(2019, 12, 20)  # 2, turns 3 on 2022-12-20
NEARLY_60 = D(1963, 1, 1)  # 59, turns 60 on 2023-01-01

Dose = tuple[dt.date, K, int, P]


def inact(*days: dt.date) -> list[Dose]:
    return [(d, K.primary, i + 1, P.inactivated) for i, d in enumerate(days)]


CASES: list[
    tuple[str, dt.date, list[Dose], list[tuple[R, dt.date, dt.date | None]], S, K | None, dt.date | None]
] = [
    # name, birth, doses, contraindications, state, next kind, due on
    ("unvaccinated elder: due since turning 3", ELDER, [], [], S.unvaccinated, K.primary, D(1953, 5, 10)),
    ("child under 3: due on the third birthday", CHILD, [], [], S.unvaccinated, K.primary, D(2022, 12, 20)),
    (
        "one inactivated dose: second 21 d later",
        ELDER,
        inact(D(2022, 12, 1)),
        [],
        S.primary_started,
        K.primary,
        D(2022, 12, 22),
    ),
    (
        "two inactivated: booster 3 months after",
        ELDER,
        inact(D(2022, 1, 5), D(2022, 1, 26)),
        [],
        S.primary_complete,
        K.booster,
        D(2022, 4, 26),
    ),
    (
        "month end: 30 November + 3 months is 28 February",
        ADULT,
        inact(D(2022, 11, 9), D(2022, 11, 30)),
        [],
        S.primary_complete,
        K.booster,
        D(2023, 2, 28),
    ),
    (
        "one vector dose completes the series",
        ADULT,
        [(D(2022, 3, 1), K.primary, 1, P.vector)],
        [],
        S.primary_complete,
        K.booster,
        D(2022, 6, 1),
    ),
    (
        "protein needs three doses, 28 d apart",
        ADULT,
        [(D(2022, 10, 1), K.primary, 1, P.protein), (D(2022, 11, 1), K.primary, 2, P.protein)],
        [],
        S.primary_started,
        K.primary,
        D(2022, 11, 29),
    ),
    (
        "protein complete on the third",
        ADULT,
        [
            (D(2022, 1, 1) + dt.timedelta(days=30 * i), K.primary, i + 1, P.protein) for i in range(3)
        ],  # 2 March last
        [],
        S.primary_complete,
        K.booster,
        D(2022, 6, 2),
    ),
    (
        "mixed platforms: the first primary dose's series counts",
        ELDER,
        [(D(2022, 1, 1), K.primary, 1, P.inactivated), (D(2022, 1, 22), K.primary, 2, P.protein)],
        [],
        S.primary_complete,
        K.booster,
        D(2022, 4, 22),
    ),
    (
        "elder boosted: second booster 6 months after",
        ELDER,
        [*inact(D(2021, 5, 1), D(2021, 5, 22)), (D(2021, 11, 30), K.booster, 3, P.inactivated)],
        [],
        S.boosted,
        K.second_booster,
        D(2022, 5, 30),
    ),
    (
        "adult boosted: no second booster under 60",
        ADULT,
        [*inact(D(2021, 5, 1), D(2021, 5, 22)), (D(2021, 11, 30), K.booster, 3, P.vector)],
        [],
        S.boosted,
        None,
        None,
    ),
    (
        "59 turning 60 before the interval ends: due on the later day",
        NEARLY_60,
        [*inact(D(2022, 1, 1), D(2022, 1, 22)), (D(2022, 11, 1), K.booster, 3, P.inactivated)],
        [],
        S.boosted,
        K.second_booster,
        D(2023, 5, 1),
    ),
    (
        "teenager complete: no booster before 18",
        TEEN,
        inact(D(2022, 1, 1), D(2022, 1, 22)),
        [],
        S.primary_complete,
        None,
        None,
    ),
    (
        "second booster reached: nothing more",
        ELDER,
        [
            *inact(D(2021, 5, 1), D(2021, 5, 22)),
            (D(2021, 11, 30), K.booster, 3, P.inactivated),
            (D(2022, 6, 1), K.second_booster, 4, P.protein),
        ],
        [],
        S.second_boosted,
        None,
        None,
    ),
    (
        "a booster before the series is complete does not count",
        ELDER,
        [*inact(D(2022, 11, 1)), (D(2022, 11, 20), K.booster, 2, P.inactivated)],
        [],
        S.primary_started,
        K.primary,
        D(2022, 11, 22),
    ),
    (
        "severe allergy: nothing offered",
        ELDER,
        [],
        [(R.severe_allergy, D(2022, 1, 1), None)],
        S.unvaccinated,
        None,
        None,
    ),
    (
        "end stage: nothing offered",
        ELDER,
        inact(D(2022, 12, 1)),
        [(R.end_stage, D(2022, 12, 5), None)],
        S.primary_started,
        None,
        None,
    ),
    (
        "fever postpones the due dose to the day after it ends",
        ELDER,
        inact(D(2022, 12, 1)),
        [(R.fever_acute_infection, D(2022, 12, 12), D(2022, 12, 25))],
        S.primary_started,
        K.primary,
        D(2022, 12, 26),
    ),
    (
        "a postponement ending before the due day changes nothing but is shown",
        ELDER,
        inact(D(2022, 12, 10)),
        [(R.chronic_flare, D(2022, 12, 12), D(2022, 12, 20))],
        S.primary_started,
        K.primary,
        D(2022, 12, 31),
    ),
    (
        "an expired postponement is ignored",
        ELDER,
        [],
        [(R.fever_acute_infection, D(2022, 11, 1), D(2022, 11, 10))],
        S.unvaccinated,
        K.primary,
        D(1953, 5, 10),
    ),
    (
        "a contraindication recorded after today does not apply yet",
        ELDER,
        [],
        [(R.severe_allergy, D(2022, 12, 20), None)],
        S.unvaccinated,
        K.primary,
        D(1953, 5, 10),
    ),
]


@pytest.mark.parametrize(
    ("birth", "doses", "withheld", "state", "next_kind", "due_on"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_schedule(
    birth: dt.date,
    doses: list[Dose],
    withheld: list[tuple[R, dt.date, dt.date | None]],
    state: S,
    next_kind: K | None,
    due_on: dt.date | None,
) -> None:
    e = schedule.evaluate(birth, doses, withheld, TODAY)
    assert (e.state, e.next_kind, e.due_on) == (state, next_kind, due_on)
    assert e.doses == len(doses)


def test_dates_reached_and_doses_in_any_order() -> None:
    doses = [
        (D(2022, 6, 1), K.second_booster, 4, P.protein),
        (D(2021, 5, 22), K.primary, 2, P.inactivated),
        (D(2021, 11, 30), K.booster, 3, P.inactivated),
        (D(2021, 5, 1), K.primary, 1, P.inactivated),
    ]
    e = schedule.evaluate(ELDER, doses, [], TODAY)
    assert e.first_dose_on == D(2021, 5, 1)
    assert e.primary_complete_on == D(2021, 5, 22)
    assert e.booster_on == D(2021, 11, 30)
    assert e.second_booster_on == D(2022, 6, 1)


def test_the_contraindication_in_force_is_named() -> None:
    permanent = [
        (R.fever_acute_infection, D(2022, 12, 1), D(2022, 12, 30)),
        (R.end_stage, D(2022, 12, 2), None),
    ]
    assert schedule.evaluate(ELDER, [], permanent, TODAY).contraindication == R.end_stage
    two = [
        (R.fever_acute_infection, D(2022, 12, 1), D(2022, 12, 20)),
        (R.chronic_flare, D(2022, 12, 2), D(2023, 1, 10)),
    ]
    e = schedule.evaluate(ELDER, [], two, TODAY)
    assert (e.contraindication, e.due_on) == (R.chronic_flare, D(2023, 1, 11))
    assert schedule.evaluate(ELDER, [], [], TODAY).contraindication is None


def test_rules_are_data_with_a_version() -> None:
    assert schedule.RULES_VERSION
    assert {p: s.doses for p, s in schedule.PRIMARY_SERIES.items()} == {
        P.inactivated: 2,
        P.vector: 1,
        P.protein: 3,
        P.mrna: 2,
    }
    assert schedule.PRIMARY_SERIES[P.inactivated].interval_days == 21
    assert (schedule.BOOSTER_AFTER_MONTHS, schedule.SECOND_BOOSTER_AFTER_MONTHS) == (3, 6)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2022, 5, 31), 3, D(2022, 8, 31)),
        (D(2022, 11, 30), 3, D(2023, 2, 28)),
        (D(2023, 8, 31), 6, D(2024, 2, 29)),
    ],
)
def test_add_months_clamps_to_the_month_end(day: dt.date, months: int, expected: dt.date) -> None:
    assert schedule.add_months(day, months) == expected
