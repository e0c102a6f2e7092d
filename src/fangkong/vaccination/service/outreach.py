"""Outreach use cases (应接尽接): the community worker's worklist of people aged 60+ who are unvaccinated or
due a dose, oldest first, each with their last contact attempt and next reminder; recording an attempt;
the day's reminders before and after due dates; the Excel export of the list; and the ranking of
communities by their unvaccinated elderly for door-to-door and mobile-site planning.

Everything reads ``vaccination_status`` (rewritten from doses by ``service.status``), never the doses
themselves, and goes through the scope filter. The rules (who is listed, what closes a person, when a
reminder falls) are in ``rules.outreach``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.scope import path_in_scope, under
from fangkong.vaccination.models import (
    Dose,
    DoseKind,
    OutreachAttempt,
    OutreachMethod,
    OutreachOutcome,
    Platform,
    StatusState,
    VaccinationStatus,
)
from fangkong.vaccination.rules import outreach as rules

if TYPE_CHECKING:
    from fangkong.vaccination.service.outreach_plan import GapPage

MAX_PAGE_SIZE = 200
# How far back overdue reminders still fall weekly (C: five years covers every 2022 due date).
OVERDUE_HORIZON_DAYS = 5 * 365
# A worker may record an attempt made up to this many days ago (C: a week's paper notes typed in).
BACKDATE_DAYS = 30
NOTE_MAX = 200


@dataclass(frozen=True)
class WorkItem:
    person_id: int
    name: str  # masked
    sex: str
    age: int
    community: str
    community_code: str
    state: StatusState
    next_kind: str | None
    due_on: dt.date | None
    attempts: int
    last_on: dt.date | None
    last_method: OutreachMethod | None
    last_outcome: OutreachOutcome | None
    appointment_on: dt.date | None
    next_reminder: dt.date | None
    reminder: rules.Reminder | None = None  # set on the reminders list: what falls on that day


@dataclass(frozen=True)
class WorkPage:
    items: list[WorkItem]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def scope_path(session: Session, principal: Principal, jurisdiction_code: str | None) -> str:
    """The caller's subtree, or the subtree of a jurisdiction in it (NotFound outside)."""
    if not jurisdiction_code:
        return principal.jpath
    node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction_code))
    if node is None or not path_in_scope(node.path, principal.jpath):
        raise NotFound(Message("jurisdiction {code} not found", code=jurisdiction_code))
    return node.path


def _latest_attempts() -> Any:
    """Each person's latest attempt (by day, then by the order recorded) and their number of attempts."""
    ranked = select(
        OutreachAttempt.person_id,
        OutreachAttempt.attempted_on,
        OutreachAttempt.method,
        OutreachAttempt.outcome,
        OutreachAttempt.appointment_on,
        func.row_number()
        .over(
            partition_by=OutreachAttempt.person_id,
            order_by=(OutreachAttempt.attempted_on.desc(), OutreachAttempt.id.desc()),
        )
        .label("rn"),
        func.count().over(partition_by=OutreachAttempt.person_id).label("attempts"),
    ).subquery()
    return select(ranked).where(ranked.c.rn == 1).subquery("latest")


def _not_closed(latest: Any, today: dt.date) -> ColumnElement[bool]:
    closing: list[ColumnElement[bool]] = []
    for outcome, days in rules.CLOSED_FOR_DAYS.items():
        if days is None:
            closing.append(latest.c.outcome == outcome)
        else:
            closing.append(
                and_(latest.c.outcome == outcome, latest.c.attempted_on > today - dt.timedelta(days=days))
            )
    return or_(latest.c.person_id.is_(None), not_(or_(false(), *closing)))


def _eligible(today: dt.date, min_age: int) -> ColumnElement[bool]:
    lead = today + dt.timedelta(days=rules.REMINDER_LEAD_DAYS)
    return and_(
        VaccinationStatus.birth_date <= rules.born_on_or_before(today, min_age),
        VaccinationStatus.contraindication.is_(None),
        or_(
            VaccinationStatus.state == StatusState.unvaccinated,
            and_(VaccinationStatus.due_on.is_not(None), VaccinationStatus.due_on <= lead),
        ),
    )


def _worklist_query(path: str, today: dt.date, min_age: int) -> tuple[Select[Any], Any]:
    latest = _latest_attempts()
    stmt = (
        select(
            VaccinationStatus,
            Person.name_masked,
            Person.sex,
            Jurisdiction.name,
            Jurisdiction.code,
            latest.c.attempts,
            latest.c.attempted_on,
            latest.c.method,
            latest.c.outcome,
            latest.c.appointment_on,
        )
        .join(Person, Person.id == VaccinationStatus.person_id)
        .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
        .outerjoin(latest, latest.c.person_id == VaccinationStatus.person_id)
        .where(under(VaccinationStatus.jpath, path), _eligible(today, min_age), _not_closed(latest, today))
    )
    return stmt, latest


