"""Each person's management plan, computed from the protocol in force: pure, immutable and fast.

A protocol category turns into a :class:`PlanTemplate` once (stages and tests as plan-day numbers);
a person's :class:`ManagementPlan` is that template plus the date its clock counts from, so computing or
re-planning a plan costs one small object and dates are derived on demand. That is what lets a county
re-plan 100,000 people in well under a second when the protocol changes.

Day numbering: plan day ``n`` falls on ``clock_date + (n - clock_event_day)`` days, where the protocol's
``clock_event_day`` says whether the event itself (last exposure, arrival...) is day 0 or day 1. Stage
and test days in protocol files are numbered from 1 within their stage.

Dates assume every condition is met on schedule: a stage with exit rules (e.g. Ct >= 35 twice) or a plan
with release rules lasts longer when they are not met; a positive test is an upgrade, not an extension.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fangkong.core.i18n import Message
from fangkong.protocol.schema import (
    AllTestsNegative,
    Category,
    ClockEvent,
    CtAtLeast,
    DoubleSampleDoubleTest,
    FinalTestNegative,
    LinkedFirstTestsNegative,
    NegativeTestIfSymptoms,
    Place,
    Protocol,
    ReleaseRule,
    RoutineScreening,
    ShortenWithNegativeTest,
    StageType,
    TestMethod,
    Trigger,
)

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


def rule_message(rule: ReleaseRule) -> Message:
    """A release or exit rule in words, for the reader's language (the protocol file's note aside)."""
    match rule:
        case AllTestsNegative():
            return Message("all tests negative")
        case FinalTestNegative():
            return Message("final test negative")
        case LinkedFirstTestsNegative(count=count):
            return Message("the linked close contact's first {count} tests negative", count=count)
        case CtAtLeast():
            return Message(
                "{consecutive} consecutive tests with Ct ≥ {threshold} ({genes}), ≥ {hours} h apart",
                consecutive=rule.consecutive,
                threshold=float(rule.threshold),
                genes=", ".join(rule.genes),
                hours=rule.min_interval_hours,
            )
        case DoubleSampleDoubleTest(institutions=institutions):
            return Message(
                "double sample, double test by {institutions} institutions", institutions=institutions
            )
        case ShortenWithNegativeTest(day=day):
            return Message("may end on day {day} with a negative test", day=day)
        case NegativeTestIfSymptoms():
            return Message("if symptoms appear, stay until a negative test")


def describe_rule(rule: ReleaseRule) -> str:
    """A release or exit rule in English words, with the protocol file's note."""
    text = str(rule_message(rule))
    return f"{text} ({rule.note})" if rule.note else text


# --- a plan against the calendar --------------------------------------------------------------------

ScheduledState = Literal["done", "missed", "due", "upcoming"]


@dataclass(frozen=True, slots=True)
class ScheduledTest:
    """A planned test and where it stands on a given day."""

    test: DueTest
    state: ScheduledState
    # The sampling day of the result that counts for it (done only).
    sampled: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ScheduleOnDay:
    """A plan's tests on ``today``: what was done, what was missed, what is due now, what lies ahead."""

    today: dt.date
    tests: tuple[ScheduledTest, ...]

    @property
    def missed(self) -> tuple[ScheduledTest, ...]:
        return tuple(t for t in self.tests if t.state == "missed")

    @property
    def due_today(self) -> tuple[ScheduledTest, ...]:
        return tuple(t for t in self.tests if t.state == "due")

    @property
    def catch_up(self) -> bool:
        """Tests were missed and none is planned today: a sample is due now to make up for them."""
        return bool(self.missed) and not self.due_today

    @property
    def due_now(self) -> bool:
        return bool(self.due_today) or self.catch_up

    @property
    def upcoming(self) -> tuple[ScheduledTest, ...]:
        return tuple(t for t in self.tests if t.state == "upcoming")


