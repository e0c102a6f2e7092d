"""Postings: staff posted to a site (a quarantine site, a sampling site) for a period with the role they
hold there, and the teams a place's tasks may be given to.

The site belongs to another capability: its use case finds the site in the caller's scope and hands it
here as a :class:`SiteRef`; this module never reads another capability's tables. A site's staff on duty
is the people whose posting is in force now, so it is computed, never typed in.

Only an available person, not deployed elsewhere and certified for the role's skill, is posted; one
person holds one posting at a time (periods of the same person never overlap). The person's staff row
is locked while the check and the write happen, so two coordinators cannot post them twice at once.
A person marked not available leaves every site at that instant (``end_postings_of``): a site counts
only people who are there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.events import EventBus, bus_of
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import ancestor_paths, path_in_scope, real_place_of, under
from fangkong.resources.events import StaffPostingsEnded
from fangkong.resources.models import (
    Certification,
    Deployment,
    DeploymentMember,
    DeploymentState,
    PostedSiteKind,
    Posting,
    PostingRole,
    Staff,
    Team,
    TeamKind,
)
from fangkong.resources.rules import postings as postings_rules
from fangkong.resources.service import staff as staff_service
from fangkong.resources.service.common import actor, bad

# The kinds of site, for the capabilities that own them (they do not import resources' models).
QUARANTINE_SITE = PostedSiteKind.quarantine_site
SAMPLING_SITE = PostedSiteKind.sampling_site


@dataclass(frozen=True)
class SiteRef:
    """A site of another capability, found in the caller's scope by that capability's use case."""

    kind: PostedSiteKind
    id: int
    name: str
    jpath: str


@dataclass(frozen=True)
class PostingRow:
    posting: Posting
    staff: Staff

    @property
    def current(self) -> bool:
        return postings_rules.current(self.posting.starts_at, self.posting.ends_at, clock.utcnow())


def parse_role(value: str, field: str = "role") -> PostingRole:
    try:
        return PostingRole(value.strip())
    except ValueError:
        raise bad(field, Message("unknown post {value}", value=value)) from None


def in_force(at: dt.datetime) -> ColumnElement[bool]:
    """Postings in force at ``at``."""
    return and_(Posting.starts_at <= at, or_(Posting.ends_at.is_(None), Posting.ends_at > at))


def _period(starts_on: dt.date | None, ends_on: dt.date | None) -> tuple[dt.datetime, dt.datetime | None]:
    """The instants of a posting from local day ``starts_on`` (today: from now) to the end of local day
    ``ends_on`` (None: open-ended)."""
    now, today = clock.utcnow(), clock.today()
    first = starts_on or today
    if first < today:
        raise bad("starts_on", Message("{value} is in the past", value=first))
    if ends_on is not None and ends_on < first:
        raise bad("ends_on", Message("the last day is before the first"))
    if ends_on is not None and (ends_on - first).days >= postings_rules.MAX_POSTING_DAYS:
        raise bad("ends_on", Message("a posting lasts at most {n} days", n=postings_rules.MAX_POSTING_DAYS))
    start = now if first == today else clock.day_bounds(first)[0]
    return start, (clock.day_bounds(ends_on)[1] if ends_on is not None else None)


def _away_elsewhere(session: Session, person: Staff, site_jpath: str) -> bool:
    """Checked in on a deployment to a place that does not hold the site (a deployment here is fine:
    support staff are posted where they were sent)."""
    targets = session.scalars(
        select(Deployment.to_jpath)
        .join(DeploymentMember, DeploymentMember.deployment_id == Deployment.id)
        .where(
            DeploymentMember.staff_id == person.id,
            DeploymentMember.checked_in_at.is_not(None),
            DeploymentMember.checked_out_at.is_(None),
        )
    ).all()
    return any(not path_in_scope(site_jpath, to) for to in targets)


def _postable_person(session: Session, principal: Principal, staff_id: int, site: SiteRef) -> Staff:
    """The staff member, locked for the posting: one of the caller's scope, or support checked in on a
    deployment to a place that holds the site."""
    person = session.scalar(select(Staff).where(Staff.id == staff_id).with_for_update())
    if person is None:
        raise NotFound(Message("staff member {id} not found", id=staff_id))
    if path_in_scope(person.jpath, principal.jpath):
        return person
    support = session.scalar(
        select(Deployment.to_jpath)
        .join(DeploymentMember, DeploymentMember.deployment_id == Deployment.id)
        .where(
            DeploymentMember.staff_id == person.id,
            DeploymentMember.checked_in_at.is_not(None),
            DeploymentMember.checked_out_at.is_(None),
            Deployment.to_jpath.in_(ancestor_paths(site.jpath)),
        )
        .limit(1)
    )
    if support is None:
        raise NotFound(Message("staff member {id} not found", id=staff_id))
    return person


def post(
    session: Session,
    principal: Principal,
    site: SiteRef,
    staff_id: int,
    role: str,
    *,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    ip: str = "",
) -> Posting:
    """Post a person to a site for a period; refused, with the reason named, for someone not available,
    deployed elsewhere, not certified for the post, or already posted anywhere in that period."""
    post_role = parse_role(role)
    if site.kind is PostedSiteKind.quarantine_site and post_role is PostingRole.sampler:
        raise bad("role", Message("a quarantine site has no sampler post"))
    start, end = _period(starts_on, ends_on)
    person = _postable_person(session, principal, staff_id, site)
    day = clock.local_day(start)
    valid = set(
        session.scalars(
            select(Certification.skill).where(
                Certification.staff_id == person.id,
                Certification.passed_on <= day,
                Certification.expires_on >= day,
            )
        )
    )
    problem = postings_rules.posting_problem(
        post_role, person.available, _away_elsewhere(session, person, site.jpath), valid
    )
    if problem is not None:
        raise Conflict(Message(problem, name=person.name))
    for other in session.scalars(
        select(Posting).where(
            Posting.staff_id == person.id, or_(Posting.ends_at.is_(None), Posting.ends_at > start)
        )
    ):
        if postings_rules.overlaps(start, end, other.starts_at, other.ends_at):
            raise Conflict(
                Message(
                    "{name} is already posted to {site} from {start}",
                    name=person.name,
                    site=other.site_name,
                    start=clock.local_day(other.starts_at),
                )
            )
    posting = Posting(
        staff_id=person.id,
        site_kind=site.kind,
        site_id=site.id,
        site_name=site.name[:120],
        jpath=site.jpath,
        role=post_role,
        starts_at=start,
        ends_at=end,
        posted_by=principal.username,
        created_at=clock.utcnow(),
    )
    session.add(posting)
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "resources.posting.post",
        "staff",
        person.id,
        jpath=site.jpath,
        detail={"site": site.kind.value, "site_id": site.id, "role": post_role.value, "posting": posting.id},
    )
    return posting


def unpost(session: Session, principal: Principal, site: SiteRef, posting_id: int, ip: str = "") -> Posting:
    """End a posting now (a posting not yet begun is ended before it begins)."""
    posting = session.get(Posting, posting_id)
    if posting is None or posting.site_kind is not site.kind or posting.site_id != site.id:
        raise NotFound(Message("posting {id} not found", id=posting_id))
    now = clock.utcnow()
    if posting.ends_at is not None and posting.ends_at <= now:
        raise Conflict(Message("this posting has already ended"))
    posting.ends_at = max(now, posting.starts_at)
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "resources.posting.end",
        "staff",
        posting.staff_id,
        jpath=posting.jpath,
        detail={"site": site.kind.value, "site_id": site.id, "posting": posting.id},
    )
    return posting


def end_postings_of(
    session: Session, principal: Principal, person: Staff, *, ip: str = "", bus: EventBus | None = None
) -> list[Posting]:
    """End now every posting of a person who is no longer available, each audited and kept with its end
    as history: the one in force ends at this instant, one to come ends before it begins (a person who
    may not be posted today keeps no posting that would count them at a site later). Returns the
    postings ended, in the order they began; ``StaffPostingsEnded`` names the sites left."""
    now = clock.utcnow()
    ended = list(
        session.scalars(
            select(Posting)
            .where(Posting.staff_id == person.id, or_(Posting.ends_at.is_(None), Posting.ends_at > now))
            .order_by(Posting.starts_at, Posting.id)
        )
    )
    if not ended:
        return []
    for posting in ended:
        posting.ends_at = max(now, posting.starts_at)
    session.flush()
    for posting in ended:
        audit.record(
            session,
            actor(principal, ip),
            "resources.posting.end",
            "staff",
            person.id,
            jpath=posting.jpath,
            detail={
                "site": posting.site_kind.value,
                "site_id": posting.site_id,
                "posting": posting.id,
                "reason": "not_available",
            },
        )
    sites = tuple(dict.fromkeys((p.site_kind.value, p.site_id) for p in ended))
    (bus or bus_of(session)).publish(session, StaffPostingsEnded(person.id, sites, now))
    return ended


# ---------------------------------------------------------------------------------------------- reads


def postings_of(session: Session, kind: PostedSiteKind, site_id: int) -> list[PostingRow]:
    """A site's postings in force now and to come, by role and name."""
    now = clock.utcnow()
    found = session.execute(
        select(Posting, Staff)
        .join(Staff, Staff.id == Posting.staff_id)
        .where(
            Posting.site_kind == kind,
            Posting.site_id == site_id,
            or_(Posting.ends_at.is_(None), Posting.ends_at > now),
        )
        .order_by(Posting.role, Staff.name, Posting.id)
    ).all()
    return [PostingRow(p, s) for p, s in found]


