"""Tables of the areas capability: risk areas and their timeline, arrivals and the reports of each trip,
vulnerable residents' flags, doorstep service requests, emergency departments, public subscriptions.

A risk area is a unit inside a community or township (a compound, village, building, unit, floor or
household) or a whole community or township. Its residents are the people under its jurisdiction when
the unit is the jurisdiction itself, otherwise the households attached to it (``risk_area_households``):
the registry knows households, not buildings, so the investigation names them.

Arrivals hold personal data like the registry does (one ciphertext, keyed hashes, masked forms). One
trip is one row however many channels report it (``trip_key``); each report is kept beside it.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, HashString, Instant, PathString

_enum = {"native_enum": False, "length": 32}


class UnitKind(enum.StrEnum):
    compound = "compound"  # 小区
    village = "village"
    building = "building"
    unit = "unit"  # 单元
    floor = "floor"
    household = "household"
    community = "community"
    township = "township"


class RiskLevel(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class AreaState(enum.StrEnum):
    proposed = "proposed"  # generated from cases, waiting for the command centre
    in_force = "in_force"
    lifted = "lifted"  # back to low (the timeline keeps the steps)
    rejected = "rejected"  # a proposal the command centre turned down


class ArrivalCategory(enum.StrEnum):
    high_risk_area_arrival = "high_risk_area_arrival"
    medium_risk_area_arrival = "medium_risk_area_arrival"
    low_risk_area_arrival = "low_risk_area_arrival"
    no_risk = "no_risk"  # from a county with no risk areas


class WorklistState(enum.StrEnum):
    new = "new"
    contacted = "contacted"
    plan_applied = "plan_applied"
    closed = "closed"


class RequestKind(enum.StrEnum):
    medical_emergency = "medical_emergency"
    medical_care = "medical_care"
    medicine = "medicine"
    food = "food"
    other = "other"


class RequestState(enum.StrEnum):
    open = "open"
    taken = "taken"
    done = "done"
    cancelled = "cancelled"


class RiskArea(Base):
    """A designated (or proposed) risk area and where it stands on its lifting clock."""

    __tablename__ = "risk_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The community or township the unit lies in (or is).
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    # The county whose rest becomes low while it has any high or medium area.
    county_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    unit_kind: Mapped[UnitKind] = mapped_column(Enum(UnitKind, **_enum))
    # What the public page shows: a place, never a person ("翠苑小区3幢").
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[RiskLevel] = mapped_column(Enum(RiskLevel, **_enum))
    state: Mapped[AreaState] = mapped_column(Enum(AreaState, **_enum), default=AreaState.proposed)
    protocol_id: Mapped[str] = mapped_column(String(64))
    # A stored Message: the cases and places behind it.
    reason: Mapped[str] = mapped_column(Text, default="")
    proposed_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    designated_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    # The day the current level began (its lifting clock counts from the last infection, see rules).
    level_since: Mapped[dt.date | None] = mapped_column(Date)
    # The last day an infection was found in it (a new case resets the clock).
    last_case_on: Mapped[dt.date | None] = mapped_column(Date)
    # Set when a high area was downgraded to medium (cn-9: then 3 more days to low).
    downgraded_from_high: Mapped[bool] = mapped_column(Boolean, default=False)
    lifted_at: Mapped[dt.datetime | None] = mapped_column(Instant)

    __table_args__ = (Index("ix_risk_areas_county_state", "county_id", "state"),)


class RiskAreaCase(Base):
    """A case (and the place) behind an area: its reason, and what resets its clock."""

    __tablename__ = "risk_area_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("risk_areas.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id"), index=True)
    # home, frequent place, or a place where the case stayed (a visit).
    link: Mapped[str] = mapped_column(String(20))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_visits.id"))
    found_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("area_id", "case_id", "link", name="uq_risk_area_cases"),)


class RiskAreaHousehold(Base):
    """A household inside an area smaller than a jurisdiction (its residents are the area's)."""

    __tablename__ = "risk_area_households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("risk_areas.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)

    __table_args__ = (UniqueConstraint("area_id", "household_id", name="uq_risk_area_households"),)


class RiskAreaChange(Base):
    """One step of an area's timeline: proposed, designated, downgraded, lifted, reset by a case..."""

    __tablename__ = "risk_area_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("risk_areas.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString)
    kind: Mapped[str] = mapped_column(String(20))
    from_level: Mapped[RiskLevel | None] = mapped_column(Enum(RiskLevel, **_enum))
    to_level: Mapped[RiskLevel | None] = mapped_column(Enum(RiskLevel, **_enum))
    reason: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow, index=True)


