"""Request and response models of the doses API: one dose recorded at a site, a page of doses, and an
import's report."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fangkong.vaccination.models import DoseKind, Platform
from fangkong.vaccination.service.doses_batch import MAX_DOSE_NUMBER, MAX_LOT, MAX_PRODUCT, MAX_SITE


class DoseCreate(BaseModel):
    """One dose given at a vaccination site. The person is named by registry id or by ID number; the
    platform may be left out when the product name tells it (克威莎 is a vector vaccine)."""

    person_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    id_number: str | None = Field(default=None, min_length=15, max_length=24)
    product: str = Field(min_length=1, max_length=MAX_PRODUCT)
    platform: Platform | None = None
    dose_number: int = Field(ge=1, le=MAX_DOSE_NUMBER)
    kind: DoseKind
    given_on: dt.date
    site: str = Field(min_length=1, max_length=MAX_SITE)
    lot: str = Field(min_length=1, max_length=MAX_LOT)

    @model_validator(mode="after")
    def _one_person(self) -> DoseCreate:
        if (self.person_id is None) == (self.id_number is None):
            raise ValueError("give either person_id or id_number")
        return self


class DosePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    product: str
    platform: Platform
    dose_number: int
    kind: DoseKind
    given_on: dt.date
    site: str
    lot: str
    source: str


class DoseListItem(DosePublic):
    person_name: str
    person_id_number: str


class DosePage(BaseModel):
    items: list[DoseListItem]
    total: int
    page: int
    size: int
    pages: int


class DoseImportReport(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rows: int
    doses: int
    people: int
    dry_run: bool
    by_kind: dict[str, int]
    by_platform: dict[str, int]
    first_day: dt.date | None
    last_day: dt.date | None
    ignored_columns: list[str]
    seconds: float
