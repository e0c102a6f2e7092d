"""A hand-made day for the daily closure's tests: a few records of every kind in the home county on one
local day (and one in the foreign county, which must not count), with the figures they should give.

Written directly into each capability's tables (test set-up, as the capabilities' own tests do), except
cases, which go through tracing's service with a bus that has no handlers (nothing else is opened).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from areas_support import acting_as, area_in_force
from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.events import EventBus
from fangkong.core.models import Jurisdiction
from fangkong.protocol.models import ManagementPlanRecord, PlanState
from fangkong.quarantine.models import QuarantineRoom, SiteStatus, StayState
from fangkong.response.models import Fulfilment, Task, TaskState, TaskTemplate, Trigger
from fangkong.surveillance.models import Alert, AlertLevel, AlertStatus, RuleKind
from fangkong.testing.models import OrderState, TestOrder, TestPlace, TestResult
from fangkong.tracing.models import Contact, ContactCategory, ContactStatus
from quarantine_support import new_site, occupy

HOME_COMMUNITY = "330106001001"
CITY = "330100"

EXPECTED: dict[str, dict[str, Any]] = {
    "tasks": {"due": 3, "done": 2, "done_on_time": 1, "late": 3, "carried_over": 3, "opened": 5},
    "cases": {"reported": 3, "total": 3, "confirmed": 2, "asymptomatic": 1, "found_under_management": 0},
    "contacts": {"identified": 2, "under_measure": {"close_contact": 2}},
    "quarantine": {"placed": 1, "released": 1, "occupied": 1, "capacity": 6},
    "testing": {"due": 2, "done": 2, "overdue": 1, "positive": 1},
    "alerts": {"raised": 3, "answered": 2, "answered_in_time": 1, "open": 2, "median_response_hours": 2.0},
    "areas": {"high": 1, "medium": 1, "designated": 1, "lifted": 1},
}


def _place(session: Session, code: str) -> Jurisdiction:
    place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    assert place is not None
    return place


def register(
    db: Database,
    vault: Vault,
    world: World,
    index: int,
    *,
    classification: str = "confirmed",
    reported: dt.datetime | None = None,
    onset: dt.date | None = None,
    county: str = HOME_COUNTY,
    username: str = "home_investigator",
) -> int:
    """A case for a seeded resident through tracing's service (no handlers): its id."""
    from fangkong.tracing import service
    from fangkong.tracing.persons import PersonInput

    person_id = world.people[county][index]
    with acting_as(db, username) as (session, me):
        case = service.register_case(
            session,
            vault,
            EventBus(),
            me,
            service.CaseInput(
                classification=service.Classification(classification),
                person=PersonInput(id_number=world.id_numbers[person_id]),
                onset_date=onset,
                sampling_date=(reported or clock.local_now()).date(),
                reported_at=reported,
            ),
        )
        return case.id


def _task(
    session: Session, template: TaskTemplate, n: int, origin: Jurisdiction, owner: Jurisdiction, **times: Any
) -> None:
    session.add(
        Task(
            template_id=template.id,
            code=template.code,
            trigger=template.trigger,
            fulfilment=template.fulfilment,
            title_zh="测试任务",
            title_en="Test task",
            subject_kind="case",
            subject_id=n,
            subject_ref=f"T-{n}",
            origin_jpath=origin.path,
            jurisdiction_id=owner.id,
            jpath=owner.path,
            owner_role="investigator",
            warn_at=times["due_at"] - dt.timedelta(minutes=30),
            **times,
        )
    )


