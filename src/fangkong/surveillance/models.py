"""Tables of the surveillance capability: channels, observations and their revisions, detector
configuration and results, fusion rules, alerts with their clocks, deliveries and pull sources.

Words as the users use them: an **observation** is one reported value (a count, a rate, a
concentration) of one channel for one jurisdiction and one day or week; a **signal** is a time point a
detector alarmed on (a ``DetectionResult`` with ``alarm`` set); an **alert** is what the fusion rules
send to a jurisdiction's responders, with a response clock.
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
from fangkong.core.models import Level


class Frequency(enum.StrEnum):
    """How often a channel reports; weekly values are dated by the Monday of their ISO week."""

    daily = "daily"
    weekly = "weekly"


class Aggregation(enum.StrEnum):
    """How values of sub-areas combine into a larger area: counts add up, rates and concentrations average."""

    sum = "sum"
    mean = "mean"


class AlertLevel(enum.StrEnum):
    """Warning colours, mildest first (蓝 / 黄 / 橙 / 红)."""

    blue = "blue"
    yellow = "yellow"
    orange = "orange"
    red = "red"


class AlertStatus(enum.StrEnum):
    """The verification workflow: a new signal, under verification, then a confirmed event or dismissed."""

    signal = "signal"
    verifying = "verifying"
    confirmed = "confirmed"
    dismissed = "dismissed"


class RuleKind(enum.StrEnum):
    """What a fusion rule asks for before it raises an alert."""

    # Any one signal of the listed channels (or any channel) in the area: "multi-point" triggering.
    single_channel = "single_channel"
    # Signals of at least N distinct channels in the area, or the area and its neighbours, within a window.
    multi_channel = "multi_channel"
    # Any signal of a channel whose disease is on the rule's list (single-case diseases, fixed threshold).
    single_case = "single_case"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


def _enum(kind: type[enum.StrEnum], length: int) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class Channel(Base):
    """A source of monitoring data: what is reported, in which unit, how often, at which level."""

    __tablename__ = "surveillance_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # The family of the channel (case_reports, fever_clinic, ..., custom); defaults have code == kind.
    kind: Mapped[str] = mapped_column(String(32))
    # A disease code for disease-specific channels (case reports of cholera), used by single-case rules.
    disease: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(32))
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, 8))
    report_level: Mapped[Level] = mapped_column(Enum(Level, native_enum=False, length=12))
    aggregation: Mapped[Aggregation] = mapped_column(_enum(Aggregation, 8))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who defined it: "/" for the built-in channels, the defining user's jurisdiction otherwise.
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class IngestBatch(Base):
    """One upload, API call or pull: what came in and what it changed."""

    __tablename__ = "surveillance_ingest_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(Instant)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    revised: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)


class Observation(Base):
    """The latest value of one channel for one jurisdiction and period; earlier values are its revisions."""

    __tablename__ = "surveillance_observations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("surveillance_channels.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    # The day, or the Monday of the ISO week for weekly channels.
    period_start: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    # 1 for the first report; each correction that changes the value adds one.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(Instant)
    batch_id: Mapped[int] = mapped_column(ForeignKey("surveillance_ingest_batches.id"))

    __table_args__ = (
        UniqueConstraint("channel_id", "jurisdiction_id", "period_start"),
        Index("ix_surveillance_observations_channel_jpath_period", "channel_id", "jpath", "period_start"),
    )


class ObservationRevision(Base):
    """Every value an observation has had, the first report included (late and corrected data)."""

    __tablename__ = "surveillance_observation_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("surveillance_observations.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[dt.datetime] = mapped_column(Instant)
    batch_id: Mapped[int] = mapped_column(ForeignKey("surveillance_ingest_batches.id"))


class PullSource(Base):
    """A feed the scheduled pull reads (``fangkong surveillance pull``)."""

    __tablename__ = "surveillance_pull_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(500))
    # When set, records without a channel are taken to be of this channel.
    channel_code: Mapped[str | None] = mapped_column(String(64))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_pulled_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    last_status: Mapped[str] = mapped_column(String(500), default="")
    last_batch_id: Mapped[int | None] = mapped_column(Integer)


class DetectorConfig(Base):
    """Which detector runs on which channel at which level, with which parameters (R names)."""

    __tablename__ = "surveillance_detector_configs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("surveillance_channels.id"), index=True)
    level: Mapped[Level] = mapped_column(Enum(Level, native_enum=False, length=12))
    method: Mapped[str] = mapped_column(String(32))
    # JSON object of parameters as strings or numbers, e.g. {"alpha": 0.05, "b": 3}.
    params: Mapped[str] = mapped_column(Text, default="{}")
    # The configuring jurisdiction: the detector runs on the areas of ``level`` under it.
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class DetectorRun(Base):
    """One run over every configured series in a jurisdiction's subtree, for one or more dates."""

    __tablename__ = "surveillance_detector_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_date: Mapped[dt.date] = mapped_column(Date)
    as_of: Mapped[dt.date] = mapped_column(Date)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(Instant)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    series: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[int] = mapped_column(Integer, default=0)
    signals: Mapped[int] = mapped_column(Integer, default=0)
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    # Series that could not be judged and why (JSON list), e.g. too little history for the method.
    notes: Mapped[str] = mapped_column(Text, default="[]")


