"""The vaccination part of the demo region: a dose history for every resident, written in bulk, then each
person's status and the coverage counts from the rules, outreach attempts in the demo county and a few
adverse-event cards (one lot standing out).

Coverage by age is drawn to land near the national figures of late November 2022, as the State Council's
joint prevention and control mechanism gave them on 2022-11-29 (issue 16 quotes two of them): of people
aged 60 and over, 86.42 % had a full primary series; of people aged 80 and over, 76.6 % had at least one
dose and 65.8 % a full series. The other bands' shares are the platform's demo choices (below, each on its
own line), picked so the 60+ total lands near 86 %. Dates are set back from today: most primary series
some two years ago, boosters half a year or more after them, and a recent push among the oldest (the
elderly plan of 2022-11-29, protocols.md §8 vax.elderly_plan), so the weekly trend moves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.bulk import without_indexes, write_rows
from fangkong.core.events import EventBus
from fangkong.core.models import Jurisdiction, Level, Person
from fangkong.vaccination.models import (
    AdverseEvent,
    AefiOutcome,
    Dose,
    DoseKind,
    OutreachAttempt,
    OutreachMethod,
    OutreachOutcome,
    Platform,
    Severity,
    VaccinationStatus,
)

SEED = 20221129

# Per age band (3-17, 18-59, 60-69, 70-79, 80+): share with at least one dose; of those, share who
# completed the primary series; of those, share boosted; of those, share with a second booster.
AT_LEAST_ONE = (0.965, 0.960, 0.955, 0.925, 0.766)  # 80+: 76.6 % (2022-11-29); others: demo choices
COMPLETE_GIVEN_ONE = (0.975, 0.975, 0.965, 0.935, 0.859)  # 80+: 65.8 % / 76.6 % (2022-11-29)
BOOSTED_GIVEN_COMPLETE = (0.0, 0.80, 0.78, 0.70, 0.55)  # no booster under 18 (protocols.md vax.cn10)
SECOND_GIVEN_BOOSTED = (0.0, 0.0, 0.06, 0.05, 0.03)  # ≥60 only (vax.second_booster)
BAND_LOWER_AGES = (3, 18, 60, 70, 80)

# Of the oldest vaccinated, the share whose first dose came in the recent push (demo choice), and its
# length in days.
RECENT_PUSH_SHARE_80 = 0.10
RECENT_PUSH_SHARE_60 = 0.03
RECENT_PUSH_DAYS = 70

# Products as the 2022 Chinese programme used them (name, platform, doses in its primary series, share of
# first doses). Primary series: inactivated 2 doses, adenovirus type-5 vector 1, recombinant protein 3.
PRODUCTS = (
    ("新冠病毒灭活疫苗（Vero细胞）北京生物", Platform.inactivated, 2, 0.45),
    ("新冠病毒灭活疫苗（Vero细胞）科兴", Platform.inactivated, 2, 0.40),
    ("重组新冠病毒疫苗（5型腺病毒载体）", Platform.vector, 1, 0.05),
    ("重组新冠病毒蛋白疫苗（CHO细胞）", Platform.protein, 3, 0.10),
)
# Boosters: homologous inactivated, or sequential with the vector or protein vaccine.
BOOSTERS = (
    (0, 0.55),
    (1, 0.25),
    (2, 0.10),
    (3, 0.10),
)
LOTS_PER_PRODUCT = 24
# Adverse-event cards per 100,000 doses in the demo (demo choice, the order of passive surveillance's
# reported rates), and the lot given a rate several times its product's, so a signal shows.
AEFI_PER_100K = 25.0
SIGNAL_LOT_FACTOR = 8.0
RECENT_CARDS = 3
# The site named when a resident's township has none on record.
DEFAULT_SITE = "社区卫生服务中心"


@dataclass(frozen=True)
class DemoVaccination:
    doses: int
    people: int
    statuses: int
    coverage_rows: int
    attempts: int
    adverse_events: int


def _band_of_age(age: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0..4 for the five bands, -1 under 3."""
    return np.searchsorted(np.array(BAND_LOWER_AGES), age, side="right") - 1


