"""The daily closure (日清日结): one jurisdiction's day, frozen at the cut-off as a versioned snapshot.

Version 1 is published when the day has ended (the cut-off: local midnight, or ``CUTOFF_HOUR`` after
it), by :func:`close_due_days` for every county and above, or by the command centre with
:func:`publish`. A later publication of the same day is a correction: a new version with a reason,
shown against the one before figure by figure. A published row is never updated, except for the
command centre's sign-off (the next operational period's objectives, the ICS 202 habit), once per
version. The day's activity log per role (ICS 214) is read from the audit trail.

The figures come from each capability's own read functions (``<capability>.service``), the tasks from
this capability's tables; the document's shape is :mod:`fangkong.response.rules.closure`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.areas.service import daily as areas_daily
from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import AuditEntry, Jurisdiction, Level, Role, User
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope, under
from fangkong.protocol import service as protocol_service
from fangkong.quarantine.service import daily as quarantine_daily
from fangkong.response.models import DailyClosure, Task, TaskState
from fangkong.response.rules import closure as rules
from fangkong.surveillance import service as surveillance_service
from fangkong.testing.service import daily as testing_daily
from fangkong.tracing import service as tracing_service

# The cut-off, in hours after local midnight at the end of the day: 0 closes the day at midnight.
CUTOFF_HOUR = 0
# Levels whose days are closed by the cut-off (a township's day is part of its county's).
CLOSED_LEVELS = (Level.province, Level.city, Level.county)
MAX_REASON = 2000
MAX_OBJECTIVES = 4000
# The activity log of one day keeps at most this many entries (a drill can write tens of thousands).
MAX_ACTIVITY = 2000
SYSTEM_ROLE = "system"
# Days a closure may be asked about: none before the platform's first year, none past a year ahead (a
# date far out of range would overflow the instant arithmetic of a day's bounds).
FIRST_DAY = dt.date(2000, 1, 1)
DAYS_AHEAD = 366


@dataclass(frozen=True)
class ClosureView:
    """One published version of one jurisdiction's day."""

    id: int
    jurisdiction_id: int
    code: str
    name: str
    jpath: str
    day: dt.date
    version: int
    figures: dict[str, Any]
    reason: str | None
    published_at: dt.datetime
    published_by: str
    signed_off_at: dt.datetime | None
    signed_off_by: str | None
    objectives: str | None
    # The newest version of the day at the time of reading (this one or a later correction).
    latest_version: int

    @property
    def corrected(self) -> bool:
        return self.version < self.latest_version


@dataclass(frozen=True)
class ClosureDiff:
    """Two versions of one day and the figures that differ between them."""

    a: ClosureView
    b: ClosureView
    changes: list[rules.Change]


@dataclass(frozen=True)
class DaySummary:
    """A closed day in a list: its newest version and whether that one is signed off."""

    day: dt.date
    version: int
    signed_off: bool
    published_at: dt.datetime


@dataclass(frozen=True)
class ActivityEntry:
    at: dt.datetime  # local wall-clock time
    actor: str
    action: str
    object_type: str
    object_id: str


@dataclass(frozen=True)
class RoleActivity:
    """What the people of one role (or the platform itself, ``system``) did on the day, in order."""

    role: str
    entries: list[ActivityEntry]


# ---------------------------------------------------------------------------------------- figures


def task_figures(session: Session, jpath: str, day: dt.date) -> dict[str, int]:
    """The day's tasks of the jurisdiction (owned now, or opened there and escalated away).

    Due: deadline on the day; done: closed as done on the day (on time: by the deadline); late: done
    on the day after the deadline, or still open at the end of the day past it; carried over: open at
    the end of the day, whatever its deadline; opened: opened on the day.
    """
    start, end = clock.day_bounds(day)
    closed_on_day = and_(Task.state == TaskState.done, Task.closed_at >= start, Task.closed_at < end)
    # A task closed without a time (not expected, but never counted open for ever).
    closed_untimed = and_(Task.state.in_((TaskState.done, TaskState.cancelled)), Task.closed_at.is_(None))
    open_at_end = and_(
        Task.opened_at < end, or_(Task.closed_at.is_(None), Task.closed_at >= end), not_(closed_untimed)
    )

    def count(condition: Any) -> Any:
        return func.count(case((condition, 1)))

    row = session.execute(
        select(
            count(and_(Task.due_at >= start, Task.due_at < end, Task.state != TaskState.cancelled)),
            count(closed_on_day),
            count(and_(closed_on_day, Task.closed_at <= Task.due_at)),
            count(
                or_(and_(closed_on_day, Task.closed_at > Task.due_at), and_(open_at_end, Task.due_at < end))
            ),
            count(open_at_end),
            count(and_(Task.opened_at >= start, Task.opened_at < end)),
        ).where(or_(under(Task.jpath, jpath), under(Task.origin_jpath, jpath)), Task.opened_at < end)
    ).one()
    keys = ("due", "done", "done_on_time", "late", "carried_over", "opened")
    return {key: int(value or 0) for key, value in zip(keys, row, strict=True)}


