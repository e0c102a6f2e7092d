"""Teams at province, city and county level: type, members and leader, readiness against the type's
standard size (members certified for the team's skill and available today), and the contact list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Level
from fangkong.core.scope import under
from fangkong.resources import rules
from fangkong.resources.models import Staff, Team, TeamKind, TeamLevel, TeamMember
from fangkong.resources.service import staff as staff_service
from fangkong.resources.service.common import actor, bad, get_staff, get_team, jurisdiction_in_scope

NAME_MAX = 100


@dataclass(frozen=True)
class TeamRow:
    team: Team
    members: list[staff_service.StaffRow]
    leader: Staff | None
    readiness: rules.Readiness


def create_team(
    session: Session,
    principal: Principal,
    *,
    jurisdiction_code: str,
    kind: str,
    name: str,
    ip: str = "",
) -> Team:
    """A team of a province, city or county in scope."""
    errors: list[RowError] = []
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        errors.append(RowError(1, "name", Message("a name of 1 to {n} characters is required", n=NAME_MAX)))
    try:
        team_kind = TeamKind(kind)
    except ValueError:
        errors.append(RowError(1, "kind", Message("unknown team type {value}", value=kind)))
    try:
        node = jurisdiction_in_scope(session, principal, jurisdiction_code, "jurisdiction_code")
        if node.level not in (Level.province, Level.city, Level.county):
            errors.append(
                RowError(1, "jurisdiction_code", Message("teams are kept at province, city and county level"))
            )
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
    if errors:
        raise InvalidInput(errors)
    team = Team(
        jurisdiction_id=node.id,
        jpath=node.path,
        level=TeamLevel(node.level.value),
        kind=team_kind,
        name=name,
        created_at=clock.utcnow(),
    )
    session.add(team)
    session.flush()
    audit.record(session, actor(principal, ip), "resources.team.create", "team", team.id, jpath=team.jpath)
    return team


def add_member(
    session: Session, principal: Principal, team_id: int, staff_id: int, *, leader: bool = False, ip: str = ""
) -> TeamMember:
    """Put a staff member of the team's own subtree on the team (as its leader when ``leader``)."""
    team = get_team(session, principal, team_id)
    person = get_staff(session, principal, staff_id)
    if not person.jpath.startswith(team.jpath):
        raise bad("staff_id", Message("a team takes staff of its own jurisdiction"))
    existing = session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.staff_id == person.id)
    )
    if existing is not None and not leader:
        raise Conflict(Message("{name} is already on this team", name=person.name))
    member = existing or TeamMember(team_id=team.id, staff_id=person.id)
    session.add(member)
    if leader:
        team.leader_id = person.id
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "resources.team.member",
        "team",
        team.id,
        jpath=team.jpath,
        detail={"staff_id": person.id, "leader": leader},
    )
    return member


def remove_member(session: Session, principal: Principal, team_id: int, staff_id: int, ip: str = "") -> None:
    team = get_team(session, principal, team_id)
    member = session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.staff_id == staff_id)
    )
    if member is None:
        raise bad("staff_id", Message("this person is not on the team"))
    session.delete(member)
    if team.leader_id == staff_id:
        team.leader_id = None
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "resources.team.member_removed",
        "team",
        team.id,
        jpath=team.jpath,
        detail={"staff_id": staff_id},
    )


def _rows(session: Session, teams: list[Team], day: dt.date) -> list[TeamRow]:
    if not teams:
        return []
    members: dict[int, list[int]] = {}
    for team_id, staff_id in session.execute(
        select(TeamMember.team_id, TeamMember.staff_id).where(TeamMember.team_id.in_([t.id for t in teams]))
    ):
        members.setdefault(team_id, []).append(staff_id)
    # One read of every member's skills and certifications for all the teams.
    paths = sorted({t.jpath for t in teams}, key=len)
    by_id: dict[int, staff_service.StaffRow] = {}
    for path in paths:
        if any(path.startswith(p) and p != path for p in paths):
            continue
        by_id.update({r.staff.id: r for r in staff_service.rows(session, path, day)})
    result = []
    for team in teams:
        rows = [by_id[i] for i in members.get(team.id, []) if i in by_id]
        skill = rules.TEAM_SKILL[team.kind]
        ready = sum(1 for r in rows if r.eligible_for(skill))
        leader = by_id[team.leader_id].staff if team.leader_id in by_id else None
        result.append(TeamRow(team, rows, leader, rules.readiness(team.kind, len(rows), ready)))
    return result


def list_teams(session: Session, principal: Principal, kind: str = "") -> list[TeamRow]:
    query = select(Team).where(under(Team.jpath, principal.jpath)).order_by(Team.jpath, Team.kind, Team.id)
    if kind:
        try:
            query = query.where(Team.kind == TeamKind(kind))
        except ValueError:
            raise bad("kind", Message("unknown team type {value}", value=kind)) from None
    return _rows(session, list(session.scalars(query)), clock.today())


def team_row(session: Session, principal: Principal, team_id: int) -> TeamRow:
    return _rows(session, [get_team(session, principal, team_id)], clock.today())[0]


def teams_of(session: Session, jpath: str, kind: TeamKind | None = None) -> list[TeamRow]:
    """Teams of a subtree with readiness (read by other capabilities: the drill, the dashboard)."""
    query = select(Team).where(under(Team.jpath, jpath)).order_by(Team.jpath, Team.id)
    if kind is not None:
        query = query.where(Team.kind == kind)
    return _rows(session, list(session.scalars(query)), clock.today())


def member_count(session: Session, team_id: int) -> int:
    """How many people are on a team (read by the drill's staff-hours)."""
    from sqlalchemy import func

    return int(session.scalar(select(func.count(TeamMember.id)).where(TeamMember.team_id == team_id)) or 0)
