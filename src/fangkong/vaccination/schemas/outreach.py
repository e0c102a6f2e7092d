"""Request and response models of the outreach API: the worklist, contact attempts, reminders and the
ranking of communities by their unvaccinated elderly."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from fangkong.vaccination.models import OutreachMethod, OutreachOutcome, StatusState
from fangkong.vaccination.rules.outreach import Plan, Reminder


class AttemptCreate(BaseModel):
    method: OutreachMethod
    outcome: OutreachOutcome
    appointment_on: dt.date | None = None
    note: str = Field("", max_length=200)
    # The day of the contact (default today; up to 30 days back).
    attempted_on: dt.date | None = None


class AttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    attempted_on: dt.date
    method: OutreachMethod
    outcome: OutreachOutcome
    appointment_on: dt.date | None
    note: str
    recorded_by: str


class WorkItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: int
    name: str
    sex: str
    age: int
    community: str
    community_code: str
    state: StatusState
    next_kind: str | None
    due_on: dt.date | None
    attempts: int
    last_on: dt.date | None
    last_method: OutreachMethod | None
    last_outcome: OutreachOutcome | None
    appointment_on: dt.date | None
    next_reminder: dt.date | None
    reminder: Reminder | None = None


class WorkPagePublic(BaseModel):
    items: list[WorkItemPublic]
    total: int
    page: int
    size: int
    pages: int


class GapPublic(BaseModel):
    jurisdiction_id: int
    code: str
    name: str
    people_60: int
    unvaccinated_60: int
    unvaccinated_80: int
    due_60: int
    unvaccinated_share: float | None
    plans: list[Plan]


class GapPagePublic(BaseModel):
    items: list[GapPublic]
    total: int
    page: int
    size: int
    pages: int
    unvaccinated_60: int
    unvaccinated_80: int
