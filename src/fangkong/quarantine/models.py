"""Tables of the quarantine capability: sites, rooms, activation rules and history, stays, transfers.

A site's rooms are the unit of capacity. Who must be placed is not stored here: it is read from the
people's management plans (a centralized stage and no stay), so a re-plan or a protocol switch moves
the to-place list and the release dates without any copy to keep in step.

No double booking is enforced by the database itself: a room row carries its occupant count and the
key of the group occupying it, a CHECK keeps the count within the beds, and a placement is one
conditional UPDATE of the room (row lock on PostgreSQL, the write lock on SQLite) that fails when the
room is full or held by an unrelated group.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, Instant, PathString


class SiteKind(enum.StrEnum):
    hotel = "hotel"
    purpose_built = "purpose_built"
    other = "other"


class SiteStatus(enum.StrEnum):
    """reserve → preparing → open → closing → reserve (or closed for good)."""

    reserve = "reserve"
    preparing = "preparing"
    open = "open"
    closing = "closing"
    closed = "closed"


class RoomKind(enum.StrEnum):
    single = "single"
    family = "family"
    accessible = "accessible"


class RoomState(enum.StrEnum):
    free = "free"
    occupied = "occupied"
    cleaning = "cleaning"
    out_of_service = "out_of_service"


class StayState(enum.StrEnum):
    """A stay from the room being assigned to the person leaving it."""

    placed = "placed"  # room assigned, awaiting transfer
    checked_in = "checked_in"
    released = "released"  # checked out on the plan's release day
    hospital = "hospital"  # converted to a case: transferred to hospital
    cancelled = "cancelled"


ACTIVE_STAYS = (StayState.placed, StayState.checked_in)


class BatchState(enum.StrEnum):
    planned = "planned"
    departed = "departed"
    arrived = "arrived"


_enum = {"native_enum": False, "length": 24}


class QuarantineSite(Base):
    """A hotel, purpose-built site or other building on the reserve list of a jurisdiction."""

    __tablename__ = "quarantine_sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[SiteKind] = mapped_column(Enum(SiteKind, **_enum))
    address: Mapped[str] = mapped_column(String(200), default="")
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    operator: Mapped[str] = mapped_column(String(120), default="")
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    status: Mapped[SiteStatus] = mapped_column(Enum(SiteStatus, **_enum), default=SiteStatus.reserve)
    # Tier 1 opens first.
    tier: Mapped[int] = mapped_column(Integer, default=1)
    hours_to_open: Mapped[int] = mapped_column(Integer, default=24)
    staff_on_duty: Mapped[int] = mapped_column(Integer, default=0)
    status_changed_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        UniqueConstraint("jurisdiction_id", "name", name="uq_quarantine_sites_name"),
        CheckConstraint("tier >= 1", name="ck_quarantine_sites_tier"),
        CheckConstraint("hours_to_open >= 0", name="ck_quarantine_sites_hours"),
    )


class QuarantineRoom(Base):
    """A room; ``occupants`` and ``group_key`` are kept by the placement UPDATE (see the module doc)."""

    __tablename__ = "quarantine_rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("quarantine_sites.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    floor: Mapped[str] = mapped_column(String(10), default="")
    # Ventilation zone: rooms sharing one air handling; "" when the site does not say.
    zone: Mapped[str] = mapped_column(String(20), default="")
    kind: Mapped[RoomKind] = mapped_column(Enum(RoomKind, **_enum))
    beds: Mapped[int] = mapped_column(Integer)
    state: Mapped[RoomState] = mapped_column(Enum(RoomState, **_enum), default=RoomState.free)
    occupants: Mapped[int] = mapped_column(Integer, default=0)
    # Who may share the room with its occupants: one household with one set of index cases.
    group_key: Mapped[str | None] = mapped_column(String(120))
    # The index cases of its occupants ("12,40"), for keeping floors apart.
    case_key: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("site_id", "number", name="uq_quarantine_rooms_number"),
        CheckConstraint("beds >= 1", name="ck_quarantine_rooms_beds"),
        CheckConstraint("occupants >= 0 AND occupants <= beds", name="ck_quarantine_rooms_occupants"),
        Index("ix_quarantine_rooms_site_state", "site_id", "state"),
    )


class ActivationRule(Base):
    """When a jurisdiction opens its next tier: an occupancy threshold and a forecast horizon."""

    __tablename__ = "quarantine_activation_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), unique=True)
    jpath: Mapped[str] = mapped_column(PathString)
    # Open the next tier when open rooms are this occupied (share, 0-1).
    occupancy_threshold: Mapped[float] = mapped_column(Float, default=0.8)
    # ... or when the forecast says they will be within this many hours.
    forecast_hours: Mapped[int] = mapped_column(Integer, default=48)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow, onupdate=utcnow)


class SiteStatusChange(Base):
    """The activation history: every status change of a site, who approved it and why."""

    __tablename__ = "quarantine_site_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("quarantine_sites.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString)
    previous: Mapped[SiteStatus] = mapped_column(Enum(SiteStatus, **_enum))
    status: Mapped[SiteStatus] = mapped_column(Enum(SiteStatus, **_enum))
    # A stored Message (JSON): the rule that triggered it, or the approver's words.
    reason: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str] = mapped_column(String(64))
    # Occupancy of the jurisdiction's open rooms when it happened (share, 0-1).
    occupancy: Mapped[float | None] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class OperatorNotice(Base):
    """A notice to a site's operator (activation, closing); delivered by whoever runs the outbox."""

    __tablename__ = "quarantine_operator_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("quarantine_sites.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(Instant)


