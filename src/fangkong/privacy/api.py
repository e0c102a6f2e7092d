"""JSON routes of the personal-data lifecycle (/api/privacy/...). Thin: parse, call the service, shape.

Rules, runs and emergencies need ``privacy.manage`` (administrators; closing and purging an emergency
also a province-level one); duplicates and merges ``people.merge``; breaking the glass
``access.outside``; reviewing grants ``access.review``.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from fangkong.core.audit import Actor
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, RowId, SessionDep, client_ip
from fangkong.core.errors import NotFound
from fangkong.core.permissions import Permission
from fangkong.privacy.models import Emergency
from fangkong.privacy.rules.retention import BY_CODE
from fangkong.privacy.schemas import (
    AccessCreate,
    AccessReview,
    CandidatePublic,
    ClassCountPublic,
    EmergencyCreate,
    EmergencyPublic,
    GrantPublic,
    MergeCreate,
    MergePublic,
    RecordLink,
    RulePublic,
    RuleUpdate,
    RunPublic,
)
from fangkong.privacy.service import access, emergency, merge, records, retention

router = APIRouter(prefix="/api/privacy", tags=["privacy"])

Manager = Annotated[Principal, Depends(Require(Permission.privacy_manage))]
Merger = Annotated[Principal, Depends(Require(Permission.people_merge))]
GlassBreaker = Annotated[Principal, Depends(Require(Permission.access_outside))]
Reviewer = Annotated[Principal, Depends(Require(Permission.access_review))]


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.user_id, principal.username, client_ip(request))


def run_public(report: retention.RunReport) -> RunPublic:
    return RunPublic(
        run_id=report.run_id,
        as_of=report.as_of,
        dry_run=report.dry_run,
        classes=[ClassCountPublic.model_validate(c.__dict__) for c in report.classes],
        people_anonymised=report.people_anonymised,
        merges_finalised=report.merges_finalised,
    )


def emergency_public(row: Emergency) -> EmergencyPublic:
    out = EmergencyPublic.model_validate(row)
    out.report = emergency.deletion_report(row)
    return out


@router.get("/rules", response_model=list[RulePublic])
def list_rules(principal: Manager, session: SessionDep) -> list[RulePublic]:
    return [RulePublic.model_validate(r.__dict__) for r in retention.rules_in_force(session)]


@router.put("/rules/{record_class}", response_model=RulePublic)
def set_rule(
    record_class: str, body: RuleUpdate, principal: Manager, session: SessionDep, request: Request
) -> RulePublic:
    if record_class not in BY_CODE:
        raise NotFound(f"record class {record_class} not found")
    rule = retention.set_rule(
        session, _actor(principal, request), record_class, body.period_days, body.action, body.active
    )
    return RulePublic.model_validate(rule.__dict__)


@router.post("/retention/dry-run", response_model=RunPublic)
def dry_run(principal: Manager, session: SessionDep, request: Request) -> RunPublic:
    """What the nightly job would delete or anonymise today; nothing is written but the run's record."""
    return run_public(retention.run(session, _actor(principal, request), dry_run=True))


@router.get("/emergencies", response_model=list[EmergencyPublic])
def list_emergencies(principal: Manager, session: SessionDep) -> list[EmergencyPublic]:
    return [emergency_public(e) for e in emergency.list_emergencies(session, principal.jpath)]


@router.post("/emergencies", response_model=EmergencyPublic, status_code=201)
def open_emergency(
    body: EmergencyCreate, principal: Manager, session: SessionDep, request: Request
) -> EmergencyPublic:
    row = emergency.open_emergency(session, principal, _actor(principal, request), body.name, body.opened_on)
    return emergency_public(row)


@router.get("/emergencies/{emergency_id}", response_model=EmergencyPublic)
def get_emergency(emergency_id: RowId, principal: Manager, session: SessionDep) -> EmergencyPublic:
    return emergency_public(emergency.get(session, principal.jpath, emergency_id))


@router.post("/emergencies/{emergency_id}/close", response_model=EmergencyPublic)
def close_emergency(
    emergency_id: RowId, principal: Manager, session: SessionDep, request: Request
) -> EmergencyPublic:
    return emergency_public(emergency.close(session, principal, _actor(principal, request), emergency_id))


@router.post("/emergencies/{emergency_id}/purge", response_model=EmergencyPublic)
def purge_emergency(
    emergency_id: RowId, principal: Manager, session: SessionDep, request: Request
) -> EmergencyPublic:
    """Purge a closed emergency whose confirmation period has passed; the answer holds the report."""
    emergency.purge(session, principal, _actor(principal, request), emergency_id)
    return emergency_public(emergency.get(session, principal.jpath, emergency_id))


@router.get("/duplicates", response_model=list[CandidatePublic])
def duplicates(principal: Merger, session: SessionDep) -> list[CandidatePublic]:
    return [
        CandidatePublic.model_validate(c.__dict__) for c in merge.likely_duplicates(session, principal.jpath)
    ]


@router.get("/merges", response_model=list[MergePublic])
def list_merges(principal: Merger, session: SessionDep) -> list[MergePublic]:
    return [MergePublic.model_validate(m) for m in merge.list_merges(session, principal.jpath)]


@router.post("/merges", response_model=MergePublic, status_code=201)
def merge_people(body: MergeCreate, principal: Merger, session: SessionDep, request: Request) -> MergePublic:
    row = merge.merge(session, _actor(principal, request), principal.jpath, body.survivor_id, body.merged_id)
    return MergePublic.model_validate(row)


@router.post("/records/link", response_model=MergePublic, status_code=201)
def link_record(body: RecordLink, principal: Merger, session: SessionDep, request: Request) -> MergePublic:
    """Link an unidentified tracing record to the registry person it turned out to be (undoable)."""
    row = records.link(session, _actor(principal, request), principal.jpath, body.person_id, body.record_id)
    return MergePublic.model_validate(row)


@router.post("/merges/{merge_id}/undo", response_model=MergePublic)
def undo_merge(merge_id: RowId, principal: Merger, session: SessionDep, request: Request) -> MergePublic:
    return MergePublic.model_validate(
        merge.undo(session, _actor(principal, request), principal.jpath, merge_id)
    )


@router.post("/access", response_model=GrantPublic, status_code=201)
def break_the_glass(
    body: AccessCreate, principal: GlassBreaker, session: SessionDep, request: Request
) -> GrantPublic:
    """Access to one person outside your jurisdiction for a shift, with the reason stated (audited)."""
    grant = access.request_access(
        session, principal, body.person_id, body.reason, body.reason_text, client_ip(request)
    )
    return GrantPublic.model_validate(grant)


@router.get("/access", response_model=list[GrantPublic])
def my_grants(principal: GlassBreaker, session: SessionDep) -> list[GrantPublic]:
    return [GrantPublic.model_validate(g) for g in access.mine(session, principal)]


@router.get("/access/review", response_model=list[GrantPublic])
def grants_for_review(principal: Reviewer, session: SessionDep, pending: bool = True) -> list[GrantPublic]:
    return [
        GrantPublic.model_validate(g)
        for g in access.for_review(session, principal.jpath, pending_only=pending)
    ]


@router.post("/access/{grant_id}/review", response_model=GrantPublic)
def review_grant(
    grant_id: RowId, body: AccessReview, principal: Reviewer, session: SessionDep, request: Request
) -> GrantPublic:
    return GrantPublic.model_validate(
        access.review(session, principal, grant_id, body.note, client_ip(request))
    )


def report_json(row: Emergency) -> str:
    return json.dumps(emergency.deletion_report(row), ensure_ascii=False)
