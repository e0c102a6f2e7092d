"""Arrival registration (报备): the public form and API and staff channels, worklists, look-back.

A traveller says who they are, where they left (a county, and the risk-area unit if they know it), when
they left and arrived, and where they stay. Matching the origin against the areas as they stood on the
day of departure (``areas.rules.categories``) gives the category; the protocol in force where they stay
gives the plan, through ``PersonPlacedUnderManagement`` (source ``arrival:<id>``). The person is found
in the registry by ID number, or registered at the destination community.

One trip is one row however many channels report it: ``trip_key`` is the keyed hash of the ID number,
the departure day and the origin county, and each further report adds an ``ArrivalReport`` beside the
row, never a second worklist entry (residents complained of several calls a night). A report that shows
the trip worse than known (a named high area) moves the row up; nothing ever moves it down.

Public input is hostile. Every field is checked and each problem named with its field; text is
length-capped and stripped of markup; nothing is written unless everything is good; each client address
gets ``PUBLIC_SUBMISSIONS_PER_MINUTE`` submissions a minute (an in-memory limiter like the login
throttle's, on the platform clock). A public answer holds only what this submission itself says (its
category and measure), never what another report of the same trip or the registry knows.

Look-back: when an area is designated (``RiskAreaDesignated``), arrivals who left its county within the
travel-history window before are categorised again (:func:`arrivals_for_designated_area`); those whose
unit, given by name, is the new area are linked to it.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.areas.events import RiskAreaDesignated
from fangkong.areas.models import (
    AreaState,
    Arrival,
    ArrivalCategory,
    ArrivalReport,
    RiskArea,
    RiskAreaChange,
    WorklistState,
)
from fangkong.areas.rules.categories import (
    TRAVEL_HISTORY_DAYS,
    AreaHistory,
    Exposure,
    arrival_exposure,
    exposure_of_category,
    is_upgrade,
    protocol_category,
    spans_from_steps,
)
from fangkong.core import audit, clock, people
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.crypto import PersonalData, Vault, mask_name
from fangkong.core.divisions import national_tree
from fangkong.core.errors import Forbidden, InvalidInput, NotFound, RowError, TooManyRequests
from fangkong.core.events import (
    DomainEvent,
    EventBus,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
    bus_of,
)
from fangkong.core.i18n import Message
from fangkong.core.idnumber import InvalidIdNumber, mask_id_number, validate_id_number
from fangkong.core.models import Jurisdiction, Level, Role
from fangkong.core.people_rules import NAME_PATTERN
from fangkong.core.permissions import Permission
from fangkong.core.phone import InvalidPhone, mask_phone, normalise_mobile_fast
from fangkong.core.scope import path_in_scope, under
from fangkong.protocol.plan import ManagementPlan, PlanError, PlanFacts, compute_plan, plan_templates
from fangkong.protocol.service import protocol_in_force

# Channels that take no login: rate-limited by client address, answered with the public receipt only.
PUBLIC_CHANNELS = frozenset({"form", "api"})
# Channels of staff accounts (a community worker's entry, a checkpoint, a hotline, an import).
STAFF_CHANNELS = frozenset({"staff", "checkpoint", "hotline", "import"})

# Submissions a client address may make on the public channels per window (issue 14: floods from one
# address get a clear 429); a parameter of ``SubmissionLimiter``.
PUBLIC_SUBMISSIONS_PER_MINUTE = 10
# Caps on free text, characters (the columns: origin_text 200, the address in the registry 200).
MAX_NAME = 50
MAX_UNIT_NAME = 120
MAX_ORIGIN_TEXT = 200
MAX_ADDRESS = 200
MAX_HOTEL = 100
MAX_PLACES_VISITED = 500
MAX_COMPANIONS = 50
# Longest raw value looked at before it is refused outright (a megabyte of "name" is not cleaned).
_MAX_RAW = 2_000
# A registration may come before the journey ends (报备 on the way), by this many days at most.
MAX_DAYS_AHEAD = 3
# How far back a departure may lie: far past any plan's clock, and far short of typing mistakes (1926).
MAX_DAYS_BACK = 60
MAX_PAGE_SIZE = 200

_TAG = re.compile(r"<[^<>]*>")
_SPACE = re.compile(r"\s+")


class TooManySubmissions(TooManyRequests):
    """The client address used its allowance of public submissions; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            retry_after,
            Message(
                "too many submissions from your address; try again in {seconds} seconds", seconds=retry_after
            ),
        )


