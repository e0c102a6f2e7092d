"""JSON routes of the resources capability (/api/resources/...): staff and certifications, the renewal
worklist, teams with readiness, deployments with check-in and check-out, training, supplies, and the
counts the command sees. Thin: parse, call the service, shape.

Reading needs ``resources.read``; staff, teams, deployments and training ``resources.manage``; supplies
``supplies.manage``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, RowId, SessionDep, VaultDep, client_ip
from fangkong.core.permissions import Permission
from fangkong.resources import schemas as s
from fangkong.resources.models import PostedSiteKind, Skill, TeamKind
from fangkong.resources.service import (
    common,
    deployments,
    overview,
    postings,
    roster,
    staff,
    supplies,
    teams,
    training,
)

router = APIRouter(prefix="/api/resources", tags=["resources"])

Reader = Annotated[Principal, Depends(Require(Permission.resources_read))]
Manager = Annotated[Principal, Depends(Require(Permission.resources_manage))]
Keeper = Annotated[Principal, Depends(Require(Permission.supplies_manage))]
# The language of a sentence an answer carries for people (Chinese unless asked).
Lang = Literal["zh", "en"]


def staff_public(row: staff.StaffRow) -> s.StaffPublic:
    p = row.staff
    return s.StaffPublic(
        id=p.id, jpath=p.jpath, name=p.name, unit=p.unit, phone_masked=p.phone_masked,
        available=p.available, shift_today=row.shift_today, deployed_away=row.deployed_away,
        skills=row.skills, certified=row.valid,
    )  # fmt: skip


def team_public(row: teams.TeamRow) -> s.TeamPublic:
    t, r = row.team, row.readiness
    return s.TeamPublic(
        id=t.id, jpath=t.jpath, level=t.level, kind=t.kind, name=t.name,
        leader=row.leader.name if row.leader else None, members=r.members, ready=r.ready,
        standard=r.standard, gap=r.gap, readiness=r.state.value,
        contacts=[staff_public(m) for m in row.members],
    )  # fmt: skip


def deployment_public(row: deployments.DeploymentRow) -> s.DeploymentPublic:
    d = row.deployment
    return s.DeploymentPublic(
        id=d.id, team_id=d.team_id, team=row.team.name, from_jpath=d.from_jpath, to_jpath=d.to_jpath,
        to_name=row.to_name, outbreak=d.outbreak, commander=d.commander, state=d.state.value,
        sent_at=d.sent_at, checked_in=row.checked_in, checked_out=row.checked_out,
        members=[
            s.DeploymentMemberPublic(
                staff_id=m.staff_id, name=p.name, batch=m.batch, working_group=m.working_group,
                checked_in_at=m.checked_in_at, checked_out_at=m.checked_out_at,
            )
            for m, p in row.members
        ],
    )  # fmt: skip


def stock_public(row: supplies.StockRow) -> s.StockPublic:
    st = row.stock
    return s.StockPublic(
        id=st.id, jpath=st.jpath, jurisdiction=row.jurisdiction_name, site=st.site, kind=st.kind,
        unit=row.unit, on_hand=st.on_hand, rate_per_day=round(row.rate, 2),
        days_left=None if row.days_left is None else round(row.days_left, 1), reorder_days=st.reorder_days,
        reorder=row.reorder, reorder_quantity=row.reorder_quantity, alert_since=st.alert_since,
    )  # fmt: skip


def _one_staff(session: Session, principal: Principal, staff_id: int) -> s.StaffPublic:
    person = common.get_staff(session, principal, staff_id)
    found = [r for r in staff.rows(session, person.jpath) if r.staff.id == person.id]
    return staff_public(found[0])


# ------------------------------------------------------------------------------------------- staff


@router.get("/staff", response_model=list[s.StaffPublic])
def list_staff(principal: Reader, session: SessionDep, skill: Skill | None = None) -> list[s.StaffPublic]:
    return [staff_public(r) for r in staff.list_staff(session, principal, skill.value if skill else "")]


@router.post("/staff", response_model=s.StaffPublic, status_code=201)
def add_staff(
    body: s.StaffCreate, principal: Manager, session: SessionDep, vault: VaultDep, request: Request
) -> s.StaffPublic:
    person = staff.add_staff(
        session, principal, jurisdiction_code=body.jurisdiction_code, name=body.name, unit=body.unit,
        skills=[k.value for k in body.skills], work_phone=body.work_phone, username=body.username,
        vault=vault, ip=client_ip(request),
    )  # fmt: skip
    return _one_staff(session, principal, person.id)


@router.get("/staff/{staff_id}", response_model=s.StaffPublic)
def get_staff(staff_id: RowId, principal: Reader, session: SessionDep) -> s.StaffPublic:
    return _one_staff(session, principal, staff_id)


@router.post("/staff/{staff_id}/availability", response_model=s.AvailabilityChanged)
def set_availability(
    staff_id: RowId,
    body: s.Availability,
    principal: Manager,
    session: SessionDep,
    bus: BusDep,
    request: Request,
    lang: Lang = "zh",
) -> s.AvailabilityChanged:
    """Mark a person available or not; marked not available, they leave the sites they were posted to
    (``postings_ended``, and ``message`` naming the sites, in ``lang``)."""
    change = staff.set_availability(
        session, principal, staff_id, available=body.available, ip=client_ip(request), bus=bus
    )
    return s.AvailabilityChanged(
        **_one_staff(session, principal, staff_id).model_dump(),
        postings_ended=[s.posting_public(postings.PostingRow(p, change.staff)) for p in change.ended],
        message=change.message.render(lang),
    )


@router.post("/staff/{staff_id}/phone", response_model=s.PhonePublic)
def reveal_phone(
    staff_id: RowId, principal: Manager, session: SessionDep, vault: VaultDep, request: Request
) -> s.PhonePublic:
    """The full work phone, for those who manage staff (recorded in the audit log)."""
    phone = staff.reveal_phone(session, vault, principal, staff_id, client_ip(request))
    return s.PhonePublic(staff_id=staff_id, work_phone=phone)


@router.post("/roster", response_model=s.ShiftPublic)
def set_shift(
    body: s.ShiftCreate, principal: Manager, session: SessionDep, request: Request
) -> s.ShiftPublic:
    """Put a person on duty or on call for a day ("off" clears the day)."""
    row = roster.set_shift(
        session, principal, body.staff_id, body.day, body.kind, team_id=body.team_id, ip=client_ip(request)
    )
    person = common.get_staff(session, principal, body.staff_id)
    return s.ShiftPublic(
        staff_id=person.id, name=person.name, day=body.day, kind=row.kind if row else None,
        team_id=row.team_id if row else None,
    )  # fmt: skip


@router.get("/roster/today", response_model=list[s.ShiftPublic])
def roster_today(principal: Reader, session: SessionDep) -> list[s.ShiftPublic]:
    """Who is on duty or on call today (local day) in the caller's scope, by team."""
    today = clock.today()
    return [
        s.ShiftPublic(
            staff_id=r.staff.id,
            name=r.staff.name,
            day=today,
            kind=r.kind,
            team_id=r.team.id if r.team else None,
        )
        for r in roster.today_lines(session, principal.jpath, today)
    ]


