"""Request and response models of the privacy API: retention rules and runs, emergencies and their
deletion reports, duplicates and merges, access grants. None carries personal data: people appear by
their registry id only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fangkong.core.clock import as_local
from fangkong.privacy.rules.access import MAX_TYPED_REASON

LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]
PersonId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Action = Literal["delete", "anonymise"]


class RulePublic(BaseModel):
    record_class: str
    period_days: int
    action: str
    active: bool


class RuleUpdate(BaseModel):
    period_days: int = Field(ge=1, le=100_000)
    action: Action
    active: bool = True


class ClassCountPublic(BaseModel):
    record_class: str
    action: str
    period_days: int
    cutoff: dt.date
    records: int
    people: int


class RunPublic(BaseModel):
    run_id: int | None
    as_of: dt.date
    dry_run: bool
    classes: list[ClassCountPublic]
    people_anonymised: int
    merges_finalised: int


class EmergencyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    opened_on: dt.date


class EmergencyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    jpath: str
    opened_on: dt.date
    closed_at: LocalTime | None
    closed_by: str | None
    purge_after: dt.date | None
    purged_at: LocalTime | None
    report: dict[str, object] | None = None


class MergeCreate(BaseModel):
    survivor_id: PersonId
    merged_id: PersonId


class RecordLink(BaseModel):
    person_id: PersonId
    record_id: PersonId


class CandidatePublic(BaseModel):
    first_id: int
    second_id: int
    reason: str


class MergePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    survivor_id: int
    merged_id: int
    merged_at: LocalTime
    merged_by: str
    undo_until: LocalTime
    undone_at: LocalTime | None
    finalised_at: LocalTime | None


class AccessCreate(BaseModel):
    person_id: PersonId
    reason: str = Field(max_length=32)
    reason_text: str = Field(default="", max_length=MAX_TYPED_REASON)


class AccessReview(BaseModel):
    note: str = Field(default="", max_length=MAX_TYPED_REASON)


class GrantPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    person_ref: int
    reason: str
    reason_text: str
    granted_at: LocalTime
    expires_at: LocalTime
    reviewed_at: LocalTime | None
    reviewed_by: str | None
    review_note: str | None
