"""The detail pages' reads: a case with everything known of it, a contact with its plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.clock import as_local
from fangkong.core.scope import path_in_scope, under
from fangkong.protocol.plan import ManagementPlan, ScheduleOnDay, schedule_on
from fangkong.protocol.schema import Protocol
from fangkong.tracing import persons
from fangkong.tracing.models import (
    Case,
    CaseHistory,
    Classification,
    Contact,
    ContactStatus,
    Exposure,
    Visit,
)
from fangkong.tracing.protocols import plan_for, protocol_for
from fangkong.tracing.service.exposures import exposures_of
from fangkong.tracing.service.links import LinkView, links_of
from fangkong.tracing.service.lists import ContactRow, contact_rows
from fangkong.tracing.service.reads import _place_names, get_case, get_contact
from fangkong.tracing.service.visits import visits_of


@dataclass(frozen=True)
class ContactDetail:
    contact: Contact
    row: ContactRow
    protocol: Protocol
    plan: ManagementPlan | None
    exposures: list[Exposure]
    # The plan's tests on the local today (active contacts only): done, missed, due now, ahead.
    schedule: ScheduleOnDay | None = None
    # Masked names of the close contacts the exposures went through (second ring), by contact id.
    via_labels: dict[int, str] = field(default_factory=dict)


def contact_detail(session: Session, principal: Principal, contact_id: int) -> ContactDetail:
    """A contact with its row, its plan under the protocol in force and its exposures to the index case."""
    contact = get_contact(session, principal, contact_id)
    (row,) = contact_rows(session, principal, [contact])
    protocol = protocol_for(session, contact.jpath)
    plan = plan_for(protocol, contact.category.value, as_local(contact.last_exposure).date())
    exposures = list(
        session.scalars(
            select(Exposure)
            .where(Exposure.case_id == contact.case_id, Exposure.subject_key == contact.subject_key)
            .order_by(Exposure.start)
        )
    )
    schedule = None
    if plan is not None and plan.managed and contact.status is ContactStatus.active:
        # No test results reach tracing yet, so every past test day without one shows as missed.
        schedule = schedule_on(plan, clock.today())
    via_ids = {e.via_contact_id for e in exposures if e.via_contact_id is not None}
    via_keys = (
        dict(session.execute(select(Contact.id, Contact.subject_key).where(Contact.id.in_(via_ids))).all())
        if via_ids
        else {}
    )
    names = persons.labels(session, principal, list(via_keys.values()))
    return ContactDetail(
        contact=contact,
        row=row,
        protocol=protocol,
        plan=plan,
        exposures=exposures,
        schedule=schedule,
        via_labels={cid: names.get(key, "?") for cid, key in via_keys.items()},
    )


@dataclass
class CaseDetail:
    case: Case
    label: str
    jurisdiction_name: str
    history: list[CaseHistory]
    visits: list[Visit]
    exposures: list[Exposure]
    exposure_labels: dict[str, str]
    contacts: list[ContactRow]
    infected_by: list[LinkView]
    infected: list[LinkView]
    source_contact_id: int | None
    cluster_size: int
    no_known_source: bool
    extra: dict[str, object] = field(default_factory=dict)


def case_detail(session: Session, principal: Principal, case_id: int) -> CaseDetail:
    case = get_case(session, principal, case_id)
    history = list(
        session.scalars(select(CaseHistory).where(CaseHistory.case_id == case.id).order_by(CaseHistory.id))
    )
    exposures = exposures_of(session, principal, case.id)
    contacts = list(
        session.scalars(
            select(Contact)
            .where(Contact.case_id == case.id, under(Contact.jpath, principal.jpath))
            .order_by(Contact.id)
        )
    )
    infected_by, infected = links_of(session, principal, case.id)
    size = (
        session.scalar(select(func.count()).select_from(Case).where(Case.cluster_id == case.cluster_id)) or 1
    )
    source_contact = None
    if case.source_contact_id is not None:
        src = session.get(Contact, case.source_contact_id)
        source_contact = src.id if src is not None and path_in_scope(src.jpath, principal.jpath) else None
    names = persons.labels(session, principal, [case.subject_key, *{e.subject_key for e in exposures}])
    return CaseDetail(
        case=case,
        label=names.get(case.subject_key, "?"),
        jurisdiction_name=_place_names(session, [case.jurisdiction_id]).get(case.jurisdiction_id, ""),
        history=history,
        visits=visits_of(session, principal, case.id),
        exposures=exposures,
        exposure_labels=names,
        contacts=contact_rows(session, principal, contacts),
        infected_by=infected_by,
        infected=infected,
        source_contact_id=source_contact,
        cluster_size=size,
        no_known_source=not case.imported
        and not infected_by
        and case.classification is not Classification.excluded,
    )
