"""The census: rooms occupied by site, tier and day, the 7-day forecast, days until full, its chart.

Demand comes from the plans alone: arrivals are the people with a centralized stage not yet over and no
active stay (the to-place list), on the stage's first day (today for anyone already waiting); releases are
the days after the stages of the people in rooms now, read from their plans each time (a re-plan or a
protocol switch moves them with no copy to keep in step). A room frees on the release of its last
occupant. The past 14 days are rebuilt from the stays (placed/ended) and the sites' status history.

The census covers the sites in the caller's scope and, for the forecast, the open ones: closing sites
still hold people, but nobody new goes there, and their releases free no room for anyone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.i18n import Message
from fangkong.core.scope import is_sandbox_path, under
from fangkong.protocol.service import CentralizedStage, centralized_stages
from fangkong.quarantine.models import (
    ACTIVE_STAYS,
    QuarantineRoom,
    QuarantineSite,
    RoomState,
    SiteStatus,
    SiteStatusChange,
    Stay,
)
from fangkong.quarantine.rules.capacity import (
    PROJECTION_DAYS,
    DayFlow,
    ProjectedDay,
    days_until,
    days_until_full,
    project,
)
from fangkong.quarantine.service.sites import room_tallies

# Days of past occupancy the census rebuilds.
HISTORY_DAYS = 14


@dataclass(frozen=True)
class SiteCensus:
    site_id: int
    name: str
    tier: int
    status: SiteStatus
    jurisdiction_id: int
    rooms: int  # in service
    occupied: int
    cleaning: int
    free: int
    out_of_service: int
    beds: int
    occupants: int

    @property
    def share(self) -> float | None:
        return self.occupied / self.rooms if self.rooms else None


@dataclass(frozen=True)
class TierCensus:
    tier: int
    sites: int
    open_sites: int
    rooms: int  # in service, every site of the tier not closed for good
    open_rooms: int  # in service, open sites
    occupied: int  # occupied rooms, every site of the tier

    @property
    def share(self) -> float | None:
        return self.occupied / self.open_rooms if self.open_rooms else None


@dataclass(frozen=True)
class PastDay:
    """Rooms occupied at the end of a past day (at the census for today), and the rooms open then."""

    day: dt.date
    occupied: int
    capacity_open: int
    by_tier: dict[int, int]


@dataclass(frozen=True)
class Census:
    today: dt.date
    sites: list[SiteCensus]
    tiers: list[TierCensus]
    history: list[PastDay]
    projection: list[ProjectedDay]
    # Rooms occupied in open sites now, rooms in service in open sites, and in every site not closed.
    occupied: int
    capacity_open: int
    capacity_all: int
    # People on the to-place list now (arrivals due today or earlier).
    waiting: int
    threshold: float
    forecast_hours: int
    days_until_full: int | None
    days_until_threshold: int | None
    # Hours from now to the start of each projected day (0 for today).
    hours_ahead: list[float] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return self.occupied / self.capacity_open if self.capacity_open else None

    @property
    def threshold_rooms(self) -> float:
        return self.threshold * self.capacity_open

    def chart(self, language: str | None = None) -> dict[str, Any]:
        """An ECharts option: rooms occupied (past, then forecast) against the capacity of open sites and
        of all tiers, the daily arrivals and releases, and the activation threshold as a markLine."""

        def word(msgid: str, **params: Any) -> str:
            return Message(msgid, **params).render(language)

        days = [d.day.isoformat() for d in self.history] + [d.day.isoformat() for d in self.projection]
        past = len(self.history)
        occupied: list[int | None] = [d.occupied for d in self.history]
        occupied += [self.occupied] + [None] * (len(self.projection) - 1)
        forecast: list[int | None] = [None] * past
        forecast += [d.occupied for d in self.projection]
        capacity_open = [d.capacity_open for d in self.history] + [self.capacity_open] * len(self.projection)
        capacity_all = [None] * past + [self.capacity_all] * len(self.projection)
        arrivals = [None] * past + [d.arrivals for d in self.projection]
        releases = [None] * past + [-d.releases for d in self.projection]
        names = {
            "occupied": word("Rooms occupied"),
            "forecast": word("Forecast"),
            "open": word("Rooms in open sites"),
            "all": word("Rooms in all tiers"),
            "arrivals": word("Arrivals"),
            "releases": word("Releases"),
        }
        threshold_label = word("Activation threshold {share}", share=f"{self.threshold * 100:.0f}%")
        return {
            "tooltip": {"trigger": "axis"},
            "legend": {"data": list(names.values())},
            "grid": {"left": 48, "right": 24, "top": 48, "bottom": 32},
            "xAxis": {"type": "category", "data": days},
            "yAxis": {"type": "value", "name": word("rooms"), "minInterval": 1},
            "series": [
                {
                    "name": names["occupied"],
                    "type": "line",
                    "data": occupied,
                    "markLine": {
                        "silent": True,
                        "symbol": "none",
                        "lineStyle": {"type": "dashed", "color": "#B42318"},
                        "label": {"formatter": threshold_label, "position": "insideEndTop"},
                        "data": [{"name": threshold_label, "yAxis": round(self.threshold_rooms, 1)}],
                    },
                },
                {
                    "name": names["forecast"],
                    "type": "line",
                    "lineStyle": {"type": "dashed"},
                    "data": forecast,
                },
                {
                    "name": names["open"],
                    "type": "line",
                    "step": "end",
                    "symbol": "none",
                    "data": capacity_open,
                },
                {"name": names["all"], "type": "line", "step": "end", "symbol": "none", "data": capacity_all},
                {"name": names["arrivals"], "type": "bar", "stack": "flow", "data": arrivals},
                {"name": names["releases"], "type": "bar", "stack": "flow", "data": releases},
            ],
        }


# ------------------------------------------------------------------------------------------- reading


def _sites(session: Session, principal: Principal) -> list[QuarantineSite]:
    return list(
        session.scalars(
            select(QuarantineSite)
            .where(under(QuarantineSite.jpath, principal.jpath), QuarantineSite.status != SiteStatus.closed)
            .order_by(QuarantineSite.tier, QuarantineSite.name, QuarantineSite.id)
        )
    )


def _plans_scope(principal: Principal) -> str:
    """Where release days of the people in the caller's sites are read: anywhere in the real tree (a
    city site houses people of its counties), or the caller's own sandbox inside a drill."""
    return principal.jpath if is_sandbox_path(principal.jpath) else "/"


