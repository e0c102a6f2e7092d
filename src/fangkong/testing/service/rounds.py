"""Regional testing campaigns and their rounds: the area, the population each round expects, sampling sites
sized by the rule, and the stop and frequency rules evaluated on the rounds' outcomes.

A campaign covers an area made of jurisdictions (communities or townships; risk areas once they exist),
each possibly sealed (封控: one tube per household). A round is opened with a deadline (24 h by default,
``rules.rounds``) and a snapshot of the population it expects per community, counted from the registry
in one grouped query; it is closed with the community infections it found, which the stop rule reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.clock import local_day, today, utcnow
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus, bus_of
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.scope import ancestor_paths, path_in_scope, under
from fangkong.resources.service import staff as staffing
from fangkong.testing.events import RoundClosed
from fangkong.testing.models import (
    Campaign,
    CampaignArea,
    CampaignRound,
    CampaignState,
    Recall,
    RoundExpected,
    RoundState,
    SamplingSite,
    TestResult,
    Tube,
)
from fangkong.testing.rules.rounds import (
    POOL_SIZES,
    ROUND_DEADLINE_HOURS,
    FrequencyAdvice,
    RoundOutcome,
    SiteSizing,
    StopAdvice,
    StopPhase,
    round_frequency,
    size_sites,
    stop_advice,
)


def actor(principal: Principal) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, "web")


# ---------------------------------------------------------------------------------------------- reads


def get_campaign(session: Session, principal: Principal, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not path_in_scope(campaign.jpath, principal.jpath):
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def get_round(session: Session, principal: Principal, round_id: int) -> CampaignRound:
    found = session.get(CampaignRound, round_id)
    if found is None or not path_in_scope(found.jpath, principal.jpath):
        raise NotFound(f"round {round_id} not found")
    return found


def areas_of(session: Session, campaign_id: int) -> list[CampaignArea]:
    return list(
        session.scalars(
            select(CampaignArea).where(CampaignArea.campaign_id == campaign_id).order_by(CampaignArea.jpath)
        )
    )


def rounds_of(session: Session, principal: Principal, campaign_id: int) -> list[CampaignRound]:
    get_campaign(session, principal, campaign_id)
    return list(
        session.scalars(
            select(CampaignRound)
            .where(CampaignRound.campaign_id == campaign_id)
            .order_by(CampaignRound.number)
        )
    )


def expected_population(session: Session, area_paths: Sequence[str]) -> list[tuple[int, str, int]]:
    """Registry residents per community of the areas: (jurisdiction id, path, people), one grouped query."""
    if not area_paths:
        return []
    # Grouped over the areas' common subtree (one range of the path index), and the groups, a few per
    # community, matched to the areas here: a condition of one range per area made the database test each
    # resident against every area (a city's 2,000 communities: minutes for 10 million residents).
    rows = session.execute(
        select(Person.jurisdiction_id, Person.jpath, func.count())
        .where(under(Person.jpath, _common_root(area_paths)))
        .group_by(Person.jurisdiction_id, Person.jpath)
        .order_by(Person.jpath)
    )
    return [
        (int(jid), str(path), int(n))
        for jid, path, n in rows
        if any(path_in_scope(str(path), area) for area in area_paths)
    ]


# ------------------------------------------------------------------------------------------- campaigns


def _common_root(paths: Sequence[str]) -> str:
    """The deepest path every one of ``paths`` lies under (``/330000/330100/`` for two of its counties)."""
    parts = [[p for p in path.split("/") if p] for path in paths]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if any(code != level[0] for code in level):
            break
        common.append(level[0])
    return "/" + "".join(f"{c}/" for c in common)


def create_campaign(
    session: Session,
    principal: Principal,
    *,
    name: str,
    areas: Sequence[int],
    sealed: Iterable[int] = (),
    pool_size: int = 10,
    deadline_hours: int = ROUND_DEADLINE_HOURS,
    reason: str = "",
) -> Campaign:
    """A campaign over ``areas`` (jurisdiction ids in the caller's scope), ``sealed`` ones among them."""
    errors: list[RowError] = []
    name = name.strip()
    if not name:
        errors.append(RowError(1, "name", Message("a name is required")))
    if pool_size not in POOL_SIZES:
        errors.append(
            RowError(1, "pool_size", Message("pool size must be one of {sizes}", sizes=list(POOL_SIZES)))
        )
    if deadline_hours < 1:
        errors.append(RowError(1, "deadline_hours", Message("the deadline must be at least one hour")))
    wanted = list(dict.fromkeys(areas))
    nodes = {
        j.id: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(wanted or [-1])))
    }
    for jid in wanted:
        node = nodes.get(jid)
        if node is None or not path_in_scope(node.path, principal.jpath):
            errors.append(RowError(1, "areas", Message("area {id} not found", id=jid)))
    if not wanted:
        errors.append(RowError(1, "areas", Message("a campaign needs at least one area")))
    sealed_ids = set(sealed)
    if sealed_ids - set(wanted):
        outside = sorted(sealed_ids - set(wanted))
        errors.append(
            RowError(1, "sealed", Message("sealed areas must be among the areas: {ids}", ids=outside))
        )
    if errors:
        raise InvalidInput(errors)
    root_path = _common_root([nodes[j].path for j in wanted])
    root = session.scalar(select(Jurisdiction).where(Jurisdiction.path == root_path))
    if root is None:  # areas in different provinces: the root above them all is not a jurisdiction
        raise InvalidInput([RowError(1, "areas", Message("the areas must lie in one province"))])
    campaign = Campaign(
        name=name,
        jpath=root.path,
        jurisdiction_id=root.id,
        pool_size=pool_size,
        deadline_hours=deadline_hours,
        reason=reason,
        created_by=principal.username,
        created_at=utcnow(),
    )
    session.add(campaign)
    session.flush()
    session.add_all(
        CampaignArea(
            campaign_id=campaign.id,
            jurisdiction_id=jid,
            jpath=nodes[jid].path,
            sealed=jid in sealed_ids,
        )
        for jid in wanted
    )
    session.flush()
    audit.record(
        session,
        actor(principal),
        "testing.campaign.create",
        "campaign",
        campaign.id,
        jpath=campaign.jpath,
        detail={"areas": wanted, "sealed": sorted(sealed_ids), "pool_size": pool_size},
    )
    return campaign


