"""Request and response models of the resources API (staff, certifications, teams, deployments,
training, supplies, postings of staff to sites, and the teams a place's tasks may be given to). Times in
responses are local wall-clock times."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BaseModel, Field

from fangkong.core.clock import as_local
from fangkong.resources.models import (
    MoveReason,
    PostedSiteKind,
    PostingRole,
    ShiftKind,
    Skill,
    SupplyKind,
    TeamKind,
    TeamLevel,
)

if TYPE_CHECKING:
    # Only the type of ``posting_public``'s argument: schemas import nothing of ours at run time but
    # core types and this capability's enums.
    from fangkong.resources.service.postings import PostingRow

LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Code = Annotated[str, Field(min_length=1, max_length=12)]


class StaffCreate(BaseModel):
    jurisdiction_code: Code
    name: str = Field(min_length=1, max_length=50)
    unit: str = Field(min_length=1, max_length=100)
    skills: list[Skill] = Field(default_factory=list, max_length=7)
    work_phone: str = Field(default="", max_length=20)
    username: str = Field(default="", max_length=64)


class Availability(BaseModel):
    available: bool


class CertificationCreate(BaseModel):
    skill: Skill
    passed_on: dt.date
    valid_days: int = Field(default=365, ge=1, le=3650)


class StaffPublic(BaseModel):
    id: int
    jpath: str
    name: str
    unit: str
    # Masked (138****1234); the full number only through the audited reveal.
    phone_masked: str | None
    available: bool
    shift_today: ShiftKind | None
    deployed_away: bool
    skills: list[Skill]
    certified: list[Skill]


class CertificationPublic(BaseModel):
    id: int
    staff_id: int
    skill: Skill
    passed_on: dt.date
    expires_on: dt.date


class RenewalPublic(BaseModel):
    staff_id: int
    name: str
    skill: Skill
    expires_on: dt.date
    expired: bool


class TeamCreate(BaseModel):
    jurisdiction_code: Code
    kind: TeamKind
    name: str = Field(min_length=1, max_length=100)


class MemberCreate(BaseModel):
    staff_id: Id
    leader: bool = False


class TeamPublic(BaseModel):
    id: int
    jpath: str
    level: TeamLevel
    kind: TeamKind
    name: str
    leader: str | None
    members: int
    ready: int
    standard: int
    gap: int
    readiness: str
    contacts: list[StaffPublic]


class MemberPlanIn(BaseModel):
    staff_id: Id
    batch: int = Field(default=1, ge=1, le=20)
    working_group: str = Field(default="", max_length=60)


class DeploymentCreate(BaseModel):
    to_jurisdiction_code: Code
    outbreak: str = Field(min_length=1, max_length=100)
    commander: str = Field(min_length=1, max_length=100)
    members: list[MemberPlanIn] = Field(default_factory=list, max_length=500)


class CheckIn(BaseModel):
    staff_ids: list[Id] = Field(default_factory=list, max_length=500)
    batch: int | None = Field(default=None, ge=1, le=20)


class CheckOut(BaseModel):
    staff_ids: list[Id] = Field(default_factory=list, max_length=500)


class DeploymentMemberPublic(BaseModel):
    staff_id: int
    name: str
    batch: int
    working_group: str
    checked_in_at: LocalTime | None
    checked_out_at: LocalTime | None


class DeploymentPublic(BaseModel):
    id: int
    team_id: int
    team: str
    from_jpath: str
    to_jpath: str
    to_name: str
    outbreak: str
    commander: str
    state: str
    sent_at: LocalTime
    checked_in: int
    checked_out: int
    members: list[DeploymentMemberPublic]


class Moved(BaseModel):
    people: int


class CourseCreate(BaseModel):
    title: str = Field(min_length=1, max_length=120)
    skill: Skill
    valid_days: int = Field(default=365, ge=1, le=3650)
    pass_score: int = Field(default=80, ge=0, le=100)


class CoursePublic(BaseModel):
    id: int
    title: str
    skill: Skill
    valid_days: int
    pass_score: int


class SessionCreate(BaseModel):
    held_on: dt.date
    jurisdiction_code: str = Field(default="", max_length=12)


class SessionPublic(BaseModel):
    id: int
    course_id: int | None
    title: str
    held_on: dt.date
    is_exercise: bool
    attended: int
    passed: int


class ResultCreate(BaseModel):
    staff_id: Id
    exam_score: int = Field(ge=0, le=100)


class ResultPublic(BaseModel):
    staff_id: int
    exam_score: int | None
    passed: bool | None


class ReceiptCreate(BaseModel):
    jurisdiction_code: Code
    kind: SupplyKind
    quantity: int = Field(ge=1, le=10_000_000)
    site: str = Field(default="", max_length=100)


class Quantity(BaseModel):
    quantity: int = Field(ge=1, le=10_000_000)


class TransferCreate(BaseModel):
    to_jurisdiction_code: Code
    quantity: int = Field(ge=1, le=10_000_000)


class Threshold(BaseModel):
    reorder_days: int = Field(ge=1, le=365)


class StockPublic(BaseModel):
    id: int
    jpath: str
    jurisdiction: str
    site: str
    kind: SupplyKind
    unit: str
    on_hand: int
    rate_per_day: float
    days_left: float | None
    reorder_days: int
    reorder: bool
    reorder_quantity: int
    alert_since: dt.date | None


class MovePublic(BaseModel):
    id: int
    quantity: int
    reason: MoveReason
    source: str
    moved_on: dt.date
    recorded_by: str


class CountsPublic(BaseModel):
    """What the command dashboard shows of resources: teams deployed, staff on duty, gaps."""

    staff: int
    available: int
    on_call: int
    on_duty: int
    away: int
    support: int
    teams: int
    teams_deployed: int
    teams_not_ready: int
    staff_gap: int
    reorder_alerts: int


class ShiftCreate(BaseModel):
    staff_id: Id
    day: dt.date
    # "on_duty", "on_call", or "off" to clear the day.
    kind: str = Field(min_length=1, max_length=10)
    team_id: Id | None = None


class ShiftPublic(BaseModel):
    staff_id: int
    name: str
    day: dt.date
    kind: ShiftKind | None
    team_id: int | None


class PhonePublic(BaseModel):
    staff_id: int
    work_phone: str


# ------------------------------------------------------------------------------------------ postings


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


class AvailabilityChanged(StaffPublic):
    """A staff member after being marked available or not: the postings that ended because they no
    longer are (the sites they left), and the sentence the page shows, in the language asked for."""

    postings_ended: list[PostingPublic]
    message: str


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
