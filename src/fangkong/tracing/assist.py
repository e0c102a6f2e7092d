"""Assist requests between jurisdictions (协查): hand a contact living elsewhere to the place managing them.

The sender refers one contact: the request carries who they are, their category, the last exposure and
an optional message, nothing of the index case. The receiver acknowledges, locates the person in its own
registry, applies the plan (publishing ``PersonPlacedUnderManagement`` for its registry person) and
reports back; each step has a due time. Both sides see the request's state; the receiver sees the
person, the sender sees the outcome and never the receiver's registry record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, jurisdictions, people
from fangkong.core.auth import Principal
from fangkong.core.clock import as_local, as_utc, utcnow
from fangkong.core.crypto import PersonalData, Vault, mask_name
from fangkong.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus, PersonPlacedUnderManagement
from fangkong.core.i18n import Message, render_text, stored
from fangkong.core.idnumber import mask_id_number
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.core.phone import mask_phone
from fangkong.core.scope import path_in_scope, under
from fangkong.protocol.plan import ManagementPlan
from fangkong.tracing.events import AssistRequested
from fangkong.tracing.models import AssistRequest, AssistStatus, Contact, ContactStatus, UnidentifiedPerson
from fangkong.tracing.protocols import plan_for, protocol_for
from fangkong.tracing.rules import MANAGED_CATEGORIES, assist_deadlines
from fangkong.tracing.service import Page, actor, get_contact

OPEN = (AssistStatus.sent, AssistStatus.acknowledged, AssistStatus.located, AssistStatus.plan_applied)
OUTCOMES = ("managed", "not_found", "moved_away", "already_managed", "refused")
Box = Literal["sent", "received"]


def send(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    contact_id: int,
    receiver_code: str,
    message: str = "",
    *,
    ip: str = "",
) -> AssistRequest:
    """Refer a contact to the jurisdiction where they live; publishes ``AssistRequested``."""
    contact = get_contact(session, principal, contact_id)
    if contact.status is not ContactStatus.active or contact.category not in MANAGED_CATEGORIES:
        raise DomainError(Message("this is not an active contact to be managed"))
    code = receiver_code.strip()
    receiver = jurisdictions.by_code(session, code) if code else None
    if code and receiver is None:
        # A mistyped code is refused, never replaced by the recorded residence: the sender must see
        # that the request would not have gone where they asked.
        raise InvalidInput(
            [RowError(1, "receiver_code", Message("no jurisdiction has the code {code}", code=code))]
        )
    if receiver is None and contact.residence_jurisdiction_id is not None:
        receiver = session.get(Jurisdiction, contact.residence_jurisdiction_id)
    if receiver is None:
        raise InvalidInput(
            [RowError(1, "receiver_code", "give the code of the jurisdiction where the person lives")]
        )
    if path_in_scope(receiver.path, principal.jpath):
        raise DomainError(
            Message(
                "{place} is within your own jurisdiction: manage the contact directly", place=receiver.name
            )
        )
    if (
        session.scalar(
            select(AssistRequest.id).where(
                AssistRequest.contact_id == contact.id, AssistRequest.status.in_(OPEN)
            )
        )
        is not None
    ):
        raise Conflict(Message("this contact already has an open assist request"))
    data, sex, age = _referral(session, vault, principal, contact, ip)
    now = utcnow()
    due = assist_deadlines(now, contact.category, protocol_for(session, receiver.path))
    request = AssistRequest(
        contact_id=contact.id,
        sender_jurisdiction_id=principal.jurisdiction_id,
        sender_jpath=principal.jpath,
        receiver_jurisdiction_id=receiver.id,
        receiver_jpath=receiver.path,
        category=contact.category,
        last_exposure=as_local(contact.last_exposure).date(),
        setting=contact.setting,
        pii=vault.encrypt_person(data),
        id_hash=vault.keyed_hash(data.id_number) if data.id_number else None,
        name_masked=mask_name(data.name) if data.name else "?",
        id_masked=mask_id_number(data.id_number) if data.id_number else None,
        phone_masked=mask_phone(data.phone) if data.phone else None,
        sex=sex,
        age=age,
        message=message.strip()[:500] or None,
        status=AssistStatus.sent,
        sent_at=now,
        sent_by=principal.user_id,
        acknowledge_due=due.acknowledge,
        locate_due=due.locate,
        plan_due=due.apply_plan,
        report_due=due.report,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "assist.send",
        "assist_request",
        request.id,
        jpath=principal.jpath,
        detail={"contact_id": contact.id, "receiver": receiver.code},
    )
    bus.publish(
        session,
        AssistRequested(
            request_id=request.id,
            receiver_jurisdiction_id=receiver.id,
            receiver_jpath=receiver.path,
            sent_at=now,
            due_at=request.plan_due,
        ),
    )
    return request


def _referral(
    session: Session, vault: Vault, principal: Principal, contact: Contact, ip: str
) -> tuple[PersonalData, str | None, int | None]:
    if contact.unidentified_id is not None:
        record = session.get(UnidentifiedPerson, contact.unidentified_id)
        assert record is not None  # foreign key
        return vault.decrypt_person(record.pii), record.sex, record.age
    assert contact.person_id is not None
    # Referring a registry person hands their data to another jurisdiction: an audited reveal.
    view = people.reveal(session, vault, principal, contact.person_id, ip)
    return PersonalData(view.id_number, view.name, view.phone or "", view.address or ""), view.sex, view.age


def _load(session: Session, principal: Principal, request_id: int) -> tuple[AssistRequest, Box]:
    request = session.get(AssistRequest, request_id)
    if request is None:
        raise NotFound(f"assist request {request_id} not found")
    if path_in_scope(request.receiver_jpath, principal.jpath):
        return request, "received"
    if path_in_scope(request.sender_jpath, principal.jpath):
        return request, "sent"
    raise NotFound(f"assist request {request_id} not found")


def _as_receiver(session: Session, principal: Principal, request_id: int) -> AssistRequest:
    request, box = _load(session, principal, request_id)
    if box != "received":
        raise Forbidden("only the receiving jurisdiction handles this request")
    return request


def _record(
    session: Session,
    principal: Principal,
    ip: str,
    action: str,
    request: AssistRequest,
    detail: dict[str, object] | None = None,
) -> None:
    """Audit what the receiving side did to a request, filed under the receiver's jurisdiction."""
    audit.record(
        session,
        actor(principal, ip),
        action,
        "assist_request",
        request.id,
        jpath=request.receiver_jpath,
        detail=detail,
    )