class SubmissionLimiter:
    """Public submissions per client address in a sliding window, in process memory (thread-safe).

    Like ``core.throttle`` the state is per app process and bounded (the addresses seen least recently
    are forgotten first past ``max_tracked``), and time is the platform clock, so tests move it. Every
    submission counts, malformed ones included: a flood is refused before it is read.
    """

    def __init__(
        self,
        limit: int = PUBLIC_SUBMISSIONS_PER_MINUTE,
        window: dt.timedelta = dt.timedelta(minutes=1),
        max_tracked: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_tracked = max_tracked
        self._lock = threading.Lock()
        self._seen: dict[str, deque[dt.datetime]] = {}

    def check(self, address: str) -> None:
        """Count one submission from ``address``; raise ``TooManySubmissions`` past the allowance."""
        now = utcnow()
        with self._lock:
            times = self._seen.pop(address, None) or deque()
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) >= self.limit:
                self._seen[address] = times
                wait = (times[0] + self.window - now).total_seconds()
                raise TooManySubmissions(max(1, int(wait + 0.999)))
            times.append(now)
            self._seen[address] = times  # re-inserted: the dict stays ordered by last use
            while len(self._seen) > self.max_tracked:
                del self._seen[next(iter(self._seen))]

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


# What a public submission is told (with its own category and measure, nothing else).
PUBLIC_ANSWER = Message("registered; your community will contact you")
# The limiter of this app process's public channels.
PUBLIC_LIMITER = SubmissionLimiter()


@dataclass(frozen=True)
class ArrivalInput:
    """One report of a trip as submitted; values are checked, never trusted (see the module doc).

    ``origin_area_id`` or ``origin_unit`` name the risk-area unit left (by the id the public page
    shows, or by its name within the origin county); ``address`` or ``hotel`` say where they stay in
    the community ``destination_code``. Dates may come as ISO text.
    """

    id_number: object = ""
    name: object = ""
    phone: object = ""
    origin_county_code: object = ""
    departed_on: object = None
    arrived_on: object = None
    destination_code: object = ""
    address: object = ""
    hotel: object = ""
    origin_area_id: object = None
    origin_unit: object = ""
    companions: object = 0
    places_visited: object = ""


@dataclass(frozen=True)
class ArrivalReceipt:
    """What registering a report gives back.

    ``category``/``measure``/``valid_until`` are what this report by itself says (the public answer);
    ``trip_category`` is the trip's as now recorded (staff channels), which other reports may have
    made worse.
    """

    arrival_id: int
    category: str
    measure: str | None
    valid_until: dt.date | None
    trip_category: str
    merged: bool

    def public_answer(self, language: str | None = None) -> dict[str, object]:
        """The only answer a public channel gives: registered, the category and the measure."""
        return {
            "registered": True,
            "message": PUBLIC_ANSWER.render(language),
            "category": self.category,
            "measure": self.measure,
        }


@dataclass(frozen=True)
class ArrivalView:
    """A worklist row: masked identity, the trip, the category and where the community stands on it."""

    id: int
    person_id: int | None
    name: str
    id_number: str
    phone: str | None
    origin_county_code: str
    origin_county_name: str
    origin_area_id: int | None
    origin_area_name: str
    departed_on: dt.date
    arrived_on: dt.date
    destination_id: int
    destination_name: str
    companions: int
    places_visited: str
    category: str
    state: str
    reports: int
    channels: tuple[str, ...]


@dataclass(frozen=True)
class WorklistPage:
    items: list[ArrivalView]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass
class _Clean:
    id_number: str = ""
    name: str = ""
    phone: str = ""
    county_code: str = ""
    departed_on: dt.date | None = None
    arrived_on: dt.date | None = None
    destination_code: str = ""
    address: str = ""
    hotel: str = ""
    area_id: int | None = None
    unit: str = ""
    companions: int = 0
    places: str = ""
    errors: list[RowError] = field(default_factory=list)

    def problem(self, name: str, message: str | Message) -> None:
        self.errors.append(RowError(1, name, message))


