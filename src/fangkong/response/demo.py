"""The response part of the demo: an outbreak of the last nine days in the demo county, played through
the real services, so that the command centre logs in to a county in the middle of it.

Each past moment is played with the platform's clock set to it (``clock.freeze``), so every record
carries the time it would have had: cases are reported through tracing (their tasks open through the
usual events), teams reach the scene and investigations are saved with realistic delays (a few late),
fever-clinic figures rise and the detector raises alerts (one verified, the rest still waiting), the
sweeper warns and escalates what is late, and each finished day is closed (日清日结) and yesterday's
closure signed off. Every case carries the note "demo" (演示数据) and every account acting is a demo
account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault
from fangkong.core.demo_loader import demo_principal
from fangkong.core.events import EventBus
from fangkong.core.models import Jurisdiction, Level, Person
from fangkong.core.scope import under

# Cases reported on each of the last days (days ago, cases): a curve still rising yesterday.
OUTBREAK: Final[tuple[tuple[int, int], ...]] = (
    (9, 1), (8, 1), (7, 2), (6, 2), (5, 3), (4, 3), (3, 4), (2, 5), (1, 4),
)  # fmt: skip
# Contacts named per case (the household first, then neighbours of the same community).
CONTACTS_PER_CASE: Final[int] = 3
DEMO_NOTE: Final[str] = "demo"
# Daily fever-clinic visits in the outbreak's township: a quiet baseline, then the rise.
FEVER_BASELINE: Final[int] = 6
FEVER_RISE: Final[tuple[int, ...]] = (9, 13, 18, 24, 31)
DEMO_DONE: Final[str] = "demo: reported done by the team"
# What the command centre sets for today when it signs yesterday off (ICS 202: the next period's aims).
DEMO_OBJECTIVES: Final[str] = (
    "演示数据：今日 12 时前完成昨日病例的核心信息调查；重点小区再开展一轮核酸检测；启用第二梯队隔离点"
)


@dataclass(frozen=True)
class DemoResponse:
    cases: int
    tasks: int
    late: int
    alerts: int
    closures: int


def _at(day: dt.date, hour: float) -> dt.datetime:
    """A local wall-clock moment of ``day`` as an aware UTC instant."""
    return clock.from_local(dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour))


def _index_people(session: Session, county: Jurisdiction, count: int) -> list[Person]:
    """Residents of the county, from the far end of the registry so the other demos' people are spared."""
    return list(
        session.scalars(
            select(Person)
            .where(under(Person.jpath, county.path), Person.household_id.is_not(None))
            .order_by(Person.id.desc())
            .limit(count * (CONTACTS_PER_CASE + 4))
        )
    )


def _play_case(
    session: Session,
    vault: Vault,
    bus: EventBus,
    investigator: Principal,
    index: Person,
    contacts: list[Person],
    reported: dt.datetime,
    onset: dt.date,
    investigate_after: float | None,
) -> int:
    from fangkong.tracing import service as tracing
    from fangkong.tracing.persons import PersonInput
    from fangkong.tracing.service import Classification

    with clock.freeze(reported):
        case = tracing.register_case(
            session, vault, bus, investigator,
            tracing.CaseInput(
                classification=Classification.confirmed, person=PersonInput(person_id=index.id),
                onset_date=onset, sampling_date=clock.today() - dt.timedelta(days=1),
                diagnosis_date=clock.today(), notes=DEMO_NOTE,
            ),
            ip="demo",
        )  # fmt: skip
    if investigate_after is not None:
        exposed = dt.datetime.combine(onset - dt.timedelta(days=1), dt.time(19, 0))
        with clock.freeze(reported + dt.timedelta(hours=investigate_after)):
            tracing.add_exposures(
                session, vault, bus, investigator, case.id,
                [
                    tracing.ExposureInput(
                        setting="household" if person.household_id == index.household_id else "shared_meal",
                        start=exposed, person=PersonInput(person_id=person.id), note=DEMO_NOTE,
                    )
                    for person in contacts
                ],
                ip="demo",
            )  # fmt: skip
    return case.id


