"""Tables of the personal-data lifecycle: retention rules (one per record class), the runs of the
nightly job, emergencies and their purges, person merges (with what each moved, for the undo) and
access grants outside one's jurisdiction.

None of these tables holds identity: runs, purges and merges keep counts and row ids, grants keep the
person's registry id and the reason, never a name or number. A typed reason or review note may still
name someone, so both are personal text (``linkage``): blanked when the person is anonymised or
deleted, while the grant, its reason code and the audit log's who and when stay.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, Instant, PathString


class RetentionRule(Base):
    """How long one record class is kept after the date it counts from, and what happens then."""

    __tablename__ = "privacy_retention_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_class: Mapped[str] = mapped_column(String(40), unique=True)
    period_days: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # "delete" or "anonymise"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


class RetentionRun(Base):
    """One pass of the retention job (or its dry run): counts per record class, as JSON."""

    __tablename__ = "privacy_retention_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(Instant)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    as_of: Mapped[dt.date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(64))
    counts: Mapped[str] = mapped_column(Text)


class Emergency(Base):
    """An emergency response whose data is purged after it is closed and the confirmation period ends."""

    __tablename__ = "privacy_emergencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    purge_after: Mapped[dt.date | None] = mapped_column(Date)
    purged_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    # The deletion report: counts per record class and action, who and when (JSON, no personal data).
    report: Mapped[str | None] = mapped_column(Text)


class PersonMerge(Base):
    """Two registry entries found to be one person, or an unidentified tracing record linked to the
    registry person it turned out to be (``kind``; ``merged_id`` is then the record's id): every link
    moved to the survivor, undoable for a while; ``moves`` lists (table, column, primary keys, and for a
    tracing record what each row said before) so the undo puts back exactly what moved."""

    __tablename__ = "privacy_person_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="person", server_default="person")
    survivor_id: Mapped[int] = mapped_column(Integer, index=True)
    merged_id: Mapped[int] = mapped_column(Integer, index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    merged_at: Mapped[dt.datetime] = mapped_column(Instant)
    merged_by: Mapped[str] = mapped_column(String(64))
    undo_until: Mapped[dt.datetime] = mapped_column(Instant)
    moves: Mapped[str] = mapped_column(Text)
    undone_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    undone_by: Mapped[str | None] = mapped_column(String(64))
    finalised_at: Mapped[dt.datetime | None] = mapped_column(Instant)


class AccessGrant(Base):
    """A user's time-limited access to one person outside their jurisdiction, with the stated reason."""

    __tablename__ = "privacy_access_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    # Where the user sits: the supervisors over this path review the grant.
    user_jpath: Mapped[str] = mapped_column(PathString, index=True)
    # A weak person reference (``linkage``): follows a merge, outlives the person.
    person_ref: Mapped[int] = mapped_column(Integer, index=True, info={"person_ref": True})
    person_jpath: Mapped[str] = mapped_column(PathString)
    reason: Mapped[str] = mapped_column(String(32))
    reason_text: Mapped[str] = mapped_column(String(300), info={"personal_text": True})
    granted_at: Mapped[dt.datetime] = mapped_column(Instant)
    expires_at: Mapped[dt.datetime] = mapped_column(Instant)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    review_note: Mapped[str | None] = mapped_column(String(300), info={"personal_text": True})
