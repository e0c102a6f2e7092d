"""Request and response models of the areas API (``XCreate``/``XUpdate``/``XPublic`` families).

Times in responses are local wall-clock times; calendar facts are dates. Stored messages (an area's
reason, what blocks a change) are given in English, as in the rest of the JSON API; the pages word them
in the reader's language. Identities in arrival rows are masked, as the worklist shows them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from fangkong.areas.models import (
    AreaState,
    RequestKind,
    RequestState,
    RiskLevel,
    UnitKind,
    WorklistState,
)
from fangkong.core.clock import as_local
from fangkong.core.i18n import Message, render_text

MAX_ID = 2**31 - 1
"""Largest row id (PostgreSQL ``integer``): larger ids in a request are invalid input, not a crash."""
# Households named in one request: a compound's households, not a county's.
MAX_HOUSEHOLDS = 5_000


def _english(value: object) -> object:
    return render_text(value, None) if isinstance(value, str | Message) else value


LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]
Text = Annotated[str, BeforeValidator(_english)]
RowIdField = Annotated[int, Field(ge=1, le=MAX_ID)]


class Page(BaseModel):
    total: int
    page: int
    size: int
    pages: int


# ------------------------------------------------------------------------------------------ areas


class AreaPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    level: RiskLevel
    state: AreaState
    unit_kind: UnitKind
    jurisdiction_id: int
    county_id: int
    protocol_id: str
    # The cases and places behind it, in English.
    reason: Text
    proposed_at: LocalTime
    designated_at: LocalTime | None
    approved_by: str | None
    level_since: dt.date | None
    last_case_on: dt.date | None
    downgraded_from_high: bool
    lifted_at: LocalTime | None


class AreaPage(Page):
    items: list[AreaPublic]


class ProposeCreate(BaseModel):
    # Only cases reported on or after this day (default: every case in your jurisdiction).
    since: dt.date | None = None


class ProposalsPublic(BaseModel):
    created: list[AreaPublic]
    # Why nothing can be proposed here (a protocol that designates no areas), if so.
    notice: str | None = None


class ApprovalCreate(BaseModel):
    """Designate as proposed, or adjusted after the investigation (within what the protocol allows)."""

    level: RiskLevel | None = None
    unit_kind: UnitKind | None = None
    name: str | None = Field(default=None, min_length=1, max_length=120)


class RejectCreate(BaseModel):
    reason: str = Field(default="", max_length=500)


class HouseholdsCreate(BaseModel):
    household_ids: list[RowIdField] = Field(min_length=1, max_length=MAX_HOUSEHOLDS)


class AddedPublic(BaseModel):
    added: int


class ApplyCreate(BaseModel):
    to_level: RiskLevel


class ChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    from_level: RiskLevel | None
    to_level: RiskLevel | None
    reason: Text
    by: str
    at: LocalTime


class DueChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    area_id: int
    name: str
    from_level: RiskLevel
    to_level: RiskLevel
    due_on: dt.date
    clock_from: dt.date
    reason: Text
    blockers: list[Text]
    blocker_kinds: list[str]
    screening_on: dt.date | None
    ready: bool


class CalendarPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    on: dt.date
    area_id: int
    name: str
    from_level: RiskLevel
    to_level: RiskLevel
    needs_screening: bool


class CountyLevelPublic(BaseModel):
    """A county with high or medium areas in force: the rest of it is low."""

    model_config = ConfigDict(from_attributes=True)

    county_id: int
    code: str
    name: str
    high: int
    medium: int
    rest_is_low: bool


# ------------------------------------------------------------------------------------------ arrivals


class ArrivalPublic(BaseModel):
    """A worklist row: masked identity, the trip, its category and the community's progress."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int | None
    name: str
    id_number: str
    phone: str | None
    origin_county_code: str
    origin_county_name: str
    origin_area_id: int | None
    origin_area_name: str
    departed_on: dt.date
    arrived_on: dt.date
    destination_id: int
    destination_name: str
    companions: int
    places_visited: str
    category: str
    state: str
    reports: int
    channels: list[str]


