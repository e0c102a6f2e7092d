"""Response models of the command dashboard and accountability API (``/api/response/dashboard``,
``/api/response/accountability``).

Days are local days and times local wall-clock times. Shares are fractions (0..1) or null when there
was nothing to divide; hours are decimal hours.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from fangkong.core.clock import as_local

LocalTime = Annotated[dt.datetime, AfterValidator(as_local)]


class PlacePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    path: str
    level: str


class DistributionPublic(BaseModel):
    """A delay's distribution: finished items (``n``) with median and p90 hours, the share within the
    target (open items past it count as missed), the histogram (``counts`` per bin starting at
    ``edges``, the last bin open-ended), and the items still waiting."""

    model_config = ConfigDict(from_attributes=True)

    n: int
    median: float | None
    p90: float | None
    target_hours: float | None
    within_target: float | None
    edges: list[float]
    counts: list[int]
    waiting: int
    waiting_late: int


class ChildPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    place: PlacePublic
    cases_window: int
    cases_today: int
    under_measure: int
    overdue_tasks: int


class OverduePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    title_zh: str
    title_en: str
    subject_ref: str
    jpath: str
    due_at: LocalTime
    hours_late: float


class DashboardPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    place: PlacePublic
    parent: PlacePublic | None
    on: dt.date
    days: list[dt.date]
    by_report: list[int]
    by_onset: list[int]
    rt_mean: list[float | None]
    rt_low: list[float | None]
    rt_high: list[float | None]
    cases_today: int
    cases_window: int
    flows_window: dict[str, int]
    under_measure: dict[str, int]
    quarantine: dict[str, int]
    testing: dict[str, int]
    alerts: dict[str, int | float | None]
    areas: dict[str, int]
    overdue_count: int
    overdue: list[OverduePublic]
    timeliness: dict[str, DistributionPublic]
    found_under_management: float | None
    children: list[ChildPublic]


class TallyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    met: int
    missed: int
    met_share: float | None


class AccountabilityRowPublic(BaseModel):
    """A child area (``key`` its path) or a team (``key`` its name, "" for work held by no team)."""

    model_config = ConfigDict(from_attributes=True)

    key: str
    label: str
    place: PlacePublic | None
    weeks: list[TallyPublic]
    total: TallyPublic


class SlowStepPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    title_zh: str
    title_en: str
    judged: int
    missed: int
    median_late_hours: float | None
    p90_late_hours: float | None


class AccountabilityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    place: PlacePublic
    weeks: list[dt.date]
    total: TallyPublic
    by_jurisdiction: list[AccountabilityRowPublic]
    by_team: list[AccountabilityRowPublic]
    slowest: list[SlowStepPublic]


class RecountChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    jpath: str
    metric: str
    day: dt.date | None
    before: int
    after: int
