"""Request and response models of the testing API (``XCreate``/``XPublic`` families).

Times in requests are local wall-clock times (China Standard Time) unless they carry an offset; times in
responses are local wall-clock times too. Messages are given in English, as in the rest of the JSON API,
except the scanner's answers, which a handheld may ask for in Chinese (``lang=zh``): its operator reads
them on the spot.

The scanner's models are kept small on purpose: a handheld on a weak mobile link sends and receives a
few hundred bytes per scan, and an answer leaves out what the device already knows.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from fangkong.core.clock import as_local
from fangkong.core.i18n import Message, render_text
from fangkong.testing.models import (
    CampaignState,
    OrderState,
    RecallState,
    RoundState,
    TestPlace,
    TestResult,
    TubeKind,
)

MAX_ID = 2**31 - 1
"""Largest row id (PostgreSQL ``integer``): larger ids in a request are invalid input, not a crash."""
# Scans in one call: a handheld's offline queue of a long shift (a sampler takes about 360 swabs a day,
# protocols.md §5 rt.sites) many times over; a larger upload is split by the device.
MAX_SCANS = 10_000
# Areas of one campaign: the communities of a large district.
MAX_AREAS = 5_000
# Text a scan's fields may hold before the request is refused whole; the service refuses a too-long
# device id or barcode scan by scan, naming it, so the rest of a queue is still recorded.
MAX_SCAN_TEXT = 200


def _english(value: object) -> object:
    return render_text(value, None) if isinstance(value, str | Message) else value


# A stored instant (aware UTC, or naive UTC as SQLite hands it back) shown as local wall-clock time.
LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]
# A message or a stored message, in English.
Text = Annotated[str, BeforeValidator(_english)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Page(BaseModel):
    total: int
    page: int
    size: int


# ------------------------------------------------------------------------------------------ orders


class OrderPublic(BaseModel):
    """A test a plan says is due: where it is taken, and what became of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    # Masked; empty when the answer did not look the name up.
    person_name: str
    jpath: str
    source: str
    plan_day: int
    due_date: dt.date
    method: str
    specimen: str | None
    place: TestPlace
    state: OrderState
    last_test: bool
    tube_barcode: str | None
    sampled_at: LocalTime | None
    result: TestResult | None
    resulted_at: LocalTime | None
    cancelled_reason: Text


class OrderPage(Page):
    items: list[OrderPublic]


class SampleCreate(BaseModel):
    """A single-tube sample taken for an order."""

    barcode: str = Field(min_length=1, max_length=40)
    # none: now.
    at: dt.datetime | None = None


class SyncPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    created: int
    moved: int
    cancelled: int
    reopened: int
    unchanged: int


class HistoryItemPublic(BaseModel):
    """One test of a person: a plan's order (``order``) or a round's or a retest's tube (``tube``)."""

    model_config = ConfigDict(from_attributes=True)

    kind: str
    due_date: dt.date | None
    source: str
    barcode: str | None
    tube_kind: TubeKind | None
    sampled_at: LocalTime | None
    state: str
    result: TestResult | None
    resulted_at: LocalTime | None
    order_id: int | None


# ------------------------------------------------------------------------------------------ campaigns


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    # Jurisdiction ids (communities or townships) in your jurisdiction.
    areas: list[Id] = Field(min_length=1, max_length=MAX_AREAS)
    # Those of ``areas`` that are sealed (封控): one tube per household.
    sealed: list[Id] = Field(default_factory=list, max_length=MAX_AREAS)
    pool_size: int = Field(default=10, description="people per tube: 1, 5, 10 or 20")
    deadline_hours: int = Field(default=24, ge=1, le=24 * 14)
    reason: str = Field(default="", max_length=2_000)


class CampaignStop(BaseModel):
    reason: str = Field(default="", max_length=2_000)


class AreaPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    jurisdiction_id: int
    jpath: str
    name: str = ""
    sealed: bool


class RoundPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    number: int
    day: dt.date
    starts_at: LocalTime
    deadline_at: LocalTime
    state: RoundState
    closed_at: LocalTime | None
    community_positives: int | None


class CampaignPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    jpath: str
    jurisdiction_id: int
    pool_size: int
    deadline_hours: int
    state: CampaignState
    reason: str
    created_by: str
    created_at: LocalTime
    stopped_at: LocalTime | None


class StopAdvicePublic(BaseModel):
    """The stop rule (three clean daily rounds, then one more after three days)."""

    phase: str
    stop: bool
    clean_streak: int
    next_round_on: dt.date | None


class FrequencyPublic(BaseModel):
    """The round-frequency rule: the interval and which clause of it applies."""

    interval_days: int
    reason: str
    next_round_on: dt.date


class AdvicePublic(BaseModel):
    campaign_id: int
    rounds_closed: int
    stop: StopAdvicePublic
    frequency: FrequencyPublic
    # When the next round is due by the rules; none once the campaign may stop.
    next_round_on: dt.date | None


class CampaignDetail(CampaignPublic):
    areas: list[AreaPublic]
    rounds: list[RoundPublic]
    advice: AdvicePublic


class RoundOpen(BaseModel):
    # none: now.
    starts_at: dt.datetime | None = None


class RoundClose(BaseModel):
    # Community infections the round found; none: counted from its results.
    community_positives: int | None = Field(default=None, ge=0, le=10_000_000)


# ------------------------------------------------------------------------------------------ coverage


class CommunityCoveragePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    jurisdiction_id: int
    jpath: str
    name: str
    expected: int
    sampled: int
    not_sampled: int
    without_result: int
    share: float


class TurnaroundPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tubes: int
    resulted: int
    within_deadline: int
    late: int
    pending: int
    overdue: int
    median_hours: float | None
    p90_hours: float | None
    max_hours: float | None
    on_time_share: float | None


class CoveragePublic(BaseModel):
    """应检未检: per community of the round, and the turnaround from sampling to result."""

    round_id: int
    number: int
    day: dt.date
    deadline_at: LocalTime
    expected: int
    sampled: int
    not_sampled: int
    without_result: int
    communities: list[CommunityCoveragePublic]
    turnaround: TurnaroundPublic


class ProgressPointPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: LocalTime
    sampled: int
    share: float


class ProgressPublic(BaseModel):
    round_id: int
    step_minutes: int
    points: list[ProgressPointPublic]
    # An ECharts option of the share sampled through the round (when asked for).
    chart: dict[str, Any] | None = None


# ------------------------------------------------------------------------------------------ sites, labs


class SitePlanPublic(BaseModel):
    """What the rule says a community needs for a round (one site per 2,000–3,000 people)."""

    jurisdiction_id: int
    jpath: str
    name: str
    population: int
    sites: int
    samplers: int
    people_per_site: list[int]
    samplers_per_site: list[int]


class SiteCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    jurisdiction_id: Id
    campaign_id: Id | None = None
    samplers: int = Field(default=0, ge=0, le=10_000)


class SitePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int | None
    jurisdiction_id: int
    jpath: str
    name: str
    samplers: int
    active: bool
    created_at: LocalTime


class LaboratoryCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    # The place the laboratory belongs to (its code); it must lie in your jurisdiction.
    jurisdiction_code: str = Field(min_length=1, max_length=12)
    tests_per_hour: int = Field(default=0, ge=0, le=100_000)
    # Results due this many hours after the samples arrive (protocols.md §7 epi.lab_turnaround: 12 h).
    turnaround_hours: int = Field(default=12, ge=1, le=168)


class LaboratoryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    jurisdiction_id: int
    jpath: str
    tests_per_hour: int
    turnaround_hours: int


# ------------------------------------------------------------------------------------------ scanning


