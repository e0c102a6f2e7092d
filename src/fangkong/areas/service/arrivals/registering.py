"""Registering a report of a trip: one trip one row, and the plan its category gives.

The plan comes from the protocol in force where the traveller stays, through
``PersonPlacedUnderManagement`` (source ``arrival:<id>``); :func:`plan_for` and :func:`measure_of` are
read by checkpoints too. A further report of a known trip joins its row and can only move it up
(``_upgrade``, which the look-back shares).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.areas.models import (
    Arrival,
    ArrivalCategory,
    ArrivalReport,
    WorklistState,
)
from fangkong.areas.rules.categories import (
    exposure_of_category,
    is_upgrade,
)
from fangkong.areas.service.arrivals.input import (
    MAX_ADDRESS,
    MAX_ORIGIN_TEXT,
    PUBLIC_CHANNELS,
    PUBLIC_LIMITER,
    STAFF_CHANNELS,
    ArrivalInput,
    SubmissionLimiter,
    _Clean,
    check_report,
)
from fangkong.areas.service.arrivals.matching import (
    _category,
    _exposure,
    _match_unit,
    _origin_county,
    area_histories,
)
from fangkong.core import audit, clock, people
from fangkong.core.auth import Principal
from fangkong.core.crypto import PersonalData, Vault, mask_name
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.events import (
    EventBus,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
)
from fangkong.core.i18n import Message
from fangkong.core.idnumber import mask_id_number
from fangkong.core.models import Jurisdiction, Level, Role
from fangkong.core.phone import mask_phone
from fangkong.protocol.plan import ManagementPlan, PlanError, PlanFacts, compute_plan, plan_templates
from fangkong.protocol.service import protocol_in_force

# What a public submission is told (with its own category and measure, nothing else).
PUBLIC_ANSWER = Message("registered; your community will contact you")


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
