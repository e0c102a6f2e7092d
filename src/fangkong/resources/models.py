"""Tables of the resources capability: staff and their skills and certifications, teams and their
members, deployments (支援) with each person's check-in and check-out, courses, sessions and attendance,
and supplies (stock per jurisdiction and site, every receipt, issue, consumption and transfer).

Every row carries the jurisdiction path it belongs to (``jpath``) so that the scope filter applies
without a join. A deployment has two: the sending team's (``from_jpath``) and the receiving
jurisdiction's (``to_jpath``); either side sees it.
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
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, HashString, Instant, PathString

_enum = {"native_enum": False, "length": 32}


class Skill(enum.StrEnum):
    """What a person is trained to do in the response (the issue's list)."""

    field_investigation = "field_investigation"  # 流调
    sampling = "sampling"  # 采样
    laboratory_testing = "laboratory_testing"  # 检测
    disinfection = "disinfection"  # 消杀
    data_entry = "data_entry"
    transport = "transport"  # 转运
    clinical = "clinical"


class TeamKind(enum.StrEnum):
    investigation = "investigation"  # 流调溯源
    sampling = "sampling"
    testing = "testing"
    disinfection = "disinfection"
    transfer = "transfer"  # 转运


class TeamLevel(enum.StrEnum):
    province = "province"
    city = "city"
    county = "county"


class DeploymentState(enum.StrEnum):
    sent = "sent"  # on the way or partly arrived
    closed = "closed"  # everyone checked out


class SupplyKind(enum.StrEnum):
    ppe = "ppe"  # protective suit sets
    swab = "swab"
    tube = "tube"  # sampling tubes with preservation fluid
    reagent = "reagent"  # PCR reactions
    antigen_test = "antigen_test"
    disinfectant = "disinfectant"  # litres
    medicine = "medicine"  # packs for sealed areas


class ShiftKind(enum.StrEnum):
    on_duty = "on_duty"  # 值班: at work that day
    on_call = "on_call"  # 备班: reachable and ready to come in


class MoveReason(enum.StrEnum):
    receipt = "receipt"
    issue = "issue"
    consumption = "consumption"  # drawn down by recorded work (a testing round)
    transfer_in = "transfer_in"
    transfer_out = "transfer_out"


class Staff(Base):
    """A person who works in the response; linked to a user account when they have one."""

    __tablename__ = "resources_staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Work names as on the duty roster (like a user's display name), not registry personal data.
    name: Mapped[str] = mapped_column(String(50))
    unit: Mapped[str] = mapped_column(String(100))
    # The work phone as personal data is kept (core.crypto): ciphertext, keyed hash (matches the people
    # registry's phone hash, so privacy's sweep finds it) and the masked form pages show by default.
    phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[str | None] = mapped_column(HashString, index=True)
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class StaffSkill(Base):
    __tablename__ = "resources_staff_skills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("resources_staff.id"))
    skill: Mapped[Skill] = mapped_column(Enum(Skill, **_enum))

    __table_args__ = (UniqueConstraint("staff_id", "skill", name="uq_resources_staff_skills"),)


class Certification(Base):
    """A skill certified by training and exam, valid from ``passed_on`` to ``expires_on`` inclusive."""

    __tablename__ = "resources_certifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("resources_staff.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    skill: Mapped[Skill] = mapped_column(Enum(Skill, **_enum))
    passed_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    # "attendance:12" when an exam result granted it, "manual:<user>" when typed in.
    source: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (Index("ix_resources_certifications_skill_expires", "skill", "expires_on"),)


class Team(Base):
    __tablename__ = "resources_teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    level: Mapped[TeamLevel] = mapped_column(Enum(TeamLevel, **_enum))
    kind: Mapped[TeamKind] = mapped_column(Enum(TeamKind, **_enum))
    name: Mapped[str] = mapped_column(String(100))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("resources_staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class TeamMember(Base):
    __tablename__ = "resources_team_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("resources_teams.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("resources_staff.id"), index=True)

    __table_args__ = (UniqueConstraint("team_id", "staff_id", name="uq_resources_team_members"),)


class Deployment(Base):
    """A team sent to another jurisdiction for an outbreak (支援), and who holds command there."""

    __tablename__ = "resources_deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("resources_teams.id"), index=True)
    from_jpath: Mapped[str] = mapped_column(PathString, index=True)
    to_jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    to_jpath: Mapped[str] = mapped_column(PathString, index=True)
    outbreak: Mapped[str] = mapped_column(String(120))
    commander: Mapped[str] = mapped_column(String(100))
    state: Mapped[DeploymentState] = mapped_column(Enum(DeploymentState, **_enum))
    sent_at: Mapped[dt.datetime] = mapped_column(Instant)
    closed_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    created_by: Mapped[str] = mapped_column(String(64))


class DeploymentMember(Base):
    """One person of a deployment: the batch they travel in, their working group, arrival and leaving."""

    __tablename__ = "resources_deployment_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("resources_deployments.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("resources_staff.id"), index=True)
    batch: Mapped[int] = mapped_column(Integer, default=1)
    working_group: Mapped[str] = mapped_column(String(60), default="")
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    checked_out_at: Mapped[dt.datetime | None] = mapped_column(Instant)

    __table_args__ = (UniqueConstraint("deployment_id", "staff_id", name="uq_resources_deployment_members"),)