def list_postings(
    session: Session, principal: Principal, *, kind: PostedSiteKind | None = None
) -> list[PostingRow]:
    """Postings in force now and to come at the sites in the caller's scope."""
    now = clock.utcnow()
    query = (
        select(Posting, Staff)
        .join(Staff, Staff.id == Posting.staff_id)
        .where(under(Posting.jpath, principal.jpath), or_(Posting.ends_at.is_(None), Posting.ends_at > now))
        .order_by(Posting.jpath, Posting.site_name, Posting.role, Staff.name)
    )
    if kind is not None:
        query = query.where(Posting.site_kind == kind)
    return [PostingRow(p, s) for p, s in session.execute(query).all()]


def posted_by_role(
    session: Session, kind: PostedSiteKind, site_ids: Sequence[int], at: dt.datetime | None = None
) -> dict[int, dict[str, int]]:
    """People posted now to each site, by role (the sites' staff on duty), in one query per 1,000 sites."""
    at = at or clock.utcnow()
    result: dict[int, dict[str, int]] = {}
    wanted = sorted(set(site_ids))
    for start in range(0, len(wanted), 1000):
        for site_id, role, count in session.execute(
            select(Posting.site_id, Posting.role, func.count(func.distinct(Posting.staff_id)))
            .where(Posting.site_kind == kind, Posting.site_id.in_(wanted[start : start + 1000]), in_force(at))
            .group_by(Posting.site_id, Posting.role)
        ):
            result.setdefault(int(site_id), {})[PostingRole(role).value] = int(count)
    return result