def waiting_people(
    session: Session, principal: Principal, today: dt.date
) -> dict[int, tuple[dt.date, dt.date]]:
    """The to-place list: person → (arrival day, release day), for centralized stages in scope not over
    on ``today`` whose person holds no active stay."""
    stages = centralized_stages(session, principal.jpath, on=today)
    by_person: dict[int, list[CentralizedStage]] = defaultdict(list)
    for stage in stages:
        by_person[stage.person_id].append(stage)
    placed: set[int] = set()
    wanted = sorted(by_person)
    for start in range(0, len(wanted), 1000):
        placed.update(
            session.scalars(
                select(Stay.person_id).where(
                    Stay.person_id.in_(wanted[start : start + 1000]), Stay.state.in_(ACTIVE_STAYS)
                )
            )
        )
    return {
        person: (max(today, min(s.stage_start for s in own)), max(s.release for s in own))
        for person, own in by_person.items()
        if person not in placed
    }


def room_release_days(
    session: Session, principal: Principal, site_ids: Sequence[int], today: dt.date
) -> dict[int, dt.date]:
    """Room → the day its last occupant leaves (not before today), for rooms with active stays."""
    if not site_ids:
        return {}
    stays = session.execute(
        select(Stay.room_id, Stay.person_id, Stay.source).where(
            Stay.site_id.in_(site_ids), Stay.state.in_(ACTIVE_STAYS)
        )
    ).all()
    stages = centralized_stages(session, _plans_scope(principal), person_ids={s.person_id for s in stays})
    releases: dict[tuple[int, str], dt.date] = {}
    latest: dict[int, dt.date] = {}
    for stage in stages:
        releases[(stage.person_id, stage.source)] = stage.release
        latest[stage.person_id] = max(latest.get(stage.person_id, stage.release), stage.release)
    rooms: dict[int, dt.date] = {}
    for room_id, person_id, source in stays:
        # A stay whose plan no longer asks for quarantine leaves at the next release check: today.
        day = max(today, releases.get((person_id, source), latest.get(person_id, today)))
        rooms[room_id] = max(rooms.get(room_id, day), day)
    return rooms


def _status_at(
    site: QuarantineSite, changes: Sequence[SiteStatusChange], at: dt.datetime
) -> SiteStatus | None:
    """A site's status at an instant, from its status history (None before it existed)."""
    if clock.as_utc(site.created_at) > at:
        return None
    before = [c for c in changes if clock.as_utc(c.at) <= at]
    if before:
        return before[-1].status
    return changes[0].previous if changes else site.status


