"""A protocol switch: everyone re-planned under the new protocol, with what changed for each person
(worked out once per pair of category templates) and the changes counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from fangkong.protocol.plan.compute import _plan_from_template
from fangkong.protocol.plan.model import (
    DueTest,
    DueTestTemplate,
    ManagementPlan,
    PlanFacts,
    PlanTemplate,
    StageTemplate,
)
from fangkong.protocol.plan.templates import _book
from fangkong.protocol.schema import Protocol


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