class ArrivalPage(Page):
    items: list[ArrivalPublic]


class ArrivalStateUpdate(BaseModel):
    state: WorklistState


class StaffArrivalCreate(BaseModel):
    """A trip reported by staff (a community worker's entry, a hotline, a checkpoint, an import)."""

    channel: Literal["staff", "hotline", "checkpoint", "import"] = "staff"
    id_number: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=1, max_length=20)
    origin_county_code: str = Field(min_length=1, max_length=12)
    departed_on: dt.date
    arrived_on: dt.date
    destination_code: str = Field(min_length=1, max_length=12)
    address: str = Field(default="", max_length=200)
    hotel: str = Field(default="", max_length=100)
    origin_area_id: RowIdField | None = None
    origin_unit: str = Field(default="", max_length=200)
    companions: int = Field(default=0, ge=0, le=50)
    places_visited: str = Field(default="", max_length=500)


class ReceiptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    arrival_id: int
    category: str
    measure: str | None
    valid_until: dt.date | None
    trip_category: str
    merged: bool


class CheckpointLookupCreate(BaseModel):
    """A look-up by full ID number (sent in the body, never in a URL that logs keep)."""

    id_number: str = Field(min_length=1, max_length=40)
    checkpoint: str = Field(min_length=1, max_length=60)


class CheckpointPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    found: bool
    name: str | None
    category: str | None
    measure: str | None
    valid_until: dt.date | None


# ------------------------------------------------------------------------------------------ doorstep


class RequestCreate(BaseModel):
    kind: RequestKind
    detail: str = Field(default="", max_length=300)
    area_id: RowIdField | None = None
    person_id: RowIdField | None = None


class RequestDone(BaseModel):
    outcome: str = Field(default="", max_length=300)


class RequestCancel(BaseModel):
    reason: str = Field(min_length=1, max_length=300)


class RequestPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    area_id: int | None
    area_name: str | None
    person_id: int | None
    kind: RequestKind
    detail: str
    state: RequestState
    created_at: LocalTime
    created_by: str
    deadline_at: LocalTime
    taken_by: str | None
    taken_at: LocalTime | None
    done_at: LocalTime | None
    escalated_at: LocalTime | None
    outcome: str
    late: bool


class BoardRowPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    area_id: int | None
    area_name: str
    level: str | None
    open: int
    late: int
    done: int
    escalated: int
    emergencies_open: int


class VulnerablePublic(BaseModel):
    """A resident of a sealed area who needs looking after (masked) and why."""

    model_config = ConfigDict(from_attributes=True)

    person_id: int
    name: str
    id_number: str
    phone: str | None
    age: int
    household_id: int | None
    address: str | None
    reasons: list[str]
    note: str
    flags_updated_at: LocalTime | None


class FlagsUpdate(BaseModel):
    """What a community worker knows about a resident (replaces the previous flags)."""

    pregnant: bool = False
    dialysis: bool = False
    regular_treatment: bool = False
    living_alone: bool = False
    note: str = Field(default="", max_length=200)


class FlagsPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: int
    pregnant: bool
    dialysis: bool
    regular_treatment: bool
    living_alone: bool
    note: str
    updated_by: str
    updated_at: LocalTime


class DepartmentUpdate(BaseModel):
    """Whether a hospital's emergency department takes patients now (created the first time)."""

    jurisdiction_id: RowIdField
    name: str = Field(min_length=1, max_length=120)
    open: bool
    phone: str = Field(default="", max_length=30)
    note: str = Field(default="", max_length=200)


class DepartmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    jurisdiction_id: int
    jurisdiction_name: str
    phone: str
    open: bool
    note: str
    updated_by: str
    updated_at: LocalTime
    stale: bool