def compute_figures(session: Session, jpath: str, day: dt.date) -> dict[str, Any]:
    """The closure's figures of the jurisdiction at ``jpath`` for local ``day``, as they stand now
    (see :mod:`fangkong.response.rules.closure` for the shape)."""
    place = session.scalar(select(Jurisdiction).where(Jurisdiction.path == jpath))
    if place is None:
        raise NotFound(Message("No such jurisdiction."))
    first, last = rules.series_window(day)
    sections: dict[str, dict[str, Any]] = {
        "tasks": task_figures(session, jpath, day),
        "cases": tracing_service.case_figures(session, jpath, day),
        "contacts": {
            "identified": tracing_service.contacts_identified(session, jpath, day),
            "under_measure": protocol_service.people_under_measure(session, jpath, day),
        },
        "quarantine": quarantine_daily.quarantine_figures(session, jpath, day),
        "testing": testing_daily.testing_figures(session, jpath, day),
        "alerts": surveillance_service.alert_figures(session, jpath, day),
        "areas": areas_daily.area_figures(session, jpath, day),
    }
    series = {
        basis: tracing_service.daily_case_counts(session, jpath, first, last, by=basis)
        for basis in ("report", "onset")
    }
    place_facts = {"code": place.code, "name": place.name, "path": place.path}
    return rules.assemble(day, place_facts, sections, series)


# ------------------------------------------------------------------------------------ publication


def cutoff_of(day: dt.date, cutoff_hour: int = CUTOFF_HOUR) -> dt.datetime:
    """The instant (aware UTC) a local day is closed at."""
    return clock.from_local(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(cutoff_hour)))


def last_ended_day(now: dt.datetime, cutoff_hour: int = CUTOFF_HOUR) -> dt.date:
    """The newest local day whose cut-off has passed at ``now``."""
    day = clock.local_day(now) - dt.timedelta(days=1)
    return day if cutoff_of(day, cutoff_hour) <= now else day - dt.timedelta(days=1)


def _view(row: DailyClosure, place: Jurisdiction, latest_version: int) -> ClosureView:
    return ClosureView(
        id=row.id,
        jurisdiction_id=row.jurisdiction_id,
        code=place.code,
        name=place.name,
        jpath=row.jpath,
        day=row.day,
        version=row.version,
        figures=json.loads(row.figures),
        reason=row.reason,
        published_at=row.published_at,
        published_by=row.published_by,
        signed_off_at=row.signed_off_at,
        signed_off_by=row.signed_off_by,
        objectives=row.objectives,
        latest_version=latest_version,
    )


def check_day(day: dt.date, field: str = "day") -> dt.date:
    """``day`` if a closure can be about it (see ``FIRST_DAY``), else invalid input naming the field."""
    if not FIRST_DAY <= day <= clock.today() + dt.timedelta(days=DAYS_AHEAD):
        raise InvalidInput([RowError(1, field, Message("not a day the platform keeps closures for"))])
    return day


def _place(session: Session, principal: Principal, jurisdiction_id: int) -> Jurisdiction:
    place = session.get(Jurisdiction, jurisdiction_id)
    if place is None or not path_in_scope(place.path, principal.jpath):
        raise NotFound(Message("No such jurisdiction."))
    return place


def place_by_code(session: Session, principal: Principal, code: str) -> Jurisdiction:
    """A jurisdiction in the principal's subtree by its code; not found otherwise."""
    place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    if place is None or not path_in_scope(place.path, principal.jpath):
        raise NotFound(Message("No such jurisdiction."))
    return place


def _latest_version(session: Session, jurisdiction_id: int, day: dt.date) -> int:
    found = session.scalar(
        select(func.max(DailyClosure.version)).where(
            DailyClosure.jurisdiction_id == jurisdiction_id, DailyClosure.day == day
        )
    )
    return int(found or 0)


