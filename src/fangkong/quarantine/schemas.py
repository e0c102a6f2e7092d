"""Request and response models of the quarantine API (``XCreate``/``XUpdate``/``XPublic`` families).

Times in requests are local wall-clock times (China Standard Time) unless they carry an offset; times in
responses are local wall-clock times too. Messages (why a person was left unplaced, why a tier should
open) are given in English, as in the rest of the JSON API; the pages word them in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from fangkong.core.clock import as_local
from fangkong.core.i18n import Message, render_text
from fangkong.core.models import Level
from fangkong.quarantine.models import BatchState, RoomKind, RoomState, SiteKind, SiteStatus, StayState

MAX_ID = 2**31 - 1
"""Largest row id (PostgreSQL ``integer``): larger ids in a request are invalid input, not a crash."""
# One bulk placement: the contact list of a large cluster, not a province.
MAX_BULK = 20_000
# Rooms given in one request (a site's rooms; larger lists come as a file).
MAX_ROOMS = 5_000


def _english(value: object) -> object:
    return render_text(value, None) if isinstance(value, str | Message) else value


# A stored instant (aware UTC, or naive UTC as SQLite hands it back) shown as local wall-clock time.
LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]
# A message or a stored message, in English.
Text = Annotated[str, BeforeValidator(_english)]


class Page(BaseModel):
    total: int
    page: int
    size: int
    pages: int


# ------------------------------------------------------------------------------------------ sites


class SiteCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    kind: SiteKind
    address: str = Field(default="", max_length=200)
    # The county (or township) the site belongs to; it must lie in your jurisdiction.
    jurisdiction_code: str = Field(min_length=1, max_length=12)
    operator: str = Field(default="", max_length=120)
    contact_name: str = Field(default="", max_length=60)
    contact_phone: str = Field(default="", max_length=30)
    tier: int = Field(default=1, ge=1, le=99)
    hours_to_open: int = Field(default=24, ge=0, le=720)


class SiteUpdate(BaseModel):
    """Only the fields sent change; the status changes through activation, not here."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    kind: SiteKind | None = None
    address: str | None = Field(default=None, max_length=200)
    jurisdiction_code: str | None = Field(default=None, min_length=1, max_length=12)
    operator: str | None = Field(default=None, max_length=120)
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = Field(default=None, max_length=30)
    tier: int | None = Field(default=None, ge=1, le=99)
    hours_to_open: int | None = Field(default=None, ge=0, le=720)


