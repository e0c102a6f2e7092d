"""Request and response models of the AEFI API: the report card, the causality review, the list, rates
per 100,000 doses and lot signals. Times in responses are local wall-clock times."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fangkong.core.clock import as_local
from fangkong.vaccination.models import AefiOutcome, Causality, Severity
from fangkong.vaccination.rules.aefi import Deadline

LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]


class AefiCreate(BaseModel):
    dose_id: int = Field(ge=1, le=2**31 - 1)
    onset_on: dt.date
    symptoms: str = Field(min_length=1, max_length=2000)
    severity: Severity
    outcome: AefiOutcome
    cluster: bool = False
    # When the event was found (local wall-clock time, or aware); default now. The deadline runs from it.
    found_at: dt.datetime | None = None


class ReviewCreate(BaseModel):
    causality: Causality


class AefiPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    dose_id: int
    product: str
    lot: str
    onset_on: dt.date
    symptoms: str
    severity: Severity
    outcome: AefiOutcome
    cluster: bool
    found_at: LocalTime
    report_due_at: LocalTime
    reported_to_county_at: LocalTime | None
    causality: Causality | None
    reviewed_on: dt.date | None
    reviewed_by: str | None
    reported_by: str
    deadline: Deadline


class AefiPagePublic(BaseModel):
    items: list[AefiPublic]
    total: int
    page: int
    size: int
    pages: int


class RatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product: str
    lot: str | None
    doses: int
    events: int
    serious: int
    rate: float | None = Field(description="events per 100,000 doses")
    serious_rate: float | None


class SignalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product: str
    lot: str
    doses: int
    events: int
    expected: float
    baseline_rate: float
    p_value: float
    signal: bool


class RatesPublic(BaseModel):
    products: list[RatePublic]
    lots: list[RatePublic]
    signals: list[SignalPublic]