def _lot(product: int, k: int) -> str:
    return f"2021{product + 1:02d}{k:03d}"


@dataclass
class _Rows:
    person: list[int]
    jpath: list[str]
    product: list[str]
    platform: list[str]
    number: list[int]
    kind: list[str]
    given: list[dt.date]
    lot: list[str]
    product_index: list[int]

    def add(
        self, p: int, j: str, product: int, number: int, kind: DoseKind, given: dt.date, lot: str
    ) -> None:
        name, platform, _, _ = PRODUCTS[product]
        self.person.append(p)
        self.jpath.append(j)
        self.product.append(name)
        self.platform.append(platform.value)
        self.number.append(number)
        self.kind.append(kind.value)
        self.given.append(given)
        self.lot.append(lot)
        self.product_index.append(product)


def _dose_history(
    ids: npt.NDArray[np.int64], paths: list[str], ages: npt.NDArray[np.int64], today: dt.date
) -> _Rows:
    rng = np.random.default_rng(SEED)
    n = ids.shape[0]
    band = _band_of_age(ages)
    rows = _Rows([], [], [], [], [], [], [], [], [])
    eligible = band >= 0
    b = np.where(eligible, band, 0)
    one = eligible & (rng.random(n) < np.take(AT_LEAST_ONE, b))
    complete = one & (rng.random(n) < np.take(COMPLETE_GIVEN_ONE, b))
    boosted = complete & (rng.random(n) < np.take(BOOSTED_GIVEN_COMPLETE, b))
    second = boosted & (rng.random(n) < np.take(SECOND_GIVEN_BOOSTED, b))
    weights = np.array([p[3] for p in PRODUCTS])
    product: npt.NDArray[np.int64] = rng.choice(len(PRODUCTS), size=(n,), p=weights / weights.sum())
    booster_product: npt.NDArray[np.int64] = rng.choice(
        [i for i, _ in BOOSTERS],
        size=(n,),
        p=np.array([w for _, w in BOOSTERS]) / sum(w for _, w in BOOSTERS),
    )
    # Days before today of the first dose: most in the mass campaign two years back; a share of the
    # oldest in the recent push.
    first_back: npt.NDArray[np.int64] = rng.integers(560, 820, size=(n,))
    push_share = np.where(band == 4, RECENT_PUSH_SHARE_80, np.where(band >= 2, RECENT_PUSH_SHARE_60, 0.0))
    pushed = one & ~boosted & (rng.random(n) < push_share)
    first_back = np.where(pushed, rng.integers(22, RECENT_PUSH_DAYS, size=(n,)), first_back)
    gaps: npt.NDArray[np.int64] = rng.integers(21, 57, size=(n, 2))
    booster_after: npt.NDArray[np.int64] = rng.integers(180, 330, size=(n,))
    second_after: npt.NDArray[np.int64] = rng.integers(185, 240, size=(n,))
    lot_pick: npt.NDArray[np.int64] = rng.integers(0, LOTS_PER_PRODUCT, size=(n, 5))
    for i in np.flatnonzero(one):
        pid, path = int(ids[i]), paths[i]
        prod = int(product[i])
        series = PRODUCTS[prod][2]
        day = today - dt.timedelta(days=int(first_back[i]))
        planned = series if complete[i] else max(1, series - 1)
        number = 0
        for k in range(planned):
            if day >= today:
                break
            number += 1
            rows.add(pid, path, prod, number, DoseKind.primary, day, _lot(prod, int(lot_pick[i, k % 5])))
            day += dt.timedelta(days=int(gaps[i, k % 2]))
        if not (complete[i] and number == series):
            continue
        boost_day = rows.given[-1] + dt.timedelta(days=int(booster_after[i]))
        if not boosted[i] or boost_day >= today:
            continue
        bp = int(booster_product[i])
        number += 1
        rows.add(pid, path, bp, number, DoseKind.booster, boost_day, _lot(bp, int(lot_pick[i, 3])))
        second_day = boost_day + dt.timedelta(days=int(second_after[i]))
        if second[i] and second_day < today:
            number += 1
            rows.add(
                pid, path, bp, number, DoseKind.second_booster, second_day, _lot(bp, int(lot_pick[i, 4]))
            )
    return rows


