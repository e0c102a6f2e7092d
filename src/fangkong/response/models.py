"""Tables of the response capability: task templates, tasks with their deadline clocks and history, the
frozen daily closures (日清日结) and the dashboard's pre-aggregated counters.

A task is opened by an event elsewhere (a confirmed case, an alert, a positive pool ...) from an
administrator-edited template, in the jurisdiction responsible for what happened. Its deadline is
computed once, when it opens, and never moves: escalation hands the task to the level above but keeps
the first clock, so lateness is measured against the promise made to the public (Shanghai's "2+4+24").

A daily closure is a versioned snapshot of one jurisdiction's day: version 1 is what was published at
the cut-off; a correction is a new version with a reason; a published version is never updated.
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, Instant, PathString

_enum = {"native_enum": False, "length": 24}


class Trigger(enum.StrEnum):
    """What happened, in the words of the command centre; each opens the templates of its kind."""

    case_confirmed = "case_confirmed"
    alert_raised = "alert_raised"
    assist_request = "assist_request"
    positive_pool = "positive_pool"
    site_activated = "site_activated"
    test_overdue = "test_overdue"
    doorstep_request = "doorstep_request"
    aefi_reported = "aefi_reported"  # an adverse event following immunization was reported


class Fulfilment(enum.StrEnum):
    """The record whose appearance closes a task by itself (``manual``: someone marks it done)."""

    manual = "manual"
    investigation = "investigation"  # the case's first exposure or visit is recorded (core facts)
    contacts_identified = "contacts_identified"  # the investigation names the case's contacts
    contacts_transferred = "contacts_transferred"  # every close contact of the case is isolated
    risk_area = "risk_area"  # a risk area covering the case's place is designated
    alert_answered = "alert_answered"  # the alert is confirmed or discarded
    pool_recalled = "pool_recalled"  # every member of the positive pool is located
    test_done = "test_done"  # the overdue tests were taken
    aefi_sent = "aefi_sent"  # the AEFI card reached the county CDC


class TaskState(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class TaskTemplate(Base):
    """One line of work an event opens, with its deadline and owner; administrators edit these rows."""

    __tablename__ = "response_task_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    trigger: Mapped[Trigger] = mapped_column(Enum(Trigger, **_enum))
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100))
    # The deadline, counted from the moment the event happened.
    minutes: Mapped[int] = mapped_column(Integer)
    # How long before the deadline the owner is warned.
    warn_minutes: Mapped[int] = mapped_column(Integer, default=30)
    owner_role: Mapped[str] = mapped_column(String(32))
    # Which level owns it, counted up from the community: 0 = community, 1 = township, 2 = county, ...
    # An event recorded higher up climbs only what is left (a county's case stays with the county).
    levels_up: Mapped[int] = mapped_column(Integer, default=0)
    fulfilment: Mapped[Fulfilment] = mapped_column(Enum(Fulfilment, **_enum), default=Fulfilment.manual)
    # Another template of the same trigger that must be done first (its code), if any.
    depends_on: Mapped[str | None] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class Task(Base):
    """A line of work with an owner and a deadline clock, opened by an event from a template."""

    __tablename__ = "response_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("response_task_templates.id"))
    code: Mapped[str] = mapped_column(String(60))
    trigger: Mapped[Trigger] = mapped_column(Enum(Trigger, **_enum))
    fulfilment: Mapped[Fulfilment] = mapped_column(Enum(Fulfilment, **_enum))
    # Copied from the template when the task opens: editing a template never rewrites open work.
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100))
    # What the task is about: ("case", case id, case ref), ("alert", alert id, "A-12"), ... The ref is
    # the key that makes opening idempotent (a community's overdue tests of one day: "<code>/<day>").
    subject_kind: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    subject_ref: Mapped[str] = mapped_column(String(60))
    # Where the event happened (scope of the subject) and who owns the task now.
    origin_jpath: Mapped[str] = mapped_column(PathString)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    owner_role: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team: Mapped[str | None] = mapped_column(String(100))
    # The resources team the task is given to (its name is kept in ``team`` for the history and for
    # tasks given to a team by name before teams were kept).
    team_id: Mapped[int | None] = mapped_column(Integer, index=True)
    state: Mapped[TaskState] = mapped_column(Enum(TaskState, **_enum), default=TaskState.open)
    depends_on_id: Mapped[int | None] = mapped_column(ForeignKey("response_tasks.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(Instant)
    # The first clock: never moved by escalation or reassignment.
    due_at: Mapped[dt.datetime] = mapped_column(Instant)
    warn_at: Mapped[dt.datetime] = mapped_column(Instant)
    warned_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    supervisor_notified_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    closed_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(Text, info={"personal_text": True})
    evidence: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("template_id", "subject_kind", "subject_ref", name="uq_response_tasks_subject"),
        # The sweeper's query: open work by its next clock.
        Index("ix_response_tasks_state_due", "state", "due_at"),
        Index("ix_response_tasks_jpath_state", "jpath", "state"),
        Index("ix_response_tasks_subject", "subject_kind", "subject_id"),
    )


class TaskEvent(Base):
    """The history of a task: opened, assigned, started, warned, supervisor notified, escalated, closed."""

    __tablename__ = "response_task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("response_tasks.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(Instant)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    jpath: Mapped[str] = mapped_column(PathString)
    note: Mapped[str | None] = mapped_column(Text, info={"personal_text": True})


class DailyClosure(Base):
    """One published version of one jurisdiction's day; never updated once written.

    A correction is a new row (the next version).
    """

    __tablename__ = "response_closures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    day: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    # The figures as JSON: {"section": {"figure": value, ...}, ...}; see response.rules.closure.
    figures: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(Instant)
    published_by: Mapped[str] = mapped_column(String(64))
    # Sign-off by the command centre: the next operational period's objectives (the ICS 202 habit).
    signed_off_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    signed_off_by: Mapped[str | None] = mapped_column(String(64))
    objectives: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("jurisdiction_id", "day", "version", name="uq_response_closures_version"),
        Index("ix_response_closures_jpath_day", "jpath", "day"),
    )


class DailyCount(Base):
    """A flow counted per jurisdiction and local day (cases reported, people placed, tests done, ...),
    kept in the same transaction as the change it counts and recounted nightly to catch drift."""

    __tablename__ = "response_daily_counts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jpath: Mapped[str] = mapped_column(PathString)
    metric: Mapped[str] = mapped_column(String(40))
    day: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("jpath", "metric", "day", name="uq_response_daily_counts"),
        Index("ix_response_daily_counts_metric_day", "metric", "day"),
    )


class Gauge(Base):
    """A level per jurisdiction (people under each measure now, rooms occupied), kept like DailyCount."""

    __tablename__ = "response_gauges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jpath: Mapped[str] = mapped_column(PathString)
    metric: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (UniqueConstraint("jpath", "metric", name="uq_response_gauges"),)
