"""Request and response models of the tracing API (``XCreate``/``XUpdate``/``XPublic`` families).

Times in requests are local wall-clock times (China Standard Time) unless they carry an offset; times in
responses are local wall-clock times too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fangkong.core.i18n import StoredText
from fangkong.tracing.models import (
    AssistStatus,
    Certainty,
    Classification,
    ContactCategory,
    ContactStatus,
    Outcome,
    PlaceKind,
)
from fangkong.tracing.rules import RuleError, parse_setting

MAX_ID = 2**31 - 1
"""Largest row id (PostgreSQL ``integer``): larger ids in a request are invalid input, not a crash."""


class PersonIn(BaseModel):
    name: str = Field(default="", max_length=50)
    id_number: str = Field(default="", max_length=18)
    phone: str = Field(default="", max_length=20)
    sex: str = Field(default="", max_length=6)
    age: int | None = Field(default=None, ge=0, le=130)
    community_code: str = Field(default="", max_length=12)
    address: str = Field(default="", max_length=200)
    residence_code: str = Field(default="", max_length=12)
    # A registry person already found (e.g. by ID number): recorded as that person.
    person_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class CaseCreate(BaseModel):
    classification: Classification
    person: PersonIn
    case_ref: str = Field(default="", max_length=40)
    onset_date: dt.date | None = None
    sampling_date: dt.date | None = None
    diagnosis_date: dt.date | None = None
    reported_at: dt.datetime | None = None
    imported: bool = False
    origin: str = Field(default="", max_length=100)
    isolated_at: dt.datetime | None = None
    outcome: Outcome | None = None
    outcome_date: dt.date | None = None
    notes: str = Field(default="", max_length=2000)


class CaseUpdateIn(BaseModel):
    onset_date: dt.date | None = None
    sampling_date: dt.date | None = None
    diagnosis_date: dt.date | None = None
    isolated_at: dt.datetime | None = None
    outcome: Outcome | None = None
    outcome_date: dt.date | None = None
    imported: bool | None = None
    origin: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=2000)


class ReclassifyIn(BaseModel):
    classification: Classification
    reason: str = Field(min_length=1, max_length=300)


class CasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_ref: str
    label: str
    classification: Classification
    onset_date: dt.date | None
    diagnosis_date: dt.date | None
    reported_at: dt.datetime
    imported: bool
    outcome: Outcome | None
    jurisdiction_name: str
    found_under_management: bool
    has_source: bool
    contacts: int
    cluster_id: int


class CasePage(BaseModel):
    items: list[CasePublic]
    total: int
    page: int
    size: int
    pages: int


class HistoryPublic(BaseModel):
    at: dt.datetime
    from_classification: Classification | None
    to_classification: Classification
    reason: StoredText


class VisitIn(BaseModel):
    kind: PlaceKind
    place_name: str = Field(default="", max_length=200)
    start: dt.datetime
    end: dt.datetime | None = None
    address: str = Field(default="", max_length=200)
    transport_no: str = Field(default="", max_length=40)
    carriage: str = Field(default="", max_length=10)
    seat: str = Field(default="", max_length=10)
    note: str = Field(default="", max_length=300)


class VisitsIn(BaseModel):
    visits: list[VisitIn] = Field(min_length=1, max_length=500)


class VisitPublic(BaseModel):
    id: int
    kind: PlaceKind
    place_name: str
    address: str | None
    transport_no: str | None
    carriage: str | None
    seat: str | None
    start: dt.datetime
    end: dt.datetime | None
    note: str | None


class ExposureIn(BaseModel):
    setting: str = Field(max_length=30)
    start: dt.datetime
    end: dt.datetime | None = None
    person: PersonIn | None = None
    contact_case_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    via_contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    protected: bool = False
    distance_m: float | None = Field(default=None, ge=0, le=100_000)
    duration_minutes: float | None = Field(default=None, ge=0, le=1_000_000)
    place: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=300)
    infected: Certainty | None = None

    @field_validator("setting")
    @classmethod
    def _known_setting(cls, value: str) -> str:
        try:
            return parse_setting(value)
        except RuleError as exc:
            raise ValueError(str(exc)) from None


class ExposuresIn(BaseModel):
    exposures: list[ExposureIn] = Field(min_length=1, max_length=500)


class ExposurePublic(BaseModel):
    id: int
    person: str
    setting: str
    start: dt.datetime
    end: dt.datetime | None
    protected: bool
    distance_m: float | None
    duration_minutes: float | None
    place: str | None
    via_contact_id: int | None
    exposed_case_id: int | None


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    case_id: int
    case_ref: str
    category: ContactCategory
    decided_by: str
    reason: StoredText
    setting: str | None
    last_exposure: dt.datetime
    status: ContactStatus
    plan_end: dt.date | None
    jurisdiction_name: str
    via_contact_id: int | None
    lives_elsewhere: bool
    converted_case_id: int | None
    via_label: str = ""
    tests_missed: int = 0
    test_due_now: bool = False


class ContactPage(BaseModel):
    items: list[ContactPublic]
    total: int
    page: int
    size: int
    pages: int


class LinkPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    infector_case_id: int
    infector_ref: str
    infectee_case_id: int
    infectee_ref: str
    certainty: Certainty
    in_scope: bool


class CaseDetailPublic(BaseModel):
    case: CasePublic
    sampling_date: dt.date | None
    isolated_at: dt.datetime | None
    origin: str | None
    outcome_date: dt.date | None
    notes: str | None
    history: list[HistoryPublic]
    visits: list[VisitPublic]
    exposures: list[ExposurePublic]
    contacts: list[ContactPublic]
    infected_by: list[LinkPublic]
    infected: list[LinkPublic]
    source_contact_id: int | None
    cluster_size: int
    no_known_source: bool


class PlannedTestPublic(BaseModel):
    """One test of an active contact's plan on the local today (``protocol.plan.schedule_on``)."""

    due: dt.date
    method: str
    state: Literal["done", "missed", "due", "upcoming"]
    sampled: dt.date | None


