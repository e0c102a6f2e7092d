"""scratch"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from conftest import HOME_COUNTY, World
from fangkong.core import audit
from fangkong.core.models import Jurisdiction
from fangkong.protocol import service as protocol_service
from fangkong.protocol.models import ManagementPlanRecord
from fangkong.tracing import service
from fangkong.tracing.models import Classification
from fangkong.tracing.persons import PersonInput
from fangkong.wiring import build_bus
from contextlib import contextmanager
from fangkong.core.auth import principal_for
from fangkong.core.crypto import Vault
from fangkong.core.models import User


class Tracing:
    def __init__(self, app, vault):
        self.app, self.vault = app, vault

    @contextmanager
    def as_user(self, username):
        with self.app.state.db.unit_of_work() as session:
            user = session.scalar(select(User).where(User.username == username))
            yield session, principal_for(session, user, "token")


import pytest
@pytest.fixture
def tracing(app, world, settings):
    return Tracing(app, Vault(settings.encryption_key, settings.hash_key))


def test_repro(tracing: Tracing, world: World, app) -> None:  # type: ignore[no-untyped-def]
    bus = build_bus()
    people = world.people[HOME_COUNTY]
    with tracing.as_user("home_investigator") as (session, me):
        case = service.register_case(session, tracing.vault, bus, me, service.CaseInput(
            classification=Classification.confirmed,
            person=PersonInput(id_number=world.id_numbers[people[0]]),
            onset_date=dt.date(2026, 12, 5), isolated_at=dt.datetime(2026, 12, 6, 10)))
        cid = case.id
    with tracing.as_user("home_investigator") as (session, me):
        close = service.add_exposures(session, tracing.vault, bus, me, cid, [service.ExposureInput(
            "household", dt.datetime(2026, 12, 5, 19), person=PersonInput(name="张三", phone="13900000002"))])
        close_id = close[0].id
    with tracing.as_user("home_investigator") as (session, me):
        service.add_exposures(session, tracing.vault, bus, me, cid, [service.ExposureInput(
            "office", dt.datetime(2026, 12, 6, 9), end=dt.datetime(2026, 12, 6, 17), via_contact_id=close_id,
            person=PersonInput(id_number=world.id_numbers[people[2]]))])
    with app.state.db.unit_of_work() as session:
        for r in session.scalars(select(ManagementPlanRecord)):
            print("PLAN", r.person_id, r.source, r.jpath, r.category, r.state, r.clock_date, r.end_date)
        county = session.scalar(select(Jurisdiction).where(Jurisdiction.code == HOME_COUNTY))
        report = protocol_service.switch_protocol(session, audit.SYSTEM, county, "cn-9-20")
        print("REPORT", report)