def schedule_on(
    plan: ManagementPlan, today: dt.date, results: Iterable[tuple[dt.date, TestMethod]] = ()
) -> ScheduleOnDay:
    """Each of the plan's tests on ``today`` (the local day), given the samples taken so far.

    ``results`` are (sampling day, method) of the person's results. A result counts for the test of the
    same method whose day it falls on or after and before that method's next test day: a late sample
    still does the test. A test whose day has passed without one is missed; one planned today and not
    yet done is due; later ones are upcoming. Tests are in the plan's order.
    """
    by_method: dict[str, list[dt.date]] = {}
    for day, method in results:
        by_method.setdefault(method, []).append(day.date() if isinstance(day, dt.datetime) else day)
    for days in by_method.values():
        days.sort()
    planned = plan.tests
    out: list[ScheduledTest] = []
    for index, test in enumerate(planned):
        following = next((t.due for t in planned[index + 1 :] if t.method == test.method), None)
        sampled = next(
            (
                day
                for day in by_method.get(test.method, ())
                if test.due <= day <= today and (following is None or day < following)
            ),
            None,
        )
        if sampled is not None:
            out.append(ScheduledTest(test, "done", sampled))
        elif test.due < today:
            out.append(ScheduledTest(test, "missed"))
        elif test.due == today:
            out.append(ScheduledTest(test, "due"))
        else:
            out.append(ScheduledTest(test, "upcoming"))
    return ScheduleOnDay(today, tuple(out))


# --- templates -------------------------------------------------------------------------------------


def _compile(protocol: Protocol, name: str, category: Category) -> PlanTemplate:
    stages: list[StageTemplate] = []
    tests: list[DueTestTemplate] = []
    before = 0
    for number, stage in enumerate(category.stages, start=1):
        stages.append(
            StageTemplate(
                number=number,
                type=stage.type,
                place=stage.place,
                alternative_place=stage.alternative_place,
                may_leave_home=stage.may_leave_home,
                daily_health_check=stage.daily_health_check,
                days=stage.days,
                first_day=before + 1,
                last_day=before + stage.days,
                exit=stage.exit,
                note=stage.note,
            )
        )
        for schedule in stage.tests:
            for stage_day in schedule.days:
                tests.append(
                    DueTestTemplate(
                        plan_day=before + stage_day,
                        stage_number=number,
                        stage_day=stage_day,
                        method=schedule.method,
                        specimen=schedule.specimen,
                        note=schedule.note,
                    )
                )
        before += stage.days
    tests.sort(key=lambda t: (t.plan_day, t.method))
    return PlanTemplate(
        protocol_id=protocol.id,
        category=name,
        label=category.label,
        defined=True,
        identified=category.identified,
        clock=category.clock,
        clock_event_day=protocol.clock_event_day,
        stages=tuple(stages),
        tests=tuple(tests),
        release=category.release,
        screening=category.screening,
        total_days=before,
        on_release=category.on_release,
        note=category.note,
    )


def _undefined(protocol: Protocol, name: str) -> PlanTemplate:
    return PlanTemplate(
        protocol_id=protocol.id,
        category=name,
        label=name,
        defined=False,
        identified=False,
        clock=None,
        clock_event_day=protocol.clock_event_day,
        stages=(),
        tests=(),
        release=(),
        screening=None,
        total_days=0,
        on_release=None,
        note=f"{protocol.id} does not define the category {name!r}",
    )


@dataclass
class _TemplateBook:
    protocol: Protocol
    templates: dict[str, PlanTemplate]
    undefined: dict[str, PlanTemplate] = field(default_factory=dict)

    def get(self, name: str) -> PlanTemplate:
        found = self.templates.get(name)
        if found is not None:
            return found
        if name not in self.undefined:
            self.undefined[name] = _undefined(self.protocol, name)
        return self.undefined[name]


_BOOKS: OrderedDict[int, _TemplateBook] = OrderedDict()
_BOOK_LIMIT = 64


def _book(protocol: Protocol) -> _TemplateBook:
    # Keyed by identity and holding the protocol, so an id is never reused while cached.
    key = id(protocol)
    book = _BOOKS.get(key)
    if book is not None and book.protocol is protocol:
        _BOOKS.move_to_end(key)
        return book
    book = _TemplateBook(
        protocol, {name: _compile(protocol, name, c) for name, c in protocol.categories.items()}
    )
    _BOOKS[key] = book
    if len(_BOOKS) > _BOOK_LIMIT:
        _BOOKS.popitem(last=False)
    return book


def plan_templates(protocol: Protocol) -> Mapping[str, PlanTemplate]:
    """The compiled template of every category of ``protocol``."""
    return dict(_book(protocol).templates)


# --- plans -------------------------------------------------------------------------------------------