def _item(row: Any, today: dt.date) -> WorkItem:
    status: VaccinationStatus = row[0]
    outcome = OutreachOutcome(row.outcome) if row.outcome is not None else None
    appointment = row.appointment_on if outcome is OutreachOutcome.appointment else None
    if appointment is not None and appointment < today:
        appointment = None
    return WorkItem(
        person_id=status.person_id,
        name=row.name_masked,
        sex=row.sex,
        age=rules.age_on(status.birth_date, today),
        community=row.name,
        community_code=row.code,
        state=status.state,
        next_kind=status.next_kind.value if status.next_kind is not None else None,
        due_on=status.due_on,
        attempts=int(row.attempts or 0),
        last_on=row.attempted_on,
        last_method=OutreachMethod(row.method) if row.method is not None else None,
        last_outcome=outcome,
        appointment_on=appointment,
        next_reminder=rules.next_reminder(status.due_on, appointment, today),
    )


def page_args(page: int, size: int) -> tuple[int, int]:
    return max(1, page), max(1, min(size, MAX_PAGE_SIZE))


def worklist(
    session: Session,
    principal: Principal,
    *,
    jpath: str | None = None,
    min_age: int = rules.MIN_AGE,
    page: int = 1,
    size: int = 50,
) -> WorkPage:
    """People aged ``min_age``+ in scope who are unvaccinated or due a dose, not closed by their last
    contact, oldest first."""
    page, size = page_args(page, size)
    path = jpath if jpath is not None and path_in_scope(jpath, principal.jpath) else principal.jpath
    today = clock.today()
    stmt, _latest = _worklist_query(path, today, min_age)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(VaccinationStatus.birth_date, VaccinationStatus.person_id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return WorkPage([_item(r, today) for r in rows], total, page, size)


def record_attempt(
    session: Session,
    principal: Principal,
    person_id: int,
    method: OutreachMethod,
    outcome: OutreachOutcome,
    appointment_on: dt.date | None = None,
    note: str = "",
    *,
    attempted_on: dt.date | None = None,
    ip: str = "",
) -> OutreachAttempt:
    """One contact attempt and its outcome; an appointment needs its day (today or later)."""
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, principal.jpath):
        raise NotFound(Message("person {id} not found", id=person_id))
    today = clock.today()
    day = attempted_on or today
    errors: list[RowError] = []
    if day > today:
        errors.append(RowError(1, "attempted_on", Message("the day cannot be in the future")))
    elif day < today - dt.timedelta(days=BACKDATE_DAYS):
        errors.append(RowError(1, "attempted_on", Message("at most {days} days back", days=BACKDATE_DAYS)))
    if outcome is OutreachOutcome.appointment:
        if appointment_on is None:
            errors.append(RowError(1, "appointment_on", Message("an appointment needs its day")))
        elif appointment_on < day:
            errors.append(
                RowError(1, "appointment_on", Message("the appointment cannot be before the contact"))
            )
    elif appointment_on is not None:
        errors.append(RowError(1, "appointment_on", Message("only an appointment has an appointment day")))
    note = note.strip()
    if len(note) > NOTE_MAX:
        errors.append(RowError(1, "note", Message("at most {count} characters", count=NOTE_MAX)))
    if errors:
        raise InvalidInput(errors)
    attempt = OutreachAttempt(
        person_id=person.id,
        jpath=person.jpath,
        attempted_on=day,
        method=method,
        outcome=outcome,
        appointment_on=appointment_on,
        note=note,
        recorded_by=principal.username,
    )
    session.add(attempt)
    session.flush()
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, ip or "web"),
        "outreach.attempt",
        "person",
        person.id,
        jpath=person.jpath,
        detail={"attempt": attempt.id, "method": method.value, "outcome": outcome.value},
    )
    return attempt


def attempts_of(session: Session, principal: Principal, person_id: int) -> list[OutreachAttempt]:
    """A person's attempts, newest first."""
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, principal.jpath):
        raise NotFound(Message("person {id} not found", id=person_id))
    return list(
        session.scalars(
            select(OutreachAttempt)
            .where(OutreachAttempt.person_id == person_id)
            .order_by(OutreachAttempt.attempted_on.desc(), OutreachAttempt.id.desc())
        )
    )


def reminders(
    session: Session,
    principal: Principal,
    day: dt.date,
    *,
    jpath: str | None = None,
    page: int = 1,
    size: int = 50,
) -> WorkPage:
    """People of the worklist with a reminder on ``day``: due soon, due that day, overdue (weekly), or
    an appointment the next day; oldest first."""
    page, size = page_args(page, size)
    path = jpath if jpath is not None and path_in_scope(jpath, principal.jpath) else principal.jpath
    stmt, latest = _worklist_query(path, day, rules.MIN_AGE)
    before = [day + dt.timedelta(days=d) for d in (*rules.REMIND_BEFORE_DAYS, 0)]
    step = rules.REMIND_EVERY_AFTER_DAYS
    after = [day - dt.timedelta(days=d) for d in range(step, OVERDUE_HORIZON_DAYS + 1, step)]
    recall = day + dt.timedelta(days=rules.APPOINTMENT_REMINDER_DAYS)
    stmt = stmt.where(
        or_(
            VaccinationStatus.due_on.in_(before + after),
            and_(latest.c.outcome == OutreachOutcome.appointment, latest.c.appointment_on == recall),
        )
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(VaccinationStatus.birth_date, VaccinationStatus.person_id)
        .offset((page - 1) * size)
        .limit(size)
    )
    items = []
    for row in rows:
        item = _item(row, day)
        kind = rules.reminder_on(item.due_on, item.appointment_on, day)
        items.append(WorkItem(**{**item.__dict__, "reminder": kind}))
    return WorkPage(items, total, page, size)


