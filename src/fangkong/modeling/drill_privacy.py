"""The personal-data lifecycle in a drill: access outside one's jurisdiction with a stated reason, its
review by a supervisor, and what the drill-sandbox retention rule will take once the drill is over.

When the drill plays the teams (autopilot), on each of its first :data:`ACCESS_DAYS` days at
:data:`ACCESS_HOUR` an investigator of one sandbox community must read a contact referred from the
next community (outside their jurisdiction): they break the glass with the reason "referred contact"
and a typed note, then read the person through the registry (an audited read). At
:data:`REVIEW_HOUR` the same day the sandbox's supervisor reviews the grants given under them. Both act
through accounts of their own in the sandbox (``drill:<id>:...``), through the same use cases a user
calls (``privacy.service.access``, ``core.people``).

In the drill's last quarter hour the drill-sandbox retention rule is applied as a dry run to the
sandbox (nothing is written): the people and records it will delete and the day it will, kept in the
drill's summary under :data:`SUMMARY_KEY`.

The score's ``access_review`` reads the grants: the share reviewed by a supervisor within
:data:`REVIEW_WINDOW_HOURS` drill hours of being given (one not reviewed counts once the window has
passed).
"""

from __future__ import annotations

import json
from typing import Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.models import Jurisdiction, Person, Role
from fangkong.modeling.drill_clock import Mark, drill_hours_at
from fangkong.modeling.drill_outbreak import ScheduledEvent
from fangkong.modeling.models import Drill

# Drill days on which an investigator reads a referred contact of the next community (modelling choice:
# a few a drill, as referred contacts come with the first cases).
ACCESS_DAYS: Final[int] = 3
# Drill hour of the day of the read (10:00) and of the supervisor's review (18:00, the end of the shift
# the grant lasts; modelling choice).
ACCESS_HOUR: Final[float] = 10.0
REVIEW_HOUR: Final[float] = 18.0
# A read outside one's jurisdiction is to be reviewed by a supervisor within a day (modelling choice for
# the drill's target: DHIS2 lists "break the glass" reads for review; no national deadline is known).
REVIEW_WINDOW_HOURS: Final[float] = 24.0
# The retention dry run runs this many hours before the drill's end (the last event fed).
FORECAST_BEFORE_END_HOURS: Final[float] = 0.25
# Key of the drill summary that keeps the retention dry run's figures.
SUMMARY_KEY: Final[str] = "sandbox_retention"
# What the investigator types beside the chosen reason (no personal data: a drill's note).
TYPED_REASON: Final[str] = "演练：邻近社区推送的密接，上门前核对住址"
REVIEW_NOTE: Final[str] = "演练：理由属实，查阅范围适当"


def schedule(days: int) -> list[ScheduledEvent]:
    """The reads with a reason and their reviews on the first days, and the retention dry run at the end."""
    events = []
    for day in range(1, min(ACCESS_DAYS, days - 1) + 1):
        events.append(ScheduledEvent("privacy_access", day * 24.0 + ACCESS_HOUR, {"day": day}))
        events.append(ScheduledEvent("privacy_review", day * 24.0 + REVIEW_HOUR, {"day": day}))
    events.append(ScheduledEvent("privacy_retention", days * 24.0 - FORECAST_BEFORE_END_HOURS, {}))
    return events


def _communities(session: Session, drill: Drill) -> list[Jurisdiction]:
    return list(
        session.scalars(
            select(Jurisdiction).where(Jurisdiction.parent_id == drill.sandbox_id).order_by(Jurisdiction.path)
        )
    )


def _account(session: Session, drill: Drill, place: Jurisdiction, role: Role, who: str) -> Principal:
    """A drill account of its own in the sandbox (``drill:<id>:<who>``), bound to ``place``."""
    from fangkong.core import jurisdictions
    from fangkong.core.auth import principal_for

    user = jurisdictions.sandbox_actor(
        session, place, f"{jurisdictions.DRILL_ACTOR_PREFIX}{drill.id}:{who}", role
    )
    return principal_for(session, user, "drill")


def access_round(session: Session, drill: Drill, day: int) -> str:
    """An investigator of one community reads a resident of the next one, with a stated reason."""
    from fangkong.core import people
    from fangkong.privacy.service import access

    communities = _communities(session, drill)
    if len(communities) < 2:
        return "skipped:one community"
    own = communities[day % len(communities)]
    other = communities[(day + 1) % len(communities)]
    residents = session.scalars(
        select(Person.id)
        .where(Person.jpath >= other.path, Person.jpath < other.path + "~")
        .order_by(Person.id)
    ).all()
    if not residents:
        return "skipped:no resident"
    rng = np.random.default_rng([drill.seed, day, 19])
    person_id = int(residents[int(rng.integers(len(residents)))])
    investigator = _account(session, drill, own, Role.investigator, f"investigator:{own.code}")
    grant = access.request_access(
        session, investigator, person_id, "referred_contact", TYPED_REASON, ip="drill"
    )
    people.get(session, investigator, person_id)  # the read the grant allows, audited
    return f"grant:{grant.id}"


def review_round(session: Session, drill: Drill) -> str:
    """The sandbox's supervisor reviews every grant given under them not reviewed yet."""
    from fangkong.privacy.service import access

    township = session.get(Jurisdiction, drill.sandbox_id)
    assert township is not None
    supervisor = _account(session, drill, township, Role.administrator, "supervisor")
    pending = access.for_review(session, drill.sandbox_path)
    for grant in pending:
        access.review(session, supervisor, grant.id, REVIEW_NOTE, ip="drill")
    return f"reviewed:{len(pending)}"


def retention_forecast(session: Session, drill: Drill) -> str:
    """The drill-sandbox rule's dry run on the sandbox, kept in the drill's summary."""
    from fangkong.core import clock
    from fangkong.privacy.service import retention

    # The rule counts from the drill's end, a real instant: today, since this runs as the drill ends.
    forecast = retention.sandbox_forecast(session, drill.sandbox_path, clock.today())
    summary = json.loads(drill.summary or "{}")
    summary[SUMMARY_KEY] = forecast.as_dict()
    drill.summary = json.dumps(summary, ensure_ascii=False)
    return f"people:{forecast.people}"


def reviewed_in_time(session: Session, drill: Drill, marks: list[Mark], hours: float) -> tuple[int, int]:
    """(reviewed within :data:`REVIEW_WINDOW_HOURS`, judged) over the sandbox's grants; a grant not
    reviewed is judged once its window has passed."""
    from fangkong.privacy.service import access

    on_time = judged = 0
    for grant in access.for_review(session, drill.sandbox_path, pending_only=False):
        given = drill_hours_at(marks, drill.speed, grant.granted_at)
        if grant.reviewed_at is not None:
            judged += 1
            on_time += drill_hours_at(marks, drill.speed, grant.reviewed_at) - given <= REVIEW_WINDOW_HOURS
        elif hours - given > REVIEW_WINDOW_HOURS:
            judged += 1
    return on_time, judged