def build_day(db: Database, vault: Vault, world: World, day: dt.date) -> None:
    """The hand-made day (see ``EXPECTED``); the clock must stand on ``day`` or later."""
    start, _ = clock.day_bounds(day)

    def at(hours: float) -> dt.datetime:
        return start + dt.timedelta(hours=hours)

    def local(hours: float) -> dt.datetime:
        return clock.as_local(at(hours))

    register(db, vault, world, 0, reported=local(9), onset=day - dt.timedelta(days=2))
    register(db, vault, world, 1, reported=local(10), onset=day - dt.timedelta(days=1))
    register(db, vault, world, 3, classification="asymptomatic", reported=local(11))
    register(db, vault, world, 0, county=FOREIGN_COUNTY, username="away_investigator", reported=local(9))
    with acting_as(db, "home_command_centre") as (session, me):
        community = _place(session, HOME_COMMUNITY)
        county = _place(session, HOME_COUNTY)
        city = _place(session, CITY)
        foreign = _place(session, FOREIGN_COUNTY)
        people = world.people[HOME_COUNTY]

        # Tasks: done on time; open past due; open not yet due; cancelled; yesterday's done late today;
        # escalated to the city (counted where it came from); one in the foreign county.
        template = TaskTemplate(
            code="closure_test",
            trigger=Trigger.case_confirmed,
            title_zh="测试",
            title_en="Test",
            minutes=120,
            owner_role="investigator",
            fulfilment=Fulfilment.manual,
            source="test",
        )
        session.add(template)
        session.flush()
        done, cancelled, open_ = TaskState.done, TaskState.cancelled, TaskState.open
        _task(
            session,
            template,
            1,
            community,
            community,
            opened_at=at(1),
            due_at=at(3),
            closed_at=at(2),
            state=done,
        )
        _task(session, template, 2, community, community, opened_at=at(1), due_at=at(5), state=open_)
        _task(session, template, 3, county, county, opened_at=at(20), due_at=at(30), state=open_)
        _task(
            session,
            template,
            4,
            community,
            community,
            opened_at=at(1),
            due_at=at(4),
            closed_at=at(2),
            state=cancelled,
        )
        _task(
            session,
            template,
            5,
            community,
            community,
            opened_at=at(-20),
            due_at=at(-10),
            closed_at=at(6),
            state=done,
        )
        _task(session, template, 6, community, city, opened_at=at(1), due_at=at(2), state=open_, late=True)
        _task(session, template, 7, foreign, foreign, opened_at=at(1), due_at=at(2), state=open_)

        # Contacts: a close one and a general one made today; not a contact, dropped: not counted.
        from fangkong.tracing.models import Case

        case_id = session.scalar(select(Case.id).where(Case.jpath.startswith(county.path)).limit(1))
        assert case_id is not None
        for n, (category, status) in enumerate(
            [
                (ContactCategory.close_contact, ContactStatus.active),
                (ContactCategory.general_contact, ContactStatus.active),
                (ContactCategory.not_a_contact, ContactStatus.active),
                (ContactCategory.close_contact, ContactStatus.dropped),
            ]
        ):
            session.add(
                Contact(
                    case_id=case_id,
                    person_id=people[4],
                    subject_key=f"closure-{n}",
                    jurisdiction_id=community.id,
                    jpath=community.path,
                    category=category,
                    reason="test",
                    first_exposure=at(-30),
                    last_exposure=at(-28),
                    status=status,
                    protocol_id="cn-9",
                    created_at=at(12),
                )
            )

        # Plans: two people under close-contact management (one of them from two sources), one ended,
        # one starting after the day.
        days = dt.timedelta(days=1)
        plans = [
            (people[4], "close_contact", PlanState.active, day - days, day + 6 * days),
            (people[4], "close_contact", PlanState.active, day, day + 6 * days),
            (people[5], "close_contact", PlanState.active, day, day + 7 * days),
            (people[2], "close_contact", PlanState.ended, day - 3 * days, day + 4 * days),
            (people[2], "contact_of_contact", PlanState.active, day + days, day + 7 * days),
        ]
        for n, (person, category, state, first, last) in enumerate(plans):
            session.add(
                ManagementPlanRecord(
                    person_id=person,
                    jpath=community.path,
                    source=f"closure:{n}",
                    category=category,
                    protocol_id="cn-9",
                    start_date=first,
                    end_date=last,
                    state=state,
                )
            )

        # Quarantine: 3 rooms of 2 beds open; one person placed today (still in), one placed yesterday
        # and released today.
        site = new_site(session, me, "闭环测试酒店", rooms=3, beds=2, status=SiteStatus.open)
        rooms = list(session.scalars(select(QuarantineRoom).where(QuarantineRoom.site_id == site.id)))
        occupy(session, rooms[0], people[4], placed_at=at(13))
        gone = occupy(session, rooms[1], people[5], placed_at=at(-5))
        gone.state, gone.ended_at = StayState.released, at(8)

        # Test orders: due and sampled; due and missed (overdue); yesterday's sampled today; cancelled;
        # one positive today.
        orders = [
            (people[4], 1, day, OrderState.sampled, at(9), None),
            (people[5], 1, day, OrderState.open, None, None),
            (people[4], 2, day - dt.timedelta(days=1), OrderState.sampled, at(10), None),
            (people[5], 2, day, OrderState.cancelled, None, None),
            (people[2], 1, day - dt.timedelta(days=2), OrderState.resulted, at(-30), at(15)),
        ]
        for person, plan_day, due, state, sampled, resulted in orders:
            session.add(
                TestOrder(
                    person_id=person,
                    jpath=community.path,
                    source="closure",
                    plan_day=plan_day,
                    due_date=due,
                    place=TestPlace.home,
                    state=state,
                    sampled_at=sampled,
                    resulted_at=resulted,
                    result=TestResult.positive if resulted else None,
                )
            )

        # Alerts: answered in 1 h (2 h allowed) and in 3 h; open since yesterday; open since today.
        for n, (created, answered) in enumerate(
            [(at(1), at(2)), (at(3), at(6)), (at(-5), None), (at(7), None)]
        ):
            session.add(
                Alert(
                    kind=RuleKind.single_case,
                    jurisdiction_id=community.id,
                    jpath=community.path,
                    assigned_jurisdiction_id=community.id,
                    assigned_jpath=community.path,
                    level=AlertLevel.red,
                    status=AlertStatus.signal if answered is None else AlertStatus.verifying,
                    title=f"test {n}",
                    dedupe_key=f"closure-{n}",
                    first_date=day,
                    last_date=day,
                    created_at=created,
                    response_hours=2,
                    response_due_at=created + dt.timedelta(hours=2),
                    responded_at=answered,
                )
            )

        # Areas: high designated today; medium in force since three days; high lifted today.
        area_in_force(session, place_code=HOME_COMMUNITY, name="今日高风险区", at=at(14))
        area_in_force(session, place_code=HOME_COMMUNITY, name="中风险区", level="medium", at=at(-60))
        lifted = area_in_force(session, place_code=HOME_COMMUNITY, name="已解封区", at=at(-100))
        from fangkong.areas.models import AreaState, RiskArea

        area = session.get(RiskArea, lifted)
        assert area is not None
        area.state, area.lifted_at = AreaState.lifted, at(16)
        session.flush()


def seed_closure_foreign(app: Any) -> dict[str, str]:
    """For the authorization matrix: yesterday closed everywhere (the foreign county included), and the
    path parameters of the closure routes (``day``, ``version``)."""
    from fangkong.response.service import closure

    yesterday = clock.today() - dt.timedelta(days=1)
    with app.state.db.unit_of_work() as session:
        closure.close_due_days(session, clock.utcnow(), day=yesterday)
    return {"day": yesterday.isoformat(), "version": "1"}
