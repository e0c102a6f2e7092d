"""The vaccination part of a drill: the sandbox starts with the region's dose history, and the community
workers go through the elderly outreach worklist (应接尽接) while the outbreak runs.

At the start the sandbox's residents get a dose history drawn at the shares of late 2022
(``vaccination.service.history``), so the worklist holds the gaps a real community has. When the drill
plays the teams (autopilot), each drill day at :data:`OUTREACH_HOUR` the community workers call the
oldest people of the worklist, :data:`CALLS_PER_COMMUNITY` per community, and record each outcome; people
who booked are vaccinated on their appointment day (a dose recorded at the community's site, through the
same use case a vaccination site calls, so their status and the coverage follow). Outcomes are drawn from
the drill's seed and day.

The score's ``elderly_outreach`` reads the attempts: the share of the people aged 60 and over who were on
the worklist at the start and were reached within :data:`OUTREACH_DAYS` drill days.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.events import EventBus
from fangkong.modeling.drill_outbreak import ScheduledEvent

# Drill hour of the day the community workers make their calls (15:00, modelling choice).
OUTREACH_HOUR: Final[float] = 15.0
# Calls a community's workers make in a day (modelling choice: two workers, some twenty calls each).
CALLS_PER_COMMUNITY: Final[int] = 40
# Days from the call to the appointment the autopilot books (modelling choice).
APPOINTMENT_AFTER_DAYS: Final[int] = 2
# Days within which every elder on the worklist is to be reached (modelling choice for the drill's
# target: the 2022-11-29 elderly plan asked communities to go through their lists "one by one").
OUTREACH_DAYS: Final[int] = 7
# The site named on the doses the drill gives, and on the sandbox's earlier history.
SITE: Final[str] = "演练接种点"
HISTORY_SITE: Final[str] = "社区卫生服务中心"
# Outcomes of the autopilot's calls and their shares (modelling choice, as the demo's first calls).
OUTCOMES: Final[tuple[tuple[str, float], ...]] = (
    ("appointment", 0.45),
    ("no_answer", 0.20),
    ("refused", 0.20),
    ("contraindicated", 0.05),
    ("done_elsewhere", 0.05),
    ("moved", 0.05),
)
# Residents aged this or more are the worklist's (the elderly plan; vaccination.rules.outreach.MIN_AGE).
ELDERLY_AGE: Final[int] = 60


def schedule(days: int) -> list[ScheduledEvent]:
    """The community workers' outreach round on each drill day."""
    return [ScheduledEvent("outreach", day * 24.0 + OUTREACH_HOUR, {"day": day}) for day in range(days)]


def give_history(session: Session, jpath: str, seed: int) -> int:
    """The sandbox's residents' dose history; returns the doses written."""
    from fangkong.vaccination.service import history

    return history.give_to_residents(session, jpath, seed, HISTORY_SITE)


def outreach_round(
    session: Session, bus: EventBus, principal: Principal, day: dt.date, start: dt.date, seed: int
) -> str:
    """Vaccinate the people booked for ``day``, then call the oldest of each community's worklist."""
    from fangkong.core.models import Jurisdiction, Level
    from fangkong.vaccination.service import OutreachMethod, OutreachOutcome, outreach

    vaccinated = _vaccinate_booked(session, bus, principal, day)
    rng = np.random.default_rng([seed, (day - start).days])
    names = [o for o, _ in OUTCOMES]
    weights = np.array([w for _, w in OUTCOMES])
    called = 0
    communities = session.scalars(
        select(Jurisdiction.path).where(
            Jurisdiction.level == Level.community,
            Jurisdiction.path >= principal.jpath,
            Jurisdiction.path < principal.jpath + "~",
        )
    ).all()
    for path in communities:
        listed = outreach.worklist(
            session, principal, jpath=path, min_age=ELDERLY_AGE, size=CALLS_PER_COMMUNITY
        )
        for item in listed.items:
            if item.last_on is not None and item.last_on >= day:
                continue
            # Booked and waiting for the appointment: not called again (the list keeps them, with it).
            if (
                item.last_outcome is OutreachOutcome.appointment
                and item.last_on is not None
                and (day - item.last_on).days <= APPOINTMENT_AFTER_DAYS
            ):
                continue
            outcome = OutreachOutcome(names[int(rng.choice(len(names), p=weights / weights.sum()))])
            booked = day + dt.timedelta(days=APPOINTMENT_AFTER_DAYS)
            outreach.record_attempt(
                session,
                principal,
                item.person_id,
                OutreachMethod.phone,
                outcome,
                booked if outcome is OutreachOutcome.appointment else None,
                attempted_on=day,
                ip="drill",
            )
            called += 1
    return f"called:{called};vaccinated:{vaccinated}"


def _vaccinate_booked(session: Session, bus: EventBus, principal: Principal, day: dt.date) -> int:
    """A dose for every person whose latest call booked them for ``day``: their next dose by the
    schedule, with the product of their earlier doses (an inactivated vaccine for the unvaccinated)."""
    from fangkong.vaccination.service import doses, outreach

    given = 0
    for person_id, next_dose in outreach.booked_for(session, principal, day):
        doses.record_dose(
            session,
            principal,
            bus,
            person_id,
            next_dose.product,
            next_dose.platform,
            next_dose.dose_number,
            next_dose.kind,
            day,
            SITE,
            "演练批号",
            ip="drill",
        )
        given += 1
    return given


def starting_worklist(session: Session, principal: Principal) -> list[int]:
    """The people aged 60 and over on the sandbox's outreach worklist when the drill starts."""
    from fangkong.vaccination.service import outreach

    return [item.person_id for item in outreach.iter_worklist(session, principal, min_age=ELDERLY_AGE)]


def reached(
    session: Session, principal: Principal, worklist: list[int], start: dt.date, drill_day: int
) -> tuple[int, int]:
    """(reached within :data:`OUTREACH_DAYS`, judged): people reached in time, plus those not reached
    once the window has closed; people still inside the window and not reached are left out."""
    from fangkong.vaccination.service import outreach

    first = outreach.first_attempts(session, principal, worklist)
    on_time = sum(1 for pid in worklist if pid in first and (first[pid] - start).days < OUTREACH_DAYS)
    closed = drill_day >= OUTREACH_DAYS
    judged = on_time + (
        sum(1 for pid in worklist if pid not in first or (first[pid] - start).days >= OUTREACH_DAYS)
        if closed
        else 0
    )
    return on_time, judged