class ContactDetailPublic(BaseModel):
    contact: ContactPublic
    first_exposure: dt.datetime
    high_risk: bool
    protocol_id: str
    plan: dict[str, Any] | None
    exposures: list[ExposurePublic]
    assist_requests: list[AssistPublic]
    test_schedule: list[PlannedTestPublic] = []


class ConvertIn(BaseModel):
    classification: Classification
    case_ref: str = Field(default="", max_length=40)
    sampling_date: dt.date | None = None
    onset_date: dt.date | None = None
    diagnosis_date: dt.date | None = None


class OverrideIn(BaseModel):
    category: ContactCategory
    reason: str = Field(min_length=1, max_length=500)


class LinkIn(BaseModel):
    infector_case_id: int = Field(ge=1, le=MAX_ID)
    certainty: Certainty = Certainty.probable
    note: str = Field(default="", max_length=300)


class ClusterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    cluster_id: int
    name: str
    size: int
    first_onset: dt.date | None
    last_onset: dt.date | None
    first_report: dt.datetime
    last_report: dt.datetime
    found_under_management: int
    outbreak: bool


class ClusterPage(BaseModel):
    items: list[ClusterPublic]
    total: int
    page: int
    size: int


class KpiPublic(BaseModel):
    since: dt.date
    until: dt.date
    new_cases: int
    found_under_management: int
    managed_share: float | None
    no_known_source: int
    imported: int
    clusters: int
    largest_cluster: int
    active_contacts: int
    contacts_per_case: float | None
    assist_open_sent: int
    assist_open_received: int
    assist_overdue: int


class CandidatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: int
    case_ref: str
    classification: Classification
    onset_date: dt.date | None
    score: float
    reasons: list[str]
    already_linked: bool


class SourceReportPublic(BaseModel):
    case_id: int
    anchor: dt.date | None
    window_min_days: int
    window_max_days: int
    window_source: str
    candidates: list[CandidatePublic]


class AssistSendIn(BaseModel):
    receiver_code: str = Field(default="", max_length=12)
    message: str = Field(default="", max_length=500)


class AssistLocateIn(BaseModel):
    person_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    community_code: str = Field(default="", max_length=12)
    address: str = Field(default="", max_length=200)


class AssistReportIn(BaseModel):
    outcome: Literal["managed", "not_found", "moved_away", "already_managed", "refused"]
    note: str = Field(default="", max_length=280)


class AssistDeclineIn(BaseModel):
    reason: str = Field(min_length=1, max_length=300)


class StepPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    due: dt.datetime
    done: dt.datetime | None
    late: bool


class AssistPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    box: Literal["sent", "received"]
    status: AssistStatus
    category: str
    last_exposure: dt.date
    sender_name: str
    receiver_name: str
    sent_at: dt.datetime
    steps: list[StepPublic]
    outcome: str | None
    declined_reason: str | None
    contact_id: int | None
    person: dict[str, Any] | None
    located_person_id: int | None
    plan_summary: StoredText | None
    message: str | None
    overdue: bool
    person_label: str = ""


class AssistPage(BaseModel):
    items: list[AssistPublic]
    total: int
    page: int
    size: int
    pages: int


class ImportReportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    rows: int
    dry_run: bool
    cases: int
    exposures: int
    links: int
    contacts: dict[str, int]
    people_matched: int
    people_registered: int
    unidentified: int
    seconds: float


class MergeIn(BaseModel):
    person_id: int = Field(ge=1, le=MAX_ID)


ContactDetailPublic.model_rebuild()
