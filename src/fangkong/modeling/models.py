"""Tables of the modeling capability: background jobs, uploaded case counts for Rt, and drills.

Every row carries ``jpath``, the jurisdiction it belongs to: a job the population it simulated, a count
the place it counts, a drill the county its sandbox sits in; reads go through ``core.scope.under``.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, Instant, PathString


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class JobKind(enum.StrEnum):
    comparison = "comparison"


class CountBasis(enum.StrEnum):
    """Which date a daily case count is counted by."""

    onset = "onset"
    report = "report"


class DrillStatus(enum.StrEnum):
    running = "running"
    finished = "finished"
    stopped = "stopped"


class ModelingJob(Base):
    """A computation longer than a request (a strategy comparison), run in the background."""

    __tablename__ = "modeling_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[JobKind] = mapped_column(Enum(JobKind, native_enum=False, length=20))
    status: Mapped[JobStatus] = mapped_column(Enum(JobStatus, native_enum=False, length=12), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    title: Mapped[str] = mapped_column(String(200))
    # JSON: what was asked (arms, population, days, seeds, price overrides).
    request: Mapped[str] = mapped_column(Text)
    # JSON: the account, once done.
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    runs_done: Mapped[int] = mapped_column(Integer, default=0)
    runs_total: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_by_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    # Written with every progress report: a running job whose heartbeat stops was abandoned.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Instant)


class CaseCount(Base):
    """Daily cases of one jurisdiction by onset or report date, uploaded for Rt estimation."""

    __tablename__ = "modeling_case_counts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    basis: Mapped[CountBasis] = mapped_column(Enum(CountBasis, native_enum=False, length=8))
    day: Mapped[dt.date] = mapped_column(Date)
    local: Mapped[int] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        UniqueConstraint("jurisdiction_id", "basis", "day", name="uq_modeling_case_counts_place_basis_day"),
    )


class Drill(Base):
    """A drill (实战演练): a synthetic outbreak fed into a sandbox over accelerated time, then scored."""

    __tablename__ = "modeling_drills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[DrillStatus] = mapped_column(Enum(DrillStatus, native_enum=False, length=12), index=True)
    # The real county the sandbox sits in; the drill is seen by users of that county and above.
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    sandbox_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    sandbox_path: Mapped[str] = mapped_column(PathString)
    protocol_id: Mapped[str] = mapped_column(String(40))
    people: Mapped[int] = mapped_column(Integer)
    days: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    # Drill hours per real hour (1440: a drill day passes in a real minute).
    speed: Mapped[float] = mapped_column(Float)
    # The drill plays the teams too (investigations, alert responses) after the delays below.
    autopilot: Mapped[bool] = mapped_column(Boolean, default=False)
    # A background clock feeds events as drill time passes; otherwise a facilitator advances it.
    realtime: Mapped[bool] = mapped_column(Boolean, default=False)
    investigation_delay_hours: Mapped[float] = mapped_column(Float)
    alert_response_delay_hours: Mapped[float] = mapped_column(Float)
    # Calendar date of drill day 0: dates in records are these, so that none lies in the future.
    calendar_start: Mapped[dt.date] = mapped_column(Date)
    # JSON: the outbreak generated (cases, chains, generation attempts) and what could not be fed.
    summary: Mapped[str] = mapped_column(Text, default="{}")
    created_by: Mapped[int] = mapped_column(Integer)
    created_by_name: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Instant)


class DrillEvent(Base):
    """Something the drill feeds into the platform at a drill time: a case report, a signal, a team action."""

    __tablename__ = "modeling_drill_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("modeling_drills.id"))
    kind: Mapped[str] = mapped_column(String(24))
    # Drill hours after the start at which it is due.
    due_hours: Mapped[float] = mapped_column(Float)
    payload: Mapped[str] = mapped_column(Text)
    fed_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    # What it became in the platform, e.g. "case:12".
    record_ref: Mapped[str | None] = mapped_column(String(60))
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_modeling_drill_events_drill_due", "drill_id", "due_hours"),)


class DrillClockMark(Base):
    """A point of the drill's clock: at wall time ``wall_at`` the drill stood at ``drill_hours``.

    Between marks drill time runs at the drill's speed; a jump (fast-forward) is a new mark. Scoring
    turns the wall times of the teams' records into drill hours through these marks.
    """

    __tablename__ = "modeling_drill_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("modeling_drills.id"), index=True)
    wall_at: Mapped[dt.datetime] = mapped_column(Instant)
    drill_hours: Mapped[float] = mapped_column(Float)
