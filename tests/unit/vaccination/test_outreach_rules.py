"""The outreach rules, table-tested: who is listed, what an outcome closes and for how long, when
reminders fall before and after the due date, and which plan a community's gap calls for; and every
word the outreach pages show for a stored key has its Chinese."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.i18n import translations
from fangkong.vaccination.models import DoseKind, OutreachMethod, OutreachOutcome, StatusState
from fangkong.vaccination.rules import outreach as rules
from fangkong.vaccination.rules.outreach import CommunityGap, Plan, Reminder

DAY = dt.date(2022, 12, 1)


def d(offset: int) -> dt.date:
    return DAY + dt.timedelta(days=offset)


@pytest.mark.parametrize(
    ("state", "due", "withheld", "listed"),
    [
        (StatusState.unvaccinated, None, False, True),
        (StatusState.unvaccinated, None, True, False),  # a contraindication withholds the dose
        (StatusState.primary_complete, d(-30), False, True),  # overdue
        (StatusState.primary_complete, d(7), False, True),  # due within the week's lead
        (StatusState.primary_complete, d(8), False, False),
        (StatusState.boosted, None, False, False),  # nothing more offered
        (StatusState.boosted, d(0), True, False),
    ],
)
def test_who_is_on_the_list(state: StatusState, due: dt.date | None, withheld: bool, listed: bool) -> None:
    assert rules.needs_outreach(state, due, withheld, DAY) is listed


@pytest.mark.parametrize(
    ("outcome", "attempted", "closed"),
    [
        (OutreachOutcome.refused, d(-29), True),
        (OutreachOutcome.refused, d(-30), False),  # asked again after 30 days
        (OutreachOutcome.moved, d(-3650), True),  # a move never lapses
        (OutreachOutcome.done_elsewhere, d(-59), True),
        (OutreachOutcome.done_elsewhere, d(-60), False),
        (OutreachOutcome.contraindicated, d(-10), True),
        (OutreachOutcome.appointment, d(0), False),
        (OutreachOutcome.no_answer, d(0), False),
        (None, None, False),
    ],
)
def test_what_an_outcome_closes(
    outcome: OutreachOutcome | None, attempted: dt.date | None, closed: bool
) -> None:
    assert rules.is_closed(outcome, attempted, DAY) is closed


@pytest.mark.parametrize(
    ("due", "appointment", "reminder"),
    [
        (d(7), None, Reminder.due_soon),
        (d(1), None, Reminder.due_soon),
        (d(3), None, None),
        (d(0), None, Reminder.due_today),
        (d(-7), None, Reminder.overdue),
        (d(-70), None, Reminder.overdue),
        (d(-8), None, None),
        (d(-8), d(1), Reminder.appointment),
        (None, None, None),
    ],
)
def test_when_a_reminder_falls(
    due: dt.date | None, appointment: dt.date | None, reminder: Reminder | None
) -> None:
    assert rules.reminder_on(due, appointment, DAY) is reminder


@pytest.mark.parametrize(
    ("due", "appointment", "next_on"),
    [
        (d(30), None, d(23)),
        (d(5), None, d(4)),
        (d(0), None, d(0)),
        (d(-3), None, d(4)),
        (d(-7), None, d(0)),
        (d(30), d(2), d(1)),
        (None, None, None),
    ],
)
def test_the_next_reminder(due: dt.date | None, appointment: dt.date | None, next_on: dt.date | None) -> None:
    assert rules.next_reminder(due, appointment, DAY) == next_on
    if next_on is not None:
        assert rules.reminder_on(due, appointment, next_on) is not None


@pytest.mark.parametrize(
    ("gap", "plans"),
    [
        (CommunityGap(100, 30, 0, 5), [Plan.mobile_site]),
        (CommunityGap(100, 29, 1, 5), [Plan.door_to_door]),
        (CommunityGap(100, 40, 3, 5), [Plan.mobile_site, Plan.door_to_door]),
        (CommunityGap(100, 2, 0, 5), [Plan.routine]),
    ],
)
def test_the_plan_a_gap_calls_for(gap: CommunityGap, plans: list[Plan]) -> None:
    assert rules.plans_for(gap) == plans


def test_ages_count_from_the_birthday() -> None:
    assert rules.born_on_or_before(dt.date(2022, 12, 1), 60) == dt.date(1962, 12, 1)
    assert rules.born_on_or_before(dt.date(2024, 2, 29), 61) == dt.date(1963, 2, 28)
    assert rules.age_on(dt.date(1962, 12, 2), DAY) == 59
    assert rules.age_on(dt.date(1962, 12, 1), DAY) == 60


def test_every_stored_key_the_outreach_pages_show_has_its_chinese() -> None:
    zh = translations("zh")
    keys = [*StatusState, *DoseKind, *OutreachMethod, *OutreachOutcome, *Reminder, *Plan]
    assert [k.value for k in keys if zh.pgettext("outreach", k.value) == k.value] == []