class DetectionResult(Base):
    """What one detector said about one area's series at one time point; ``alarm`` makes it a signal."""

    __tablename__ = "surveillance_detection_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("surveillance_detector_runs.id"), index=True)
    config_id: Mapped[int] = mapped_column(ForeignKey("surveillance_detector_configs.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("surveillance_channels.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    period_start: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(32))
    observed: Mapped[float] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    pvalue: Mapped[float | None] = mapped_column(Float)
    alarm: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("config_id", "jurisdiction_id", "period_start"),
        Index("ix_surveillance_detection_results_jpath_period", "jpath", "period_start"),
    )


class FusionRule(Base):
    """When signals become an alert, at which level and with which response clock."""

    __tablename__ = "surveillance_fusion_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[RuleKind] = mapped_column(_enum(RuleKind, 16))
    # The areas the rule judges; signals of smaller areas count for the area that contains them.
    level: Mapped[Level] = mapped_column(Enum(Level, native_enum=False, length=12))
    # JSON: min_channels, window_days, neighbours (bool), channels (codes), diseases (codes).
    params: Mapped[str] = mapped_column(Text, default="{}")
    alert_level: Mapped[AlertLevel] = mapped_column(_enum(AlertLevel, 8))
    response_hours: Mapped[int] = mapped_column(Integer)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class Adjacency(Base):
    """A configured neighbour pair; where a jurisdiction has none, its siblings are its neighbours."""

    __tablename__ = "surveillance_adjacency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    neighbour_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)

    __table_args__ = (UniqueConstraint("jurisdiction_id", "neighbour_id"),)


class AreaLocation(Base):
    """A jurisdiction's centroid (WGS84 degrees), for the circles of the space-time scan."""

    __tablename__ = "surveillance_area_locations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), unique=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    longitude: Mapped[float] = mapped_column(Float)
    latitude: Mapped[float] = mapped_column(Float)


class Alert(Base):
    """An early warning sent to a jurisdiction's responders, with its evidence and response clock."""

    __tablename__ = "surveillance_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("surveillance_fusion_rules.id"))
    kind: Mapped[RuleKind] = mapped_column(_enum(RuleKind, 16))
    # The area the signals are about.
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    # Whose inbox it is in: the area itself, or an ancestor after escalation.
    assigned_jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    assigned_jpath: Mapped[str] = mapped_column(PathString, index=True)
    level: Mapped[AlertLevel] = mapped_column(_enum(AlertLevel, 8))
    status: Mapped[AlertStatus] = mapped_column(_enum(AlertStatus, 12), index=True)
    title: Mapped[str] = mapped_column(String(300))
    # Open alerts with the same key absorb new signals instead of opening another alert.
    dedupe_key: Mapped[str] = mapped_column(String(100), index=True)
    first_date: Mapped[dt.date] = mapped_column(Date)
    last_date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(Instant)
    response_hours: Mapped[int] = mapped_column(Integer)
    response_due_at: Mapped[dt.datetime] = mapped_column(Instant)
    responded_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    responded_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    # The dismissal reason or the confirmation note.
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    # JSON: channels, signals and the series around them (observed, expected, threshold).
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    scan_pvalue: Mapped[float | None] = mapped_column(Float)
    scan_llr: Mapped[float | None] = mapped_column(Float)
    # Higher first in the inbox: level, channels, scan support.
    rank: Mapped[float] = mapped_column(Float, default=0.0)


class AlertSignal(Base):
    """Which signals an alert rests on."""

    __tablename__ = "surveillance_alert_signals"

    alert_id: Mapped[int] = mapped_column(ForeignKey("surveillance_alerts.id"), primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("surveillance_detection_results.id"), primary_key=True)


class AlertAction(Base):
    """The alert's history: created, notified, escalated, verification started, confirmed, dismissed."""

    __tablename__ = "surveillance_alert_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("surveillance_alerts.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(Instant)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")


class NotifierEndpoint(Base):
    """Where alerts of a jurisdiction are pushed besides the in-app inbox (e.g. a webhook)."""

    __tablename__ = "surveillance_notifier_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(500))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AlertDelivery(Base):
    """One notification of one alert: to a user's inbox (sent at once) or to an endpoint (outbox)."""

    __tablename__ = "surveillance_alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("surveillance_alerts.id"), index=True)
    # "created" or "escalated": what the message announces.
    reason: Mapped[str] = mapped_column(String(16))
    notifier: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("surveillance_notifier_endpoints.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, 8), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(Instant)
    sent_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    last_error: Mapped[str] = mapped_column(String(500), default="")