class SitePublic(BaseModel):
    """A site with what its rooms hold (rooms by state and type, beds, people staying)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: SiteKind
    address: str
    jurisdiction_id: int
    jurisdiction_name: str
    operator: str
    contact_name: str
    contact_phone: str
    status: SiteStatus
    status_changed_at: LocalTime
    tier: int
    hours_to_open: int
    # People posted there now (resources' postings).
    staff_on_duty: int
    rooms: int
    in_service: int
    rooms_by_state: dict[RoomState, int]
    rooms_by_kind: dict[RoomKind, int]
    beds: int
    occupants: int
    # Occupied rooms over rooms in service; null without rooms in service.
    occupancy: float | None


class ReservePublic(BaseModel):
    """One jurisdiction against the reserve standard (rooms per 10,000 residents)."""

    model_config = ConfigDict(from_attributes=True)

    jurisdiction_id: int
    code: str
    name: str
    level: Level
    residents: int
    rooms: int
    per_10k: float | None
    standard: int
    required: int
    shortfall: int
    meets_standard: bool
    source: str


class SitePage(Page):
    items: list[SitePublic]
    # The reserve standard of your jurisdiction and of each place directly under it.
    reserve: list[ReservePublic]


# ------------------------------------------------------------------------------------------ rooms


class RoomCreate(BaseModel):
    number: str = Field(min_length=1, max_length=20)
    kind: RoomKind = RoomKind.single
    beds: int = Field(default=1, ge=1, le=12)
    floor: str = Field(default="", max_length=10)
    zone: str = Field(default="", max_length=20)


class RoomsCreate(BaseModel):
    rooms: list[RoomCreate] = Field(min_length=1, max_length=MAX_ROOMS)


class RoomServiceUpdate(BaseModel):
    in_service: bool
    note: str = Field(default="", max_length=200)


class CleaningCreate(BaseModel):
    note: str = Field(default="", max_length=200)


class AddedPublic(BaseModel):
    added: int


class RoomPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    number: str
    floor: str
    zone: str
    kind: RoomKind
    beds: int
    state: RoomState
    occupants: int


class OccupantPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    stay_id: int
    person_id: int
    # Masked; empty for someone outside your jurisdiction.
    name: str
    state: StayState
    carer: bool
    # The release day (the plan's, read now) and the plan's next test day.
    until: dt.date | None
    next_test: dt.date | None


class BoardRoomPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    room_id: int
    number: str
    floor: str
    zone: str
    kind: RoomKind
    beds: int
    state: RoomState
    occupants: int
    people: list[OccupantPublic]


class BoardFloorPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    floor: str
    rooms: list[BoardRoomPublic]


class RoomBoardPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    site_id: int
    site_name: str
    status: str
    floors: list[BoardFloorPublic]


class RoomImportPublic(BaseModel):
    """What an import did (or, in a dry run, would do); a bad row is a 422 naming its row and column."""

    model_config = ConfigDict(from_attributes=True)

    site_id: int
    site_name: str
    rows: int
    dry_run: bool
    added: int
    beds: int
    by_kind: dict[RoomKind, int]
    floors: int
    zones: int


# ------------------------------------------------------------------------------------------ activation


class ActivationRuleUpdate(BaseModel):
    # Open the next tier when open rooms are this occupied (share, 0-1) ...
    occupancy_threshold: float = Field(gt=0, le=1)
    # ... or when the forecast says they will be within this many hours.
    forecast_hours: int = Field(ge=1, le=24 * 30)
    # The jurisdiction the rule is for; none: your own.
    jurisdiction_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ActivationRulePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    jurisdiction_id: int
    jurisdiction_name: str
    occupancy_threshold: float
    forecast_hours: int
    # The place whose rule applies when this one has none of its own.
    inherited_from: str | None
    # No rule anywhere above: the defaults (80 %, 48 h).
    is_default: bool
    updated_by: str
    updated_at: LocalTime | None


class StatusChangeCreate(BaseModel):
    reason: str = Field(default="", max_length=2000)


class ActivationCreate(StatusChangeCreate):
    # Open this site although a lower tier still has sites in reserve (the reason says why).
    out_of_order: bool = False


class ReserveSitePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    site_id: int
    name: str
    tier: int
    hours_to_open: int
    rooms: int


class AdvicePublic(BaseModel):
    """Whether to open the next tier now, why, and which reserve sites (quickest to open first)."""

    activate: bool
    reasons: list[Text]
    occupancy: float | None
    hours_until_threshold: float | None
    next_tier: int | None
    sites: list[ReserveSitePublic]
    rule: ActivationRulePublic
    occupied: int
    capacity_open: int
    waiting: int
    days_until_full: int | None


class StatusChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    site_name: str = ""
    tier: int | None = None
    previous: SiteStatus
    status: SiteStatus
    reason: Text
    approved_by: str
    # Occupancy of the jurisdiction's open rooms when it happened (share, 0-1).
    occupancy: float | None
    at: LocalTime


# ------------------------------------------------------------------------------------------ placement


class ToPlacePublic(BaseModel):
    """A person to place, with the transfer deadline counting down (negative hours: late)."""

    model_config = ConfigDict(from_attributes=True)

    person_id: int
    name: str
    age: int
    sex: str
    jurisdiction_id: int
    community: str
    category: str
    source: str
    identified_at: LocalTime
    deadline_at: LocalTime
    hours_left: float
    late: bool
    stage_start: dt.date
    release: dt.date
    index_case_ids: list[int]
    needs_care: bool
    chronically_ill: bool
    needs_carer: bool
    may_care: bool


class ToPlacePage(Page):
    items: list[ToPlacePublic]
    late: int


class NeedsUpdate(BaseModel):
    needs_care: bool = False
    chronically_ill: bool = False
    note: str = Field(default="", max_length=200)


class NeedsPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: int
    needs_care: bool
    chronically_ill: bool
    note: str


class BulkPlaceCreate(BaseModel):
    """People to place; none given: everyone on your jurisdiction's to-place list."""

    person_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, min_length=1, max_length=MAX_BULK
    )


class PlaceInRoomCreate(BaseModel):
    person_id: int = Field(ge=1, le=MAX_ID)
    room_id: int = Field(ge=1, le=MAX_ID)
    # The person this one comes to care for (already placed in that room).
    carer_for: int | None = Field(default=None, ge=1, le=MAX_ID)


class UnplacedPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: int
    name: str
    # A key (room_taken, no_room_of_type, ...) and its sentence.
    reason: str
    message: str


class SitePlacedPublic(BaseModel):
    site_id: int
    site_name: str
    placed: int


