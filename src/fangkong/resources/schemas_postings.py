"""Request and response models of postings (staff posted to sites) and of the teams a place's tasks may
be given to. Times in responses are local wall-clock times."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from fangkong.core.clock import as_local
from fangkong.resources.models import PostedSiteKind, PostingRole, TeamKind
from fangkong.resources.service.postings import PostingRow

LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]


class PostingCreate(BaseModel):
    """Post a staff member to a site in a role, from a day (default today: from now) until a day or
    open-ended."""

    staff_id: int = Field(ge=1, le=2**31 - 1)
    role: PostingRole
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


class PostingPublic(BaseModel):
    id: int
    staff_id: int
    staff_name: str
    unit: str
    site_kind: PostedSiteKind
    site_id: int
    site_name: str
    role: PostingRole
    starts_at: LocalTime
    ends_at: LocalTime | None
    current: bool


class TeamChoicePublic(BaseModel):
    id: int
    name: str
    kind: TeamKind
    jpath: str
    in_support: bool


def posting_public(row: PostingRow) -> PostingPublic:
    """A posting row as the API shows it."""
    posting, staff = row.posting, row.staff
    return PostingPublic(
        id=posting.id,
        staff_id=staff.id,
        staff_name=staff.name,
        unit=staff.unit,
        site_kind=posting.site_kind,
        site_id=posting.site_id,
        site_name=posting.site_name,
        role=posting.role,
        starts_at=posting.starts_at,
        ends_at=posting.ends_at,
        current=row.current,
    )
