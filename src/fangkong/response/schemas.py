"""Request and response models of the tasks and templates API (``XCreate``/``XUpdate``/``XPublic``).

Times in responses are local wall-clock times. The closure and dashboard models live in
``schemas_closure`` and ``schemas_dashboard``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from fangkong.core.clock import as_local
from fangkong.core.i18n import render_text
from fangkong.response.models import Fulfilment, TaskState, Trigger

MAX_ID = 2**31 - 1
MAX_BULK = 500

LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]
RowIdField = Annotated[int, Field(ge=1, le=MAX_ID)]


def _english(value: object) -> object:
    return render_text(value, None) if isinstance(value, str) else value


# Notes and evidence the platform writes are stored as messages: the JSON API gives them in English.
Text = Annotated[str, BeforeValidator(_english)]


class TaskPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    trigger: Trigger
    fulfilment: Fulfilment
    title_zh: str
    title_en: str
    subject_kind: str
    subject_id: int
    subject_ref: str
    jurisdiction_id: int
    owner_role: str
    assignee_id: int | None
    team: str | None
    team_id: int | None
    state: TaskState
    depends_on_id: int | None
    opened_at: LocalTime
    # The first clock: never moved by escalation.
    due_at: LocalTime
    warn_at: LocalTime
    warned_at: LocalTime | None
    supervisor_notified_at: LocalTime | None
    escalated_at: LocalTime | None
    escalations: int
    late: bool
    started_at: LocalTime | None
    closed_at: LocalTime | None
    closed_by: str | None
    cancel_reason: Text | None
    evidence: Text | None


class TaskCounts(BaseModel):
    open: int = 0
    in_progress: int = 0
    done: int = 0
    cancelled: int = 0
    late: int = 0


class TaskPage(BaseModel):
    items: list[TaskPublic]
    total: int
    page: int
    size: int
    pages: int
    counts: TaskCounts


class TaskEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: LocalTime
    kind: str
    actor: str
    note: Text | None


class TaskDetailPublic(BaseModel):
    task: TaskPublic
    history: list[TaskEventPublic]
    assignee: str | None
    owner: str
    depends_on: TaskPublic | None


class AssignCreate(BaseModel):
    """A user whose role owns the task, or a team working for the task's place: by id, or by its name
    (one of the three)."""

    user_id: RowIdField | None = None
    team: str | None = Field(default=None, min_length=1, max_length=100)
    team_id: RowIdField | None = None


class CompleteCreate(BaseModel):
    evidence: str = Field(min_length=1, max_length=1000)


class CancelCreate(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class BulkCreate(BaseModel):
    action: str = Field(pattern="^(assign|start|complete|cancel|reopen)$")
    ids: list[RowIdField] = Field(min_length=1, max_length=MAX_BULK)
    user_id: RowIdField | None = None
    team: str | None = Field(default=None, max_length=100)
    team_id: RowIdField | None = None
    evidence: str | None = Field(default=None, max_length=1000)
    reason: str | None = Field(default=None, max_length=1000)


class BulkResultPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ok: bool
    state: str | None
    error: str | None


class BulkPublic(BaseModel):
    results: list[BulkResultPublic]
    done: int
    failed: int


class TemplatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    trigger: Trigger
    title_zh: str
    title_en: str
    minutes: int
    warn_minutes: int
    owner_role: str
    levels_up: int
    fulfilment: Fulfilment
    depends_on: str | None
    source: str
    active: bool
    position: int
    updated_at: LocalTime
    updated_by: str | None


class TemplateUpdate(BaseModel):
    title_zh: str | None = Field(default=None, min_length=1, max_length=100)
    title_en: str | None = Field(default=None, min_length=1, max_length=100)
    minutes: int | None = Field(default=None, ge=1, le=14 * 24 * 60)
    warn_minutes: int | None = Field(default=None, ge=0, le=14 * 24 * 60)
    owner_role: str | None = Field(default=None, max_length=32)
    levels_up: int | None = Field(default=None, ge=0, le=4)
    source: str | None = Field(default=None, min_length=1, max_length=2000)
    active: bool | None = None


class SweepPublic(BaseModel):
    at: LocalTime
    skipped: bool
    warned: list[int]
    supervisor_notified: list[int]
    escalated: list[int]
    opened: list[int]
    closed: list[int]