@router.post("/staff/{staff_id}/certifications", response_model=s.CertificationPublic, status_code=201)
def certify(
    staff_id: RowId, body: s.CertificationCreate, principal: Manager, session: SessionDep, request: Request
) -> s.CertificationPublic:
    cert = staff.certify(
        session, principal, staff_id, body.skill.value, body.passed_on, valid_days=body.valid_days,
        ip=client_ip(request),
    )  # fmt: skip
    return s.CertificationPublic(
        id=cert.id,
        staff_id=cert.staff_id,
        skill=cert.skill,
        passed_on=cert.passed_on,
        expires_on=cert.expires_on,
    )


@router.get("/eligible", response_model=list[s.StaffPublic])
def eligible(principal: Reader, session: SessionDep, skill: Skill) -> list[s.StaffPublic]:
    """Who may be posted for ``skill`` today: available, not away, certified."""
    return [staff_public(r) for r in staff.eligible(session, principal.jpath, skill)]


@router.get("/renewals", response_model=list[s.RenewalPublic])
def renewals(
    principal: Reader, session: SessionDep, within: Annotated[int, Query(ge=0, le=365)] = 30
) -> list[s.RenewalPublic]:
    return [
        s.RenewalPublic(
            staff_id=r.staff.id, name=r.staff.name, skill=r.skill, expires_on=r.expires_on, expired=r.expired
        )
        for r in staff.renewals_due(session, principal, within)
    ]


# ------------------------------------------------------------------------------------------- teams


@router.get("/teams", response_model=list[s.TeamPublic])
def list_teams(principal: Reader, session: SessionDep, kind: TeamKind | None = None) -> list[s.TeamPublic]:
    return [team_public(r) for r in teams.list_teams(session, principal, kind.value if kind else "")]


@router.post("/teams", response_model=s.TeamPublic, status_code=201)
def create_team(
    body: s.TeamCreate, principal: Manager, session: SessionDep, request: Request
) -> s.TeamPublic:
    team = teams.create_team(
        session, principal, jurisdiction_code=body.jurisdiction_code, kind=body.kind.value, name=body.name,
        ip=client_ip(request),
    )  # fmt: skip
    return team_public(teams.team_row(session, principal, team.id))


@router.get("/teams/{team_id}", response_model=s.TeamPublic)
def get_team(team_id: RowId, principal: Reader, session: SessionDep) -> s.TeamPublic:
    return team_public(teams.team_row(session, principal, team_id))