def _sites(session: Session) -> dict[str, str]:
    """Township path → its community health service centre (the vaccination site of its residents)."""
    return {
        str(path): f"{name}社区卫生服务中心"
        for path, name in session.execute(
            select(Jurisdiction.path, Jurisdiction.name).where(
                Jurisdiction.level == Level.township, Jurisdiction.is_sandbox.is_(False)
            )
        )
    }


def _township_of(path: str) -> str:
    parts = path.strip("/").split("/")
    return "/" + "/".join(parts[:4]) + "/"


def seed(session: Session, bus: EventBus, county_code: str) -> DemoVaccination:
    """Write the demo region's dose history and everything that follows from it."""
    from fangkong.vaccination.service import coverage, status

    today = clock.today()
    people = session.execute(
        select(Person.id, Person.jpath, Person.birth_date)
        .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
        .where(Jurisdiction.is_sandbox.is_(False))
        .order_by(Person.id)
    ).all()
    ids = np.array([p[0] for p in people], dtype=np.int64)
    paths = [str(p[1]) for p in people]
    births = np.array([p[2] for p in people], dtype="datetime64[D]")
    ages = ((np.datetime64(today, "D") - births).astype(np.int64) / 365.2425).astype(np.int64)
    rows = _dose_history(ids, paths, ages, today)
    sites = _sites(session)
    now = clock.utcnow()
    columns = ("person_id", "jpath", "product", "platform", "dose_number", "kind", "given_on", "site", "lot",
               "source", "created_at")  # fmt: skip
    written = [
        (p, j, prod, plat, num, kind, given, sites.get(_township_of(j), DEFAULT_SITE), lot, "demo", now)
        for p, j, prod, plat, num, kind, given, lot in zip(
            rows.person, rows.jpath, rows.product, rows.platform, rows.number, rows.kind, rows.given,
            rows.lot, strict=True,
        )
    ]  # fmt: skip
    # The secondary indexes are built once after the rows are in, not updated row by row.
    with without_indexes(session, Dose.__table__):  # type: ignore[arg-type]
        write_rows(session, Dose.__table__, columns, written)  # type: ignore[arg-type]
    with without_indexes(session, VaccinationStatus.__table__):  # type: ignore[arg-type]
        statuses = status.evaluate(session)
    coverage_rows = coverage.refresh(session)
    attempts = _outreach(session, county_code, today)
    events = _adverse_events(session, bus, rows, today)
    return DemoVaccination(
        doses=len(rows.person),
        people=len(set(rows.person)),
        statuses=statuses,
        coverage_rows=coverage_rows,
        attempts=attempts,
        adverse_events=events,
    )


# Outcomes of the demo county's first outreach calls (demo choice: most reached people book).
OUTREACH_OUTCOMES = (
    (OutreachOutcome.appointment, 0.45),
    (OutreachOutcome.no_answer, 0.20),
    (OutreachOutcome.refused, 0.20),
    (OutreachOutcome.contraindicated, 0.05),
    (OutreachOutcome.done_elsewhere, 0.05),
    (OutreachOutcome.moved, 0.05),
)
OUTREACH_PEOPLE = 400