class Arrival(Base):
    """One trip into the jurisdiction (报备), however many channels reported it."""

    __tablename__ = "arrivals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    pii: Mapped[bytes] = mapped_column(LargeBinary)
    id_hash: Mapped[str] = mapped_column(HashString, index=True)
    phone_hash: Mapped[str | None] = mapped_column(HashString)
    name_masked: Mapped[str] = mapped_column(String(50))
    id_masked: Mapped[str] = mapped_column(String(18))
    phone_masked: Mapped[str | None] = mapped_column(String(11))
    # Where they came from: a county code, and the risk area unit if they named one.
    origin_county_code: Mapped[str] = mapped_column(String(12))
    origin_text: Mapped[str] = mapped_column(String(200), default="", info={"personal_text": True})
    origin_area_id: Mapped[int | None] = mapped_column(ForeignKey("risk_areas.id"), index=True)
    departed_on: Mapped[dt.date] = mapped_column(Date)
    arrived_on: Mapped[dt.date] = mapped_column(Date)
    # Where they stay: the community (its worklist) and the address or hotel (ciphertext in pii).
    destination_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    companions: Mapped[int] = mapped_column(Integer, default=0)
    places_visited: Mapped[str] = mapped_column(Text, default="", info={"personal_text": True})
    category: Mapped[ArrivalCategory] = mapped_column(Enum(ArrivalCategory, **_enum))
    # One trip: keyed hash of the ID number, the departure day and the origin county.
    trip_key: Mapped[str] = mapped_column(HashString, unique=True)
    worklist_state: Mapped[WorklistState] = mapped_column(
        Enum(WorklistState, **_enum), default=WorklistState.new
    )
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_arrivals_origin_departed", "origin_county_code", "departed_on"),)


class ArrivalReport(Base):
    """One channel's report of a trip (the form, the API, a checkpoint, an import)."""

    __tablename__ = "arrival_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arrival_id: Mapped[int] = mapped_column(ForeignKey("arrivals.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    reported_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    # Who reported it: an account name, or the client address of a public submission.
    reporter: Mapped[str] = mapped_column(String(64))


class VulnerableFlags(Base):
    """What community workers record about a resident a sealed area must not forget."""

    __tablename__ = "vulnerable_flags"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    pregnant: Mapped[bool] = mapped_column(Boolean, default=False)
    dialysis: Mapped[bool] = mapped_column(Boolean, default=False)
    regular_treatment: Mapped[bool] = mapped_column(Boolean, default=False)
    living_alone: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(200), default="", info={"personal_text": True})
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow, onupdate=utcnow)


class ServiceRequest(Base):
    """A doorstep service request from a sealed area (上门服务), against a deadline by urgency."""

    __tablename__ = "doorstep_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("risk_areas.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    kind: Mapped[RequestKind] = mapped_column(Enum(RequestKind, **_enum))
    # Free text of the need; no diagnosis beyond what the service needs.
    detail: Mapped[str] = mapped_column(String(300), default="", info={"personal_text": True})
    state: Mapped[RequestState] = mapped_column(Enum(RequestState, **_enum), default=RequestState.open)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    deadline_at: Mapped[dt.datetime] = mapped_column(Instant)
    taken_by: Mapped[str | None] = mapped_column(String(64))
    taken_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    done_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    outcome: Mapped[str] = mapped_column(String(300), default="", info={"personal_text": True})


class EmergencyDepartment(Base):
    """A hospital's emergency department and whether it takes patients now (kept current)."""

    __tablename__ = "emergency_departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    phone: Mapped[str] = mapped_column(String(30), default="")
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("jurisdiction_id", "name", name="uq_emergency_departments_name"),)


class PublicSubscription(Base):
    """A member of the public following one district's changes (an address only, kept encrypted)."""

    __tablename__ = "public_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = mapped_column(String(12), index=True)
    contact_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    contact_hash: Mapped[str] = mapped_column(HashString)
    # Unsubscribing needs this token (sent with every notice), not a login.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(Instant)

    __table_args__ = (UniqueConstraint("county_code", "contact_hash", name="uq_public_subscriptions"),)


class SubscriptionNotice(Base):
    """A change to send to a subscriber (an outbox: delivered by the operator's notifier)."""

    __tablename__ = "public_subscription_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("public_subscriptions.id"), index=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("risk_area_changes.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(Instant)