def _plan_from_template(template: PlanTemplate, facts: PlanFacts) -> ManagementPlan:
    if not template.stages:
        clock = facts.clock_date(template.clock) if template.clock else None
        return ManagementPlan(template, clock)
    assert template.clock is not None  # checks.py: a category with stages names its clock
    clock_date = facts.clock_date(template.clock)
    if clock_date is None:
        raise PlanError(
            f"{template.category} under {template.protocol_id} counts from "
            f"{template.clock.replace('_', ' ')}, which the facts do not give"
        )
    return ManagementPlan(template, clock_date)


def compute_plan(
    protocol: Protocol, category: str, facts: PlanFacts, existing: ManagementPlan | None = None
) -> ManagementPlan:
    """The plan for a person of ``category`` under ``protocol``.

    With ``existing`` (the person's current plan for the same category and protocol), a later clock date
    restarts the clock and an earlier one changes nothing, so re-planning never shortens a plan.
    """
    if category not in protocol.categories:
        raise PlanError(f"protocol {protocol.id} has no category {category!r}")
    plan = _plan_from_template(_book(protocol).get(category), facts)
    if existing is None:
        return plan
    if existing.category != category or existing.protocol_id != protocol.id:
        raise PlanError(
            "the existing plan is for another category or protocol; use upgrade_plan or replan_for_protocol"
        )
    if existing.clock_date is not None and (
        plan.clock_date is None or plan.clock_date <= existing.clock_date
    ):
        return existing
    return plan


def replan_on_exposure(plan: ManagementPlan, exposure: dt.date) -> ManagementPlan:
    """A new exposure: a later one restarts the clock, an earlier or same-day one changes nothing."""
    if isinstance(exposure, dt.datetime):
        exposure = exposure.date()
    if plan.template.clock != "last_exposure":
        raise PlanError(
            f"the plan for {plan.category} counts from {plan.template.clock}, not from exposure: "
            "classify the new exposure and upgrade instead"
        )
    if plan.clock_date is not None and exposure <= plan.clock_date:
        return plan
    return ManagementPlan(plan.template, exposure)


def upgrade_targets(protocol: Protocol, category: str, trigger: Trigger) -> tuple[str, ...]:
    """Categories a person of ``category`` may become when ``trigger`` happens under ``protocol``."""
    targets: list[str] = []
    for rule in protocol.upgrades:
        if rule.when == trigger and category in rule.from_:
            targets.extend(name for name in rule.to if name not in targets)
    return tuple(targets)


def upgrade_plan(
    protocol: Protocol, plan: ManagementPlan, to: str, facts: PlanFacts, trigger: Trigger
) -> ManagementPlan:
    """Replace ``plan`` by the plan of the category the person is upgraded to.

    Nothing of the old plan is kept: the new category's stages count from its own clock (the last
    exposure to the linked contact for a contact of a contact, the diagnosis for a new case).
    """
    allowed = upgrade_targets(protocol, plan.category, trigger)
    if to not in allowed:
        choices = ", ".join(allowed) or "none"
        raise PlanError(
            f"{protocol.id} has no upgrade from {plan.category} to {to} on {trigger} (allowed: {choices})"
        )
    return compute_plan(protocol, to, facts)


