"""The case list and the contact list: filters, pages and their rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.clock import as_local, from_local
from fangkong.core.scope import under
from fangkong.protocol.plan import schedule_on
from fangkong.tracing import persons
from fangkong.tracing.models import (
    Case,
    ChainLink,
    Classification,
    Contact,
    ContactCategory,
    ContactStatus,
    Outcome,
)
from fangkong.tracing.protocols import plan_for, protocol_for
from fangkong.tracing.rules import (
    MANAGED_CATEGORIES,
    clamp_day,
)
from fangkong.tracing.service.reads import Page, _paging, _place_names, _scope_path


@dataclass(frozen=True)
class CaseRow:
    id: int
    case_ref: str
    label: str
    classification: Classification
    onset_date: dt.date | None
    diagnosis_date: dt.date | None
    reported_at: dt.datetime
    imported: bool
    outcome: Outcome | None
    jurisdiction_name: str
    found_under_management: bool
    has_source: bool
    contacts: int
    cluster_id: int


@dataclass(frozen=True)
class CaseFilter:
    classification: Classification | None = None
    q: str = ""
    no_source: bool = False
    found_under_management: bool | None = None
    cluster_id: int | None = None
    reported_from: dt.date | None = None
    reported_to: dt.date | None = None
    jurisdiction_id: int | None = None


def _has_source() -> ColumnElement[bool]:
    return or_(Case.imported.is_(True), exists().where(ChainLink.infectee_case_id == Case.id))


def list_cases(
    session: Session, principal: Principal, filters: CaseFilter, page: int = 1, size: int = 50
) -> Page[CaseRow]:
    page, size = _paging(page, size)
    scope = _scope_path(session, principal, filters.jurisdiction_id)
    stmt = select(Case).where(under(Case.jpath, scope))
    if filters.classification is not None:
        stmt = stmt.where(Case.classification == filters.classification)
    if filters.q.strip():
        stmt = stmt.where(Case.case_ref == filters.q.strip())
    if filters.no_source:
        stmt = stmt.where(~_has_source(), Case.classification != Classification.excluded)
    if filters.found_under_management is not None:
        stmt = stmt.where(Case.found_under_management.is_(filters.found_under_management))
    if filters.cluster_id is not None:
        stmt = stmt.where(Case.cluster_id == filters.cluster_id)
    if filters.reported_from is not None:
        stmt = stmt.where(
            Case.reported_at >= from_local(dt.datetime.combine(filters.reported_from, dt.time.min))
        )
    if filters.reported_to is not None:
        last = clamp_day(filters.reported_to)
        stmt = stmt.where(
            Case.reported_at < from_local(dt.datetime.combine(last, dt.time.min) + dt.timedelta(days=1))
        )
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Case.id).subquery())) or 0
    cases = list(session.scalars(stmt.order_by(Case.id.desc()).offset((page - 1) * size).limit(size)))
    return Page(case_rows(session, principal, cases), total, page, size)


def case_rows(session: Session, principal: Principal, cases: Sequence[Case]) -> list[CaseRow]:
    if not cases:
        return []
    ids = [c.id for c in cases]
    names = persons.labels(session, principal, [c.subject_key for c in cases])
    places = _place_names(session, (c.jurisdiction_id for c in cases))
    counts = dict(
        session.execute(
            select(Contact.case_id, func.count())
            .where(Contact.case_id.in_(ids), Contact.category.in_(list(MANAGED_CATEGORIES)))
            .group_by(Contact.case_id)
        ).all()
    )
    sourced = set(
        session.scalars(select(ChainLink.infectee_case_id).where(ChainLink.infectee_case_id.in_(ids)))
    )
    return [
        CaseRow(
            id=c.id,
            case_ref=c.case_ref,
            label=names.get(c.subject_key, "?"),
            classification=c.classification,
            onset_date=c.onset_date,
            diagnosis_date=c.diagnosis_date,
            reported_at=as_local(c.reported_at),
            imported=c.imported,
            outcome=c.outcome,
            jurisdiction_name=places.get(c.jurisdiction_id, ""),
            found_under_management=c.found_under_management,
            has_source=c.imported or c.id in sourced,
            contacts=counts.get(c.id, 0),
            cluster_id=c.cluster_id,
        )
        for c in cases
    ]


@dataclass(frozen=True)
class ContactRow:
    id: int
    label: str
    case_id: int
    case_ref: str
    category: ContactCategory
    decided_by: str
    reason: str
    setting: str | None
    last_exposure: dt.datetime
    status: ContactStatus
    plan_end: dt.date | None
    jurisdiction_name: str
    via_contact_id: int | None
    lives_elsewhere: bool
    converted_case_id: int | None
    # The close contact a second-ring contact was exposed through, by name (masked) rather than id.
    via_label: str = ""
    # An active contact's plan on the local today: tests whose day passed without a sample, and
    # whether a sample is due now (a test planned today, or a catch-up for missed ones).
    tests_missed: int = 0
    test_due_now: bool = False


@dataclass(frozen=True)
class ContactFilter:
    category: ContactCategory | None = None
    status: ContactStatus | None = ContactStatus.active
    case_id: int | None = None
    lives_elsewhere: bool | None = None
    second_ring: bool | None = None
    jurisdiction_id: int | None = None


def list_contacts(
    session: Session, principal: Principal, filters: ContactFilter, page: int = 1, size: int = 50
) -> Page[ContactRow]:
    page, size = _paging(page, size)
    scope = _scope_path(session, principal, filters.jurisdiction_id)
    stmt = select(Contact).where(under(Contact.jpath, scope))
    if filters.status is not None:
        stmt = stmt.where(Contact.status == filters.status)
    if filters.category is not None:
        stmt = stmt.where(Contact.category == filters.category)
    else:
        stmt = stmt.where(Contact.category.in_(sorted(MANAGED_CATEGORIES)))
    if filters.case_id is not None:
        stmt = stmt.where(Contact.case_id == filters.case_id)
    if filters.lives_elsewhere is not None:
        test = Contact.residence_jurisdiction_id.is_not(None)
        stmt = stmt.where(test if filters.lives_elsewhere else ~test)
    if filters.second_ring is not None:
        ring = Contact.via_contact_id.is_not(None)
        stmt = stmt.where(ring if filters.second_ring else ~ring)
    total = (
        session.scalar(select(func.count()).select_from(stmt.with_only_columns(Contact.id).subquery())) or 0
    )
    rows = list(session.scalars(stmt.order_by(Contact.id.desc()).offset((page - 1) * size).limit(size)))
    return Page(contact_rows(session, principal, rows), total, page, size)


def contact_rows(session: Session, principal: Principal, contacts: Sequence[Contact]) -> list[ContactRow]:
    if not contacts:
        return []
    via_ids = {c.via_contact_id for c in contacts if c.via_contact_id is not None}
    via_keys: dict[int, str] = (
        dict(session.execute(select(Contact.id, Contact.subject_key).where(Contact.id.in_(via_ids))).all())
        if via_ids
        else {}
    )
    names = persons.labels(session, principal, [c.subject_key for c in contacts] + list(via_keys.values()))
    today = clock.today()
    refs = dict(
        session.execute(
            select(Case.id, Case.case_ref).where(Case.id.in_({c.case_id for c in contacts}))
        ).all()
    )
    places = _place_names(session, (c.jurisdiction_id for c in contacts))
    protocols: dict[str, object] = {}
    rows: list[ContactRow] = []
    for c in contacts:
        protocol = protocols.get(c.jpath)
        if protocol is None:
            protocol = protocols[c.jpath] = protocol_for(session, c.jpath)
        plan = plan_for(protocol, c.category.value, as_local(c.last_exposure).date())  # type: ignore[arg-type]
        schedule = (
            schedule_on(plan, today)
            if plan is not None and plan.managed and c.status is ContactStatus.active
            else None
        )
        rows.append(
            ContactRow(
                id=c.id,
                label=names.get(c.subject_key, "?"),
                case_id=c.case_id,
                case_ref=refs.get(c.case_id, ""),
                category=c.category,
                decided_by=c.decided_by,
                reason=c.reason,
                setting=c.setting,
                last_exposure=as_local(c.last_exposure),
                status=c.status,
                plan_end=plan.end_date if plan is not None else None,
                jurisdiction_name=places.get(c.jurisdiction_id, ""),
                via_contact_id=c.via_contact_id,
                lives_elsewhere=c.residence_jurisdiction_id is not None,
                converted_case_id=c.converted_case_id,
                via_label=names.get(via_keys.get(c.via_contact_id or 0, ""), ""),
                tests_missed=len(schedule.missed) if schedule else 0,
                test_due_now=schedule.due_now if schedule else False,
            )
        )
    return rows
