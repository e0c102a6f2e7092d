"""Tables of the protocol capability: which protocol is in force where, uploaded protocols, and plans."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, Instant, PathString


class ProtocolAssignment(Base):
    """The protocol in force in a jurisdiction's subtree (until a deeper assignment says otherwise)."""

    __tablename__ = "protocol_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), unique=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    protocol_id: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    assigned_by: Mapped[str] = mapped_column(String(64))


class UploadedProtocol(Base):
    """A protocol file an administrator uploaded (validated before it is stored)."""

    __tablename__ = "uploaded_protocols"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    protocol_id: Mapped[str] = mapped_column(String(64), unique=True)
    yaml_text: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(64))


class PlanState(enum.StrEnum):
    active = "active"
    released = "released"
    replaced = "replaced"
    ended = "ended"


class ManagementPlanRecord(Base):
    """One person's management plan from one source (a contact, an arrival ...), as last computed.

    The plan itself is the protocol's template anchored at ``clock_date``; stages and test dates are
    recomputed from it, so only the facts, the protocol and the resulting dates are stored.
    """

    __tablename__ = "management_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString)
    source: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    protocol_id: Mapped[str] = mapped_column(String(64))
    linked_person_id: Mapped[int | None] = mapped_column(Integer)
    last_exposure: Mapped[dt.date | None] = mapped_column(Date)
    arrival: Mapped[dt.date | None] = mapped_column(Date)
    area_departure: Mapped[dt.date | None] = mapped_column(Date)
    diagnosis: Mapped[dt.date | None] = mapped_column(Date)
    clock_date: Mapped[dt.date | None] = mapped_column(Date)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[PlanState] = mapped_column(
        Enum(PlanState, native_enum=False, length=16), default=PlanState.active
    )
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow, onupdate=utcnow)
    # When the source first asked for the plan (identification): transfer deadlines count from it, and a
    # later re-plan from the same source keeps it.
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        UniqueConstraint("person_id", "source", name="uq_management_plans_person_source"),
        Index("ix_management_plans_jpath_state", "jpath", "state"),
        # Plans linked to a person (a case's household, a carer) are found when that person is merged.
        Index("ix_management_plans_linked_person_id", "linked_person_id"),
    )
