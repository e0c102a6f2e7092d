"""Tier-by-tier activation: the rule per jurisdiction, the advice, approval, and the way back to reserve.

A site moves reserve → preparing (activation, approved by the command centre) → open → closing →
reserve (after the last release and the terminal cleaning of every room), or to closed for good. Each
change is one conditional UPDATE on the site's current status, so two people acting at once cannot both
move it, and each is kept in the status history with who did it, why, and the occupancy at the time.

The rule of a jurisdiction (open the next tier at an occupancy share, or when the forecast reaches it
within a horizon) is its own, else its nearest ancestor's, else the defaults of ``rules.capacity``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message, stored
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.core.scope import ancestor_paths, path_in_scope, under
from fangkong.quarantine.events import QuarantineSiteActivated
from fangkong.quarantine.models import (
    ACTIVE_STAYS,
    ActivationRule,
    OperatorNotice,
    QuarantineRoom,
    QuarantineSite,
    RoomState,
    SiteStatus,
    SiteStatusChange,
    Stay,
)
from fangkong.quarantine.rules.capacity import (
    DEFAULT_FORECAST_HOURS,
    DEFAULT_OCCUPANCY_THRESHOLD,
    ActivationDecision,
    ReserveSite,
    decide_activation,
    status_word,
    threshold_problem,
    transition_problem,
)
from fangkong.quarantine.service.sites import actor, get_site
from fangkong.quarantine.service.staffing import opening_refusal

# ---------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class ActivationRuleView:
    jurisdiction_id: int
    jurisdiction_name: str
    occupancy_threshold: float
    forecast_hours: int
    # Where the rule comes from: this jurisdiction's own, an ancestor's (its name), or the defaults.
    inherited_from: str | None
    is_default: bool
    updated_by: str = ""
    updated_at: dt.datetime | None = None


def rule_for_path(session: Session, jpath: str) -> ActivationRuleView:
    """The rule in force at ``jpath``: its own, else the nearest ancestor's, else the defaults."""
    node = session.scalar(select(Jurisdiction).where(Jurisdiction.path == jpath))
    rules = {
        r.jpath: r
        for r in session.scalars(
            select(ActivationRule).where(ActivationRule.jpath.in_(ancestor_paths(jpath)))
        )
    }
    own_id = node.id if node is not None else 0
    own_name = node.name if node is not None else ""
    for path in reversed(ancestor_paths(jpath)):
        rule = rules.get(path)
        if rule is None:
            continue
        source = None
        if path != jpath:
            source = session.scalar(select(Jurisdiction.name).where(Jurisdiction.path == path)) or path
        return ActivationRuleView(
            own_id,
            own_name,
            rule.occupancy_threshold,
            rule.forecast_hours,
            source,
            False,
            rule.updated_by,
            rule.updated_at,
        )
    return ActivationRuleView(
        own_id, own_name, DEFAULT_OCCUPANCY_THRESHOLD, DEFAULT_FORECAST_HOURS, None, True
    )


def _place(session: Session, principal: Principal, jurisdiction_id: int | None) -> Jurisdiction:
    node = session.get(
        Jurisdiction, jurisdiction_id if jurisdiction_id is not None else principal.jurisdiction_id
    )
    if node is None or not path_in_scope(node.path, principal.jpath):
        raise NotFound(f"jurisdiction {jurisdiction_id} not found")
    return node


def get_rule(
    session: Session, principal: Principal, jurisdiction_id: int | None = None
) -> ActivationRuleView:
    """The activation rule of the caller's jurisdiction (or one inside it)."""
    return rule_for_path(session, _place(session, principal, jurisdiction_id).path)


def set_rule(
    session: Session,
    principal: Principal,
    occupancy_threshold: float,
    forecast_hours: int,
    *,
    jurisdiction_id: int | None = None,
    ip: str = "",
) -> ActivationRuleView:
    """Set the rule of the caller's jurisdiction (or one inside it)."""
    if not (principal.can(Permission.quarantine_approve) or principal.can(Permission.quarantine_manage)):
        raise Forbidden("setting activation rules needs the quarantine approval or management permission")
    problems = threshold_problem(occupancy_threshold, forecast_hours)
    if problems:
        raise InvalidInput([RowError(1, name, message) for name, message in problems])
    node = _place(session, principal, jurisdiction_id)
    rule = session.scalar(select(ActivationRule).where(ActivationRule.jurisdiction_id == node.id))
    before = None if rule is None else (rule.occupancy_threshold, rule.forecast_hours)
    if rule is None:
        rule = ActivationRule(jurisdiction_id=node.id, jpath=node.path, updated_by=principal.username)
        session.add(rule)
    rule.occupancy_threshold = occupancy_threshold
    rule.forecast_hours = forecast_hours
    rule.updated_by = principal.username
    rule.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "quarantine.activation_rule.set",
        "jurisdiction",
        node.id,
        detail={
            "before": before,
            "occupancy_threshold": occupancy_threshold,
            "forecast_hours": forecast_hours,
        },
        jpath=node.path,
    )
    return rule_for_path(session, node.path)