# --- protocol switch -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanChange:
    """What a protocol switch changed in one person's plan.

    Everything relative (stages, which test days, by how many days the end moved) is worked out once per
    pair of category templates and shared; only the dates are the person's own, derived on demand.
    """

    old: ManagementPlan
    new: ManagementPlan

    @property
    def changed(self) -> bool:
        pattern = _pattern(self.old, self.new)
        return bool(pattern.details or pattern.end_text)

    @property
    def end_moved_days(self) -> int | None:
        """Days the end date moved (negative: earlier); ``None`` if either plan has no end."""
        before, after = self.old.end_date, self.new.end_date
        if before is None or after is None:
            return None
        return (after - before).days

    @property
    def stage_changes(self) -> tuple[str, ...]:
        return _pattern(self.old, self.new).stage_changes

    def _reference(self) -> dt.date | None:
        return self.old.clock_date if self.old.clock_date is not None else self.new.clock_date

    @property
    def tests_removed(self) -> tuple[DueTest, ...]:
        return _due_tests(self._reference(), _pattern(self.old, self.new).removed)

    @property
    def tests_added(self) -> tuple[DueTest, ...]:
        return _due_tests(self._reference(), _pattern(self.old, self.new).added)

    @property
    def pattern(self) -> str:
        """The change without dates: the same for everyone of a category, so changes can be counted."""
        return _pattern(self.old, self.new).text

    @property
    def summary(self) -> str:
        """The change for this person, in words and dates."""
        old, new = self.old, self.new
        # A summary depends only on the two templates and the two clock dates, which many people share.
        key = (id(old.template), id(new.template), old.clock_date, new.clock_date)
        cached = _SUMMARIES.get(key)
        if cached is not None and cached[0] is old.template and cached[1] is new.template:
            return cached[2]
        text = self._summary()
        if len(_SUMMARIES) > 65536:
            _SUMMARIES.clear()
        _SUMMARIES[key] = (old.template, new.template, text)
        return text

    def _summary(self) -> str:
        old, new = self.old, self.new
        pattern = _pattern(old, new)
        parts = list(pattern.headline)
        parts.extend(pattern.stage_changes)
        reference = self._reference()
        if reference is not None:
            for word, tests in (("removed", pattern.removed), ("added", pattern.added)):
                if tests:
                    dates = ", ".join(f"{reference + dt.timedelta(days=t.offset)}{t.text}" for t in tests)
                    parts.append(f"tests {word}: {dates}")
        before, after = old.end_date, new.end_date
        if before is not None and after is not None and before != after:
            parts.append(f"end {before} → {after} ({_days_moved((after - before).days)})")
        elif before is not None and after is None:
            parts.append(f"management that was to end {before} ends now")
        elif before is None and after is not None:
            parts.append(f"management starts, ending {after}")
        if not parts:
            parts.append("no change")
        return f"{old.category}, {old.protocol_id} → {new.protocol_id}: " + "; ".join(parts)


_SUMMARIES: dict[tuple[int, int, dt.date | None, dt.date | None], tuple[PlanTemplate, PlanTemplate, str]] = {}


def _days_moved(moved: int) -> str:
    return f"{abs(moved)} day{'s' if abs(moved) != 1 else ''} {'later' if moved > 0 else 'earlier'}"


@dataclass(frozen=True, slots=True)
class _ChangedTest:
    """A test added or removed, as days after the reference clock date."""

    offset: int
    template: DueTestTemplate
    text: str


def _due_tests(reference: dt.date | None, tests: tuple[_ChangedTest, ...]) -> tuple[DueTest, ...]:
    if reference is None:
        return ()
    return tuple(
        DueTest(
            due=reference + dt.timedelta(days=t.offset),
            plan_day=t.template.plan_day,
            stage_number=t.template.stage_number,
            stage_day=t.template.stage_day,
            method=t.template.method,
            specimen=t.template.specimen,
            note=t.template.note,
        )
        for t in tests
    )


@dataclass(frozen=True, slots=True)
class _Pattern:
    headline: tuple[str, ...]
    stage_changes: tuple[str, ...]
    removed: tuple[_ChangedTest, ...]
    added: tuple[_ChangedTest, ...]
    end_text: str
    details: tuple[str, ...] = field(init=False)
    text: str = field(init=False)

    def __post_init__(self) -> None:
        tests = []
        for word, changed in (("removed", self.removed), ("added", self.added)):
            if changed:
                where = (f"stage {t.template.stage_number} day {t.template.stage_day}" for t in changed)
                tests.append(f"tests {word} on " + ", ".join(where))
        details = self.headline + self.stage_changes + tuple(tests)
        parts = [*details, self.end_text] if self.end_text else list(details)
        object.__setattr__(self, "details", details)
        object.__setattr__(self, "text", "; ".join(parts) if parts else "no change")


_PATTERNS: dict[tuple[int, int, int, bool, bool], tuple[PlanTemplate, PlanTemplate, _Pattern]] = {}


def _pattern(old: ManagementPlan, new: ManagementPlan) -> _Pattern:
    shift = 0
    if old.clock_date is not None and new.clock_date is not None:
        shift = (new.clock_date - old.clock_date).days
    key = (id(old.template), id(new.template), shift, old.managed, new.managed)
    cached = _PATTERNS.get(key)
    if cached is not None and cached[0] is old.template and cached[1] is new.template:
        return cached[2]
    result = _describe_pattern(old.template, new.template, shift, old.managed, new.managed)
    if len(_PATTERNS) > 4096:
        _PATTERNS.clear()
    _PATTERNS[key] = (old.template, new.template, result)
    return result


def _stage_text(stage: StageTemplate) -> str:
    return f"{stage.type.replace('_', ' ')} {stage.days} d"