class PersonNeeds(Base):
    """What the placement must know about a person beyond the registry: care needs, chronic illness."""

    __tablename__ = "quarantine_person_needs"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    jpath: Mapped[str] = mapped_column(PathString)
    needs_care: Mapped[bool] = mapped_column(Boolean, default=False)
    chronically_ill: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(200), default="", info={"personal_text": True})
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow, onupdate=utcnow)


class TransferBatch(Base):
    """A vehicle's run (转运): people placed in one site, picked up in one area at one time."""

    __tablename__ = "quarantine_transfer_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("quarantine_sites.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    # The pickup area: a community or township (jurisdiction id).
    pickup_jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    vehicle: Mapped[str] = mapped_column(String(40))
    seats: Mapped[int] = mapped_column(Integer)
    pickup_at: Mapped[dt.datetime] = mapped_column(Instant)
    state: Mapped[BatchState] = mapped_column(Enum(BatchState, **_enum), default=BatchState.planned)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    arrived_at: Mapped[dt.datetime | None] = mapped_column(Instant)

    __table_args__ = (CheckConstraint("seats >= 1", name="ck_quarantine_batches_seats"),)


class Stay(Base):
    """One person's stay in one room, from placement to release (or hospital transfer)."""

    __tablename__ = "quarantine_stays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # The person's own jurisdiction path: scopes filter stays by it.
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("quarantine_sites.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("quarantine_rooms.id"), index=True)
    # The plan that asked for the centralized stage (e.g. ``contact:42``).
    source: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(String(120))
    case_key: Mapped[str] = mapped_column(String(200), default="")
    # The carer of someone in the same room, when this person came as one.
    carer: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[StayState] = mapped_column(Enum(StayState, **_enum), default=StayState.placed)
    identified_at: Mapped[dt.datetime] = mapped_column(Instant)
    # The transfer deadline: identification + the protocol's transfer hours.
    deadline_at: Mapped[dt.datetime] = mapped_column(Instant)
    placed_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    placed_by: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("quarantine_transfer_batches.id"), index=True)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    ended_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    end_reason: Mapped[str] = mapped_column(Text, default="", info={"personal_text": True})

    __table_args__ = (
        # A person holds at most one active stay: two coordinators cannot place the same person twice.
        Index(
            "uq_quarantine_stays_active_person",
            "person_id",
            unique=True,
            sqlite_where=text("state IN ('placed', 'checked_in')"),
            postgresql_where=text("state IN ('placed', 'checked_in')"),
        ),
    )


class RoomEvent(Base):
    """What happened to a room: placed, checked in, moved, checked out, cleaned, out of service."""

    __tablename__ = "quarantine_room_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("quarantine_rooms.id"), index=True)
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("quarantine_stays.id"))
    action: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="", info={"personal_text": True})
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