def _write(
    session: Session, actor: audit.Actor, place: Jurisdiction, day: dt.date, version: int, reason: str | None
) -> DailyClosure:
    """Insert one version (refused with Conflict when another writer took that number first)."""
    figures = compute_figures(session, place.path, day)
    wrong = rules.problems(figures)
    if wrong:
        raise RuntimeError("closure figures out of shape: " + "; ".join(wrong))
    row = DailyClosure(
        jurisdiction_id=place.id,
        jpath=place.path,
        day=day,
        version=version,
        figures=json.dumps(figures, ensure_ascii=False, sort_keys=False),
        reason=reason,
        published_at=clock.utcnow(),
        published_by=actor.username,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(
            Message("Version {version} of this day was published meanwhile; reload.", version=version)
        ) from None
    audit.record(
        session,
        actor,
        "response.closure.publish" if version == 1 else "response.closure.correct",
        "daily_closure",
        row.id,
        jpath=place.path,
        detail={"day": day.isoformat(), "version": version, "reason": reason or ""},
    )
    return row


def publish(
    session: Session,
    principal: Principal,
    jurisdiction_id: int,
    day: dt.date,
    *,
    reason: str | None = None,
    ip: str = "",
) -> ClosureView:
    """Publish the day's figures as they stand now: version 1 if the day has none, else a correction
    (version n+1), which needs a reason. A day that has not ended yet (local time) is refused."""
    if not principal.can(Permission.closure_publish):
        raise Forbidden(Message("Only the command centre publishes a daily closure."))
    check_day(day)
    place = _place(session, principal, jurisdiction_id)
    if day >= clock.today():
        raise InvalidInput([RowError(1, "day", Message("the day has not ended yet"))])
    text = (reason or "").strip()
    if len(text) > MAX_REASON:
        raise InvalidInput(
            [RowError(1, "reason", Message("longer than {limit} characters", limit=MAX_REASON))]
        )
    latest = _latest_version(session, place.id, day)
    if latest and not text:
        raise InvalidInput([RowError(1, "reason", Message("a correction needs a reason"))])
    actor = audit.Actor(principal.user_id, principal.username, ip or "web")
    row = _write(session, actor, place, day, latest + 1, text or None)
    return _view(row, place, latest + 1)


def close_due_days(
    session: Session, now: dt.datetime, *, day: dt.date | None = None, cutoff_hour: int = CUTOFF_HOUR
) -> list[ClosureView]:
    """The cut-off: version 1 of the last ended day (or ``day``, if it has ended) for every county,
    city and province that has none yet. Idempotent: a second run, or a second worker, adds nothing."""
    target = check_day(day) if day is not None else last_ended_day(now, cutoff_hour)
    if cutoff_of(target, cutoff_hour) > now:
        return []
    closed = set(session.scalars(select(DailyClosure.jurisdiction_id).where(DailyClosure.day == target)))
    places = session.scalars(
        select(Jurisdiction)
        .where(Jurisdiction.level.in_(CLOSED_LEVELS), Jurisdiction.is_sandbox.is_(False))
        .order_by(Jurisdiction.path)
    ).all()
    published: list[ClosureView] = []
    for place in places:
        if place.id in closed:
            continue
        try:
            row = _write(session, audit.SYSTEM, place, target, 1, None)
        except Conflict:
            continue  # another worker closed this one first
        published.append(_view(row, place, 1))
    return published


# ------------------------------------------------------------------------------------------ reads


def get_closure(
    session: Session, principal: Principal, jurisdiction_id: int, day: dt.date, version: int | None = None
) -> ClosureView:
    """One version of the day (the newest without ``version``); not found outside the caller's subtree."""
    check_day(day)
    place = _place(session, principal, jurisdiction_id)
    latest = _latest_version(session, place.id, day)
    wanted = latest if version is None else version
    row = session.scalar(
        select(DailyClosure).where(
            DailyClosure.jurisdiction_id == place.id, DailyClosure.day == day, DailyClosure.version == wanted
        )
    )
    if row is None:
        raise NotFound(Message("No closure of this day has been published."))
    return _view(row, place, latest)


def versions(session: Session, principal: Principal, jurisdiction_id: int, day: dt.date) -> list[ClosureView]:
    """Every version of the day, oldest first (empty when none is published)."""
    check_day(day)
    place = _place(session, principal, jurisdiction_id)
    rows = session.scalars(
        select(DailyClosure)
        .where(DailyClosure.jurisdiction_id == place.id, DailyClosure.day == day)
        .order_by(DailyClosure.version)
    ).all()
    latest = rows[-1].version if rows else 0
    return [_view(r, place, latest) for r in rows]


def diff(
    session: Session, principal: Principal, jurisdiction_id: int, day: dt.date, a: int, b: int
) -> ClosureDiff:
    """The figures that differ from version ``a`` to version ``b`` of the day."""
    first = get_closure(session, principal, jurisdiction_id, day, a)
    second = get_closure(session, principal, jurisdiction_id, day, b)
    return ClosureDiff(first, second, rules.diff(first.figures, second.figures))


def closed_days(
    session: Session, principal: Principal, jurisdiction_id: int, *, limit: int = 60
) -> list[DaySummary]:
    """The jurisdiction's published days, newest first, each with its newest version."""
    place = _place(session, principal, jurisdiction_id)
    newest = (
        select(DailyClosure.day, func.max(DailyClosure.version).label("version"))
        .where(DailyClosure.jurisdiction_id == place.id)
        .group_by(DailyClosure.day)
        .subquery()
    )
    rows = session.execute(
        select(DailyClosure.day, DailyClosure.version, DailyClosure.signed_off_at, DailyClosure.published_at)
        .join(newest, and_(newest.c.day == DailyClosure.day, newest.c.version == DailyClosure.version))
        .where(DailyClosure.jurisdiction_id == place.id)
        .order_by(DailyClosure.day.desc())
        .limit(max(1, min(limit, 366)))
    )
    return [DaySummary(d, v, s is not None, p) for d, v, s, p in rows]


def children_closures(
    session: Session, principal: Principal, jurisdiction_id: int, day: dt.date
) -> list[tuple[Jurisdiction, ClosureView | None]]:
    """The jurisdiction's children that are closed daily, each with its newest version of ``day``."""
    check_day(day)
    place = _place(session, principal, jurisdiction_id)
    kids = session.scalars(
        select(Jurisdiction)
        .where(
            Jurisdiction.parent_id == place.id,
            Jurisdiction.level.in_(CLOSED_LEVELS),
            Jurisdiction.is_sandbox.is_(False),
        )
        .order_by(Jurisdiction.code)
    ).all()
    if not kids:
        return []
    rows = session.scalars(
        select(DailyClosure)
        .where(DailyClosure.jurisdiction_id.in_([k.id for k in kids]), DailyClosure.day == day)
        .order_by(DailyClosure.version)
    ).all()
    newest = {r.jurisdiction_id: r for r in rows}
    return [(k, _view(newest[k.id], k, newest[k.id].version) if k.id in newest else None) for k in kids]


# ------------------------------------------------------------------------------------- sign-off


def sign_off(
    session: Session, principal: Principal, closure_id: int, objectives: str, *, ip: str = ""
) -> ClosureView:
    """The command centre signs a version off with the next operational period's objectives (once)."""
    if not principal.can(Permission.closure_publish):
        raise Forbidden(Message("Only the command centre signs off a daily closure."))
    row = session.get(DailyClosure, closure_id, with_for_update=True)
    if row is None or not path_in_scope(row.jpath, principal.jpath):
        raise NotFound(Message("No closure of this day has been published."))
    text = objectives.strip()
    if not text:
        raise InvalidInput([RowError(1, "objectives", Message("required"))])
    if len(text) > MAX_OBJECTIVES:
        raise InvalidInput(
            [RowError(1, "objectives", Message("longer than {limit} characters", limit=MAX_OBJECTIVES))]
        )
    if row.signed_off_at is not None:
        raise Conflict(Message("This version is already signed off."))
    row.signed_off_at = clock.utcnow()
    row.signed_off_by = principal.username
    row.objectives = text
    session.flush()
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, ip or "web"),
        "response.closure.sign_off",
        "daily_closure",
        row.id,
        jpath=row.jpath,
        detail={"day": row.day.isoformat(), "version": row.version},
    )
    place = session.get(Jurisdiction, row.jurisdiction_id)
    assert place is not None
    return _view(row, place, _latest_version(session, row.jurisdiction_id, row.day))