def _step(request: AssistRequest, allowed: tuple[AssistStatus, ...], what: str) -> None:
    if request.status not in allowed:
        raise DomainError(
            Message(
                "the request is {status}; it cannot be {action} now",
                status=Message(request.status.value),
                action=Message(what),
            )
        )


def acknowledge(session: Session, principal: Principal, request_id: int, *, ip: str = "") -> AssistRequest:
    request = _as_receiver(session, principal, request_id)
    _step(request, (AssistStatus.sent,), "acknowledged")
    request.status = AssistStatus.acknowledged
    request.acknowledged_at = utcnow()
    request.handled_by = principal.user_id
    _record(session, principal, ip, "assist.acknowledge", request)
    return request


def decline(
    session: Session, principal: Principal, request_id: int, reason: str, *, ip: str = ""
) -> AssistRequest:
    request = _as_receiver(session, principal, request_id)
    _step(request, (AssistStatus.sent, AssistStatus.acknowledged), "declined")
    if not reason.strip():
        raise InvalidInput([RowError(1, "reason", "say why the request is declined")])
    request.status = AssistStatus.declined
    request.declined_reason = reason.strip()[:300]
    request.reported_at = utcnow()
    _record(session, principal, ip, "assist.decline", request, {"reason": request.declined_reason})
    return request


def locate(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    request_id: int,
    *,
    person_id: int | None = None,
    community_code: str = "",
    address: str = "",
    ip: str = "",
) -> AssistRequest:
    """Find the referred person in the receiver's registry (by ID or a chosen person), or register them."""
    request = _as_receiver(session, principal, request_id)
    _step(request, (AssistStatus.acknowledged,), "located")
    data = vault.decrypt_person(request.pii)
    found: int | None = None
    if person_id is not None:
        found = people.get(session, principal, person_id).id
    elif data.id_number:
        page = people.search(session, vault, principal, data.id_number, size=1)
        found = page.items[0].id if page.items else None
        if found is None and community_code and address:
            view = people.register(
                session,
                vault,
                bus,
                principal,
                {
                    "id_number": data.id_number,
                    "name": data.name,
                    "phone": data.phone,
                    "community_code": community_code,
                    "address": address,
                },
            )
            found = view.id
    if found is None and (person_id is not None or data.id_number):
        raise InvalidInput(
            [
                RowError(
                    1,
                    "person_id",
                    "not in your registry: choose the person, or give the community "
                    "code and address to register them",
                )
            ]
        )
    request.located_person_id = found
    request.status = AssistStatus.located
    request.located_at = utcnow()
    request.handled_by = principal.user_id
    _record(session, principal, ip, "assist.locate", request, {"person_id": found})
    return request