class PlacementPublic(BaseModel):
    placed: int
    by_site: list[SitePlacedPublic]
    unplaced: list[UnplacedPublic]
    # Share of the people placed who were placed in their own county.
    own_county_share: float | None
    seconds: float


class StayPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    site_id: int
    site_name: str
    room_id: int
    room_number: str
    state: StayState
    carer: bool
    batch_id: int | None
    placed_at: LocalTime
    deadline_at: LocalTime
    checked_in_at: LocalTime | None
    ended_at: LocalTime | None
    end_reason: Text
    # For an active stay: the plan's release day, read now.
    release: dt.date | None


class MoveCreate(BaseModel):
    room_id: int = Field(ge=1, le=MAX_ID)


class CheckInCreate(BaseModel):
    # When the person arrived; none: now.
    at: dt.datetime | None = None


class ReleaseDueCreate(BaseModel):
    # Release everyone due on or before this day; none: today.
    on: dt.date | None = None


class CountPublic(BaseModel):
    count: int


# ------------------------------------------------------------------------------------------ transfers


class BatchPlanCreate(BaseModel):
    # Only people placed in this site; none: every site.
    site_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    seats: int = Field(default=10, ge=1, le=60)
    # none: the next quarter hour.
    pickup_at: dt.datetime | None = None
    vehicle_prefix: str = Field(default="车", min_length=1, max_length=20)


class ArrivalCreate(BaseModel):
    at: dt.datetime | None = None


class BatchPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    pickup_jurisdiction_id: int
    vehicle: str
    seats: int
    riders: int = 0
    pickup_at: LocalTime
    state: BatchState
    created_by: str
    arrived_at: LocalTime | None


class RiderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    stay_id: int
    person_id: int
    name: str
    sex: str
    age: int
    phone: str | None
    address: str | None
    room_number: str
    carer: bool
    state: StayState


class BatchSheetPublic(BaseModel):
    """The driver's list: where and when to pick up whom, and which room each goes to."""

    model_config = ConfigDict(from_attributes=True)

    batch_id: int
    vehicle: str
    seats: int
    pickup_at: LocalTime
    pickup_place: str
    site_name: str
    site_address: str
    state: BatchState
    riders: list[RiderPublic]
    # Names, phones and addresses in full (and the read audited) rather than masked.
    revealed: bool


# ------------------------------------------------------------------------------------------ census


class SiteCensusPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    site_id: int
    name: str
    tier: int
    status: SiteStatus
    jurisdiction_id: int
    rooms: int
    occupied: int
    cleaning: int
    free: int
    out_of_service: int
    beds: int
    occupants: int
    share: float | None


class TierCensusPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tier: int
    sites: int
    open_sites: int
    rooms: int
    open_rooms: int
    occupied: int
    share: float | None


class PastDayPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: dt.date
    occupied: int
    capacity_open: int
    by_tier: dict[int, int]


class ProjectedDayPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: dt.date
    arrivals: int
    releases: int
    occupied: int
    capacity: int
    share: float | None


class CensusPublic(BaseModel):
    """Occupancy now by site and tier, the past days, and the forecast with days until full."""

    model_config = ConfigDict(from_attributes=True)

    today: dt.date
    occupied: int
    capacity_open: int
    capacity_all: int
    share: float | None
    waiting: int
    threshold: float
    threshold_rooms: float
    forecast_hours: int
    days_until_full: int | None
    days_until_threshold: int | None
    sites: list[SiteCensusPublic]
    tiers: list[TierCensusPublic]
    history: list[PastDayPublic]
    projection: list[ProjectedDayPublic]
    # An ECharts option of occupancy against capacity with the activation threshold (when asked for).
    chart: dict[str, Any] | None = None


class StaffPostingCreate(BaseModel):
    """Post a staff member to the site: lead, medical, security, cleaning or support, from a day (default
    today: from now) until a day or open-ended."""

    staff_id: int = Field(ge=1, le=2**31 - 1)
    role: Literal["lead", "medical", "security", "cleaning", "support"]
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


class StaffPostingPublic(BaseModel):
    id: int
    staff_id: int
    staff_name: str
    unit: str
    role: str
    starts_at: LocalTime
    ends_at: LocalTime | None


class SiteStaffingPublic(BaseModel):
    """A site's posted staff against the minimum a site of its size needs before it opens."""

    site_id: int
    beds: int
    on_duty: int
    posted: dict[str, int]
    minimum: dict[str, int]
    missing: dict[str, int]
    checked: bool
    source: str
    postings: list[StaffPostingPublic]
