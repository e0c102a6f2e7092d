"""Doorstep services of sealed areas: vulnerable residents, requests and their deadlines, the 30-minute
emergency escalating when late, emergency departments, the board (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, update

from areas_support import area_in_force, as_user
from conftest import World
from fangkong.areas.models import RequestKind, RequestState, ServiceRequest
from fangkong.areas.service import doorstep
from fangkong.core import clock
from fangkong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from fangkong.core.models import AuditEntry, Jurisdiction, Person

WORKER = "home_community_worker"
COMMUNITY = "330106001001"  # 保俶社区: three residents, two sharing 幸福路1号, one alone at 幸福路2号


def _residents(session, world: World) -> list[Person]:  # type: ignore[no-untyped-def]
    place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == COMMUNITY))
    return list(session.scalars(select(Person).where(Person.jpath == place.path).order_by(Person.id)))


def test_vulnerable_residents_from_registry_and_flags(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with as_user(app, WORKER) as (session, principal):
        first, alone, third = _residents(session, world)
        assert first.household_id == third.household_id != alone.household_id
        # 80 today (the local day, which is already 7 December in Beijing) and 79 until tomorrow.
        today = clock.today()
        session.execute(
            update(Person).where(Person.id == first.id).values(birth_date=today.replace(year=today.year - 80))
        )
        area_id = area_in_force(session, place_code=COMMUNITY, name="保俶社区", unit_kind="community")
        doorstep.set_flags(session, principal, third.id, pregnant=True, note="孕32周", ip="10.0.0.5")
    with as_user(app, WORKER) as (session, principal):
        found = {r.person_id: r for r in doorstep.vulnerable_in_area(session, principal, area_id)}
        assert set(found) == {first.id, alone.id, third.id}
        assert found[first.id].reasons == ("aged_80_plus",)
        assert found[alone.id].reasons == ("living_alone",)
        assert found[third.id].reasons == ("pregnant",)
        assert found[third.id].note == "孕32周"
        # Masked, as every list is.
        assert "*" in found[alone.id].name and "*" in found[alone.id].id_number
        audited = session.scalar(select(AuditEntry).where(AuditEntry.action == "areas.doorstep.flags"))
        assert audited is not None and audited.ip == "10.0.0.5"
        # Cleared flags drop the resident the registry alone would not list.
        doorstep.set_flags(session, principal, third.id)
        assert third.id not in {r.person_id for r in doorstep.vulnerable_in_area(session, principal, area_id)}


def test_an_area_smaller_than_a_community_lists_its_households_only(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with as_user(app, WORKER) as (session, principal):
        first, alone, third = _residents(session, world)
        doorstep.set_flags(session, principal, first.id, dialysis=True)
        doorstep.set_flags(session, principal, third.id, regular_treatment=True, living_alone=False)
        area_id = area_in_force(
            session,
            place_code=COMMUNITY,
            name="幸福路2号",
            unit_kind="building",
            households=(alone.household_id,),
        )
        listed = doorstep.vulnerable_in_area(session, principal, area_id)
        assert [r.person_id for r in listed] == [alone.id]


def test_scope_state_and_permission(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with as_user(app, WORKER) as (session, principal):
        person = _residents(session, world)[0]
        proposed = area_in_force(session, place_code=COMMUNITY, name="待批小区", state="proposed")
        in_force = area_in_force(session, place_code=COMMUNITY, name="翠苑小区")
        with pytest.raises(Conflict):
            doorstep.vulnerable_in_area(session, principal, proposed)
        with pytest.raises(InvalidInput) as bad:
            doorstep.set_flags(session, principal, person.id, note="x" * 500)
        assert bad.value.errors[0].field == "note"
    with as_user(app, "away_community_worker") as (session, principal):
        with pytest.raises(NotFound):
            doorstep.vulnerable_in_area(session, principal, in_force)
        with pytest.raises(NotFound):
            doorstep.set_flags(session, principal, person.id, pregnant=True)
    with as_user(app, "home_surveillance_analyst") as (session, principal), pytest.raises(Forbidden):
        doorstep.set_flags(session, principal, person.id, pregnant=True)


def test_deadlines_by_kind_and_no_test_result_can_hold_an_emergency(app, world: World) -> None:  # type: ignore[no-untyped-def]
    assert doorstep.DEADLINES[RequestKind.medical_emergency] == dt.timedelta(minutes=30)
    assert set(doorstep.DEADLINES) == set(RequestKind)
    # Nothing on a request asks for a test result: no column, no argument, no field of its view.
    names = {c.name for c in ServiceRequest.__table__.columns}
    names |= {f.name for f in dataclasses.fields(doorstep.RequestView)}
    names |= set(doorstep.open_request.__code__.co_varnames)
    assert not [n for n in names if "test" in n or "nucleic" in n or "pcr" in n]
    with as_user(app, WORKER) as (session, principal):
        person = _residents(session, world)[1]
        area_id = area_in_force(session, place_code=COMMUNITY, name="翠苑小区")
        now = clock.utcnow()
        emergency = doorstep.open_request(
            session,
            app.state.bus,
            principal,
            kind="medical_emergency",
            detail="孕8个月，腹痛出血",
            area_id=area_id,
            person_id=person.id,
        )
        food = doorstep.open_request(
            session, app.state.bus, principal, kind=RequestKind.food, area_id=area_id
        )
        assert abs(emergency.deadline_at - now - dt.timedelta(minutes=30)) < dt.timedelta(seconds=1)
        assert abs(food.deadline_at - now - dt.timedelta(hours=12)) < dt.timedelta(seconds=1)
        assert emergency.state == RequestState.open and not emergency.late
        with pytest.raises(InvalidInput) as bad:
            doorstep.open_request(
                session, app.state.bus, principal, kind="haircut", detail=["x"], area_id=area_id
            )
        assert {e.field for e in bad.value.errors} == {"kind", "detail"}
        with pytest.raises(InvalidInput):
            doorstep.open_request(session, app.state.bus, principal, kind="food")


def test_a_late_emergency_escalates_at_once(app, world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    with as_user(app, WORKER) as (session, principal):
        area_id = area_in_force(session, place_code=COMMUNITY, name="翠苑小区")
        emergency = doorstep.open_request(
            session, app.state.bus, principal, kind="medical_emergency", area_id=area_id
        )
        medicine = doorstep.open_request(session, app.state.bus, principal, kind="medicine", area_id=area_id)
        answered = doorstep.open_request(
            session, app.state.bus, principal, kind="medical_emergency", area_id=area_id
        )
        doorstep.take(session, principal, answered.id)
        doorstep.complete(session, principal, answered.id, outcome="120送省妇保急诊")
    frozen_clock.advance(dt.timedelta(minutes=29))
    with app.state.db.unit_of_work() as session:
        assert doorstep.escalate_late(session) == []
    frozen_clock.advance(dt.timedelta(minutes=1, seconds=1))
    with app.state.db.unit_of_work() as session:
        late = doorstep.escalate_late(session)
        assert [r.id for r in late] == [emergency.id]
        assert late[0].late and late[0].escalated_at == clock.as_utc(late[0].escalated_at)
        assert late[0].area_name == "翠苑小区"
    with app.state.db.unit_of_work() as session:
        assert doorstep.escalate_late(session) == []  # once
        row = session.get(ServiceRequest, emergency.id)
        assert row is not None and row.escalated_at is not None
    with as_user(app, WORKER) as (session, principal):
        (shown,) = [r for r in doorstep.board(session, principal) if r.area_id == area_id]
        assert (shown.open, shown.late, shown.done, shown.escalated, shown.emergencies_open) == (
            2,
            1,
            1,
            1,
            1,
        )
        listed = doorstep.list_requests(session, principal, area_id=area_id, open_only=True)
        assert [r.id for r in listed] == [emergency.id, medicine.id]  # the emergency first
    # The medicine is late past its 4 hours, escalated with the time the scheduler passes.
    with app.state.db.unit_of_work() as session:
        later = clock.utcnow() + dt.timedelta(hours=4)
        assert [r.id for r in doorstep.escalate_late(session, later)] == [medicine.id]


def test_take_complete_cancel_and_the_board(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with as_user(app, WORKER) as (session, principal):
        high = area_in_force(session, place_code=COMMUNITY, name="翠苑小区")
        medium = area_in_force(session, place_code="330106001002", name="宝石小区", level="medium")
        first = doorstep.open_request(session, app.state.bus, principal, kind="food", area_id=high)
        second = doorstep.open_request(
            session, app.state.bus, principal, kind="other", area_id=high, detail="换煤气"
        )
        taken = doorstep.take(session, principal, first.id)
        assert taken.taken_by == WORKER and taken.taken_at is not None
        done = doorstep.complete(session, principal, first.id, outcome="已送到")
        assert done.state == RequestState.done and done.done_at is not None
        with pytest.raises(Conflict):
            doorstep.take(session, principal, first.id)
        with pytest.raises(InvalidInput):
            doorstep.cancel(session, principal, second.id)
        assert (
            doorstep.cancel(session, principal, second.id, reason="重复登记").state == RequestState.cancelled
        )
        rows = {r.area_id: r for r in doorstep.board(session, principal)}
        assert (rows[high].open, rows[high].done) == (0, 1)
        assert (rows[medium].open, rows[medium].done, rows[medium].level) == (0, 0, "medium")
    with as_user(app, "away_community_worker") as (session, principal):
        assert doorstep.board(session, principal) == []
        with pytest.raises(NotFound):
            doorstep.take(session, principal, second.id)


def test_emergency_departments_kept_current(app, world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    county = world.jurisdictions["330106"]
    with as_user(app, "home_command_centre") as (session, principal):
        doorstep.set_emergency_department(
            session, principal, jurisdiction_id=county, name="浙大一院急诊", open=True, phone="0571-87236114"
        )
        doorstep.set_emergency_department(
            session, principal, jurisdiction_id=county, name="市三医院急诊", open=False, note="院感停诊"
        )
        with pytest.raises(InvalidInput):
            doorstep.set_emergency_department(session, principal, jurisdiction_id=county, name="", open=True)
    with as_user(app, "away_command_centre") as (session, principal):
        with pytest.raises(NotFound):
            doorstep.set_emergency_department(session, principal, jurisdiction_id=county, name="x", open=True)
        assert doorstep.emergency_departments(session, principal) == []
    frozen_clock.advance(dt.timedelta(hours=7))
    with as_user(app, WORKER) as (session, principal):
        opened = doorstep.open_emergency_departments(session, principal)
        assert [d.name for d in opened] == ["浙大一院急诊"]
        assert opened[0].stale and opened[0].phone == "0571-87236114"
        # Confirming the status again makes it current; reopening the closed one lists it.
        doorstep.set_emergency_department(
            session, principal, jurisdiction_id=county, name="市三医院急诊", open=True
        )
        shown = {d.name: d for d in doorstep.emergency_departments(session, principal)}
        assert shown["市三医院急诊"].open and not shown["市三医院急诊"].stale
        assert shown["市三医院急诊"].updated_by == WORKER
        assert shown["浙大一院急诊"].stale