class ScanCreate(BaseModel):
    """One scan of a handheld: this person's swab went into this tube.

    ``device_seq`` numbers the device's scans; sending the same (device, sequence) again changes nothing.
    ``pool_size`` (1, 5, 10, 20) and ``kind`` describe the tube when this scan opens it.
    """

    device_id: str = Field(max_length=MAX_SCAN_TEXT)
    device_seq: int = Field(ge=0, le=MAX_ID)
    round_id: int = Field(ge=1, le=MAX_ID)
    barcode: str = Field(max_length=MAX_SCAN_TEXT)
    person_code: str = Field(max_length=MAX_SCAN_TEXT)
    # When the swab was taken (the device's clock; local time unless it carries an offset).
    scanned_at: dt.datetime
    pool_size: int | None = Field(default=None, ge=0, le=1_000)
    kind: TubeKind | None = None
    site_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ScanBatch(BaseModel):
    """A device's queue, sent when the link allows (now, or hours later)."""

    scans: list[ScanCreate] = Field(min_length=1, max_length=MAX_SCANS)


class ScanOutcomePublic(BaseModel):
    """What became of one scan: ``i`` is its place in the call, ``seq`` its device sequence.

    ``status`` is ``recorded``, ``already_recorded`` (sent before: nothing counted twice) or ``refused``
    with ``message`` and the scan's ``field`` at fault.
    """

    i: int
    seq: int
    status: str
    message: str | None = None
    field: str | None = None


class ScanReportPublic(BaseModel):
    recorded: int
    already_recorded: int
    refused: int
    outcomes: list[ScanOutcomePublic]


# ------------------------------------------------------------------------------------------ results


class RowErrorPublic(BaseModel):
    row: int
    field: str
    message: str


class LoadReportPublic(BaseModel):
    """What a results load did; ``unknown`` names each row whose barcode no tube has (not loaded)."""

    origin: str
    rows: int
    loaded: int
    corrections: int
    unchanged: int
    unknown: list[RowErrorPublic]
    tubes_resulted: int
    positive_people: int
    positive_pools: int
    recalled: int
    chunks: int
    seconds: float


# ------------------------------------------------------------------------------------------ recalls


class RecallPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tube_id: int
    pool_barcode: str
    person_id: int
    person_name: str
    jpath: str
    state: RecallState
    flagged_at: LocalTime
    deadline_at: LocalTime
    located_at: LocalTime | None
    retest_barcode: str | None
    result: TestResult | None
    late: bool


class LocatedCreate(BaseModel):
    # none: now.
    at: dt.datetime | None = None


class RetestCreate(BaseModel):
    """A member's single-tube retest; ``result`` records one read on the spot (else the lab's file will)."""

    barcode: str = Field(min_length=1, max_length=40)
    at: dt.datetime | None = None
    result: TestResult | None = None
    # Ct values by gene ({"ORF1ab": 31.2, "N": 29.8}).
    ct_values: dict[Annotated[str, Field(min_length=1, max_length=20)], float] = Field(
        default_factory=dict, max_length=10
    )
    tested_at: dt.datetime | None = None


class RecallTimingPublic(BaseModel):
    """From a positive pool's result to every member located, against the recall deadline."""

    model_config = ConfigDict(from_attributes=True)

    tube_id: int
    barcode: str
    members: int
    located: int
    pool_resulted_at: LocalTime | None
    flagged_at: LocalTime | None
    deadline_at: LocalTime | None
    all_located_at: LocalTime | None
    hours_to_all_located: float | None
    within_deadline: bool | None


# ------------------------------------------------------------------------------------------ pools


class PoolOptionPublic(BaseModel):
    pool_size: int
    optimal: bool
    tests_per_person: float
    tests: float
    lab_hours: float
    ct_shift: float
    miss_probability: float
    missed_positives: float


class PoolPlanPublic(BaseModel):
    """Dorfman's optimal pool size at a prevalence, and each pool size's tests, lab hours and misses."""

    prevalence: float
    optimal_pool_size: int
    tests_per_person: float
    pooling_pays: bool
    population: int
    expected_positives: float
    lab_tests_per_hour: float
    collection: str
    ct_cutoff: float
    positive_ct: str
    pool_sizes: list[PoolOptionPublic]
    sources: dict[str, str]