# --------------------------------------------------------------------------------------------- advice


@dataclass(frozen=True)
class ActivationAdvice:
    """Whether to open the next tier now, why, and which sites (``decision.sites``)."""

    decision: ActivationDecision
    rule: ActivationRuleView
    occupied: int
    capacity_open: int
    waiting: int
    days_until_full: int | None

    @property
    def activate(self) -> bool:
        return self.decision.activate

    @property
    def reasons(self) -> tuple[Message, ...]:
        return self.decision.reasons

    @property
    def sites(self) -> tuple[ReserveSite, ...]:
        return self.decision.sites


def _reserve_sites(session: Session, scope_path: str) -> list[ReserveSite]:
    rooms = (
        select(func.count())
        .select_from(QuarantineRoom)
        .where(QuarantineRoom.site_id == QuarantineSite.id, QuarantineRoom.state != RoomState.out_of_service)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            QuarantineSite.id, QuarantineSite.name, QuarantineSite.tier, QuarantineSite.hours_to_open, rooms
        ).where(under(QuarantineSite.jpath, scope_path), QuarantineSite.status == SiteStatus.reserve)
    ).all()
    return [ReserveSite(r[0], r[1], r[2], r[3], int(r[4] or 0)) for r in rows]


def evaluate(session: Session, principal: Principal, *, on: dt.date | None = None) -> ActivationAdvice:
    """The advice for the caller's jurisdiction: open the next tier now or not, with the reasons.

    ``on`` is the day the census counts from (default today; a drill passes its own calendar day).
    """
    from fangkong.quarantine.service.census import census

    figures = census(session, principal, on=on)
    rule = rule_for_path(session, principal.jpath)
    decision = decide_activation(
        occupied=figures.occupied,
        capacity=figures.capacity_open,
        waiting=figures.waiting,
        threshold=rule.occupancy_threshold,
        forecast_hours=rule.forecast_hours,
        projection=figures.projection,
        hours_ahead=figures.hours_ahead,
        reserve=_reserve_sites(session, principal.jpath),
    )
    return ActivationAdvice(
        decision, rule, figures.occupied, figures.capacity_open, figures.waiting, figures.days_until_full
    )


# ------------------------------------------------------------------------------------------ statuses


def _occupancy(session: Session, scope_path: str) -> float | None:
    """Occupied share of the in-service rooms of open sites under a path, now."""
    rows = session.execute(
        select(QuarantineRoom.state, func.count())
        .join(QuarantineSite, QuarantineSite.id == QuarantineRoom.site_id)
        .where(under(QuarantineSite.jpath, scope_path), QuarantineSite.status == SiteStatus.open)
        .group_by(QuarantineRoom.state)
    ).all()
    counts = {RoomState(state): n for state, n in rows}
    in_service = sum(n for state, n in counts.items() if state != RoomState.out_of_service)
    return counts.get(RoomState.occupied, 0) / in_service if in_service else None


def _jurisdiction_path(session: Session, site: QuarantineSite) -> str:
    return (
        session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == site.jurisdiction_id)) or site.jpath
    )


