"""Request and response models of the surveillance API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_BATCH = 100_000
"""observations one API call may carry (larger batches go through an upload or a pull)."""

ParamValue = str | int | float | bool | list[int] | list[float]

MAX_ID = 2**31 - 1
"""largest id a request may name (PostgreSQL INTEGER): larger numbers are refused, never looked up."""

EARLIEST_DAY = dt.date(1900, 1, 1)
"""earliest date a request may name."""

LATEST_DAY = dt.date(2999, 12, 31)
"""latest date a request may name (date arithmetic near year 9999 would overflow)."""


def _sane_day(value: dt.date | None) -> dt.date | None:
    if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"must lie between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


Day = Annotated[dt.date | None, AfterValidator(_sane_day)]
"""An optional date within the range above."""


class ChannelCreate(BaseModel):
    code: str = Field(max_length=64)
    name: str = Field(max_length=100)
    unit: str = Field(max_length=32)
    frequency: str = Field(max_length=8)
    report_level: str = Field(max_length=12)
    aggregation: str = Field(default="sum", max_length=8)
    kind: str = Field(default="custom", max_length=32)
    disease: str | None = Field(default=None, max_length=64)


class ChannelPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    disease: str | None
    unit: str
    frequency: str
    report_level: str
    aggregation: str
    builtin: bool
    active: bool


class ObservationIn(BaseModel):
    """One value; checked by the ingest rules so that every problem names its row (items count from 1)."""

    channel: str = Field(default="", max_length=64)
    jurisdiction: str = Field(default="", max_length=12)
    date: str | None = Field(default=None, max_length=32)
    value: float | int | str | None = None


class ObservationBatch(BaseModel):
    observations: list[ObservationIn] = Field(max_length=MAX_BATCH)


class IngestResult(BaseModel):
    batch_id: int
    rows: int
    created: int
    revised: int
    unchanged: int


class ObservationPublic(BaseModel):
    id: int
    channel: str
    jurisdiction_code: str
    jurisdiction_name: str
    period_start: dt.date
    value: float
    revision: int
    updated_at: dt.datetime


class ObservationPage(BaseModel):
    items: list[ObservationPublic]
    total: int
    page: int
    size: int


class RevisionPublic(BaseModel):
    revision: int
    value: float
    recorded_at: dt.datetime
    source: str
    batch_id: int


class ConfigCreate(BaseModel):
    channel_id: int = Field(ge=1, le=MAX_ID)
    level: str = Field(max_length=12)
    method: str = Field(max_length=32)
    params: dict[str, ParamValue] = Field(default_factory=dict)


class ConfigPublic(BaseModel):
    id: int
    channel_id: int
    channel: str
    level: str
    method: str
    params: dict[str, Any]
    active: bool
    created_by: str


class RunRequest(BaseModel):
    as_of: Day = None
    first_date: Day = None


class RunPublic(BaseModel):
    id: int
    first_date: dt.date
    as_of: dt.date
    series: int
    results: int
    signals: int
    alerts: int
    alerts_created: list[int]
    alerts_updated: list[int]
    notes: list[str]


class SignalPublic(BaseModel):
    id: int
    channel: str
    channel_name: str
    jurisdiction_id: int
    jurisdiction_code: str
    jurisdiction_name: str
    level: str
    period_start: dt.date
    method: str
    observed: float
    expected: float | None
    threshold: float | None
    score: float | None
    pvalue: float | None
    config_id: int


class SignalPage(BaseModel):
    items: list[SignalPublic]
    total: int
    page: int
    size: int


class RuleCreate(BaseModel):
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    level: str = Field(default="county", max_length=12)
    alert_level: str = Field(max_length=8)
    response_hours: int | None = Field(default=None, ge=1, le=720)
    min_channels: int = Field(default=1, ge=1, le=20)
    window_days: int = Field(default=7, ge=1, le=90)
    neighbours: bool = False
    channels: list[str] = Field(default_factory=list, max_length=50)
    diseases: list[str] = Field(default_factory=list, max_length=50)


class RulePublic(BaseModel):
    id: int
    name: str
    kind: str
    level: str
    alert_level: str
    response_hours: int
    params: dict[str, Any]
    builtin: bool
    active: bool


class NeighboursIn(BaseModel):
    neighbours: list[str] = Field(max_length=200)


class NeighboursPublic(BaseModel):
    jurisdiction_id: int
    configured: bool
    neighbours: list[str]


class LocationIn(BaseModel):
    jurisdiction: str = Field(max_length=12)
    longitude: float
    latitude: float


class LocationsIn(BaseModel):
    locations: list[LocationIn] = Field(max_length=10_000)


class AlertPublic(BaseModel):
    id: int
    level: str
    status: str
    kind: str
    title: str
    jurisdiction_id: int
    jurisdiction_code: str
    jurisdiction_name: str
    assigned_code: str
    assigned_name: str
    first_date: dt.date
    last_date: dt.date
    created_at: dt.datetime
    response_hours: int
    response_due_at: dt.datetime
    responded_at: dt.datetime | None
    responded_by: str | None
    closed_at: dt.datetime | None
    outcome_note: str
    escalations: int
    overdue: bool
    seconds_left: float | None
    response_seconds: float | None
    channels: list[str]
    scan_pvalue: float | None
    rank: float


class AlertPage(BaseModel):
    items: list[AlertPublic]
    total: int
    page: int
    size: int


class ActionPublic(BaseModel):
    at: dt.datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str


class DeliveryPublic(BaseModel):
    notifier: str
    target: str
    reason: str
    status: str
    attempts: int
    sent_at: dt.datetime | None
    last_error: str


class AlertDetailPublic(AlertPublic):
    evidence: dict[str, Any]
    actions: list[ActionPublic]
    deliveries: list[DeliveryPublic]


class AlertActionIn(BaseModel):
    note: str = Field(default="", max_length=2_000)


class EscalationResult(BaseModel):
    escalated: list[int]


class DeliveryResult(BaseModel):
    sent: int
    failed: int
    retrying: int


class ResponseStatsPublic(BaseModel):
    alerts: int
    responded: int
    response_rate: float | None
    median_response_hours: float | None
    p25_response_hours: float | None
    p75_response_hours: float | None
    within_2h: float | None
    within_24h: float | None
    within_deadline: float | None
    overdue_open: int
    escalated: int
    verifying: int
    confirmed: int
    dismissed: int
    confirmed_rate: float | None


class StatisticsPublic(BaseModel):
    start: dt.date
    end: dt.date
    overall: ResponseStatsPublic
    single_case: ResponseStatsPublic
    temporal: ResponseStatsPublic


class EndpointCreate(BaseModel):
    name: str = Field(max_length=100)
    kind: str = Field(default="webhook", max_length=32)
    url: str = Field(max_length=500)
    jurisdiction: str | None = Field(default=None, max_length=12)


class EndpointPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    url: str
    jurisdiction_id: int
    active: bool


class PullSourceCreate(BaseModel):
    name: str = Field(max_length=100)
    kind: str = Field(default="http_json", max_length=32)
    url: str = Field(max_length=500)
    channel_code: str | None = Field(default=None, max_length=64)


class PullSourcePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    url: str
    channel_code: str | None
    active: bool
    last_pulled_at: dt.datetime | None
    last_status: str


class BoardRowPublic(BaseModel):
    jurisdiction_id: int
    code: str
    name: str
    signals: dict[str, int]
    total_signals: int
    open_alerts: int
    top_level: str | None


class SeriesPublic(BaseModel):
    channel: str
    jurisdiction_code: str
    jurisdiction_name: str
    method: str | None
    params: dict[str, Any]
    dates: list[dt.date]
    observed: list[float]
    expected: list[float | None]
    threshold: list[float | None]
    alarm: list[bool | None]
    stored_signals: list[dt.date]
    note: str