@router.post("/teams/{team_id}/members", response_model=s.TeamPublic)
def add_member(
    team_id: RowId, body: s.MemberCreate, principal: Manager, session: SessionDep, request: Request
) -> s.TeamPublic:
    teams.add_member(session, principal, team_id, body.staff_id, leader=body.leader, ip=client_ip(request))
    return team_public(teams.team_row(session, principal, team_id))


@router.post("/teams/{team_id}/deployments", response_model=s.DeploymentPublic, status_code=201)
def send(
    team_id: RowId, body: s.DeploymentCreate, principal: Manager, session: SessionDep, request: Request
) -> s.DeploymentPublic:
    """Send the team in support (支援) of another jurisdiction, in batches and working groups."""
    sent = deployments.send(
        session, principal, team_id, to_jurisdiction_code=body.to_jurisdiction_code, outbreak=body.outbreak,
        commander=body.commander,
        members=[deployments.MemberPlan(m.staff_id, m.batch, m.working_group) for m in body.members],
        ip=client_ip(request),
    )  # fmt: skip
    return deployment_public(deployments.deployment_row(session, principal, sent.id))


# ------------------------------------------------------------------------------------- deployments


@router.get("/deployments", response_model=list[s.DeploymentPublic])
def list_deployments(
    principal: Reader, session: SessionDep, open_only: bool = False
) -> list[s.DeploymentPublic]:
    return [
        deployment_public(r) for r in deployments.list_deployments(session, principal, open_only=open_only)
    ]


@router.get("/deployments/{deployment_id}", response_model=s.DeploymentPublic)
def get_deployment(deployment_id: RowId, principal: Reader, session: SessionDep) -> s.DeploymentPublic:
    return deployment_public(deployments.deployment_row(session, principal, deployment_id))


@router.post("/deployments/{deployment_id}/check-in", response_model=s.Moved)
def check_in(
    deployment_id: RowId, body: s.CheckIn, principal: Manager, session: SessionDep, request: Request
) -> s.Moved:
    people = deployments.check_in(
        session, principal, deployment_id, body.staff_ids, batch=body.batch, ip=client_ip(request)
    )
    return s.Moved(people=people)


@router.post("/deployments/{deployment_id}/check-out", response_model=s.Moved)
def check_out(
    deployment_id: RowId, body: s.CheckOut, principal: Manager, session: SessionDep, request: Request
) -> s.Moved:
    return s.Moved(
        people=deployments.check_out(session, principal, deployment_id, body.staff_ids, ip=client_ip(request))
    )


# ---------------------------------------------------------------------------------------- training


@router.get("/courses", response_model=list[s.CoursePublic])
def list_courses(principal: Reader, session: SessionDep) -> list[s.CoursePublic]:
    return [
        s.CoursePublic(
            id=c.id, title=c.title, skill=c.skill, valid_days=c.valid_days, pass_score=c.pass_score
        )
        for c in training.list_courses(session, principal)
    ]


@router.post("/courses", response_model=s.CoursePublic, status_code=201)
def create_course(
    body: s.CourseCreate, principal: Manager, session: SessionDep, request: Request
) -> s.CoursePublic:
    c = training.create_course(
        session, principal, title=body.title, skill=body.skill.value, valid_days=body.valid_days,
        pass_score=body.pass_score, ip=client_ip(request),
    )  # fmt: skip
    return s.CoursePublic(
        id=c.id, title=c.title, skill=c.skill, valid_days=c.valid_days, pass_score=c.pass_score
    )


@router.post("/courses/{course_id}/sessions", response_model=s.SessionPublic, status_code=201)
def hold_session(
    course_id: RowId, body: s.SessionCreate, principal: Manager, session: SessionDep, request: Request
) -> s.SessionPublic:
    held = training.hold_session(
        session,
        principal,
        course_id,
        body.held_on,
        jurisdiction_code=body.jurisdiction_code,
        ip=client_ip(request),
    )
    return s.SessionPublic(
        id=held.id, course_id=held.course_id, title=held.title, held_on=held.held_on,
        is_exercise=held.is_exercise,
        attended=0, passed=0,
    )  # fmt: skip


@router.get("/sessions", response_model=list[s.SessionPublic])
def list_sessions(principal: Reader, session: SessionDep) -> list[s.SessionPublic]:
    return [
        s.SessionPublic(
            id=r.session.id,
            course_id=r.session.course_id,
            title=r.session.title,
            held_on=r.session.held_on,
            is_exercise=r.session.is_exercise,
            attended=r.attended,
            passed=r.passed,
        )
        for r in training.list_sessions(session, principal)
    ]


