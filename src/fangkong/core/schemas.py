"""Request and response models of the core API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    name: str = Field(default="api", max_length=100)


class TokenPublic(BaseModel):
    token: str
    token_type: str = "bearer"


class MePublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    jurisdiction_id: int
    jurisdiction_name: str
    permissions: list[str]


class JurisdictionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: str


class PersonCreate(BaseModel):
    id_number: str = Field(max_length=18)
    name: str = Field(max_length=50)
    phone: str = Field(default="", max_length=20)
    community_code: str = Field(max_length=12)
    address: str = Field(max_length=200)


class PersonPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    id_number: str
    phone: str | None
    sex: str
    birth_date: dt.date
    age: int
    jurisdiction_id: int
    jurisdiction_name: str
    household_id: int | None
    address: str | None
    revealed: bool


class PersonPage(BaseModel):
    items: list[PersonPublic]
    total: int
    page: int
    size: int
    pages: int


class RowErrorPublic(BaseModel):
    row: int
    field: str
    message: str


class ImportResult(BaseModel):
    rows: int
    created: int
    households_created: int
    dry_run: bool


class UserCreate(BaseModel):
    username: str = Field(max_length=64)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=32)
    jurisdiction_code: str = Field(max_length=12)
    password: str = Field(max_length=200)


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    jurisdiction_code: str
    jurisdiction_name: str
    is_active: bool
    locked: bool


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: str
    ip: str


class AuditVerifyPublic(BaseModel):
    ok: bool
    checked: int
    first_broken_id: int | None
    reason: str
