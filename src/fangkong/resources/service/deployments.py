"""Deployments (支援): a team sent to another jurisdiction for an outbreak, arriving in batches and split
into working groups, each person checked in on arrival and checked out on leaving, with who holds
command there. Either side sees the deployment: the sending team's scope and the receiving one's.

Check-in and check-out are what move the counts (``staff.duty_counts``): a person checked in is away
from home and on duty where they arrived, until they check out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope, under
from fangkong.resources.models import (
    Deployment,
    DeploymentMember,
    DeploymentState,
    Staff,
    Team,
    TeamMember,
)
from fangkong.resources.service.common import actor, bad, get_team

TEXT_MAX = 100


@dataclass(frozen=True)
class MemberPlan:
    """One person of a deployment: the batch they travel in and their working group there."""

    staff_id: int
    batch: int = 1
    working_group: str = ""


@dataclass(frozen=True)
class DeploymentRow:
    deployment: Deployment
    team: Team
    to_name: str
    members: list[tuple[DeploymentMember, Staff]]

    @property
    def checked_in(self) -> int:
        return sum(1 for m, _ in self.members if m.checked_in_at is not None and m.checked_out_at is None)

    @property
    def checked_out(self) -> int:
        return sum(1 for m, _ in self.members if m.checked_out_at is not None)


def get_deployment(session: Session, principal: Principal, deployment_id: int) -> Deployment:
    found = session.get(Deployment, deployment_id)
    if found is None or not (
        path_in_scope(found.from_jpath, principal.jpath) or path_in_scope(found.to_jpath, principal.jpath)
    ):
        raise NotFound(Message("deployment {id} not found", id=deployment_id))
    return found


def send(
    session: Session,
    principal: Principal,
    team_id: int,
    *,
    to_jurisdiction_code: str,
    outbreak: str,
    commander: str,
    members: Sequence[MemberPlan] = (),
    ip: str = "",
) -> Deployment:
    """Send a team (all of its members in batch 1 unless ``members`` says otherwise) to support another
    jurisdiction. The receiving jurisdiction need not be in the sender's scope: support crosses lines."""
    team = get_team(session, principal, team_id)
    errors: list[RowError] = []
    outbreak, commander = outbreak.strip(), commander.strip()
    if not outbreak or len(outbreak) > TEXT_MAX:
        errors.append(
            RowError(1, "outbreak", Message("a name of 1 to {n} characters is required", n=TEXT_MAX))
        )
    if not commander or len(commander) > TEXT_MAX:
        errors.append(
            RowError(1, "commander", Message("say who holds command there (1 to {n} characters)", n=TEXT_MAX))
        )
    target = session.scalar(select(Jurisdiction).where(Jurisdiction.code == to_jurisdiction_code.strip()))
    if target is None:
        errors.append(RowError(1, "to_jurisdiction_code", Message("no jurisdiction with this code")))
    elif target.path.startswith(team.jpath):
        errors.append(
            RowError(
                1,
                "to_jurisdiction_code",
                Message("a deployment goes to a jurisdiction outside the team's own"),
            )
        )
    roster = set(session.scalars(select(TeamMember.staff_id).where(TeamMember.team_id == team.id)))
    plans = list(members) or [MemberPlan(s) for s in sorted(roster)]
    if not plans:
        errors.append(RowError(1, "members", Message("the team has no members to send")))
    for i, plan in enumerate(plans, start=1):
        if plan.staff_id not in roster:
            errors.append(RowError(i, "staff_id", Message("this person is not on the team")))
        if not 1 <= plan.batch <= 20:
            errors.append(RowError(i, "batch", Message("a batch is numbered 1 to 20")))
    if errors:
        raise InvalidInput(errors)
    assert target is not None
    deployment = Deployment(
        team_id=team.id,
        from_jpath=team.jpath,
        to_jurisdiction_id=target.id,
        to_jpath=target.path,
        outbreak=outbreak,
        commander=commander,
        state=DeploymentState.sent,
        sent_at=clock.utcnow(),
        created_by=principal.username,
    )
    session.add(deployment)
    session.flush()
    session.add_all(
        DeploymentMember(
            deployment_id=deployment.id,
            staff_id=p.staff_id,
            batch=p.batch,
            working_group=p.working_group.strip()[:60],
        )
        for p in plans
    )
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "resources.deployment.send",
        "deployment",
        deployment.id,
        jpath=team.jpath,
        detail={"to": target.path, "members": len(plans)},
    )
    return deployment