def iter_worklist(
    session: Session, principal: Principal, *, jpath: str | None = None, min_age: int = rules.MIN_AGE
) -> Iterator[WorkItem]:
    """The whole worklist, streamed in chunks (the export)."""
    path = jpath if jpath is not None and path_in_scope(jpath, principal.jpath) else principal.jpath
    today = clock.today()
    stmt, _latest = _worklist_query(path, today, min_age)
    stmt = stmt.order_by(VaccinationStatus.birth_date, VaccinationStatus.person_id)
    for row in session.execute(stmt.execution_options(yield_per=2000)):
        yield _item(row, today)


def export_xlsx(
    session: Session,
    principal: Principal,
    *,
    jpath: str | None = None,
    min_age: int = rules.MIN_AGE,
    language: str = "zh",
) -> bytes:
    """The worklist as an Excel workbook (see ``outreach_plan.export_xlsx``)."""
    from fangkong.vaccination.service import outreach_plan

    return outreach_plan.export_xlsx(session, principal, jpath=jpath, min_age=min_age, language=language)


def gaps(
    session: Session, principal: Principal, jpath: str | None = None, *, page: int = 1, size: int = 50
) -> GapPage:
    """Communities ranked by their unvaccinated elderly (see ``outreach_plan.gaps``)."""
    from fangkong.vaccination.service import outreach_plan

    return outreach_plan.gaps(session, principal, jpath, page=page, size=size)


def item_of(session: Session, principal: Principal, person_id: int) -> WorkItem | None:
    """One person's worklist row as it stands now (None when they are off the list)."""
    today = clock.today()
    stmt, _latest = _worklist_query(principal.jpath, today, rules.MIN_AGE)
    row = session.execute(stmt.where(VaccinationStatus.person_id == person_id)).first()
    return _item(row, today) if row is not None else None


@dataclass(frozen=True)
class NextDose:
    product: str
    platform: Platform
    dose_number: int
    kind: DoseKind


def booked_for(session: Session, principal: Principal, day: dt.date) -> list[tuple[int, NextDose]]:
    """People in scope whose latest contact booked them for ``day`` and who are still due a dose, with
    the dose they would get: the next by the schedule, of the product of their last dose (the first
    listed inactivated vaccine for the unvaccinated)."""
    from fangkong.vaccination.service.history import PRODUCTS

    latest = _latest_attempts()
    rows = session.execute(
        select(VaccinationStatus.person_id, VaccinationStatus.doses, VaccinationStatus.next_kind)
        .join(latest, latest.c.person_id == VaccinationStatus.person_id)
        .where(
            under(VaccinationStatus.jpath, principal.jpath),
            latest.c.outcome == OutreachOutcome.appointment,
            latest.c.appointment_on == day,
            VaccinationStatus.next_kind.is_not(None),
        )
        .order_by(VaccinationStatus.person_id)
    ).all()
    last = {
        int(pid): (str(product), Platform(platform))
        for pid, product, platform in session.execute(
            select(Dose.person_id, Dose.product, Dose.platform)
            .where(Dose.person_id.in_([r[0] for r in rows]))
            .order_by(Dose.dose_number)
        )
    }
    name, platform, _series, _share = PRODUCTS[0]
    return [
        (
            int(pid),
            NextDose(
                *last.get(int(pid), (name, platform)), dose_number=int(doses) + 1, kind=DoseKind(str(kind))
            ),
        )
        for pid, doses, kind in rows
    ]


def first_attempts(session: Session, principal: Principal, person_ids: Sequence[int]) -> dict[int, dt.date]:
    """Each of these people's first contact attempt day (people in scope with an attempt only)."""
    found: dict[int, dt.date] = {}
    for start in range(0, len(person_ids), 5_000):
        part = list(person_ids[start : start + 5_000])
        for pid, first in session.execute(
            select(OutreachAttempt.person_id, func.min(OutreachAttempt.attempted_on))
            .where(OutreachAttempt.person_id.in_(part), under(OutreachAttempt.jpath, principal.jpath))
            .group_by(OutreachAttempt.person_id)
        ):
            found[int(pid)] = first if isinstance(first, dt.date) else dt.date.fromisoformat(str(first))
    return found
