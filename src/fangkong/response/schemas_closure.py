"""Request and response models of the daily closure API (``/api/response/closures``).

Times are local wall-clock times; days are local days. The figures are the published JSON document as
it was frozen (see ``response.rules.closure``), never recomputed on the way out.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fangkong.core.clock import as_local
from fangkong.response.service.closure import MAX_OBJECTIVES, MAX_REASON

LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]


class ClosurePublic(BaseModel):
    """One published version of one jurisdiction's day."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    jurisdiction_id: int
    code: str
    name: str
    day: dt.date
    version: int
    latest_version: int
    figures: dict[str, Any]
    reason: str | None
    published_at: LocalTime
    published_by: str
    signed_off_at: LocalTime | None
    signed_off_by: str | None
    objectives: str | None


class DayPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: dt.date
    version: int
    signed_off: bool
    published_at: LocalTime


class ChangePublic(BaseModel):
    """One figure that differs between two versions (``null`` where a version does not have it)."""

    model_config = ConfigDict(from_attributes=True)

    key: str
    section: str
    old: int | float | None
    new: int | float | None
    change: int | float | None
    provisional: bool


class DiffPublic(BaseModel):
    code: str
    day: dt.date
    a: int
    b: int
    reason: str | None  # the reason given for version ``b``
    changes: list[ChangePublic]


class ActivityEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime  # local wall-clock time
    actor: str
    action: str
    object_type: str
    object_id: str


class RoleActivityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    role: str
    entries: list[ActivityEntryPublic]


class PublishCreate(BaseModel):
    """Publish a day: no reason for the first version, a reason for a correction."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(max_length=MAX_REASON)] | None = None


class CorrectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON)]


class SignOffCreate(BaseModel):
    """The next operational period's objectives (the ICS 202 habit)."""

    model_config = ConfigDict(extra="forbid")

    objectives: Annotated[str, Field(min_length=1, max_length=MAX_OBJECTIVES)]