def _fever_clinic(session: Session, bus: EventBus, analyst: Principal, township: Jurisdiction) -> int:
    """Four weeks of fever-clinic visits in the township, rising at the end; the detector's alerts."""
    from fangkong.core import audit
    from fangkong.surveillance import observations, runner
    from fangkong.surveillance import service as surveillance
    from fangkong.surveillance.ingest import RawRecord

    today = clock.today()
    actor = audit.Actor(analyst.user_id, analyst.username, "demo")
    days = 28
    values = [FEVER_BASELINE + (i % 3) for i in range(days - len(FEVER_RISE))] + list(FEVER_RISE)
    records = [
        RawRecord(i + 1, "fever_clinic", township.code, (today - dt.timedelta(days=days - i)).isoformat(), v)
        for i, v in enumerate(values)
    ]
    moment = _at(today - dt.timedelta(days=1), 20.0)
    with clock.freeze(moment):
        surveillance.ensure_defaults(session)
        # The county watches the township's fever clinics: a detector on the figure, a rule to alert.
        channel = next(
            c for c in surveillance.list_channels(session, township.path) if c.code == "fever_clinic"
        )
        surveillance.create_config(session, actor, township.path, channel.id, "township", "ears_c1", {})
        surveillance.create_rule(
            session, actor, township.path,
            surveillance.RuleInput(
                name=f"{township.name}: fever-clinic signal", kind="single_channel", level="township",
                alert_level="blue",
            ),
        )  # fmt: skip
        observations.ingest(session, actor, township.path, records, "demo", moment)
        run = runner.run_detection(
            session, bus, actor, township.path, today - dt.timedelta(days=1), moment,
            first_date=today - dt.timedelta(days=5),
        )  # fmt: skip
    return len(run.created)


def seed(session: Session, vault: Vault, bus: EventBus, county_code: str) -> DemoResponse:
    """The whole response part of the demo (see the module doc)."""
    from fangkong.response.service import closure, compliance, sweeper, tasks, templates

    templates.seed_templates(session)
    county = session.scalar(select(Jurisdiction).where(Jurisdiction.code == county_code))
    assert county is not None
    investigator = demo_principal(session, "investigator")
    command = demo_principal(session, "command")
    analyst = demo_principal(session, "analyst")
    today = clock.today()
    total = sum(n for _d, n in OUTBREAK)
    people = _index_people(session, county, total)
    by_household: dict[int | None, list[Person]] = {}
    for person in people:
        by_household.setdefault(person.household_id, []).append(person)
    households = [members for members in by_household.values() if len(members) >= 2]
    cases = 0
    for days_ago, count in OUTBREAK:
        day = today - dt.timedelta(days=days_ago)
        for i in range(count):
            members = households[cases % len(households)]
            index, contacts = members[0], members[1 : 1 + CONTACTS_PER_CASE]
            reported = _at(day, 8.5 + 2.5 * i)
            # Most investigations are saved within the 4 h of "core facts"; every fifth late; the last
            # case of yesterday still waits for its investigation.
            late_one = cases % 5 == 4
            waiting = days_ago == 1 and i == count - 1
            case_id = _play_case(
                session, vault, bus, investigator, index, contacts, reported,
                day - dt.timedelta(days=1 + cases % 3), None if waiting else (6.0 if late_one else 3.0),
            )  # fmt: skip
            # The team on site: within 2 h, except every fourth case (3 h, late); yesterday's last two
            # cases are still without a report from the scene.
            if not (days_ago == 1 and i >= count - 2):
                hours = 3.0 if cases % 4 == 3 else 1.5
                task_id = compliance.open_task_of(session, "team_on_site", "case", case_id)
                if task_id is not None:
                    with clock.freeze(reported + dt.timedelta(hours=hours)):
                        tasks.complete(
                            session, investigator, task_id, "demo: the team reached the scene", ip="demo"
                        )
            if days_ago >= 2:
                # The older cases' other lines of work are reported done by their owners, mostly in time.
                for task_id, _code, due in compliance.open_tasks_of(session, "case", case_id):
                    behind = (cases + task_id) % 6 == 0
                    with clock.freeze(due + dt.timedelta(hours=2 if behind else -1)):
                        tasks.complete(
                            session, command, task_id, "demo: reported done by the team", ip="demo"
                        )
            cases += 1
        with clock.freeze(_at(day, 23.5)):
            sweeper.sweep(session)
    township = session.scalar(
        select(Jurisdiction)
        .where(under(Jurisdiction.path, county.path), Jurisdiction.level == Level.township)
        .order_by(Jurisdiction.code)
    )
    alerts = _fever_clinic(session, bus, analyst, township) if township is not None else 0
    # Each finished day of the outbreak closed for the county just after midnight; yesterday closed
    # everywhere at the cut-off, and signed off in the morning with today's objectives.
    closures = 0
    yesterday = today - dt.timedelta(days=1)
    for days_ago in range(OUTBREAK[0][0], 1, -1):
        day = today - dt.timedelta(days=days_ago)
        with clock.freeze(_at(day + dt.timedelta(days=1), 0.5)):
            closure.publish(session, command, county.id, day, ip="demo")
            closures += 1
    with clock.freeze(_at(today, 0.5)):
        closures += len(closure.close_due_days(session, clock.utcnow(), day=yesterday))
    with clock.freeze(_at(today, 8.0)):
        sweeper.sweep(session)
        latest = closure.get_closure(session, command, county.id, yesterday)
        closure.sign_off(session, command, latest.id, DEMO_OBJECTIVES, ip="demo")
    sweeper.sweep(session)
    still_open, overdue = compliance.open_and_late(session, county.path)
    return DemoResponse(cases, still_open, overdue, alerts, closures)
