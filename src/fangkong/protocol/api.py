"""JSON routes of the protocol capability: read protocols, compute a plan, switch the one in force."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile

from fangkong.core import jurisdictions
from fangkong.core.audit import Actor
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, RowId, SessionDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.protocol import service
from fangkong.protocol.diff import Cell, diff_protocols, protocol_rows
from fangkong.protocol.loader import builtin_ids
from fangkong.protocol.plan import PlanError, PlanFacts, compute_plan
from fangkong.protocol.schema import Protocol
from fangkong.protocol.schemas import (
    CellPublic,
    ChangeCount,
    DiffRowPublic,
    InForce,
    PersonPlan,
    PlanRequest,
    ProtocolDetail,
    ProtocolRowPublic,
    ProtocolSummary,
    SwitchRequest,
    SwitchResult,
)

router = APIRouter(prefix="/api", tags=["protocol"])
Reader = Annotated[Principal, Depends(Require(Permission.protocol_read))]
Manager = Annotated[Principal, Depends(Require(Permission.protocol_manage))]
PeopleReader = Annotated[Principal, Depends(Require(Permission.people_read))]
ProtocolId = Annotated[str, Query(max_length=64)]
MAX_PROTOCOL_BYTES = 256 * 1024


def summary_of(protocol: Protocol) -> ProtocolSummary:
    return ProtocolSummary(
        id=protocol.id,
        name=protocol.name,
        jurisdiction=protocol.jurisdiction,
        effective=protocol.effective,
        summary=protocol.summary,
        uploaded=protocol.id not in builtin_ids(),
    )


def cell_of(cell: Cell) -> CellPublic:
    return CellPublic(measure=cell.measure, days=cell.days, tests=cell.tests, text=cell.text)


@router.get("/protocols", response_model=list[ProtocolSummary])
def list_protocols(principal: Reader, session: SessionDep) -> list[ProtocolSummary]:
    return [summary_of(p) for p in service.available_protocols(session)]


@router.get("/protocols/diff", response_model=list[DiffRowPublic])
def diff(
    principal: Reader, session: SessionDep, a: ProtocolId, b: ProtocolId, changed_only: bool = False
) -> list[DiffRowPublic]:
    """Two protocols side by side: categories × measures × days × tests, then the other rules."""
    rows = diff_protocols(service.get_protocol(session, a), service.get_protocol(session, b), changed_only)
    return [
        DiffRowPublic(
            section=r.section,
            subject=r.subject,
            item=r.item,
            a=cell_of(r.a),
            b=cell_of(r.b),
            changed=r.changed,
        )
        for r in rows
    ]


@router.post("/protocols/plan", response_model=dict[str, object])
def plan(body: PlanRequest, principal: Reader, session: SessionDep) -> dict[str, object]:
    """The plan for given facts, under a named protocol or the one in force in a jurisdiction."""
    if body.protocol_id:
        protocol = service.get_protocol(session, body.protocol_id)
    else:
        place = jurisdictions.get_in_scope(
            session, body.jurisdiction_id or principal.jurisdiction_id, principal.jpath
        )
        protocol = service.protocol_in_force(session, place.path)
    facts = PlanFacts(
        last_exposure=body.last_exposure,
        arrival=body.arrival,
        area_departure=body.area_departure,
        diagnosis=body.diagnosis,
    )
    try:
        return compute_plan(protocol, body.category, facts).to_dict()
    except PlanError as exc:
        raise InvalidInput(
            [RowError(1, "category" if "category" in str(exc) else "facts", str(exc))]
        ) from None


@router.post("/protocols", response_model=ProtocolSummary, status_code=201)
def upload(
    principal: Manager, session: SessionDep, request: Request, file: Annotated[UploadFile, File()]
) -> ProtocolSummary:
    """Upload a protocol file; a broken one is refused with every problem's key and line."""
    raw = file.file.read(MAX_PROTOCOL_BYTES + 1)
    if len(raw) > MAX_PROTOCOL_BYTES:
        raise InvalidInput(
            [RowError(1, "file", Message("larger than {size} KiB", size=MAX_PROTOCOL_BYTES // 1024))]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput([RowError(1, "file", "not UTF-8 text")]) from None
    actor = Actor(principal.user_id, principal.username, client_ip(request))
    return summary_of(service.upload_protocol(session, actor, text, file.filename or "upload.yaml"))


@router.get("/protocols/{protocol_id}", response_model=ProtocolDetail)
def show(protocol_id: str, principal: Reader, session: SessionDep) -> ProtocolDetail:
    protocol = service.get_protocol(session, protocol_id)
    rows = [
        ProtocolRowPublic(section=r.section, subject=r.subject, item=r.item, cell=cell_of(r.cell))
        for r in protocol_rows(protocol)
    ]
    return ProtocolDetail(protocol=summary_of(protocol), rows=rows)


@router.get("/jurisdictions/{jurisdiction_id}/protocol", response_model=InForce)
def in_force(jurisdiction_id: RowId, principal: Reader, session: SessionDep) -> InForce:
    place = jurisdictions.get_in_scope(session, jurisdiction_id, principal.jpath)
    from sqlalchemy import select

    from fangkong.protocol.models import ProtocolAssignment

    here = session.scalar(select(ProtocolAssignment.id).where(ProtocolAssignment.jurisdiction_id == place.id))
    return InForce(
        jurisdiction_id=place.id,
        protocol_id=service.protocol_id_in_force(session, place.path),
        assigned_here=here is not None,
    )


@router.post("/jurisdictions/{jurisdiction_id}/protocol", response_model=SwitchResult)
def switch(
    jurisdiction_id: RowId, body: SwitchRequest, principal: Manager, session: SessionDep, request: Request
) -> SwitchResult:
    """Put a protocol in force in a jurisdiction (audited) and re-plan everyone under management there."""
    place = jurisdictions.get_in_scope(session, jurisdiction_id, principal.jpath)
    report = service.switch_protocol(
        session, Actor(principal.user_id, principal.username, client_ip(request)), place, body.protocol_id
    )
    return SwitchResult(
        jurisdiction=report.jurisdiction,
        old_protocol=report.old_protocol,
        new_protocol=report.new_protocol,
        replanned=report.replanned,
        changed=report.changed,
        summary=[ChangeCount(category=c, change=t, people=n) for c, t, n in report.summary],
        sample=[{"person_id": pid, "change": text} for pid, text in report.changes[:100]],
    )


@router.get("/people/{person_id}/plans", response_model=list[PersonPlan])
def person_plans(person_id: RowId, principal: PeopleReader, session: SessionDep) -> list[PersonPlan]:
    return [
        PersonPlan(source=v.source, state=v.state, plan=v.plan.to_dict())
        for v in service.plans_for_person(session, principal.jpath, person_id)
    ]