def apply_plan(
    session: Session, bus: EventBus, principal: Principal, request_id: int, *, ip: str = ""
) -> AssistRequest:
    """Put the located person under the receiver's protocol, counted from the last exposure."""
    request = _as_receiver(session, principal, request_id)
    _step(request, (AssistStatus.located,), "given a plan")
    protocol = protocol_for(session, request.receiver_jpath)
    plan = plan_for(protocol, request.category.value, request.last_exposure)
    if plan is not None and plan.managed and plan.end_date is not None:
        request.plan_summary = stored(
            Message(
                "{category} under {protocol}: day 1 {start}, last day {end}, {tests} tests",
                category=Message(request.category.value),
                protocol=protocol.id,
                start=plan.start_date,
                end=plan.end_date,
                tests=len(plan.tests),
            )
        )
    else:
        request.plan_summary = stored(
            Message(
                "{category} under {protocol}: no managed period",
                category=Message(request.category.value),
                protocol=protocol.id,
            )
        )
    if request.located_person_id is not None:
        person = people.get(session, principal, request.located_person_id)
        node = session.get(Jurisdiction, person.jurisdiction_id)
        bus.publish(
            session,
            PersonPlacedUnderManagement(
                person_id=person.id,
                jpath=node.path if node else request.receiver_jpath,
                category=request.category.value,
                clock_date=request.last_exposure,
                source=f"contact:{request.contact_id}",
            ),
        )
    request.status = AssistStatus.plan_applied
    request.plan_applied_at = utcnow()
    _record(
        session,
        principal,
        ip,
        "assist.apply_plan",
        request,
        {"plan": render_text(request.plan_summary, None)},
    )
    return request


def report(
    session: Session, principal: Principal, request_id: int, outcome: str, note: str = "", *, ip: str = ""
) -> AssistRequest:
    """Report back to the sender: what became of the referred person, in one of ``OUTCOMES`` and words."""
    request = _as_receiver(session, principal, request_id)
    _step(request, (AssistStatus.acknowledged, AssistStatus.located, AssistStatus.plan_applied), "reported")
    if outcome not in OUTCOMES:
        raise InvalidInput(
            [RowError(1, "outcome", Message("one of {choices}", choices=[Message(o) for o in OUTCOMES]))]
        )
    if outcome == "managed" and request.status is not AssistStatus.plan_applied:
        raise DomainError("apply the plan before reporting the person as managed")
    request.outcome = outcome + (f": {note.strip()[:280]}" if note.strip() else "")
    request.status = AssistStatus.reported
    request.reported_at = utcnow()
    _record(session, principal, ip, "assist.report", request, {"outcome": outcome})
    return request


@dataclass(frozen=True)
class StepView:
    name: str
    due: dt.datetime
    done: dt.datetime | None
    late: bool


@dataclass(frozen=True)
class RequestView:
    """What one side may see. ``person``, ``plan_summary`` and ``plan`` are filled for the receiver only."""

    id: int
    box: Box
    status: AssistStatus
    category: str
    last_exposure: dt.date
    sender_name: str
    receiver_name: str
    sent_at: dt.datetime
    steps: list[StepView]
    outcome: str | None
    declined_reason: str | None
    contact_id: int | None
    person: dict[str, object] | None
    located_person_id: int | None
    plan_summary: str | None
    message: str | None
    overdue: bool
    # The referred person's masked name: the sender sees whom they referred, not a contact number.
    person_label: str = ""
    # The receiver's plan for the person once applied (what "apply the plan" did), else None.
    plan: ManagementPlan | None = None


def _steps(request: AssistRequest, now: dt.datetime) -> list[StepView]:
    pairs = (
        ("acknowledge", request.acknowledge_due, request.acknowledged_at),
        ("locate", request.locate_due, request.located_at),
        ("apply_plan", request.plan_due, request.plan_applied_at),
        ("report", request.report_due, request.reported_at),
    )
    views = []
    for name, due, done in pairs:
        due_aware = as_utc(due)
        late = (done is None and now > due_aware) or (done is not None and as_utc(done) > due_aware)
        if request.status is AssistStatus.declined and done is None:
            late = False
        views.append(StepView(name, as_local(due), as_local(done) if done else None, late))
    return views