# --- checking a report -----------------------------------------------------------------------------------


def clean_text(value: object, limit: int) -> str | Message:
    """Text without markup, control characters or runs of space, or the problem with it (a Message)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return Message("must be text")
    if len(value) > _MAX_RAW or len(value) > limit * 4:
        return Message("longer than {limit} characters", limit=limit)
    text = unicodedata.normalize("NFKC", value)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    text = _TAG.sub(" ", text).replace("<", " ").replace(">", " ")
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        return Message("longer than {limit} characters", limit=limit)
    return text


def _text(report: _Clean, name: str, value: object, limit: int, *, required: bool = False) -> str:
    cleaned = clean_text(value, limit)
    if isinstance(cleaned, Message):
        report.problem(name, cleaned)
        return ""
    if required and not cleaned:
        report.problem(name, "is required")
    return cleaned


def _day(report: _Clean, name: str, value: object) -> dt.date | None:
    if value is None or value == "":
        report.problem(name, "is required")
        return None
    if isinstance(value, dt.datetime):
        report.problem(name, Message("give a day (YYYY-MM-DD), not a time"))
        return None
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and len(value) <= 10:
        try:
            day = dt.date.fromisoformat(value.strip().replace("/", "-"))
        except ValueError:
            report.problem(name, Message("“{value}” is not a date (YYYY-MM-DD)", value=value))
            return None
    else:
        report.problem(name, Message("is not a date (YYYY-MM-DD)"))
        return None
    today = clock.today()
    if day > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        report.problem(
            name, Message("{value} is more than {days} days ahead", value=day, days=MAX_DAYS_AHEAD)
        )
        return None
    if day < today - dt.timedelta(days=MAX_DAYS_BACK):
        report.problem(name, Message("{value} is more than {days} days ago", value=day, days=MAX_DAYS_BACK))
        return None
    return day


def _whole_number(report: _Clean, name: str, value: object, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value) <= 6:
        number = int(value.strip())
    else:
        number = None
    if number is None or not low <= number <= high:
        report.problem(name, Message("must be a whole number from {low} to {high}", low=low, high=high))
        return None
    return number


def check_report(data: ArrivalInput) -> _Clean:
    """Every field of a report checked on its own (no database); problems named by field."""
    report = _Clean()
    raw_id = _text(report, "id_number", data.id_number, 40, required=True)
    if raw_id:
        try:
            report.id_number = validate_id_number(raw_id).number
        except InvalidIdNumber as exc:
            report.problem("id_number", exc.text)
    name = _text(report, "name", data.name, MAX_NAME, required=True)
    if name and not NAME_PATTERN.match(name):
        report.problem("name", Message("“{value}” is not a plausible name", value=name[:20]))
    report.name = name
    phone = _text(report, "phone", data.phone, 20, required=True)
    if phone:
        try:
            report.phone = normalise_mobile_fast(phone)
        except InvalidPhone as exc:
            report.problem("phone", exc.text)
    report.county_code = _text(report, "origin_county_code", data.origin_county_code, 12, required=True)
    if report.county_code and not (report.county_code.isascii() and report.county_code.isdigit()):
        report.problem("origin_county_code", Message("{code} is not a county code", code=report.county_code))
    report.departed_on = _day(report, "departed_on", data.departed_on)
    report.arrived_on = _day(report, "arrived_on", data.arrived_on)
    if report.departed_on and report.arrived_on and report.arrived_on < report.departed_on:
        report.problem(
            "arrived_on", Message("is before the day of departure ({day})", day=report.departed_on)
        )
    report.destination_code = _text(report, "destination_code", data.destination_code, 12, required=True)
    report.address = _text(report, "address", data.address, MAX_ADDRESS)
    report.hotel = _text(report, "hotel", data.hotel, MAX_HOTEL)
    if (
        not report.address
        and not report.hotel
        and not any(e.field in ("address", "hotel") for e in report.errors)
    ):
        report.problem("address", "give the address or the hotel where you stay")
    if data.origin_area_id not in (None, ""):
        report.area_id = _whole_number(report, "origin_area_id", data.origin_area_id, 1, 2**31 - 1)
    report.unit = _text(report, "origin_unit", data.origin_unit, MAX_ORIGIN_TEXT)
    if data.companions not in (None, ""):
        report.companions = _whole_number(report, "companions", data.companions, 0, MAX_COMPANIONS) or 0
    report.places = _text(report, "places_visited", data.places_visited, MAX_PLACES_VISITED)
    return report


@cache
def _national_counties() -> dict[str, str]:
    """County-level codes of the national table (a city without counties, 东莞市, counts as one)."""
    tree = national_tree()
    with_counties = {d.parent_code for d in tree if d.level == "county"}
    return {
        d.code: d.name
        for d in tree
        if d.level == "county" or (d.level == "city" and d.code not in with_counties)
    }


def _origin_county(session: Session, code: str) -> tuple[int | None, str] | None:
    """(jurisdiction id if the county is in this deployment's tree, its name), None if no county."""
    node = session.scalar(
        select(Jurisdiction).where(Jurisdiction.code == code, Jurisdiction.is_sandbox.is_(False))
    )
    if node is not None:
        return (node.id, node.name) if node.level == Level.county else None
    name = _national_counties().get(code)
    return (None, name) if name is not None else None


def unit_key(name: str) -> str:
    """The form unit names are compared in: no space, folded width and case (翠苑小区 3幢 = 翠苑小区3幢)."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


# --- areas as they stood ---------------------------------------------------------------------------------


def area_histories(session: Session, county_ids: Iterable[int]) -> dict[int, tuple[RiskArea, AreaHistory]]:
    """Every designated area (in force or since lifted) of these counties with its level spans, by id."""
    ids = sorted(set(county_ids))
    if not ids:
        return {}
    areas = list(
        session.scalars(
            select(RiskArea).where(
                RiskArea.county_id.in_(ids),
                RiskArea.state.in_((AreaState.in_force, AreaState.lifted)),
                RiskArea.designated_at.is_not(None),
            )
        )
    )
    if not areas:
        return {}
    codes = dict(
        session.execute(select(Jurisdiction.id, Jurisdiction.code).where(Jurisdiction.id.in_(ids))).all()
    )
    steps: dict[int, list[tuple[dt.datetime, str | None, str]]] = {a.id: [] for a in areas}
    for area_id, at, from_level, to_level in session.execute(
        select(RiskAreaChange.area_id, RiskAreaChange.at, RiskAreaChange.from_level, RiskAreaChange.to_level)
        .where(RiskAreaChange.area_id.in_(list(steps)), RiskAreaChange.to_level.is_not(None))
        .order_by(RiskAreaChange.at, RiskAreaChange.id)
    ):
        if to_level is not None:
            steps[area_id].append((at, from_level.value if from_level is not None else None, to_level.value))
    found: dict[int, tuple[RiskArea, AreaHistory]] = {}
    for area in areas:
        assert area.designated_at is not None
        designated = clock.as_utc(area.designated_at)
        # The timeline's steps from designation on (a proposal's own step comes before it).
        taken = [(clock.local_day(at), to) for at, _, to in steps[area.id] if clock.as_utc(at) >= designated]
        designated_on = clock.local_day(designated)
        if not taken or taken[0][0] != designated_on:
            first = steps[area.id]
            later = [f for at, f, _ in first if clock.as_utc(at) >= designated and f is not None]
            # An area written without a designation step: it held what its first later step left, or
            # its level now.
            taken.insert(0, (designated_on, later[0] if later else area.level.value))
        lifted_on = clock.local_day(area.lifted_at) if area.lifted_at is not None else None
        history = AreaHistory(
            area.id, codes.get(area.county_id, ""), spans_from_steps(taken, lifted_on=lifted_on)
        )
        found[area.id] = (area, history)
    return found


def _exposure(
    departed_on: dt.date, named: int | None, histories: Mapping[int, tuple[RiskArea, AreaHistory]]
) -> Exposure:
    named_area = histories[named][1] if named is not None and named in histories else None
    return arrival_exposure(
        departed_on, named_area=named_area, county_areas=[h for _, h in histories.values()]
    )


def _match_unit(histories: Mapping[int, tuple[RiskArea, AreaHistory]], unit: str) -> int | None:
    if not unit:
        return None
    key = unit_key(unit)
    matches = sorted(area.id for area, _ in histories.values() if unit_key(area.name) == key)
    return matches[-1] if matches else None


def _category(exposure: Exposure) -> ArrivalCategory:
    name = protocol_category(exposure)
    return ArrivalCategory(name) if name is not None else ArrivalCategory.no_risk


# --- the plan a category gives -----------------------------------------------------------------------------


# The plan facts an arrival gives: the day they left the area and the day they arrived.
_ARRIVAL_CLOCKS = ("area_departure", "arrival")


def _clock_of(session: Session, jpath: str, category: str) -> str | None:
    """The fact the protocol in force at ``jpath`` counts ``category`` from; None when that protocol
    has no such category with stages, or counts it from a fact an arrival does not give (no plan is
    asked: the arrival stays on the worklist with its category)."""
    template = plan_templates(protocol_in_force(session, jpath)).get(category)
    if template is None or not template.stages or template.clock not in _ARRIVAL_CLOCKS:
        return None
    return template.clock


def _placement(session: Session, arrival: Arrival) -> PersonPlacedUnderManagement | None:
    if arrival.person_id is None or arrival.category == ArrivalCategory.no_risk:
        return None
    clock_event = _clock_of(session, arrival.jpath, arrival.category.value)
    if clock_event is None:
        return None
    return PersonPlacedUnderManagement(
        person_id=arrival.person_id,
        jpath=arrival.jpath,
        category=arrival.category.value,
        clock_date=arrival.arrived_on if clock_event == "arrival" else arrival.departed_on,
        source=f"arrival:{arrival.id}",
        clock_event=clock_event,
    )


def plan_for(
    session: Session, jpath: str, category: str, departed_on: dt.date, arrived_on: dt.date
) -> ManagementPlan | None:
    """The plan the protocol in force at ``jpath`` gives a traveller of ``category`` (None: none)."""
    if category == ArrivalCategory.no_risk.value:
        return None
    protocol = protocol_in_force(session, jpath)
    template = plan_templates(protocol).get(category)
    if template is None or template.clock is None:
        return None
    facts = PlanFacts(arrival=arrived_on, area_departure=departed_on)
    try:
        return compute_plan(protocol, category, facts)
    except PlanError:
        return None


def measure_of(plan: ManagementPlan | None, on: dt.date | None = None) -> str | None:
    """The measure a plan asks on ``on`` (its first stage before it starts); None once it has ended."""
    if plan is None or not plan.stages:
        return None
    day = on or clock.today()
    stage = plan.stage_on(day)
    if stage is not None:
        return stage.type
    start = plan.start_date
    return plan.stages[0].type if start is not None and day < start else None


# --- registering -----------------------------------------------------------------------------------------


def _actor(reporter: str, ip: str, user_id: int | None = None) -> audit.Actor:
    return audit.Actor(user_id, reporter[:64] or "public", (ip or "unknown")[:64])


def _registrar(destination: Jurisdiction) -> Principal:
    """Who registers a traveller the registry does not know: the platform, at the destination."""
    return Principal(
        user_id=0,
        username="arrivals",
        display_name="arrivals",
        role=Role.community_worker,
        jurisdiction_id=destination.id,
        jpath=destination.path,
        jurisdiction_name=destination.name,
        via="event",
    )


def register_arrival(
    session: Session,
    vault: Vault,
    bus: EventBus,
    data: ArrivalInput,
    *,
    channel: str,
    reporter: str,
    ip: str,
    limiter: SubmissionLimiter | None = None,
) -> ArrivalReceipt:
    """Register one report of a trip (see the module doc); one trip stays one row.

    Public channels (``form``, ``api``) are counted against ``limiter`` (the process's
    ``PUBLIC_LIMITER`` by default) before anything is read. Raises ``InvalidInput`` naming every field
    in error, with nothing written.
    """
    if channel in PUBLIC_CHANNELS:
        (limiter or PUBLIC_LIMITER).check(ip or "unknown")
    elif channel not in STAFF_CHANNELS:
        raise InvalidInput(
            [RowError(1, "channel", Message("unknown channel {value}", value=str(channel)[:20]))]
        )
    report = check_report(data)
    county: tuple[int | None, str] | None = None
    if report.county_code and not any(e.field == "origin_county_code" for e in report.errors):
        county = _origin_county(session, report.county_code)
        if county is None:
            report.problem(
                "origin_county_code", Message("{code} is not a county code", code=report.county_code)
            )
    destination: Jurisdiction | None = None
    if report.destination_code:
        destination = session.scalar(select(Jurisdiction).where(Jurisdiction.code == report.destination_code))
        if (
            destination is None
            or destination.level != Level.community
            or (destination.is_sandbox and channel in PUBLIC_CHANNELS)
        ):
            report.problem(
                "destination_code", Message("no community has the code {code}", code=report.destination_code)
            )
            destination = None
    histories = area_histories(session, [county[0]] if county and county[0] is not None else [])
    if report.area_id is not None and report.area_id not in histories:
        report.problem(
            "origin_area_id",
            Message("no risk area {value} in the county of origin", value=report.area_id),
        )
    if report.errors:
        raise InvalidInput(report.errors)
    assert destination is not None
    assert county is not None
    assert report.departed_on is not None
    assert report.arrived_on is not None
    named = report.area_id if report.area_id is not None else _match_unit(histories, report.unit)
    exposure = _exposure(report.departed_on, named, histories)
    category = _category(exposure)
    origin_text = report.unit
    if not origin_text and named is not None:
        origin_text = histories[named][0].name
    trip_key = vault.keyed_hash(
        f"trip|{report.id_number}|{report.departed_on.isoformat()}|{report.county_code}"
    )
    actor = _actor(reporter if channel not in PUBLIC_CHANNELS else (ip or "public"), ip)

    existing = session.scalar(select(Arrival).where(Arrival.trip_key == trip_key))
    merged = existing is not None
    if existing is None:
        try:
            with session.begin_nested():
                arrival = _new_arrival(
                    session, vault, bus, report, destination, named, origin_text, category, trip_key
                )
        except IntegrityError:
            # Another report of the same trip was written first: this one joins it.
            existing = session.scalar(select(Arrival).where(Arrival.trip_key == trip_key))
            if existing is None:
                raise
            merged = True
    if existing is not None:
        arrival = existing
        _merge(session, bus, arrival, named, origin_text, category)
    session.add(ArrivalReport(arrival_id=arrival.id, channel=channel, reporter=actor.username))
    session.flush()
    if not merged:
        placement = _placement(session, arrival)
        if placement is not None:
            bus.publish(session, placement)
    audit.record(
        session,
        actor,
        "arrivals.report",
        "arrival",
        arrival.id,
        jpath=arrival.jpath,
        detail={"channel": channel, "merged": merged, "category": category.value},
    )
    plan = plan_for(session, arrival.jpath, category.value, report.departed_on, report.arrived_on)
    return ArrivalReceipt(
        arrival_id=arrival.id,
        category=category.value,
        measure=measure_of(plan),
        valid_until=plan.end_date if plan is not None else None,
        trip_category=arrival.category.value,
        merged=merged,
    )


def _new_arrival(
    session: Session,
    vault: Vault,
    bus: EventBus,
    report: _Clean,
    destination: Jurisdiction,
    named: int | None,
    origin_text: str,
    category: ArrivalCategory,
    trip_key: str,
) -> Arrival:
    assert report.departed_on is not None
    assert report.arrived_on is not None
    stay = report.address if not report.hotel else (f"{report.hotel} {report.address}".strip())
    found = people.ids_by_id_hash(session, "/", [vault.keyed_hash(report.id_number)])
    person_id: int
    if found:
        person_id = next(iter(found.values()))[0]
    else:
        view = people.register(
            session,
            vault,
            bus,
            _registrar(destination),
            {
                "id_number": report.id_number,
                "name": report.name,
                "phone": report.phone,
                "community_code": destination.code,
                "address": stay[:MAX_ADDRESS],
            },
        )
        person_id = view.id
    arrival = Arrival(
        person_id=person_id,
        pii=vault.encrypt_person(PersonalData(report.id_number, report.name, report.phone, stay)),
        id_hash=vault.keyed_hash(report.id_number),
        phone_hash=vault.keyed_hash(report.phone),
        name_masked=mask_name(report.name),
        id_masked=mask_id_number(report.id_number),
        phone_masked=mask_phone(report.phone),
        origin_county_code=report.county_code,
        origin_text=origin_text[:MAX_ORIGIN_TEXT],
        origin_area_id=named,
        departed_on=report.departed_on,
        arrived_on=report.arrived_on,
        destination_id=destination.id,
        jpath=destination.path,
        companions=report.companions,
        places_visited=report.places,
        category=category,
        trip_key=trip_key,
        worklist_state=WorklistState.new,
    )
    session.add(arrival)
    session.flush()
    return arrival


def _merge(
    session: Session,
    bus: EventBus,
    arrival: Arrival,
    named: int | None,
    origin_text: str,
    category: ArrivalCategory,
) -> None:
    """A further report of a known trip: what it adds is kept, a worse category moves the trip up."""
    if arrival.origin_area_id is None and named is not None:
        arrival.origin_area_id = named
        arrival.origin_text = origin_text[:MAX_ORIGIN_TEXT]
    _upgrade(session, bus, [(arrival, category)])


def _upgrade(session: Session, bus: EventBus, moves: Sequence[tuple[Arrival, ArrivalCategory]]) -> int:
    """Move arrivals up to worse categories (never down) and re-plan them; how many moved.

    A trip moved up is new work for its community: it goes back to ``new`` on the worklist (still
    one entry), and its plan is replaced through the same event from the same source.
    """
    placements: list[PersonPlacedUnderManagement] = []
    moved = 0
    for arrival, category in moves:
        if not is_upgrade(exposure_of_category(arrival.category.value), exposure_of_category(category.value)):
            continue
        arrival.category = category
        arrival.worklist_state = WorklistState.new
        moved += 1
        session.flush()
        placement = _placement(session, arrival)
        if placement is not None:
            placements.append(placement)
    if len(placements) == 1:
        bus.publish(session, placements[0])
    elif placements:
        bus.publish(session, PeoplePlacedUnderManagement(placements=tuple(placements)))
    return moved


# --- look-back -------------------------------------------------------------------------------------------


def arrivals_for_designated_area(session: Session, event: DomainEvent) -> None:
    """Handler of ``RiskAreaDesignated``: arrivals who left the area's county within the travel-history
    window before its designation are categorised again (and linked to it when their unit, given by
    name, is this area); those now worse are moved up and re-planned."""
    assert isinstance(event, RiskAreaDesignated)
    area = session.get(RiskArea, event.area_id)
    if area is None or area.designated_at is None:
        return
    county = session.get(Jurisdiction, area.county_id)
    if county is None:
        return
    histories = area_histories(session, [area.county_id])
    since = clock.local_day(area.designated_at) - dt.timedelta(days=TRAVEL_HISTORY_DAYS)
    candidates = list(
        session.scalars(
            select(Arrival)
            .where(Arrival.origin_county_code == county.code, Arrival.departed_on >= since)
            .order_by(Arrival.id)
        )
    )
    area_key = unit_key(area.name)
    moves: list[tuple[Arrival, ArrivalCategory]] = []
    for arrival in candidates:
        if (
            arrival.origin_area_id is None
            and arrival.origin_text
            and unit_key(arrival.origin_text) == area_key
        ):
            arrival.origin_area_id = area.id
        exposure = _exposure(arrival.departed_on, arrival.origin_area_id, histories)
        moves.append((arrival, _category(exposure)))
    moved = _upgrade(session, bus_of(session), moves)
    if moved:
        audit.record(
            session,
            audit.SYSTEM,
            "arrivals.look_back",
            "risk_area",
            area.id,
            jpath=area.jpath,
            detail={"moved": moved, "looked_at": len(candidates)},
        )


# --- the community's worklist ----------------------------------------------------------------------------


def _require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(Message("your role lacks the permission {permission}", permission=permission.value))


def _views(session: Session, rows: Sequence[Arrival]) -> list[ArrivalView]:
    if not rows:
        return []
    ids = [a.id for a in rows]
    reports: dict[int, list[str]] = {}
    for arrival_id, channel in session.execute(
        select(ArrivalReport.arrival_id, ArrivalReport.channel)
        .where(ArrivalReport.arrival_id.in_(ids))
        .order_by(ArrivalReport.id)
    ):
        reports.setdefault(arrival_id, []).append(channel)
    places = dict(
        session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                Jurisdiction.id.in_({a.destination_id for a in rows})
            )
        ).all()
    )
    counties = dict(
        session.execute(
            select(Jurisdiction.code, Jurisdiction.name).where(
                Jurisdiction.code.in_({a.origin_county_code for a in rows})
            )
        ).all()
    )
    national = _national_counties()
    area_names = dict(
        session.execute(
            select(RiskArea.id, RiskArea.name).where(
                RiskArea.id.in_({a.origin_area_id for a in rows if a.origin_area_id is not None})
            )
        ).all()
    )
    return [
        ArrivalView(
            id=a.id,
            person_id=a.person_id,
            name=a.name_masked,
            id_number=a.id_masked,
            phone=a.phone_masked,
            origin_county_code=a.origin_county_code,
            origin_county_name=counties.get(a.origin_county_code) or national.get(a.origin_county_code, ""),
            origin_area_id=a.origin_area_id,
            origin_area_name=area_names.get(a.origin_area_id or -1, a.origin_text),
            departed_on=a.departed_on,
            arrived_on=a.arrived_on,
            destination_id=a.destination_id,
            destination_name=places.get(a.destination_id, ""),
            companions=a.companions,
            places_visited=a.places_visited,
            category=a.category.value,
            state=a.worklist_state.value,
            reports=len(reports.get(a.id, [])),
            channels=tuple(dict.fromkeys(reports.get(a.id, []))),
        )
        for a in rows
    ]


def _state(value: str | WorklistState, name: str = "state") -> WorklistState:
    try:
        return WorklistState(value)
    except ValueError:
        choices = ", ".join(s.value for s in WorklistState)
        raise InvalidInput(
            [
                RowError(
                    1,
                    name,
                    Message("“{value}” is not one of {choices}", value=str(value)[:20], choices=choices),
                )
            ]
        ) from None


def worklist(
    session: Session,
    principal: Principal,
    *,
    state: str | WorklistState | None = None,
    page: int = 1,
    size: int = 50,
) -> WorklistPage:
    """The arrivals staying in the caller's jurisdiction, one row a trip, newest arrival first."""
    _require(principal, Permission.arrivals_manage)
    size = max(1, min(size, MAX_PAGE_SIZE))
    page = max(1, page)
    conditions = [under(Arrival.jpath, principal.jpath)]
    if state is not None and state != "":
        conditions.append(Arrival.worklist_state == _state(state))
    total = session.scalar(select(func.count()).select_from(Arrival).where(*conditions)) or 0
    rows = list(
        session.scalars(
            select(Arrival)
            .where(*conditions)
            .order_by(Arrival.arrived_on.desc(), Arrival.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
    )
    return WorklistPage(_views(session, rows), total, page, size)


def get(session: Session, principal: Principal, arrival_id: int) -> ArrivalView:
    _require(principal, Permission.arrivals_manage)
    arrival = session.get(Arrival, arrival_id)
    if arrival is None or not path_in_scope(arrival.jpath, principal.jpath):
        raise NotFound(f"arrival {arrival_id} not found")
    return _views(session, [arrival])[0]


def mark(
    session: Session, principal: Principal, arrival_id: int, state: str | WorklistState, *, ip: str = ""
) -> ArrivalView:
    """The community's progress on one arrival (contacted, plan applied, closed), audited."""
    _require(principal, Permission.arrivals_manage)
    new_state = _state(state)
    arrival = session.get(Arrival, arrival_id)
    if arrival is None or not path_in_scope(arrival.jpath, principal.jpath):
        raise NotFound(f"arrival {arrival_id} not found")
    before = arrival.worklist_state
    arrival.worklist_state = new_state
    session.flush()
    audit.record(
        session,
        _actor(principal.username, ip or "web", principal.user_id),
        "arrivals.mark",
        "arrival",
        arrival.id,
        jpath=arrival.jpath,
        detail={"from": before.value, "to": new_state.value},
    )
    return _views(session, [arrival])[0]