# --------------------------------------------------------------------------------- activity log


def activity_log(session: Session, principal: Principal, jpath: str, day: dt.date) -> list[RoleActivity]:
    """The day's audit entries about ``jpath``'s subtree, grouped by the role of who did them (the
    platform's own entries under ``system``), roles in the order of :class:`Role`, entries in time order."""
    if not path_in_scope(jpath, principal.jpath):
        raise NotFound(Message("No such jurisdiction."))
    start, end = clock.day_bounds(check_day(day))
    rows = session.execute(
        select(AuditEntry.at, AuditEntry.actor, User.display_name, User.role, AuditEntry.action,
               AuditEntry.object_type, AuditEntry.object_id)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(under(AuditEntry.jpath, jpath), AuditEntry.at >= start, AuditEntry.at < end)  # type: ignore[arg-type]
        .order_by(AuditEntry.id)
        .limit(MAX_ACTIVITY)
    )  # fmt: skip
    grouped: dict[str, list[ActivityEntry]] = {}
    for at, username, display_name, role, action, object_type, object_id in rows:
        key = role.value if role is not None else SYSTEM_ROLE
        grouped.setdefault(key, []).append(
            ActivityEntry(clock.as_local(at), display_name or username, action, object_type, object_id)
        )
    order = [r.value for r in Role] + [SYSTEM_ROLE]
    return [RoleActivity(role, grouped[role]) for role in order if role in grouped]