def _stage_changes(old: PlanTemplate, new: PlanTemplate) -> list[str]:
    changes: list[str] = []
    for i in range(max(len(old.stages), len(new.stages))):
        before = old.stages[i] if i < len(old.stages) else None
        after = new.stages[i] if i < len(new.stages) else None
        label = f"stage {i + 1}"
        if before is not None and after is None:
            changes.append(f"{label} {_stage_text(before)} removed")
        elif before is None and after is not None:
            changes.append(f"{label} {_stage_text(after)} added")
        elif before is not None and after is not None:
            if (before.type, before.place) != (after.type, after.place):
                changes.append(f"{label} {_stage_text(before)} → {_stage_text(after)}")
            elif before.days != after.days:
                changes.append(f"{label} {before.type.replace('_', ' ')}: {before.days} → {after.days} days")
            if before.may_leave_home != after.may_leave_home:
                rule = "may leave home" if after.may_leave_home else "may not leave home"
                changes.append(f"{label}: now {rule}")
    return changes


def _changed_test(offset: int, test: DueTestTemplate) -> _ChangedTest:
    return _ChangedTest(offset, test, f" ({test.method}, stage {test.stage_number} day {test.stage_day})")


def _describe_pattern(
    old: PlanTemplate, new: PlanTemplate, shift: int, old_managed: bool, new_managed: bool
) -> _Pattern:
    headline: list[str] = []
    if not new.defined:
        headline.append(f"{new.protocol_id} does not define this category: management ends")
    elif not new.identified and old.identified:
        headline.append(f"no longer identified under {new.protocol_id}: management ends")
    elif new.identified and not old.identified:
        headline.append(f"identified again under {new.protocol_id}")
    # Tests are matched by day (counted from the old clock date) and method.
    old_tests = {(t.plan_day - old.clock_event_day, t.method): t for t in old.tests} if old_managed else {}
    new_tests = (
        {(t.plan_day - new.clock_event_day + shift, t.method): t for t in new.tests} if new_managed else {}
    )
    removed = tuple(
        _changed_test(key[0], old_tests[key]) for key in sorted(old_tests) if key not in new_tests
    )
    added = tuple(_changed_test(key[0], new_tests[key]) for key in sorted(new_tests) if key not in old_tests)
    end_text = ""
    if old_managed and new_managed:
        moved = (new.total_days - new.clock_event_day + shift) - (old.total_days - old.clock_event_day)
        if moved:
            end_text = f"end {_days_moved(moved)}"
    elif old_managed and not new_managed and not headline:
        end_text = "management ends"
    elif new_managed and not old_managed:
        end_text = "management starts"
    return _Pattern(tuple(headline), tuple(_stage_changes(old, new)), removed, added, end_text)


def replan_for_protocol(
    facts: PlanFacts, old: ManagementPlan, new_protocol: Protocol
) -> tuple[ManagementPlan, PlanChange]:
    """Re-plan one person under ``new_protocol``, with what changed.

    The category keeps its name; if the new protocol does not define or no longer identifies it, the
    person is no longer managed. When both protocols count the category from the same clock, the old
    plan's clock date is kept (it already includes any restart on a later exposure).
    """
    template = _book(new_protocol).get(old.category)
    return _replan(template, facts, old)


def _replan(
    template: PlanTemplate, facts: PlanFacts, old: ManagementPlan
) -> tuple[ManagementPlan, PlanChange]:
    if not template.stages:
        new = ManagementPlan(template, None)
    elif template.clock == old.template.clock and old.clock_date is not None:
        new = ManagementPlan(template, old.clock_date)
    else:
        new = _plan_from_template(template, facts)
    return new, PlanChange(old, new)


def replan_many(
    people: Iterable[tuple[PlanFacts, ManagementPlan]], new_protocol: Protocol
) -> list[tuple[ManagementPlan, PlanChange]]:
    """Re-plan everyone under management after a protocol switch (see :func:`replan_for_protocol`)."""
    book = _book(new_protocol)
    return [_replan(book.get(old.category), facts, old) for facts, old in people]


def count_changes(changes: Iterable[PlanChange]) -> list[tuple[str, str, int]]:
    """``(category, change without dates, people)`` for a switch, most frequent first."""
    counter: Counter[tuple[str, str]] = Counter()
    for change in changes:
        counter[(change.old.category, change.pattern)] += 1
    return [(category, text, n) for (category, text), n in counter.most_common()]
