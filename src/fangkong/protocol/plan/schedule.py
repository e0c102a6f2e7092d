"""A plan against the calendar: each planned test on a given day, done, missed, due or upcoming, given
the samples taken so far.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from fangkong.protocol.plan.model import DueTest, ManagementPlan
from fangkong.protocol.schema import TestMethod

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