def on_duty(session: Session, kind: PostedSiteKind, site_ids: Sequence[int]) -> dict[int, int]:
    """People posted now to each site (0 for a site nobody is posted to)."""
    counts = posted_by_role(session, kind, site_ids)
    return {site_id: sum(counts.get(site_id, {}).values()) for site_id in site_ids}


def postable(session: Session, principal: Principal, site: SiteRef) -> list[staff_service.StaffRow]:
    """Who may be posted to the site now: staff of the site's county in the caller's scope who are
    available, not away, and not posted anywhere now."""
    county = staff_service.county_path(site.jpath)
    base = county if path_in_scope(county, principal.jpath) else principal.jpath
    posted = set(session.scalars(select(Posting.staff_id).where(in_force(clock.utcnow()))))
    return [
        r
        for r in staff_service.rows(session, base)
        if r.staff.available and not r.deployed_away and r.staff.id not in posted
    ]


def keeps_roster(session: Session, jpath: str) -> bool:
    """Does the county of ``jpath`` keep its staff on the platform? (A county that does not is not held
    to posted minimums, as with samplers: ``staff.sampler_check``.)"""
    county = staff_service.county_path(jpath)
    return session.scalar(select(Staff.id).where(under(Staff.jpath, county)).limit(1)) is not None


@dataclass(frozen=True)
class DutyRow:
    """Staff posted to sites now in one jurisdiction (the command dashboard's staff on duty per place)."""

    code: str
    name: str
    posted: int
    sites: int


def on_duty_by_place(session: Session, jpath: str) -> list[DutyRow]:
    """People posted now and sites staffed, per jurisdiction of the sites, in the subtree of ``jpath``."""
    found = session.execute(
        select(Posting.jpath, Posting.site_kind, Posting.site_id, Posting.staff_id)
        .where(under(Posting.jpath, jpath), in_force(clock.utcnow()))
        .distinct()
    ).all()
    people: dict[str, set[int]] = {}
    sites: dict[str, set[tuple[str, int]]] = {}
    for path, kind, site_id, staff_id in found:
        people.setdefault(path, set()).add(staff_id)
        sites.setdefault(path, set()).add((str(kind), site_id))
    places = {
        p.path: p for p in session.scalars(select(Jurisdiction).where(Jurisdiction.path.in_(list(people))))
    }
    rows = [
        DutyRow(places[path].code if path in places else "", places[path].name if path in places else path,
                len(ids), len(sites[path]))
        for path, ids in people.items()
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (-r.posted, r.code))


# ---------------------------------------------------------------------------------- teams for tasks


@dataclass(frozen=True)
class TeamChoice:
    """A team a place's tasks may be given to: the place's own and those above it (county, city,
    province), those below it, and teams deployed there in support."""

    id: int
    name: str
    kind: TeamKind
    jpath: str
    in_support: bool


def teams_for_place(session: Session, jpath: str) -> list[TeamChoice]:
    """Teams that may take the tasks of the place at ``jpath`` (a drill's sandbox place: those of the
    real place it copies, as the drill's dispatch does)."""
    jpath = real_place_of(jpath)
    above = ancestor_paths(jpath)
    own = session.scalars(
        select(Team).where(or_(Team.jpath.in_(above), under(Team.jpath, jpath))).order_by(Team.jpath, Team.id)
    ).all()
    sent_here = session.scalars(
        select(Team)
        .join(Deployment, Deployment.team_id == Team.id)
        .where(
            Deployment.state == DeploymentState.sent,
            or_(Deployment.to_jpath.in_(above), under(Deployment.to_jpath, jpath)),
        )
        .order_by(Team.jpath, Team.id)
    ).all()
    seen = {t.id for t in own}
    return [TeamChoice(t.id, t.name, t.kind, t.jpath, False) for t in own] + [
        TeamChoice(t.id, t.name, t.kind, t.jpath, True) for t in sent_here if t.id not in seen
    ]


def team_for_place(session: Session, jpath: str, team_id: int) -> TeamChoice | None:
    """The team ``team_id`` if it may take the tasks of the place at ``jpath``, else None."""
    return next((t for t in teams_for_place(session, jpath) if t.id == team_id), None)
