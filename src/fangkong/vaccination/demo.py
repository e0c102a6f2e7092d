"""The vaccination part of the demo region: a dose history for every resident, written in bulk, then each
person's status and the coverage counts from the rules, outreach attempts in the demo county and a few
adverse-event cards (one lot standing out). The history is drawn by ``service.history`` at the national
shares of late November 2022 (its docstring gives them with their source).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
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
    OutreachAttempt,
    OutreachMethod,
    OutreachOutcome,
    Severity,
    VaccinationStatus,
)
from fangkong.vaccination.service import history

SEED = 20221129
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
    ages = history.ages_on([p[2] for p in people], today)
    rows = history.draw(ids, paths, ages, today, SEED)
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


def _adverse_events(session: Session, bus: EventBus, rows: history.Rows, today: dt.date) -> int:
    """AEFI cards at the demo rate, one lot several times as often; the last two days' cards are still
    to be sent to the county (their reporting tasks are open), the rest were sent and most reviewed."""
    from fangkong.vaccination.events import AdverseEventReported
    from fangkong.vaccination.rules.aefi import report_due

    rng = np.random.default_rng(SEED + 2)
    n = len(rows.person)
    if not n:
        return 0
    signal_lot = history.lot_name(0, 7)
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
