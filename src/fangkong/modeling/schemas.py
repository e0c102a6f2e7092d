"""Request and response models of the modeling API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fangkong.core.i18n import StoredText
from fangkong.core.models import CODE_LENGTH, Level

Seed = Annotated[int, Field(ge=0, le=2_147_483_647)]
ArmId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")]
PriceValue = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComparisonCreate(_In):
    """A scenario: the arms to compare and everything they share."""

    arms: list[ArmId] = Field(min_length=1, max_length=10, description="protocol ids or 'none'")
    population: Literal["registry", "generated"] = "generated"
    size: int = Field(100_000, ge=1, le=10_000_000, description="people, for a generated population")
    jurisdiction_id: int | None = Field(None, ge=1, le=2_147_483_647, description="registry population here")
    days: int = Field(120, ge=1, le=365)
    seeds: list[Seed] = Field(default_factory=lambda: [1, 2, 3, 4, 5], min_length=1, max_length=50)
    initial_infections: int = Field(20, ge=1, le=100_000)
    effect: Literal["infections", "severe", "deaths"] = "infections"
    prices: dict[Annotated[str, Field(max_length=40)], PriceValue] = Field(default_factory=dict)
    behaviour: dict[Annotated[str, Field(max_length=40)], PriceValue] = Field(default_factory=dict)
    workers: int = Field(2, ge=1, le=8)


class JobPublic(BaseModel):
    id: int
    kind: str
    status: str
    title: str
    jurisdiction_id: int
    runs_done: int
    runs_total: int
    progress: float
    error: str | None
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    url: str


class JobDetail(JobPublic):
    request: dict[str, Any]
    result: dict[str, Any] | None


class JobPage(BaseModel):
    items: list[JobPublic]
    total: int
    page: int
    size: int


class PriceLinePublic(BaseModel):
    key: str
    label: str
    unit: str
    value: float
    source: str
    basis: str


class ArmPublic(BaseModel):
    arm: str
    label: str
    notes: list[StoredText]


class CountIn(_In):
    jurisdiction: Annotated[str, Field(min_length=6, max_length=max(CODE_LENGTH.values()))]
    date: dt.date
    local: int = Field(ge=0, le=10_000_000)
    imported: int = Field(0, ge=0, le=10_000_000)


class CountBatch(_In):
    basis: Literal["onset", "report"] = "onset"
    counts: list[CountIn] = Field(min_length=1, max_length=100_000)


class CountResult(BaseModel):
    stored: int


class RtSeriesPublic(BaseModel):
    jurisdiction_id: int
    name: str
    code: str
    cases: int
    dates: list[str]
    # null where the window has too few cases for an estimate: ``reason`` says why.
    mean: list[float | None]
    lower: list[float | None]
    upper: list[float | None]
    cv: list[float] = Field(description="posterior coefficient of variation (sd / mean) of each window")
    reason: list[str | None] = Field(
        description="why a window has no estimate: 'too_few_cases' (posterior CV above max_posterior_cv)"
    )


class RtPublic(BaseModel):
    jurisdiction_id: int
    name: str
    level: Level
    basis: str
    source: str
    si_mean: float
    si_sd: float
    window: int
    first_day: dt.date | None
    last_day: dt.date | None
    whole: RtSeriesPublic | None
    areas: list[RtSeriesPublic]
    message: str
    max_posterior_cv: float = Field(
        description="largest posterior CV of a window with an estimate (EpiEstim cv_posterior)"
    )
    min_cases: int = Field(description="locally acquired cases a window needs under the default prior")


class DrillCreate(_In):
    people: int = Field(ge=200, le=20_000, description="synthetic residents of the sandbox")
    days: int = Field(ge=7, le=90, description="drill days the outbreak runs")
    protocol_id: ArmId = "cn-9"
    name: str = Field("", max_length=60)
    county_id: int | None = Field(None, ge=1, le=2_147_483_647)
    seed: Seed = 1
    speed: float = Field(1440.0, ge=1.0, le=1_000_000.0, description="drill hours per real hour")
    autopilot: bool = False
    realtime: bool = True
    investigation_delay_hours: float = Field(6.0, ge=0, le=720)
    alert_response_delay_hours: float = Field(2.0, ge=0, le=720)
    communities: int = Field(3, ge=1, le=20)
    initial_infections: int = Field(3, ge=1, le=100)
    max_cases: int = Field(60, ge=3, le=500)


class DrillAdvance(_In):
    to_hours: float | None = Field(None, ge=0, le=24 * 366, description="jump the drill clock to this hour")


class KindCountPublic(BaseModel):
    kind: str
    fed: int
    due: int
    failed: int


class DrillPublic(BaseModel):
    id: int
    name: str
    status: str
    jurisdiction_id: int
    sandbox_id: int
    protocol_id: str
    people: int
    days: int
    speed: float
    autopilot: bool
    realtime: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    drill_hours: float
    drill_day: int
    events: list[KindCountPublic]
    errors: list[str]
    summary: dict[str, Any]
    url: str


class AdvancePublic(BaseModel):
    drill_id: int
    drill_hours: float
    fed: int
    failed: int
    alerts_answered: int
    finished: bool
    errors: list[str]


class MeasurePublic(BaseModel):
    key: str
    label: str
    status: str
    value: float | None
    unit: str
    points: float | None
    target: str
    detail: str
    judged: int


class ScorePublic(BaseModel):
    drill_id: int
    drill_hours: float
    score: float | None
    measures: list[MeasurePublic]