def view(session: Session, principal: Principal, request: AssistRequest, box: Box) -> RequestView:
    names = dict(
        session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                Jurisdiction.id.in_([request.sender_jurisdiction_id, request.receiver_jurisdiction_id])
            )
        ).all()
    )
    steps = _steps(request, utcnow())
    receiver = box == "received"
    person: dict[str, object] | None = None
    if receiver and request.status is not AssistStatus.sent:
        person = {
            "name": request.name_masked,
            "id_number": request.id_masked,
            "phone": request.phone_masked,
            "sex": request.sex,
            "age": request.age,
            "revealed": False,
        }
    return RequestView(
        id=request.id,
        box=box,
        status=request.status,
        category=request.category.value,
        last_exposure=request.last_exposure,
        sender_name=names.get(request.sender_jurisdiction_id, ""),
        receiver_name=names.get(request.receiver_jurisdiction_id, ""),
        sent_at=as_local(request.sent_at),
        steps=steps,
        outcome=request.outcome,
        declined_reason=request.declined_reason,
        contact_id=None if receiver else request.contact_id,
        person=person,
        located_person_id=request.located_person_id if receiver else None,
        plan_summary=request.plan_summary if receiver else None,
        # Both sides read the message: the sender wrote it and must see what was sent.
        message=request.message,
        overdue=request.status in OPEN and any(s.late and s.done is None for s in steps),
        person_label=request.name_masked,
        plan=_applied_plan(session, request) if receiver else None,
    )


def _applied_plan(session: Session, request: AssistRequest) -> ManagementPlan | None:
    """The plan the receiver applied (the protocol in force there, from the last exposure)."""
    if request.plan_applied_at is None:
        return None
    plan = plan_for(
        protocol_for(session, request.receiver_jpath), request.category.value, request.last_exposure
    )
    return plan if plan is not None and plan.managed else None


def get(session: Session, principal: Principal, request_id: int) -> RequestView:
    request, box = _load(session, principal, request_id)
    return view(session, principal, request, box)


def reveal(
    session: Session, vault: Vault, principal: Principal, request_id: int, *, ip: str = ""
) -> RequestView:
    """The referred person's full data for the receiver; audited like every unmasked read."""
    if not principal.can(Permission.people_reveal):
        raise Forbidden(Message("your role may not see full personal data"))
    request = _as_receiver(session, principal, request_id)
    if request.status is AssistStatus.sent:
        raise DomainError("acknowledge the request to see the person")
    data = vault.decrypt_person(request.pii)
    _record(
        session,
        principal,
        ip,
        "assist.reveal",
        request,
        {"fields": ["id_number", "name", "phone", "address"]},
    )
    shown = view(session, principal, request, "received")
    person = {
        "name": data.name,
        "id_number": data.id_number,
        "phone": data.phone,
        "address": data.address,
        "sex": request.sex,
        "age": request.age,
        "revealed": True,
    }
    return RequestView(**{**shown.__dict__, "person": person})


def list_requests(
    session: Session,
    principal: Principal,
    box: Box,
    *,
    status: AssistStatus | None = None,
    page: int = 1,
    size: int = 50,
) -> Page[RequestView]:
    page, size = max(1, page), max(1, min(size, 200))
    column = AssistRequest.receiver_jpath if box == "received" else AssistRequest.sender_jpath
    stmt = select(AssistRequest).where(under(column, principal.jpath))
    if box == "sent":
        # A request between two places inside the caller's own scope is listed once, as received.
        stmt = stmt.where(~under(AssistRequest.receiver_jpath, principal.jpath))
    if status is not None:
        stmt = stmt.where(AssistRequest.status == status)
    total = (
        session.scalar(select(func.count()).select_from(stmt.with_only_columns(AssistRequest.id).subquery()))
        or 0
    )
    rows = list(session.scalars(stmt.order_by(AssistRequest.id.desc()).offset((page - 1) * size).limit(size)))
    return Page([view(session, principal, r, box) for r in rows], total, page, size)


def requests_for_contact(session: Session, principal: Principal, contact_id: int) -> list[RequestView]:
    contact = get_contact(session, principal, contact_id)
    rows = session.scalars(
        select(AssistRequest)
        .where(AssistRequest.contact_id == contact.id, under(AssistRequest.sender_jpath, principal.jpath))
        .order_by(AssistRequest.id)
    )
    return [view(session, principal, r, "sent") for r in rows]
