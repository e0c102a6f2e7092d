"""Where a person stands in the 2022 COVID-19 schedule, from their doses and contraindications.

The schedule is data: the tables below, each number on its own line with its source (rule ids of
``protocols.md`` §8). Changing any of them changes :data:`RULES_VERSION`, and a status row evaluated
under another version is evaluated again (``service.status.evaluate``).

- Primary series by platform, counted from the platform of the first primary dose: inactivated 2
  doses (Sinopharm BBIBP-CorV, Sinovac CoronaVac), adenovirus type-5 vector 1 dose (CanSino
  Ad5-nCoV), recombinant protein 3 doses (Zhifei ZF2001), mRNA 2 doses. Source: 新冠病毒疫苗接种技术指南
  (第一版), 国家卫生健康委 2021-03-29, and the products' labels.
- Second primary dose 21 days after the first (vax.intervals, people ≥ 60; the technical guideline
  gives ≥ 3 weeks for everyone); between the protein vaccine's doses ≥ 4 weeks (technical guideline).
- Booster ≥ 3 months after the primary series is complete (vax.intervals), offered from age 18
  (vax.cn10).
- Second booster ≥ 6 months after the first booster, for people ≥ 60 (vax.second_booster; the
  high-risk groups under 60 of the same plan are not recorded in the registry).
- Contraindications (vax.contraindications): a severe allergy or an end-stage disease withholds every
  further dose; fever with an acute infection or the acute flare of a severe chronic disease postpones
  the next dose until the day after the postponement ends.

A booster counts only once the primary series is complete, and a second booster only after a booster:
an out-of-order record does not jump a person ahead.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from fangkong.vaccination.models import ContraindicationReason, DoseKind, Platform, StatusState
from fangkong.vaccination.rules.bands import MIN_AGE, age_on

# Bump on any change below: every status row of another version is evaluated again.
RULES_VERSION = "cn-2022-12-13.1"


@dataclass(frozen=True)
class PrimarySeries:
    doses: int  # doses that complete the series
    interval_days: int  # least days between two of its doses


PRIMARY_SERIES: dict[Platform, PrimarySeries] = {
    # 2 doses, the second 21 d after the first (vax.intervals; technical guideline: ≥ 3 weeks).
    Platform.inactivated: PrimarySeries(doses=2, interval_days=21),
    # Ad5-nCoV: one dose completes the series (technical guideline; product label).
    Platform.vector: PrimarySeries(doses=1, interval_days=0),
    # ZF2001: 3 doses, ≥ 4 weeks apart (technical guideline; product label).
    Platform.protein: PrimarySeries(doses=3, interval_days=28),
    # mRNA (not in China's 2022 programme; BNT162b2 label): 2 doses, 21 d apart.
    Platform.mrna: PrimarySeries(doses=2, interval_days=21),
}
# Booster: months after the primary series (vax.intervals) and the youngest age offered it (vax.cn10).
BOOSTER_AFTER_MONTHS = 3
BOOSTER_MIN_AGE = 18
# Second booster: months after the first booster and youngest age (vax.second_booster).
SECOND_BOOSTER_AFTER_MONTHS = 6
SECOND_BOOSTER_MIN_AGE = 60
# Contraindications that withhold every further dose; the others postpone it (vax.contraindications).
PERMANENT: frozenset[ContraindicationReason] = frozenset(
    {ContraindicationReason.severe_allergy, ContraindicationReason.end_stage}
)


@dataclass(frozen=True)
class DoseRecord:
    given_on: dt.date
    kind: DoseKind | str
    dose_number: int
    platform: Platform | str


@dataclass(frozen=True)
class ContraindicationRecord:
    reason: ContraindicationReason | str
    recorded_on: dt.date
    until: dt.date | None


@dataclass(frozen=True)
class Evaluation:
    state: StatusState
    doses: int
    first_dose_on: dt.date | None
    primary_complete_on: dt.date | None
    booster_on: dt.date | None
    second_booster_on: dt.date | None
    # The next dose offered and the first day it is due; None when nothing more is offered.
    next_kind: DoseKind | None
    due_on: dt.date | None
    # Why a dose is withheld today, if it is.
    contraindication: ContraindicationReason | None


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day when it has no such day (31 May + 3 →
    31 August; 30 November + 3 → 28 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def birthday(birth_date: dt.date, years: int) -> dt.date:
    """The day someone turns ``years`` (1 March for a 29 February birth in a common year)."""
    year = birth_date.year + years
    if birth_date.month == 2 and birth_date.day == 29 and not calendar.isleap(year):
        return dt.date(year, 3, 1)
    return dt.date(year, birth_date.month, birth_date.day)


def _offered(birth_date: dt.date, min_age: int, earliest: dt.date, today: dt.date) -> dt.date | None:
    """The due day of a dose allowed from ``earliest`` for people aged ``min_age``: None when the person
    is still too young both today and on that day (evaluated again later)."""
    of_age = birthday(birth_date, min_age)
    if of_age > max(today, earliest):
        return None
    return max(earliest, of_age)


def _withheld(
    contraindications: Sequence[ContraindicationRecord | tuple[object, dt.date, dt.date | None]],
    today: dt.date,
) -> tuple[ContraindicationReason | None, dt.date | None, bool]:
    """(reason in force today, day a postponement ends, whether it is permanent)."""
    postponed: tuple[ContraindicationReason, dt.date | None] | None = None
    for record in contraindications:
        raw_reason, recorded_on, until = record if isinstance(record, tuple) else (
            record.reason, record.recorded_on, record.until
        )  # fmt: skip
        reason = ContraindicationReason(str(raw_reason))
        if recorded_on > today:
            continue
        if reason in PERMANENT:
            return reason, None, True
        if until is not None and until < today:
            continue
        # An open-ended postponement outlasts any dated one; between dated ones the later end wins.
        if postponed is None or (postponed[1] is not None and (until is None or until > postponed[1])):
            postponed = (reason, until)
    if postponed is None:
        return None, None, False
    return postponed[0], postponed[1], False


def evaluate(
    birth_date: dt.date,
    doses: Sequence[DoseRecord | tuple[dt.date, object, int, object]],
    contraindications: Sequence[ContraindicationRecord | tuple[object, dt.date, dt.date | None]],
    today: dt.date,
) -> Evaluation:
    """Status, dates reached, next dose and its due day for one person (see the module docstring)."""
    records = [d if isinstance(d, DoseRecord) else DoseRecord(*d) for d in doses]  # type: ignore[arg-type]
    records.sort(key=lambda d: (d.given_on, d.dose_number))
    primaries = [d for d in records if d.kind == DoseKind.primary]
    first_dose_on = records[0].given_on if records else None
    series_of = primaries[0] if primaries else (records[0] if records else None)
    series = PRIMARY_SERIES[Platform(str(series_of.platform))] if series_of is not None else None

    complete_on: dt.date | None = None
    if series is not None and len(primaries) >= series.doses:
        complete_on = primaries[series.doses - 1].given_on
    booster_on = None
    if complete_on is not None:
        booster_on = next(
            (d.given_on for d in records if d.kind == DoseKind.booster and d.given_on >= complete_on), None
        )
    second_on = None
    if booster_on is not None:
        second_on = next(
            (d.given_on for d in records if d.kind == DoseKind.second_booster and d.given_on >= booster_on),
            None,
        )

    next_kind: DoseKind | None
    due_on: dt.date | None
    if second_on is not None:
        state, next_kind, due_on = StatusState.second_boosted, None, None
    elif booster_on is not None:
        state = StatusState.boosted
        earliest = add_months(booster_on, SECOND_BOOSTER_AFTER_MONTHS)
        due_on = _offered(birth_date, SECOND_BOOSTER_MIN_AGE, earliest, today)
        next_kind = DoseKind.second_booster if due_on is not None else None
    elif complete_on is not None:
        state = StatusState.primary_complete
        due_on = _offered(birth_date, BOOSTER_MIN_AGE, add_months(complete_on, BOOSTER_AFTER_MONTHS), today)
        next_kind = DoseKind.booster if due_on is not None else None
    elif records:
        assert series is not None
        state, next_kind = StatusState.primary_started, DoseKind.primary
        last = (primaries or records)[-1].given_on
        due_on = last + dt.timedelta(days=series.interval_days)
    else:
        state, next_kind, due_on = StatusState.unvaccinated, DoseKind.primary, birthday(birth_date, MIN_AGE)

    reason, until, permanent = _withheld(contraindications, today)
    if permanent:
        next_kind, due_on = None, None
    elif reason is not None and next_kind is not None:
        due_on = None if until is None else max(due_on or until, until + dt.timedelta(days=1))
    return Evaluation(
        state=state,
        doses=len(records),
        first_dose_on=first_dose_on,
        primary_complete_on=complete_on,
        booster_on=booster_on,
        second_booster_on=second_on,
        next_kind=next_kind,
        due_on=due_on,
        contraindication=reason,
    )


def is_offered(birth_date: dt.date, today: dt.date) -> bool:
    """Whether the person is old enough for any dose (everyone from 3, vax.cn10)."""
    return age_on(birth_date, today) >= MIN_AGE
