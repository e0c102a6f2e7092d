"""The shapes of a plan: the facts it counts from, a category compiled as a template of plan days, and
a person's :class:`ManagementPlan` (a template anchored at a clock date, its stages and tests dated on
demand).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from fangkong.protocol.plan.wording import describe_rule
from fangkong.protocol.schema import ClockEvent, Place, ReleaseRule, RoutineScreening, StageType, TestMethod

PlanStatus = Literal["not_managed", "not_started", "under_management", "released"]


class PlanError(ValueError):
    """The facts or the request do not allow a plan (a missing clock date, an unknown category...)."""


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """What is known about a person that a plan may count from."""

    last_exposure: dt.date | None = None
    arrival: dt.date | None = None
    area_departure: dt.date | None = None
    diagnosis: dt.date | None = None
    duty_end: dt.date | None = None

    def __post_init__(self) -> None:
        # A datetime is accepted for convenience; plans count whole days.
        for name in ("last_exposure", "arrival", "area_departure", "diagnosis", "duty_end"):
            value = getattr(self, name)
            if isinstance(value, dt.datetime):
                object.__setattr__(self, name, value.date())

    def clock_date(self, event: ClockEvent) -> dt.date | None:
        value: dt.date | None = getattr(self, event)
        return value


@dataclass(frozen=True, slots=True, eq=False)
class StageTemplate:
    """A stage as plan-day numbers: the same for everyone of a category."""

    number: int
    type: StageType
    place: Place
    alternative_place: Place | None
    may_leave_home: bool
    daily_health_check: bool
    days: int
    first_day: int
    last_day: int
    exit: tuple[ReleaseRule, ...]
    note: str | None


@dataclass(frozen=True, slots=True, eq=False)
class DueTestTemplate:
    plan_day: int
    stage_number: int
    stage_day: int
    method: TestMethod
    specimen: str | None
    note: str | None


@dataclass(frozen=True, slots=True, eq=False)
class PlanTemplate:
    """A category of a protocol, compiled once; plans share it (compared by identity)."""

    protocol_id: str
    category: str
    label: str
    defined: bool
    identified: bool
    clock: ClockEvent | None
    clock_event_day: int
    stages: tuple[StageTemplate, ...]
    tests: tuple[DueTestTemplate, ...]
    release: tuple[ReleaseRule, ...]
    screening: RoutineScreening | None
    total_days: int
    on_release: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class PlannedStage:
    number: int
    type: StageType
    place: Place
    alternative_place: Place | None
    may_leave_home: bool
    daily_health_check: bool
    days: int
    first_day: int
    last_day: int
    start: dt.date
    end: dt.date
    exit: tuple[ReleaseRule, ...]
    note: str | None

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class DueTest:
    due: dt.date
    plan_day: int
    stage_number: int
    stage_day: int
    method: TestMethod
    specimen: str | None
    note: str | None


def _stage_on_date(stage: StageTemplate, clock_date: dt.date, shift: int) -> PlannedStage:
    return PlannedStage(
        number=stage.number,
        type=stage.type,
        place=stage.place,
        alternative_place=stage.alternative_place,
        may_leave_home=stage.may_leave_home,
        daily_health_check=stage.daily_health_check,
        days=stage.days,
        first_day=stage.first_day,
        last_day=stage.last_day,
        start=clock_date + dt.timedelta(days=stage.first_day - shift),
        end=clock_date + dt.timedelta(days=stage.last_day - shift),
        exit=stage.exit,
        note=stage.note,
    )


@dataclass(frozen=True, slots=True)
class ManagementPlan:
    """One person's plan: a category template anchored at the date its clock counts from."""

    template: PlanTemplate
    clock_date: dt.date | None

    @property
    def protocol_id(self) -> str:
        return self.template.protocol_id

    @property
    def category(self) -> str:
        return self.template.category

    @property
    def managed(self) -> bool:
        return bool(self.template.stages) and self.clock_date is not None

    @property
    def release(self) -> tuple[ReleaseRule, ...]:
        return self.template.release

    @property
    def total_days(self) -> int:
        return self.template.total_days

    def date_of_day(self, plan_day: int) -> dt.date:
        if self.clock_date is None:
            raise PlanError(f"the plan for {self.category} has no clock date")
        return self.clock_date + dt.timedelta(days=plan_day - self.template.clock_event_day)

    def day_number(self, day: dt.date) -> int | None:
        """The plan day that ``day`` is (may be 0 or negative before the plan starts)."""
        if self.clock_date is None:
            return None
        return (day - self.clock_date).days + self.template.clock_event_day

    @property
    def stages(self) -> tuple[PlannedStage, ...]:
        if self.clock_date is None:
            return ()
        shift = self.template.clock_event_day
        return tuple(_stage_on_date(stage, self.clock_date, shift) for stage in self.template.stages)

    @property
    def tests(self) -> tuple[DueTest, ...]:
        if self.clock_date is None or not self.template.stages:
            return ()
        base = self.clock_date - dt.timedelta(days=self.template.clock_event_day)
        return tuple(
            DueTest(
                due=base + dt.timedelta(days=test.plan_day),
                plan_day=test.plan_day,
                stage_number=test.stage_number,
                stage_day=test.stage_day,
                method=test.method,
                specimen=test.specimen,
                note=test.note,
            )
            for test in self.template.tests
        )

    @property
    def start_date(self) -> dt.date | None:
        if not self.managed:
            return None
        return self.date_of_day(1)

    @property
    def end_date(self) -> dt.date | None:
        """The last day under management (inclusive), or ``None`` for an unmanaged person."""
        if not self.managed:
            return None
        return self.date_of_day(self.template.total_days)

    def stage_on(self, day: dt.date) -> PlannedStage | None:
        number = self.day_number(day)
        if number is None or self.clock_date is None:
            return None
        for stage in self.template.stages:
            if stage.first_day <= number <= stage.last_day:
                return _stage_on_date(stage, self.clock_date, self.template.clock_event_day)
        return None

    def tests_due_on(self, day: dt.date) -> tuple[DueTest, ...]:
        return tuple(test for test in self.tests if test.due == day)

    def status_on(self, day: dt.date) -> PlanStatus:
        end = self.end_date
        start = self.start_date
        if end is None or start is None:
            return "not_managed"
        if day < start:
            return "not_started"
        return "under_management" if day <= end else "released"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the plan."""
        return {
            "protocol": self.protocol_id,
            "category": self.category,
            "label": self.template.label,
            "managed": self.managed,
            "identified": self.template.identified,
            "defined": self.template.defined,
            "clock": self.template.clock,
            "clock_date": _iso(self.clock_date),
            "clock_event_day": self.template.clock_event_day,
            "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date),
            "total_days": self.total_days if self.managed else 0,
            "stages": [
                {
                    "number": s.number,
                    "type": s.type,
                    "place": s.place,
                    "alternative_place": s.alternative_place,
                    "may_leave_home": s.may_leave_home,
                    "daily_health_check": s.daily_health_check,
                    "days": s.days,
                    "start": s.start.isoformat(),
                    "end": s.end.isoformat(),
                    "exit": [rule.model_dump(mode="json") for rule in s.exit],
                }
                for s in self.stages
            ],
            "tests": [
                {
                    "due": t.due.isoformat(),
                    "plan_day": t.plan_day,
                    "stage": t.stage_number,
                    "stage_day": t.stage_day,
                    "method": t.method,
                    "specimen": t.specimen,
                }
                for t in self.tests
            ],
            "release": [rule.model_dump(mode="json") for rule in self.release],
            "release_text": [describe_rule(rule) for rule in self.release],
            "screening": self.template.screening.model_dump(mode="json") if self.template.screening else None,
            "on_release": self.template.on_release,
            "note": self.template.note,
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None
