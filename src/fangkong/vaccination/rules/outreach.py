"""Outreach rules (应接尽接): who is on a community worker's list, which contact outcome takes a person off
it and for how long, when reminders fall before and after the due date, and which communities call for
door-to-door visits or a mobile site. Pure: no database, no clock (``today`` is passed in).

Every number is on its own line with its unit and where it comes from. Tags as in protocols.md:
``S`` stated by a source, ``C`` a platform choice made to carry out a stated aim.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from fangkong.vaccination.models import OutreachOutcome, StatusState

# vax.elderly_plan (S31, S32): the plan is about people aged 60 and over, fastest for 80 and over.
MIN_AGE = 60  # years
OLDEST_AGE = 80  # years
# A dose due within this many days is already worth a call (C: one week to arrange a visit).
REMINDER_LEAD_DAYS = 7  # days
# Reminders before the due date (C): a week ahead, and the day before.
REMIND_BEFORE_DAYS = (7, 1)  # days before due_on
# Reminders after it (C): weekly while the dose is overdue, "keep asking" of vax.new10 (S26b).
REMIND_EVERY_AFTER_DAYS = 7  # days
# An appointment is recalled the day before (C).
APPOINTMENT_REMINDER_DAYS = 1  # days before appointment_on

# How long the latest contact outcome keeps a person off the list (None: until a newer attempt says
# otherwise). C, after vax.new10 (S26b) "应接尽接": nobody is dropped for good except who left.
CLOSED_FOR_DAYS: dict[OutreachOutcome, int | None] = {
    # The person no longer lives here: the registry moves them; the list is no place for them.
    OutreachOutcome.moved: None,
    # Vaccinated at another site: long enough for that site's record to be imported (two monthly
    # exports); if it never arrives the person comes back on the list.
    OutreachOutcome.done_elsewhere: 60,
    # A refusal is asked again after a month (vax.new10: persuasion, not coercion).
    OutreachOutcome.refused: 30,
    # The worker's word is a postponement (fever, a flare); a permanent reason is recorded as a
    # contraindication (vax.contraindications), which then withholds the dose in the status itself.
    OutreachOutcome.contraindicated: 30,
}

# Planning thresholds per community (C, vax.new10 "临时接种点、流动接种车"):
# a mobile site pays off where this many people aged 60+ are unvaccinated (about one vehicle-day).
MOBILE_SITE_MIN_UNVACCINATED = 30  # people
# Door-to-door visits go to the oldest: any unvaccinated person aged 80+ who is not already on a
# mobile-site day (vax.elderly_plan: "加快提升80岁以上人群接种率").
DOOR_TO_DOOR_MIN_OLDEST = 1  # people


class Reminder(enum.StrEnum):
    due_soon = "due_soon"  # before the due date
    due_today = "due_today"
    overdue = "overdue"  # after the due date, weekly
    appointment = "appointment"  # the day before an appointment


class Plan(enum.StrEnum):
    mobile_site = "mobile_site"
    door_to_door = "door_to_door"
    routine = "routine"  # phone calls and the fixed site are enough


def born_on_or_before(today: dt.date, years: int) -> dt.date:
    """The latest birth date of a person who is at least ``years`` old on ``today`` (on 29 February,
    28 February of a common year: who was born then has had the birthday)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return dt.date(today.year - years, 2, 28)


def age_on(birth_date: dt.date, today: dt.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def needs_outreach(
    state: StatusState,
    due_on: dt.date | None,
    contraindicated: bool,
    today: dt.date,
    lead_days: int = REMINDER_LEAD_DAYS,
) -> bool:
    """On the list: unvaccinated, or a dose due within the lead; never while a dose is withheld."""
    if contraindicated:
        return False
    if state is StatusState.unvaccinated:
        return True
    return due_on is not None and due_on <= today + dt.timedelta(days=lead_days)


def closed_until(outcome: OutreachOutcome, attempted_on: dt.date) -> dt.date | None:
    """The first day the person is back on the list after this outcome; ``None`` if it does not close
    them; ``dt.date.max`` if only a newer attempt reopens them."""
    if outcome not in CLOSED_FOR_DAYS:
        return None
    days = CLOSED_FOR_DAYS[outcome]
    return dt.date.max if days is None else attempted_on + dt.timedelta(days=days)


def is_closed(outcome: OutreachOutcome | None, attempted_on: dt.date | None, today: dt.date) -> bool:
    if outcome is None or attempted_on is None:
        return False
    until = closed_until(outcome, attempted_on)
    return until is not None and today < until


def reminder_on(due_on: dt.date | None, appointment_on: dt.date | None, day: dt.date) -> Reminder | None:
    """The reminder that falls on ``day``, if any (an appointment's comes first)."""
    if appointment_on is not None and appointment_on - dt.timedelta(days=APPOINTMENT_REMINDER_DAYS) == day:
        return Reminder.appointment
    if due_on is None:
        return None
    if day == due_on:
        return Reminder.due_today
    if day < due_on:
        return Reminder.due_soon if (due_on - day).days in REMIND_BEFORE_DAYS else None
    return Reminder.overdue if (day - due_on).days % REMIND_EVERY_AFTER_DAYS == 0 else None


def next_reminder(due_on: dt.date | None, appointment_on: dt.date | None, today: dt.date) -> dt.date | None:
    """The first day from ``today`` on which a reminder falls (what the worklist shows)."""
    candidates: list[dt.date] = []
    if appointment_on is not None:
        recall = appointment_on - dt.timedelta(days=APPOINTMENT_REMINDER_DAYS)
        if recall >= today:
            candidates.append(recall)
    if due_on is not None:
        before = [due_on - dt.timedelta(days=d) for d in (*REMIND_BEFORE_DAYS, 0)]
        future = [d for d in before if d >= today]
        if future:
            candidates.append(min(future))
        else:
            late = (today - due_on).days
            wait = -late % REMIND_EVERY_AFTER_DAYS
            candidates.append(today + dt.timedelta(days=wait))
    return min(candidates) if candidates else None


@dataclass(frozen=True)
class CommunityGap:
    """One community's gap among people aged 60+ (counts from vaccination_status)."""

    people_60: int
    unvaccinated_60: int
    unvaccinated_80: int
    due_60: int


def plans_for(gap: CommunityGap) -> list[Plan]:
    """How to close a community's gap: a mobile site where the unvaccinated cluster, door-to-door for
    the oldest, otherwise routine calls."""
    plans: list[Plan] = []
    if gap.unvaccinated_60 >= MOBILE_SITE_MIN_UNVACCINATED:
        plans.append(Plan.mobile_site)
    if gap.unvaccinated_80 >= DOOR_TO_DOOR_MIN_OLDEST:
        plans.append(Plan.door_to_door)
    return plans or [Plan.routine]


def unvaccinated_share(gap: CommunityGap) -> float | None:
    return gap.unvaccinated_60 / gap.people_60 if gap.people_60 else None