class Course(Base):
    """A training course; passing its exam certifies ``skill`` for ``valid_days``."""

    __tablename__ = "resources_courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    title: Mapped[str] = mapped_column(String(120))
    skill: Mapped[Skill] = mapped_column(Enum(Skill, **_enum))
    valid_days: Mapped[int] = mapped_column(Integer)
    pass_score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class TrainingSession(Base):
    """One session of a course, or an exercise (a drill counts as one, with each participant's part)."""

    __tablename__ = "resources_training_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("resources_courses.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    title: Mapped[str] = mapped_column(String(120))
    held_on: Mapped[dt.date] = mapped_column(Date)
    is_exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    # "drill:7" when a drill recorded it.
    source: Mapped[str] = mapped_column(String(100), default="")


class Attendance(Base):
    __tablename__ = "resources_attendance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("resources_training_sessions.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("resources_staff.id"), index=True)
    exam_score: Mapped[int | None] = mapped_column(Integer)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    # An exercise participant's part (e.g. "tasks: 3, 4.5 h").
    part: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (UniqueConstraint("session_id", "staff_id", name="uq_resources_attendance"),)


class Stock(Base):
    """What is on hand of one supply at one store (a jurisdiction's store, or a named site in it)."""

    __tablename__ = "resources_stock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    site: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[SupplyKind] = mapped_column(Enum(SupplyKind, **_enum))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    # Reorder when fewer days than this are left at the learned rate.
    reorder_days: Mapped[int] = mapped_column(Integer)
    # The day the reorder alert was raised; cleared when stock lasts again.
    alert_since: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (UniqueConstraint("jpath", "site", "kind", name="uq_resources_stock"),)


class StockMove(Base):
    """One receipt, issue, consumption or transfer leg; ``quantity`` is signed (+ in, - out)."""

    __tablename__ = "resources_stock_moves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stock_id: Mapped[int] = mapped_column(ForeignKey("resources_stock.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    kind: Mapped[SupplyKind] = mapped_column(Enum(SupplyKind, **_enum))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[MoveReason] = mapped_column(Enum(MoveReason, **_enum))
    # "round:12", "transfer:5", "api:<user>": where the move came from.
    source: Mapped[str] = mapped_column(String(100))
    moved_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (Index("ix_resources_stock_moves_stock_day", "stock_id", "moved_on"),)


class Shift(Base):
    """One day of the duty roster for one person: on duty or on call, for a team when given."""

    __tablename__ = "resources_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("resources_staff.id"))
    # The staff member's jurisdiction, copied so the scope filter and the day's counts need no join.
    jpath: Mapped[str] = mapped_column(PathString)
    day: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[ShiftKind] = mapped_column(Enum(ShiftKind, **_enum))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("resources_teams.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        UniqueConstraint("staff_id", "day", name="uq_resources_shifts"),
        Index("ix_resources_shifts_day_jpath", "day", "jpath"),
    )


class PostingRole(enum.StrEnum):
    """What a posted person does at a site (the posts a quarantine site's guide names, and sampling)."""

    lead = "lead"  # 负责人
    medical = "medical"  # 医护: health observation, tests, care
    security = "security"  # 安保
    cleaning = "cleaning"  # 保洁消杀
    support = "support"  # 后勤, information liaison and the rest
    sampler = "sampler"  # 采样 at a sampling site


class PostedSiteKind(enum.StrEnum):
    """The kind of site a person is posted to; the site itself belongs to another capability."""

    quarantine_site = "quarantine_site"
    sampling_site = "sampling_site"


class Posting(Base):
    """A staff member posted to a site for a period (from ``starts_at``, until ``ends_at`` or open), with
    the role they hold there. ``site_id`` names a row of the other capability's table (no foreign key:
    the capabilities share no tables); ``jpath`` is the site's, so the scope filter applies."""

    __tablename__ = "resources_postings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("resources_staff.id"), index=True)
    site_kind: Mapped[PostedSiteKind] = mapped_column(Enum(PostedSiteKind, **_enum))
    site_id: Mapped[int] = mapped_column(Integer)
    site_name: Mapped[str] = mapped_column(String(120))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    role: Mapped[PostingRole] = mapped_column(Enum(PostingRole, **_enum))
    starts_at: Mapped[dt.datetime] = mapped_column(Instant)
    # None: open-ended; set when the person is unposted (or the period given ends).
    ends_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    posted_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (Index("ix_resources_postings_site", "site_kind", "site_id"),)
