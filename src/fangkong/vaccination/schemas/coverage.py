"""Request and response models of the coverage API: counts by band with their denominators, the weekly
trend, the ranking of child jurisdictions, a refresh, and a contraindication recorded.

Every rate comes with the numerator and denominator it was divided from, so a client can check it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from fangkong.vaccination.models import ContraindicationReason, DoseKind, StatusState

MAX_ID = 2**31 - 1
Band = Literal["3-17", "18-59", "60-69", "70-79", "80+", "60+", "all"]
Measure = Literal["at_least_one", "primary_complete", "booster", "second_booster"]


class MeasurePublic(BaseModel):
    numerator: int
    denominator: int
    rate: float | None


class BandPublic(BaseModel):
    band: str
    denominator: int
    at_least_one: MeasurePublic
    primary_complete: MeasurePublic
    booster: MeasurePublic
    second_booster: MeasurePublic
    # (at least one − primary complete) ÷ at least one; null when nobody began.
    dropout: float | None


class CoveragePublic(BaseModel):
    jurisdiction_code: str
    jurisdiction_name: str
    # The day counted; null before the first count.
    as_of: dt.date | None
    bands: list[BandPublic]


class TrendPointPublic(BaseModel):
    as_of: dt.date
    numerator: int
    denominator: int
    rate: float | None


class TrendPublic(BaseModel):
    jurisdiction_code: str
    band: str
    measure: str
    points: list[TrendPointPublic]


class RankedPublic(BaseModel):
    rank: int
    jurisdiction_code: str
    jurisdiction_name: str
    numerator: int
    denominator: int
    rate: float | None


class RankingPublic(BaseModel):
    as_of: dt.date | None
    band: str
    measure: str
    items: list[RankedPublic]
    total: int
    page: int
    size: int
    pages: int


class RefreshCreate(BaseModel):
    # Week ends counted for the trend besides today.
    weeks: int = Field(default=12, ge=1, le=104)


class RefreshPublic(BaseModel):
    as_of: dt.date
    rows: int


class ContraindicationCreate(BaseModel):
    person_id: int = Field(ge=1, le=MAX_ID)
    reason: ContraindicationReason
    # The day a postponement ends (fever, flare); none for a permanent reason.
    until: dt.date | None = None
    note: str = Field(default="", max_length=200)


class ContraindicationPublic(BaseModel):
    id: int
    person_id: int
    reason: ContraindicationReason
    recorded_on: dt.date
    until: dt.date | None
    # The person's status evaluated again with it.
    state: StatusState
    next_kind: DoseKind | None
    due_on: dt.date | None
    contraindication: ContraindicationReason | None
