"""The events tracing publishes for the response tasks: ``CaseInvestigated`` once per exposure or visit
batch that records something (with the case's contacts now), ``AssistRequested`` once per request sent;
nothing when nothing was recorded. And the system read ``close_contacts_isolated``."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from tracing_support import Tracing

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core.errors import InvalidInput
from fangkong.core.events import DomainEvent
from fangkong.tracing import assist, service
from fangkong.tracing.events import AssistRequested, CaseInvestigated
from fangkong.tracing.models import Classification, Contact, ContactCategory, PlaceKind
from fangkong.tracing.persons import PersonInput

pytest_plugins = ["tracing_support"]  # the `tracing` fixture


def _record(tracing: Tracing) -> list[DomainEvent]:
    seen: list[DomainEvent] = []
    for kind in (CaseInvestigated, AssistRequested):
        tracing.bus.subscribe(kind, lambda _s, e: seen.append(e))
    return seen


def _case(tracing: Tracing, world: World) -> tuple[int, str]:
    with tracing.as_user("home_investigator") as (session, me):
        case = service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=Classification.confirmed,
                person=PersonInput(id_number=world.id_numbers[world.people[HOME_COUNTY][0]]),
                onset_date=dt.date(2026, 12, 4),
                isolated_at=dt.datetime(2026, 12, 5, 10, 0),
            ),
        )
        return case.id, case.jpath


def _household(tracing: Tracing, case_id: int, people: list[PersonInput]) -> list[Contact]:
    with tracing.as_user("home_investigator") as (session, me):
        return service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            case_id,
            [service.ExposureInput("household", dt.datetime(2026, 12, 5, 8, 0), person=p) for p in people],
        )


def _resident(world: World, index: int) -> PersonInput:
    return PersonInput(id_number=world.id_numbers[world.people[HOME_COUNTY][index]])


def test_exposures_publish_case_investigated_once_with_the_contacts_now(
    tracing: Tracing, world: World
) -> None:
    case_id, jpath = _case(tracing, world)
    seen = _record(tracing)
    _household(tracing, case_id, [_resident(world, 1), _resident(world, 2)])
    assert seen == [CaseInvestigated(case_id=case_id, jpath=jpath, contacts=2)]
    _household(tracing, case_id, [_resident(world, 3)])
    assert seen[1:] == [CaseInvestigated(case_id=case_id, jpath=jpath, contacts=3)]
    # Nothing recorded: nothing published.
    _household(tracing, case_id, [])
    with (
        tracing.as_user("home_investigator") as (session, me),
        pytest.raises(InvalidInput),
    ):
        service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            case_id,
            [
                service.ExposureInput(
                    "no such setting", dt.datetime(2026, 12, 5, 8), person=_resident(world, 4)
                )
            ],
        )
    assert len(seen) == 2


def test_visits_publish_case_investigated_once_and_not_when_empty(tracing: Tracing, world: World) -> None:
    case_id, jpath = _case(tracing, world)
    _household(tracing, case_id, [_resident(world, 1)])
    seen = _record(tracing)
    start = dt.datetime(2026, 12, 3, 12, 0)
    with tracing.as_user("home_investigator") as (session, me):
        visits = service.add_visits(
            session,
            tracing.bus,
            me,
            case_id,
            [
                service.VisitInput(PlaceKind.venue, "老王面馆", start, start + dt.timedelta(hours=1)),
                service.VisitInput(PlaceKind.venue, "菜场", start + dt.timedelta(hours=3)),
            ],
        )
        assert len(visits) == 2
    assert seen == [CaseInvestigated(case_id=case_id, jpath=jpath, contacts=1)]
    with tracing.as_user("home_investigator") as (session, me):
        assert service.add_visits(session, tracing.bus, me, case_id, []) == []
    with tracing.as_user("home_investigator") as (session, me), pytest.raises(InvalidInput):
        service.add_visits(
            session, tracing.bus, me, case_id, [service.VisitInput(PlaceKind.venue, "", start)]
        )
    assert len(seen) == 1


def test_an_assist_request_sent_is_published_once(tracing: Tracing, world: World) -> None:
    case_id, _jpath = _case(tracing, world)
    (contact,) = _household(
        tracing, case_id, [PersonInput(name="张伟", phone="13800130099", residence_code=FOREIGN_COUNTY)]
    )
    seen = _record(tracing)
    with tracing.as_user("home_investigator") as (session, me), pytest.raises(InvalidInput):
        assist.send(session, tracing.vault, tracing.bus, me, contact.id, "330299", "请协查")
    assert seen == []
    with tracing.as_user("home_investigator") as (session, me):
        sent = assist.send(session, tracing.vault, tracing.bus, me, contact.id, "", "请协查")
        expected = AssistRequested(
            request_id=sent.id,
            receiver_jurisdiction_id=sent.receiver_jurisdiction_id,
            receiver_jpath=sent.receiver_jpath,
            sent_at=sent.sent_at,
            due_at=sent.plan_due,
        )
    assert seen == [expected]
    event = seen[0]
    assert isinstance(event, AssistRequested)
    assert event.receiver_jpath.rstrip("/").endswith(FOREIGN_COUNTY)
    assert event.due_at is not None and event.due_at > event.sent_at


def test_close_contacts_isolated_counts_close_contacts_and_the_isolated(
    tracing: Tracing, world: World
) -> None:
    case_id, _jpath = _case(tracing, world)
    with tracing.as_user("home_investigator") as session_me:
        assert service.close_contacts_isolated(session_me[0], case_id) == (0, 0)
    contacts = _household(tracing, case_id, [_resident(world, i) for i in (1, 2, 3, 4)])
    assert {c.category for c in contacts} == {ContactCategory.close_contact}
    first, second, third, _fourth = (c.id for c in contacts)
    with tracing.as_user("home_investigator") as (session, me):
        # One checked into quarantine, one now only a general contact (not a close one any more), one a
        # case of their own (isolated as a case).
        session.execute(
            update(Contact)
            .where(Contact.id == first)
            .values(isolated_at=dt.datetime(2026, 12, 6, tzinfo=dt.UTC))
        )
        service.override_contact(
            session, tracing.bus, me, second, ContactCategory.general_contact, "只在楼道擦肩"
        )
        service.convert_contact(session, tracing.bus, me, third, Classification.confirmed)
    with tracing.as_user("home_investigator") as (session, _me):
        assert service.close_contacts_isolated(session, case_id) == (3, 2)
        assert service.contacts_count(session, case_id) == 4
        # Another case's contacts are not this one's.
        assert service.close_contacts_isolated(session, case_id + 1000) == (0, 0)