def _move(
    session: Session,
    principal: Principal,
    site: QuarantineSite,
    target: SiteStatus,
    reason: str | Message,
    *,
    ip: str,
) -> SiteStatusChange:
    """Move a site to ``target`` if its status allows it, in one conditional UPDATE, and keep the change."""
    current = site.status
    problem = transition_problem(site.name, current, target)
    if problem is not None:
        raise Conflict(problem)
    now = utcnow()
    moved = session.execute(
        update(QuarantineSite)
        .where(QuarantineSite.id == site.id, QuarantineSite.status == current)
        .values(status=target, status_changed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(site)
    if moved != 1:
        # Someone else moved it first: say where it is now.
        raise Conflict(
            Message(
                "{site} was just changed by someone else: it is now {status}",
                site=site.name,
                status=status_word(site.status),
            )
        )
    change = SiteStatusChange(
        site_id=site.id,
        jpath=site.jpath,
        previous=current,
        status=target,
        reason=stored(reason),
        approved_by=principal.username,
        occupancy=_occupancy(session, _jurisdiction_path(session, site)),
        at=now,
    )
    session.add(change)
    session.flush()
    who, kind, jpath = actor(principal, ip), "quarantine_site", site.jpath
    detail = {"from": current.value, "to": target.value, "reason": str(reason), "occupancy": change.occupancy}
    # One literal action per status rather than one built from it: the audit page's labels are checked
    # against every action the code can record, which a computed name would hide.
    match target:
        case SiteStatus.preparing:
            audit.record(session, who, "quarantine.site.preparing", kind, site.id, detail=detail, jpath=jpath)
        case SiteStatus.open:
            audit.record(session, who, "quarantine.site.open", kind, site.id, detail=detail, jpath=jpath)
        case SiteStatus.closing:
            audit.record(session, who, "quarantine.site.closing", kind, site.id, detail=detail, jpath=jpath)
        case SiteStatus.reserve:
            audit.record(session, who, "quarantine.site.reserve", kind, site.id, detail=detail, jpath=jpath)
        case SiteStatus.closed:
            audit.record(session, who, "quarantine.site.closed", kind, site.id, detail=detail, jpath=jpath)
    return change


def _reason(reason: str) -> str:
    return reason.strip()[:2000]


def _notify(session: Session, site: QuarantineSite, message: Message) -> OperatorNotice:
    recipient = " ".join(p for p in (site.operator, site.contact_name, site.contact_phone) if p) or site.name
    notice = OperatorNotice(site_id=site.id, recipient=recipient[:120], message=stored(message))
    session.add(notice)
    session.flush()
    return notice


def activate(
    session: Session,
    bus: EventBus,
    principal: Principal,
    site_id: int,
    *,
    reason: str = "",
    out_of_order: bool = False,
    ip: str = "",
) -> SiteStatusChange:
    """Approve opening a reserve site: it becomes "preparing", its operator is told, the event goes out.

    Tier 1 opens first: while a lower tier of the same jurisdiction still has sites in reserve this is
    refused, unless the approver says ``out_of_order`` and gives the reason (a site under repair...).
    """
    if not principal.can(Permission.quarantine_approve):
        raise Forbidden("activating a quarantine site needs the approval permission (command centre)")
    site = get_site(session, principal, site_id)
    problem = transition_problem(site.name, site.status, SiteStatus.preparing)
    if problem is not None:
        raise Conflict(problem)
    lower = list(
        session.scalars(
            select(QuarantineSite.name)
            .where(
                QuarantineSite.jurisdiction_id == site.jurisdiction_id,
                QuarantineSite.status == SiteStatus.reserve,
                QuarantineSite.tier < site.tier,
            )
            .order_by(QuarantineSite.tier, QuarantineSite.name)
        )
    )
    if lower and not out_of_order:
        raise Conflict(
            Message(
                "{site} is tier {tier}, and sites of a lower tier are still in reserve: {sites}; open them "
                "first, or approve out of order with a reason",
                site=site.name,
                tier=site.tier,
                sites=lower,
            )
        )
    if lower and not reason.strip():
        raise InvalidInput([RowError(1, "reason", "say why a lower tier is skipped")])
    words: str | Message = _reason(reason) or Message(
        "activated as tier {tier} by {who}", tier=site.tier, who=principal.display_name or principal.username
    )
    change = _move(session, principal, site, SiteStatus.preparing, words, ip=ip)
    _notify(
        session,
        site,
        Message(
            "{site} is activated (tier {tier}): prepare to receive people within {hours} h. "
            "Approved by {who}.",
            site=site.name,
            tier=site.tier,
            hours=site.hours_to_open,
            who=principal.display_name or principal.username,
        ),
    )
    bus.publish(
        session,
        QuarantineSiteActivated(
            site_id=site.id, jpath=site.jpath, tier=site.tier, hours_to_open=site.hours_to_open
        ),
    )
    return change


def mark_open(
    session: Session, principal: Principal, site_id: int, *, reason: str = "", ip: str = ""
) -> SiteStatusChange:
    """A preparing site is ready: it receives people from now on, once its minimum staff is posted
    (``staffing``: the refusal names each post still missing)."""
    site = get_site(session, principal, site_id)
    problem = transition_problem(site.name, site.status, SiteStatus.open)
    if problem is not None:
        raise Conflict(problem)
    short = opening_refusal(session, site)
    if short is not None:
        raise Conflict(short)
    return _move(
        session,
        principal,
        site,
        SiteStatus.open,
        _reason(reason) or Message("ready to receive people"),
        ip=ip,
    )


def start_closing(
    session: Session, principal: Principal, site_id: int, *, reason: str = "", ip: str = ""
) -> SiteStatusChange:
    """Stop sending people to an open site; those inside stay until their release."""
    site = get_site(session, principal, site_id)
    change = _move(
        session, principal, site, SiteStatus.closing, _reason(reason) or Message("no new placements"), ip=ip
    )
    _notify(
        session,
        site,
        Message(
            "{site} is closing: no new arrivals; clean each room after its last release.", site=site.name
        ),
    )
    return change


def _what_remains(session: Session, site: QuarantineSite) -> Message | None:
    staying = (
        session.scalar(
            select(func.count())
            .select_from(Stay)
            .where(Stay.site_id == site.id, Stay.state.in_(ACTIVE_STAYS))
        )
        or 0
    )
    rooms = dict(
        session.execute(
            select(QuarantineRoom.state, func.count())
            .where(
                QuarantineRoom.site_id == site.id,
                QuarantineRoom.state.in_([RoomState.occupied, RoomState.cleaning]),
            )
            .group_by(QuarantineRoom.state)
        ).all()
    )
    occupied, cleaning = rooms.get(RoomState.occupied, 0), rooms.get(RoomState.cleaning, 0)
    if not (staying or occupied or cleaning):
        return None
    return Message(
        "{site} still has {people} people staying, {occupied} rooms occupied and {cleaning} rooms awaiting "
        "terminal cleaning",
        site=site.name,
        people=staying,
        occupied=occupied,
        cleaning=cleaning,
    )


def finish_closing(
    session: Session, principal: Principal, site_id: int, *, reason: str = "", ip: str = ""
) -> SiteStatusChange:
    """A closing site goes back to the reserve list once the last person is released and every room
    is clean."""
    site = get_site(session, principal, site_id)
    problem = transition_problem(site.name, site.status, SiteStatus.reserve)
    if problem is not None:
        raise Conflict(problem)
    remains = _what_remains(session, site)
    if remains is not None:
        raise Conflict(remains)
    change = _move(
        session,
        principal,
        site,
        SiteStatus.reserve,
        _reason(reason) or Message("empty and cleaned: back in reserve"),
        ip=ip,
    )
    _notify(session, site, Message("{site} is back on the reserve list.", site=site.name))
    return change


def close_for_good(
    session: Session, principal: Principal, site_id: int, *, reason: str = "", ip: str = ""
) -> SiteStatusChange:
    """Take a site off the reserve list for good (contract ended, building repurposed); nobody may be
    inside."""
    site = get_site(session, principal, site_id)
    problem = transition_problem(site.name, site.status, SiteStatus.closed)
    if problem is not None:
        raise Conflict(problem)
    if not reason.strip():
        raise InvalidInput([RowError(1, "reason", "say why the site leaves the reserve list")])
    staying = session.scalar(
        select(func.count()).select_from(Stay).where(Stay.site_id == site.id, Stay.state.in_(ACTIVE_STAYS))
    )
    if staying:
        raise Conflict(Message("{site} still has {people} people staying", site=site.name, people=staying))
    change = _move(session, principal, site, SiteStatus.closed, _reason(reason), ip=ip)
    _notify(session, site, Message("{site} is taken off the reserve list.", site=site.name))
    return change


# -------------------------------------------------------------------------------------------- history


@dataclass(frozen=True)
class StatusChangeView:
    id: int
    site_id: int
    site_name: str
    tier: int
    previous: SiteStatus
    status: SiteStatus
    reason: Message | str
    approved_by: str
    occupancy: float | None
    at: dt.datetime


def history(session: Session, principal: Principal, site_id: int | None = None) -> list[StatusChangeView]:
    """The status changes of the sites in scope (or of one site), newest first."""
    query = (
        select(SiteStatusChange, QuarantineSite.name, QuarantineSite.tier)
        .join(QuarantineSite, QuarantineSite.id == SiteStatusChange.site_id)
        .where(under(SiteStatusChange.jpath, principal.jpath))
    )
    if site_id is not None:
        get_site(session, principal, site_id)
        query = query.where(SiteStatusChange.site_id == site_id)
    rows = session.execute(
        query.order_by(SiteStatusChange.at.desc(), SiteStatusChange.id.desc()).limit(1000)
    ).all()
    return [
        StatusChangeView(
            id=change.id,
            site_id=change.site_id,
            site_name=name,
            tier=tier,
            previous=change.previous,
            status=change.status,
            reason=Message.loads(change.reason),
            approved_by=change.approved_by,
            occupancy=change.occupancy,
            at=change.at,
        )
        for change, name, tier in rows
    ]