def _outreach(session: Session, county_code: str, today: dt.date) -> int:
    """Calls to the demo county's oldest unvaccinated residents over the last two weeks."""
    from fangkong.vaccination.models import StatusState

    county = session.scalar(select(Jurisdiction).where(Jurisdiction.code == county_code))
    assert county is not None
    rng = np.random.default_rng(SEED + 1)
    oldest = session.execute(
        select(VaccinationStatus.person_id, VaccinationStatus.jpath)
        .where(
            VaccinationStatus.jpath >= county.path,
            VaccinationStatus.jpath < county.path + "~",
            VaccinationStatus.state == StatusState.unvaccinated,
            VaccinationStatus.birth_date <= today.replace(year=today.year - 60),
        )
        .order_by(VaccinationStatus.birth_date, VaccinationStatus.person_id)
        .limit(OUTREACH_PEOPLE)
    ).all()
    outcomes = [o for o, _ in OUTREACH_OUTCOMES]
    weights = np.array([w for _, w in OUTREACH_OUTCOMES])
    picks = rng.choice(len(outcomes), size=len(oldest), p=weights / weights.sum())
    back = rng.integers(0, 14, len(oldest))
    now = clock.utcnow()
    rows = []
    for (person_id, jpath), pick, days in zip(oldest, picks, back, strict=True):
        outcome = outcomes[int(pick)]
        on = today - dt.timedelta(days=int(days))
        appointment = on + dt.timedelta(days=7) if outcome is OutreachOutcome.appointment else None
        method = OutreachMethod.phone if days % 3 else OutreachMethod.door
        rows.append((person_id, jpath, on, method.value, outcome.value, appointment, "", "demo", now))
    write_rows(
        session,
        OutreachAttempt.__table__,  # type: ignore[arg-type]
        ("person_id", "jpath", "attempted_on", "method", "outcome", "appointment_on", "note", "recorded_by",
         "created_at"),
        rows,
    )  # fmt: skip
    return len(rows)


def _adverse_events(session: Session, bus: EventBus, rows: _Rows, today: dt.date) -> int:
    """AEFI cards at the demo rate, one lot several times as often; the last two days' cards are still
    to be sent to the county (their reporting tasks are open), the rest were sent and most reviewed."""
    from fangkong.vaccination.events import AdverseEventReported
    from fangkong.vaccination.rules.aefi import report_due

    rng = np.random.default_rng(SEED + 2)
    n = len(rows.person)
    if not n:
        return 0
    signal_lot = _lot(0, 7)
    rate = np.full(n, AEFI_PER_100K / 100_000)
    rate[np.array(rows.lot) == signal_lot] *= SIGNAL_LOT_FACTOR
    picked = np.flatnonzero(rng.random(n) < rate)
    # The latest doses given get this morning's cards, still to be sent (their tasks open today).
    latest = sorted(range(n), key=lambda i: rows.given[i])[-RECENT_CARDS:]
    picked = np.unique(np.concatenate([picked, np.array(latest, dtype=np.int64)]))
    keys = [(rows.person[i], rows.number[i]) for i in picked]
    dose_ids = {
        (int(p), int(k)): int(d)
        for p, k, d in session.execute(
            select(Dose.person_id, Dose.dose_number, Dose.id).where(
                Dose.person_id.in_(sorted({p for p, _ in keys}))
            )
        )
    }
    severities = rng.choice(4, size=picked.size, p=[0.80, 0.15, 0.045, 0.005])
    written = 0
    for i, sev in zip(picked, severities, strict=True):
        given = rows.given[i]
        onset = today if i in latest else min(today, given + dt.timedelta(days=int(rng.integers(0, 3))))
        severity = list(Severity)[int(sev)]
        found_at = clock.from_local(dt.datetime.combine(onset, dt.time(9, 0)))
        recent = onset >= today - dt.timedelta(days=2)
        outcome = AefiOutcome.recovering if recent else AefiOutcome.recovered
        due = report_due(found_at, severity, outcome, False)
        event = AdverseEvent(
            person_id=rows.person[i],
            jpath=rows.jpath[i],
            dose_id=dose_ids[(rows.person[i], rows.number[i])],
            lot=rows.lot[i],
            product=rows.product[i],
            onset_on=onset,
            symptoms="发热、接种部位红肿" if severity is Severity.mild else "过敏性皮疹、呼吸困难",
            severity=severity,
            outcome=outcome,
            cluster=False,
            found_at=found_at,
            report_due_at=due,
            reported_to_county_at=None if recent else found_at + dt.timedelta(hours=20),
            reported_by="demo",
        )
        session.add(event)
        session.flush()
        if recent:
            bus.publish(
                session,
                AdverseEventReported(event.id, event.jpath, severity.value, False, due, found_at=found_at),
            )
        written += 1
    return written
