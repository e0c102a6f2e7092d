"""Request and response models of the protocol API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class ProtocolSummary(BaseModel):
    id: str
    name: str
    jurisdiction: str
    effective: dt.date
    summary: str
    uploaded: bool


class CellPublic(BaseModel):
    measure: str
    days: int | None
    tests: str
    text: str


class ProtocolRowPublic(BaseModel):
    section: str
    subject: str
    item: str
    cell: CellPublic


class ProtocolDetail(BaseModel):
    protocol: ProtocolSummary
    rows: list[ProtocolRowPublic]


class DiffRowPublic(BaseModel):
    section: str
    subject: str
    item: str
    a: CellPublic
    b: CellPublic
    changed: bool


class PlanRequest(BaseModel):
    category: str = Field(max_length=64)
    protocol_id: str | None = Field(default=None, max_length=64)
    jurisdiction_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    last_exposure: dt.date | None = None
    arrival: dt.date | None = None
    area_departure: dt.date | None = None
    diagnosis: dt.date | None = None


class InForce(BaseModel):
    jurisdiction_id: int
    protocol_id: str
    assigned_here: bool


class SwitchRequest(BaseModel):
    protocol_id: str = Field(max_length=64)


class ChangeCount(BaseModel):
    category: str
    change: str
    people: int


class SwitchResult(BaseModel):
    jurisdiction: str
    old_protocol: str
    new_protocol: str
    replanned: int
    changed: int
    summary: list[ChangeCount]
    sample: list[dict[str, Any]]


class PersonPlan(BaseModel):
    source: str
    state: str
    plan: dict[str, Any]