def set_sealed(
    session: Session, principal: Principal, campaign_id: int, jurisdiction_id: int, sealed: bool
) -> CampaignArea:
    """Seal (one tube per household) or unseal one area of a campaign."""
    campaign = get_campaign(session, principal, campaign_id)
    area = session.scalar(
        select(CampaignArea).where(
            CampaignArea.campaign_id == campaign.id, CampaignArea.jurisdiction_id == jurisdiction_id
        )
    )
    if area is None:
        raise NotFound(f"area {jurisdiction_id} is not in campaign {campaign_id}")
    area.sealed = sealed
    audit.record(
        session,
        actor(principal),
        "testing.campaign.seal" if sealed else "testing.campaign.unseal",
        "campaign",
        campaign.id,
        jpath=area.jpath,
        detail={"area": jurisdiction_id},
    )
    return area


def stop_campaign(session: Session, principal: Principal, campaign_id: int, reason: str = "") -> Campaign:
    campaign = get_campaign(session, principal, campaign_id)
    if campaign.state is CampaignState.stopped:
        raise Conflict(Message("the campaign is already stopped"))
    open_round = session.scalar(
        select(CampaignRound.number).where(
            CampaignRound.campaign_id == campaign.id, CampaignRound.state == RoundState.open
        )
    )
    if open_round is not None:
        raise Conflict(Message("round {number} is still open: close it first", number=open_round))
    campaign.state = CampaignState.stopped
    campaign.stopped_at = utcnow()
    if reason:
        campaign.reason = (campaign.reason + "\n" + reason).strip()
    audit.record(
        session,
        actor(principal),
        "testing.campaign.stop",
        "campaign",
        campaign.id,
        jpath=campaign.jpath,
        detail={"reason": reason},
    )
    return campaign


# ---------------------------------------------------------------------------------------------- rounds


