"""Helpers of the dashboard tests: the wired bus with the counter handlers (until ``wiring.py`` lists
them), cases and placements through the real services, and tasks with given clocks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from areas_support import acting_as
from conftest import HOME_COUNTY, World
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.events import (
    EventBus,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
    PersonReleasedFromManagement,
)
from fangkong.core.models import Jurisdiction, Person
from fangkong.quarantine.events import PersonCheckedIntoQuarantine
from fangkong.response.models import Fulfilment, Task, TaskState, TaskTemplate, Trigger
from fangkong.response.service import counters
from fangkong.surveillance.events import AlertRaised
from fangkong.testing.events import PersonTestedPositive
from fangkong.tracing.events import CaseReclassified, CaseReported

COUNTER_ROWS = [
    (CaseReported, counters.case_reported),
    (CaseReclassified, counters.case_reclassified),
    (PersonPlacedUnderManagement, counters.person_placed),
    (PeoplePlacedUnderManagement, counters.people_placed),
    (PersonReleasedFromManagement, counters.person_released),
    (PersonCheckedIntoQuarantine, counters.checked_into_quarantine),
    (PersonTestedPositive, counters.tested_positive),
    (AlertRaised, counters.alert_raised),
]


TITLES = {
    "team_on_site": "流调队伍到场",
    "core_facts": "核心信息流调",
    "contacts_transferred": "密接转运隔离",
}


def counting_bus() -> EventBus:
    """The wired bus with the counter handlers last (after the protocol's plans are written), but
    without the task engine's handlers: the examples place their own tasks with known clocks."""
    from fangkong.wiring import subscriptions

    bus = EventBus()
    for kind, handler in subscriptions():
        if getattr(handler, "__module__", "") != "fangkong.response.service.handlers":
            bus.subscribe(kind, handler)
    for kind, handler in COUNTER_ROWS:
        if handler not in bus.handlers_for(kind):
            bus.subscribe(kind, handler)
    return bus


def report_case(
    db: Database,
    vault: Vault,
    world: World,
    bus: EventBus,
    index: int,
    *,
    reported: dt.datetime,
    onset: dt.date | None = None,
    classification: str = "confirmed",
    county: str = HOME_COUNTY,
    username: str = "home_investigator",
) -> int:
    from fangkong.tracing import service
    from fangkong.tracing.persons import PersonInput

    person_id = world.people[county][index]
    with acting_as(db, username) as (session, me):
        case = service.register_case(
            session,
            vault,
            bus,
            me,
            service.CaseInput(
                classification=service.Classification(classification),
                person=PersonInput(id_number=world.id_numbers[person_id]),
                onset_date=onset,
                sampling_date=reported.date(),
                reported_at=reported,
            ),
        )
        return case.id


def place(db: Database, bus: EventBus, person_id: int, category: str, source: str, day: dt.date) -> str:
    """A placement under management through the bus (the protocol writes the plan); the person's path."""
    with db.unit_of_work() as session:
        person = session.get(Person, person_id)
        assert person is not None
        bus.publish(
            session,
            PersonPlacedUnderManagement(
                person_id=person_id, jpath=person.jpath, category=category, clock_date=day, source=source
            ),
        )
        return person.jpath


def place_of(session: Session, code: str) -> Jurisdiction:
    found = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    assert found is not None
    return found


def template(session: Session, code: str, minutes: int) -> TaskTemplate:
    found = session.scalar(select(TaskTemplate).where(TaskTemplate.code == code))
    if found is None:
        found = TaskTemplate(
            code=code, trigger=Trigger.case_confirmed, title_zh=TITLES.get(code, "测试任务"),
            title_en=f"Task {code}",
            minutes=minutes, owner_role="investigator", fulfilment=Fulfilment.manual, source="test",
        )  # fmt: skip
        session.add(found)
        session.flush()
    return found


def task(
    session: Session,
    code: str,
    n: int,
    where: Jurisdiction,
    opened_at: dt.datetime,
    minutes: int,
    *,
    closed_after: float | None = None,
    team: str | None = None,
    state: TaskState | None = None,
) -> Task:
    """A task opened at ``opened_at`` with a ``minutes`` clock, done ``closed_after`` hours later."""
    t = template(session, code, minutes)
    due = opened_at + dt.timedelta(minutes=minutes)
    closed = opened_at + dt.timedelta(hours=closed_after) if closed_after is not None else None
    row = Task(
        template_id=t.id, code=code, trigger=t.trigger, fulfilment=t.fulfilment,
        title_zh=t.title_zh, title_en=t.title_en, subject_kind="case", subject_id=n, subject_ref=f"C-{n}",
        origin_jpath=where.path, jurisdiction_id=where.id, jpath=where.path, owner_role="investigator",
        team=team, state=state or (TaskState.done if closed else TaskState.open),
        opened_at=opened_at, due_at=due, warn_at=due - dt.timedelta(minutes=30), closed_at=closed,
        late=bool(closed and closed > due),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row
