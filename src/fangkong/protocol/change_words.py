"""What a protocol switch changes in a plan, as messages a page renders in the reader's language.

``plan.PlanChange`` words its change in English for the JSON API, the CLI and the logs; a page reads the
same change through these ``Message`` parts instead (stage types, places and test methods are stored keys,
which the catalogs put into words). Pure: no database, no web.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from fangkong.core.i18n import Message
from fangkong.protocol.plan import DueTestTemplate, ManagementPlan, PlanChange, PlanTemplate, StageTemplate


def _stage(stage: StageTemplate) -> Message:
    return Message("{stage} {days} days", stage=Message(stage.type), days=stage.days)


def _stage_changes(old: PlanTemplate, new: PlanTemplate) -> list[Message]:
    changes: list[Message] = []
    for i in range(max(len(old.stages), len(new.stages))):
        before = old.stages[i] if i < len(old.stages) else None
        after = new.stages[i] if i < len(new.stages) else None
        n = i + 1
        if before is not None and after is None:
            changes.append(Message("stage {n} ({stage}) removed", n=n, stage=_stage(before)))
        elif before is None and after is not None:
            changes.append(Message("stage {n} ({stage}) added", n=n, stage=_stage(after)))
        elif before is not None and after is not None:
            if (before.type, before.place) != (after.type, after.place):
                changes.append(
                    Message("stage {n}: {before} → {after}", n=n, before=_stage(before), after=_stage(after))
                )
            elif before.days != after.days:
                changes.append(
                    Message(
                        "stage {n} ({stage}): {before} → {after} days",
                        n=n,
                        stage=Message(before.type),
                        before=before.days,
                        after=after.days,
                    )
                )
            if before.may_leave_home != after.may_leave_home and after.may_leave_home:
                changes.append(Message("stage {n}: may now leave home", n=n))
            elif before.may_leave_home != after.may_leave_home:
                changes.append(Message("stage {n}: may no longer leave home", n=n))
    return changes


def _tests(word: str, tests: list[DueTestTemplate]) -> Message:
    days = [
        Message(
            "{method} on stage {stage} day {day}",
            method=Message(t.method),
            stage=t.stage_number,
            day=t.stage_day,
        )
        for t in tests
    ]
    return Message(word, tests=days)


def describe(change: PlanChange) -> tuple[Message, ...]:
    """The change without dates (the same for everyone of a category whose clock did not move)."""
    old, new = change.old, change.new
    before, after = old.template, new.template
    parts: list[Message] = []
    if not after.defined:
        parts.append(
            Message("{protocol} does not define this category: management ends", protocol=after.protocol_id)
        )
    elif not after.identified and before.identified:
        parts.append(
            Message("no longer identified under {protocol}: management ends", protocol=after.protocol_id)
        )
    elif after.identified and not before.identified:
        parts.append(Message("identified again under {protocol}", protocol=after.protocol_id))
    headline = bool(parts)
    parts.extend(_stage_changes(before, after))
    shift = _shift(old, new)
    # Tests are matched by day (counted from the old clock date) and method, as the English summary does.
    old_tests = (
        {(t.plan_day - before.clock_event_day, t.method): t for t in before.tests} if old.managed else {}
    )
    new_tests = (
        {(t.plan_day - after.clock_event_day + shift, t.method): t for t in after.tests}
        if new.managed
        else {}
    )
    removed = [old_tests[k] for k in sorted(old_tests) if k not in new_tests]
    added = [new_tests[k] for k in sorted(new_tests) if k not in old_tests]
    if removed:
        parts.append(_tests("tests removed: {tests}", removed))
    if added:
        parts.append(_tests("tests added: {tests}", added))
    if old.managed and new.managed:
        moved = (after.total_days - after.clock_event_day + shift) - (
            before.total_days - before.clock_event_day
        )
        if moved > 0:
            parts.append(Message("management ends {n} days later", n=moved))
        elif moved < 0:
            parts.append(Message("management ends {n} days earlier", n=-moved))
    elif old.managed and not new.managed and not headline:
        parts.append(Message("management ends"))
    elif new.managed and not old.managed:
        parts.append(Message("management starts"))
    return tuple(parts) or (Message("no change"),)


def _shift(old: ManagementPlan, new: ManagementPlan) -> int:
    if old.clock_date is None or new.clock_date is None:
        return 0
    return (new.clock_date - old.clock_date).days


def count_described(changes: Iterable[PlanChange]) -> list[tuple[str, tuple[Message, ...], int]]:
    """``(category, change in words, people)`` for a switch, most frequent first (like ``count_changes``)."""
    counter: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], PlanChange] = {}
    for change in changes:
        key = (change.old.category, change.pattern)
        counter[key] += 1
        example.setdefault(key, change)
    return [(key[0], describe(example[key]), n) for key, n in counter.most_common()]