def _history(
    session: Session, sites: Sequence[QuarantineSite], in_service: dict[int, int], today: dt.date
) -> list[PastDay]:
    if not sites:
        first = today - dt.timedelta(days=HISTORY_DAYS)
        return [PastDay(first + dt.timedelta(days=i), 0, 0, {}) for i in range(HISTORY_DAYS)]
    ids = [s.id for s in sites]
    window_start, _ = clock.day_bounds(today - dt.timedelta(days=HISTORY_DAYS))
    stays = session.execute(
        select(Stay.room_id, Stay.site_id, Stay.placed_at, Stay.ended_at).where(
            Stay.site_id.in_(ids), or_(Stay.ended_at.is_(None), Stay.ended_at >= window_start)
        )
    ).all()
    changes: dict[int, list[SiteStatusChange]] = defaultdict(list)
    for change in session.scalars(
        select(SiteStatusChange)
        .where(SiteStatusChange.site_id.in_(ids))
        .order_by(SiteStatusChange.at, SiteStatusChange.id)
    ):
        changes[change.site_id].append(change)
    tier_of = {s.id: s.tier for s in sites}
    days: list[PastDay] = []
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        _, end = clock.day_bounds(day)
        rooms: dict[int, int] = {}
        for room_id, site_id, placed_at, ended_at in stays:
            if clock.as_utc(placed_at) < end and (ended_at is None or clock.as_utc(ended_at) >= end):
                rooms[room_id] = site_id
        by_tier: dict[int, int] = defaultdict(int)
        for site_id in rooms.values():
            by_tier[tier_of[site_id]] += 1
        capacity = sum(
            in_service.get(s.id, 0) for s in sites if _status_at(s, changes[s.id], end) == SiteStatus.open
        )
        days.append(PastDay(day, len(rooms), capacity, dict(by_tier)))
    return days


def census(
    session: Session, principal: Principal, *, days_ahead: int = PROJECTION_DAYS, on: dt.date | None = None
) -> Census:
    """Occupancy now by site and tier, the past 14 days, and the forecast for ``days_ahead`` days from
    today (or from ``on``: a drill's own calendar day)."""
    from fangkong.quarantine.service import activation

    today = on or clock.today()
    now = clock.utcnow()
    days_ahead = max(1, min(days_ahead, 31))
    sites = _sites(session, principal)
    tallies = room_tallies(session, [s.id for s in sites])
    site_rows: list[SiteCensus] = []
    in_service: dict[int, int] = {}
    for site in sites:
        tally = tallies.get(site.id)
        by_state = tally.by_state if tally is not None else {}
        out = by_state.get(RoomState.out_of_service, 0)
        rooms = (tally.rooms if tally is not None else 0) - out
        in_service[site.id] = rooms
        site_rows.append(
            SiteCensus(
                site_id=site.id,
                name=site.name,
                tier=site.tier,
                status=site.status,
                jurisdiction_id=site.jurisdiction_id,
                rooms=rooms,
                occupied=by_state.get(RoomState.occupied, 0),
                cleaning=by_state.get(RoomState.cleaning, 0),
                free=by_state.get(RoomState.free, 0),
                out_of_service=out,
                beds=tally.beds if tally is not None else 0,
                occupants=tally.occupants if tally is not None else 0,
            )
        )
    tiers: list[TierCensus] = []
    for tier in sorted({s.tier for s in site_rows}):
        own = [s for s in site_rows if s.tier == tier]
        opened = [s for s in own if s.status == SiteStatus.open]
        tiers.append(
            TierCensus(
                tier=tier,
                sites=len(own),
                open_sites=len(opened),
                rooms=sum(s.rooms for s in own),
                open_rooms=sum(s.rooms for s in opened),
                occupied=sum(s.occupied for s in own),
            )
        )
    open_sites = [s for s in site_rows if s.status == SiteStatus.open]
    occupied = sum(s.occupied for s in open_sites)
    capacity_open = sum(s.rooms for s in open_sites)
    capacity_all = sum(s.rooms for s in site_rows)

    horizon = [today + dt.timedelta(days=i) for i in range(days_ahead)]
    arrivals: dict[dt.date, int] = defaultdict(int)
    releases: dict[dt.date, int] = defaultdict(int)
    waiting = 0
    for arrival, release in waiting_people(session, principal, today).values():
        arrivals[arrival] += 1
        releases[release] += 1
        waiting += arrival <= today
    occupied_rooms = set(
        session.scalars(
            select(QuarantineRoom.id).where(
                QuarantineRoom.site_id.in_([s.site_id for s in open_sites]),
                QuarantineRoom.state == RoomState.occupied,
            )
        )
    )
    freeing = room_release_days(session, principal, [s.site_id for s in open_sites], today)
    for room_id, day in freeing.items():
        if room_id in occupied_rooms:
            releases[day] += 1
    flows = [DayFlow(day, arrivals.get(day, 0), releases.get(day, 0)) for day in horizon]
    projection = project(occupied, capacity_open, flows)
    rule = activation.rule_for_path(session, principal.jpath)
    hours_ahead = [
        max(0.0, (clock.day_bounds(day)[0] - now).total_seconds() / 3600) if i else 0.0
        for i, day in enumerate(horizon)
    ]
    return Census(
        today=today,
        sites=site_rows,
        tiers=tiers,
        history=_history(session, sites, in_service, today),
        projection=projection,
        occupied=occupied,
        capacity_open=capacity_open,
        capacity_all=capacity_all,
        waiting=waiting,
        threshold=rule.occupancy_threshold,
        forecast_hours=rule.forecast_hours,
        days_until_full=days_until_full(projection, occupied, capacity_open),
        days_until_threshold=days_until(projection, occupied, rule.occupancy_threshold * capacity_open),
        hours_ahead=hours_ahead,
    )