def _members(session: Session, deployment: Deployment, staff_ids: Sequence[int]) -> list[DeploymentMember]:
    query = select(DeploymentMember).where(DeploymentMember.deployment_id == deployment.id)
    if staff_ids:
        query = query.where(DeploymentMember.staff_id.in_(list(staff_ids)))
    found = list(session.scalars(query.order_by(DeploymentMember.id)))
    known = {m.staff_id for m in found}
    missing = [s for s in staff_ids if s not in known]
    if missing:
        raise bad(
            "staff_ids", Message("not part of this deployment: {ids}", ids=", ".join(map(str, missing)))
        )
    return found


def check_in(
    session: Session,
    principal: Principal,
    deployment_id: int,
    staff_ids: Sequence[int] = (),
    *,
    batch: int | None = None,
    ip: str = "",
) -> int:
    """Check people in on arrival (the named ones, a batch, or everyone not yet in); returns how many."""
    deployment = get_deployment(session, principal, deployment_id)
    if deployment.state is DeploymentState.closed:
        raise Conflict(Message("this deployment is closed"))
    now = clock.utcnow()
    arriving = [
        m
        for m in _members(session, deployment, staff_ids)
        if m.checked_in_at is None and (batch is None or m.batch == batch)
    ]
    busy = set(
        session.scalars(
            select(DeploymentMember.staff_id).where(
                DeploymentMember.staff_id.in_([m.staff_id for m in arriving]),
                DeploymentMember.checked_in_at.is_not(None),
                DeploymentMember.checked_out_at.is_(None),
            )
        )
    )
    if busy:
        raise Conflict(
            Message("already checked in on another deployment: {ids}", ids=", ".join(map(str, sorted(busy))))
        )
    for member in arriving:
        member.checked_in_at = now
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "resources.deployment.check_in",
        "deployment",
        deployment.id,
        jpath=deployment.to_jpath,
        detail={"people": len(arriving)},
    )
    return len(arriving)


def check_out(
    session: Session, principal: Principal, deployment_id: int, staff_ids: Sequence[int] = (), *, ip: str = ""
) -> int:
    """Check people out on leaving; the deployment closes when nobody is left checked in or to arrive."""
    deployment = get_deployment(session, principal, deployment_id)
    now = clock.utcnow()
    leaving = [
        m
        for m in _members(session, deployment, staff_ids)
        if m.checked_in_at is not None and m.checked_out_at is None
    ]
    for member in leaving:
        member.checked_out_at = now
    session.flush()
    if all(m.checked_out_at is not None for m in _members(session, deployment, ())):
        deployment.state = DeploymentState.closed
        deployment.closed_at = now
    audit.record(
        session,
        actor(principal, ip),
        "resources.deployment.check_out",
        "deployment",
        deployment.id,
        jpath=deployment.to_jpath,
        detail={"people": len(leaving)},
    )
    return len(leaving)


def _rows(session: Session, deployments: list[Deployment]) -> list[DeploymentRow]:
    if not deployments:
        return []
    ids = [d.id for d in deployments]
    members: dict[int, list[tuple[DeploymentMember, Staff]]] = {}
    for member, person in session.execute(
        select(DeploymentMember, Staff)
        .join(Staff, Staff.id == DeploymentMember.staff_id)
        .where(DeploymentMember.deployment_id.in_(ids))
        .order_by(DeploymentMember.batch, DeploymentMember.working_group, Staff.id)
    ):
        members.setdefault(member.deployment_id, []).append((member, person))
    teams = {
        t.id: t for t in session.scalars(select(Team).where(Team.id.in_({d.team_id for d in deployments})))
    }
    names = dict(
        session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                Jurisdiction.id.in_({d.to_jurisdiction_id for d in deployments})
            )
        ).all()
    )
    return [
        DeploymentRow(d, teams[d.team_id], names.get(d.to_jurisdiction_id, ""), members.get(d.id, []))
        for d in deployments
    ]


def list_deployments(
    session: Session, principal: Principal, *, open_only: bool = False
) -> list[DeploymentRow]:
    """Deployments sent from or received into the caller's scope, newest first."""
    query = select(Deployment).where(
        or_(under(Deployment.from_jpath, principal.jpath), under(Deployment.to_jpath, principal.jpath))
    )
    if open_only:
        query = query.where(Deployment.state == DeploymentState.sent)
    return _rows(
        session, list(session.scalars(query.order_by(Deployment.sent_at.desc(), Deployment.id.desc())))
    )


def deployment_row(session: Session, principal: Principal, deployment_id: int) -> DeploymentRow:
    return _rows(session, [get_deployment(session, principal, deployment_id)])[0]


def open_count(session: Session, jpath: str) -> int:
    """Deployments of teams of a subtree still out (the dashboard's "teams deployed")."""
    return len(
        set(
            session.scalars(
                select(Deployment.team_id).where(
                    under(Deployment.from_jpath, jpath), Deployment.state == DeploymentState.sent
                )
            )
        )
    )