def open_round(
    session: Session,
    principal: Principal,
    campaign_id: int,
    *,
    starts_at: dt.datetime | None = None,
) -> CampaignRound:
    """Open the campaign's next round: its deadline and the population it expects per community."""
    campaign = get_campaign(session, principal, campaign_id)
    if campaign.state is CampaignState.stopped:
        raise Conflict(Message("the campaign is stopped"))
    latest = session.execute(
        select(CampaignRound.number, CampaignRound.state)
        .where(CampaignRound.campaign_id == campaign.id)
        .order_by(CampaignRound.number.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.state is RoundState.open:
        raise Conflict(Message("round {number} is still open: close it first", number=latest.number))
    start = starts_at or utcnow()
    found = CampaignRound(
        campaign_id=campaign.id,
        jpath=campaign.jpath,
        number=(latest.number if latest is not None else 0) + 1,
        day=local_day(start),
        starts_at=start,
        deadline_at=start + dt.timedelta(hours=campaign.deadline_hours),
        state=RoundState.open,
    )
    session.add(found)
    session.flush()
    expected = expected_population(session, [a.jpath for a in areas_of(session, campaign.id)])
    write_rows(
        session,
        RoundExpected.__table__,  # type: ignore[arg-type]
        ("round_id", "jurisdiction_id", "jpath", "expected"),
        [(found.id, jid, path, n) for jid, path, n in expected],
    )
    audit.record(
        session,
        actor(principal),
        "testing.round.open",
        "round",
        found.id,
        jpath=found.jpath,
        detail={"campaign": campaign.id, "number": found.number, "expected": sum(n for *_, n in expected)},
    )
    return found


def positives_found(session: Session, round_id: int) -> int:
    """Community infections a round's tubes found, as far as the results go.

    A positive single or household tube counts one; a positive pool counts its members whose single-tube
    retest was positive, and at least one while its recall is still under way (a positive pool holds an
    infection somewhere).
    """
    positive_tubes = list(
        session.execute(
            select(Tube.id, Tube.pool_size, Tube.kind).where(
                Tube.round_id == round_id, Tube.result == TestResult.positive
            )
        )
    )
    if not positive_tubes:
        return 0
    retested = dict(
        session.execute(
            select(Recall.tube_id, func.count())
            .where(
                Recall.tube_id.in_([t.id for t in positive_tubes]),
                Recall.result == TestResult.positive,
            )
            .group_by(Recall.tube_id)
        ).all()
    )
    return sum(max(1, int(retested.get(t.id, 0))) for t in positive_tubes)


def close_round(
    session: Session,
    principal: Principal,
    round_id: int,
    *,
    community_positives: int | None = None,
    bus: EventBus | None = None,
) -> CampaignRound:
    """Close a round with the community infections it found (counted from its results when not given)."""
    found = get_round(session, principal, round_id)
    if found.state is RoundState.closed:
        raise Conflict(Message("round {number} is already closed", number=found.number))
    if community_positives is not None and community_positives < 0:
        raise InvalidInput(
            [RowError(1, "community_positives", Message("the number of infections must not be negative"))]
        )
    found.state = RoundState.closed
    found.closed_at = utcnow()
    found.community_positives = (
        positives_found(session, found.id) if community_positives is None else community_positives
    )
    audit.record(
        session,
        actor(principal),
        "testing.round.close",
        "round",
        found.id,
        jpath=found.jpath,
        detail={"community_positives": found.community_positives},
    )
    tubes, people = session.execute(
        select(func.count(Tube.id), func.coalesce(func.sum(Tube.members), 0)).where(Tube.round_id == found.id)
    ).one()
    (bus or bus_of(session)).publish(
        session, RoundClosed(found.id, found.jpath, found.day, int(tubes), int(people))
    )
    return found


def round_outcomes(session: Session, campaign_id: int) -> list[RoundOutcome]:
    """The closed rounds of a campaign as the rules read them."""
    rows = session.execute(
        select(CampaignRound.day, CampaignRound.community_positives)
        .where(CampaignRound.campaign_id == campaign_id, CampaignRound.state == RoundState.closed)
        .order_by(CampaignRound.number)
    )
    return [RoundOutcome(day, positives or 0) for day, positives in rows]


@dataclass(frozen=True)
class CampaignAdvice:
    """What the rules say about a campaign now: stop or not, and when the next round is."""

    campaign_id: int
    stop: StopAdvice
    frequency: FrequencyAdvice
    rounds_closed: int

    @property
    def next_round_on(self) -> dt.date | None:
        """The stop rule's date while it waits for its last round, else the frequency rule's."""
        if self.stop.stop:
            return None
        if self.stop.phase is StopPhase.waiting:
            return self.stop.next_round_on
        return self.frequency.next_round_on


def advice(
    session: Session,
    principal: Principal,
    campaign_id: int,
    *,
    source_unknown: bool = False,
    last_case_on: dt.date | None = None,
) -> CampaignAdvice:
    """The stop rule (rt.strategy.big) and the frequency rule (rt.rounds) on the campaign's closed rounds."""
    campaign = get_campaign(session, principal, campaign_id)
    outcomes = round_outcomes(session, campaign.id)
    now = today()
    return CampaignAdvice(
        campaign.id,
        stop_advice(outcomes, now),
        round_frequency(outcomes, now, source_unknown=source_unknown, last_case_on=last_case_on),
        len(outcomes),
    )


# ------------------------------------------------------------------------------------------------ sites


@dataclass(frozen=True)
class CommunitySites:
    """The sampling sites a community needs for a round (rt.sites)."""

    jurisdiction_id: int
    jpath: str
    name: str
    sizing: SiteSizing


def site_plan(session: Session, principal: Principal, round_id: int) -> list[CommunitySites]:
    """Sites and samplers per community of a round, from the population it expects."""
    found = get_round(session, principal, round_id)
    rows = session.execute(
        select(RoundExpected.jurisdiction_id, RoundExpected.jpath, RoundExpected.expected, Jurisdiction.name)
        .join(Jurisdiction, Jurisdiction.id == RoundExpected.jurisdiction_id)
        .where(RoundExpected.round_id == found.id)
        .order_by(RoundExpected.jpath)
    )
    return [CommunitySites(jid, path, name, size_sites(n)) for jid, path, n, name in rows]


def set_up_sites(session: Session, principal: Principal, round_id: int) -> list[SamplingSite]:
    """Make the campaign's sampling sites match the round's plan (again without doubling)."""
    found = get_round(session, principal, round_id)
    plan = site_plan(session, principal, round_id)
    existing: dict[int, list[SamplingSite]] = {}
    for site in session.scalars(
        select(SamplingSite).where(SamplingSite.campaign_id == found.campaign_id).order_by(SamplingSite.id)
    ):
        existing.setdefault(site.jurisdiction_id, []).append(site)
    # No training, no post: the sites open only with certified samplers for them (resources' roster).
    staffing.require_samplers(session, found.jpath, sum(c.sizing.samplers for c in plan))
    result: list[SamplingSite] = []
    now = utcnow()
    for community in plan:
        sites = existing.get(community.jurisdiction_id, [])
        for number in range(len(sites), community.sizing.sites):
            site = SamplingSite(
                campaign_id=found.campaign_id,
                jurisdiction_id=community.jurisdiction_id,
                jpath=community.jpath,
                name=f"{community.name} {number + 1}",
                created_at=now,
            )
            session.add(site)
            sites.append(site)
        for number, site in enumerate(sites):
            planned = number < community.sizing.sites
            site.active = planned
            site.samplers = community.sizing.samplers_per_site[number] if planned else 0
            if planned:
                result.append(site)
    session.flush()
    audit.record(
        session,
        actor(principal),
        "testing.sites.set_up",
        "round",
        found.id,
        jpath=found.jpath,
        detail={"sites": len(result), "samplers": sum(s.samplers for s in result)},
    )
    return result


# ------------------------------------------------------------------------------ reads for other capabilities


def rounds_covering(session: Session, jpath: str, first: dt.date, last: dt.date) -> list[int]:
    """Ids of the closed rounds held between ``first`` and ``last`` of campaigns whose area covers
    ``jpath`` (a jurisdiction of the campaign at or above it, or inside it). Risk areas read it: lifting
    needs a negative round of everyone on the final day."""
    ancestors = ancestor_paths(jpath)
    return list(
        session.scalars(
            select(CampaignRound.id)
            .join(CampaignArea, CampaignArea.campaign_id == CampaignRound.campaign_id)
            .where(
                or_(CampaignArea.jpath.in_(ancestors), under(CampaignArea.jpath, jpath)),
                CampaignRound.state == RoundState.closed,
                CampaignRound.day >= first,
                CampaignRound.day <= last,
            )
            .distinct()
            .order_by(CampaignRound.id)
        )
    )