@router.post("/sessions/{session_id}/results", response_model=s.ResultPublic, status_code=201)
def record_result(
    session_id: RowId, body: s.ResultCreate, principal: Manager, session: SessionDep, request: Request
) -> s.ResultPublic:
    """An exam result; a pass certifies the course's skill from the session's day."""
    row = training.record_result(
        session, principal, session_id, body.staff_id, body.exam_score, ip=client_ip(request)
    )
    return s.ResultPublic(staff_id=row.staff_id, exam_score=row.exam_score, passed=row.passed)


# ---------------------------------------------------------------------------------------- supplies


@router.get("/stock", response_model=list[s.StockPublic])
def list_stock(principal: Reader, session: SessionDep, alerts_only: bool = False) -> list[s.StockPublic]:
    """Every store in scope with its learned rate, days of stock left and reorder alert."""
    return [stock_public(r) for r in supplies.list_stock(session, principal, alerts_only=alerts_only)]


def _one_stock(session: Session, principal: Principal, stock_id: int) -> s.StockPublic:
    stock = supplies.get_stock(session, principal, stock_id)
    return stock_public(next(r for r in supplies.stock_rows(session, stock.jpath) if r.stock.id == stock.id))


@router.post("/stock/receipts", response_model=s.StockPublic, status_code=201)
def receive(body: s.ReceiptCreate, principal: Keeper, session: SessionDep, request: Request) -> s.StockPublic:
    stock = supplies.receive(
        session, principal, jurisdiction_code=body.jurisdiction_code, kind=body.kind.value,
        quantity=body.quantity, site=body.site, ip=client_ip(request),
    )  # fmt: skip
    return _one_stock(session, principal, stock.id)


@router.get("/stock/{stock_id}", response_model=s.StockPublic)
def get_stock(stock_id: RowId, principal: Reader, session: SessionDep) -> s.StockPublic:
    return _one_stock(session, principal, stock_id)


@router.get("/stock/{stock_id}/moves", response_model=list[s.MovePublic])
def moves(stock_id: RowId, principal: Reader, session: SessionDep) -> list[s.MovePublic]:
    return [
        s.MovePublic(
            id=m.id,
            quantity=m.quantity,
            reason=m.reason,
            source=m.source,
            moved_on=m.moved_on,
            recorded_by=m.recorded_by,
        )
        for m in supplies.moves_of(session, principal, stock_id)
    ]


@router.post("/stock/{stock_id}/issue", response_model=s.StockPublic)
def issue(
    stock_id: RowId, body: s.Quantity, principal: Keeper, session: SessionDep, request: Request
) -> s.StockPublic:
    supplies.issue(session, principal, stock_id, body.quantity, ip=client_ip(request))
    return _one_stock(session, principal, stock_id)


@router.post("/stock/{stock_id}/transfer", response_model=s.StockPublic)
def transfer(
    stock_id: RowId, body: s.TransferCreate, principal: Keeper, session: SessionDep, request: Request
) -> s.StockPublic:
    supplies.transfer(
        session, principal, stock_id, body.to_jurisdiction_code, body.quantity, ip=client_ip(request)
    )
    return _one_stock(session, principal, stock_id)


@router.post("/stock/{stock_id}/threshold", response_model=s.StockPublic)
def set_threshold(
    stock_id: RowId, body: s.Threshold, principal: Keeper, session: SessionDep, request: Request
) -> s.StockPublic:
    supplies.set_threshold(session, principal, stock_id, body.reorder_days, ip=client_ip(request))
    return _one_stock(session, principal, stock_id)


# ------------------------------------------------------------------------------------------ counts


@router.get("/counts", response_model=s.CountsPublic)
def counts(principal: Reader, session: SessionDep) -> s.CountsPublic:
    """Teams deployed, staff on duty and gaps in the caller's scope (the command dashboard's card)."""
    return s.CountsPublic(**overview.counts(session, principal.jpath))


# ------------------------------------------------------------------------------ postings (issue 17)


@router.get("/postings", response_model=list[s.PostingPublic])
def list_postings(
    principal: Reader, session: SessionDep, site_kind: PostedSiteKind | None = None
) -> list[s.PostingPublic]:
    """Staff posted now, and to come, at the sites in your area (posting is done from the site's page)."""
    return [s.posting_public(r) for r in postings.list_postings(session, principal, kind=site_kind)]


@router.get("/teams-for", response_model=list[s.TeamChoicePublic])
def teams_for(
    principal: Reader,
    session: SessionDep,
    jurisdiction_code: Annotated[str, Query(min_length=1, max_length=12)],
) -> list[s.TeamChoicePublic]:
    """The teams a place's tasks may be given to: its own and those above, below, and in support there."""
    node = common.jurisdiction_in_scope(session, principal, jurisdiction_code, "jurisdiction_code")
    return [s.TeamChoicePublic(**vars(t)) for t in postings.teams_for_place(session, node.path)]
