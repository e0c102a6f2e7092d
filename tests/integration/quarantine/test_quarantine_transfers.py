"""Transfer (issue 12 item 6): placed people grouped by pickup community into vehicles of N seats with
the pickup time and site, the driver's list (masked unless the role may see personal data, and then
audited), and arrival checking everyone in. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from conftest import HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.audit import AuditEntry
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.core.events import DomainEvent
from fangkong.quarantine import service
from fangkong.quarantine.events import PersonCheckedIntoQuarantine
from fangkong.quarantine.models import BatchState, Stay, StayState
from fangkong.wiring import build_bus
from quarantine_support import add_person, make_site, manage, principal_of, singles

MANAGER = "home_quarantine_manager"


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault(settings.encryption_key, settings.hash_key)


def test_batches_by_pickup_community_then_arrival_checks_everyone_in(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]  # three in 保俶社区, three in 宝石社区
    pickup = clock.from_local(dt.datetime(2026, 12, 7, 6, 30))
    with app.state.db.unit_of_work() as session:
        extra = [
            add_person(session, vault, birth=dt.date(1990, 1, 1), address=f"330106001001 幸福路{20 + i}号")
            for i in range(2)
        ]
        site = make_site(session, world, singles(10))
        manage(session, [*home, *extra])
        me = principal_of(session, MANAGER)
        assert service.placement.place_people(session, me).placed == 8
        with pytest.raises(InvalidInput):
            service.transfers.plan_batches(session, me, seats=0)
        batches = service.transfers.plan_batches(session, me, seats=2, pickup_at=pickup)
        # 保俶社区: 5 people in vehicles of 2 → 3 batches; 宝石社区: 3 → 2.
        by_place: dict[int, list[int]] = {}
        for batch in batches:
            by_place.setdefault(batch.pickup_jurisdiction_id, []).append(batch.id)
        assert sorted(len(v) for v in by_place.values()) == [2, 3]
        assert {b.site_id for b in batches} == {site} and {b.seats for b in batches} == {2}
        assert {clock.as_utc(b.pickup_at) for b in batches} == {pickup}
        assert len({b.vehicle for b in batches}) == 5 and all(b.vehicle.startswith("车") for b in batches)
        riders = dict(session.execute(select(Stay.batch_id, Stay.id)).all())
        assert set(riders) == {b.id for b in batches}
        # Everyone is in a batch now: planning again makes none.
        assert service.transfers.plan_batches(session, me) == []
        first = batches[0].id
    with app.state.db.unit_of_work() as session:
        sheet = service.transfers.batch_sheet(session, principal_of(session, MANAGER), first)
        assert not sheet.revealed and sheet.site_name == "西湖宾馆" and sheet.pickup_place == "保俶社区"
        assert 1 <= len(sheet.riders) <= 2
        assert all("*" in r.name and r.room_number.startswith("1") for r in sheet.riders)
        # With the vault, a quarantine manager (who may see personal data) gets the full list, audited.
        shown = service.transfers.batch_sheet(session, principal_of(session, MANAGER), first, vault=vault)
        assert shown.revealed and all("*" not in r.name for r in shown.riders)
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "quarantine.batch_sheet.reveal"))
        # A viewer role without that permission still gets it masked.
        masked = service.transfers.batch_sheet(
            session, principal_of(session, "home_testing_coordinator"), first, vault=vault
        )
        assert not masked.revealed
        with pytest.raises(NotFound):
            service.transfers.batch_sheet(session, principal_of(session, "away_quarantine_manager"), first)
    seen: list[DomainEvent] = []
    bus = build_bus()
    bus.subscribe(PersonCheckedIntoQuarantine, lambda _s, e: seen.append(e))
    with app.state.db.unit_of_work() as session:
        me = principal_of(session, MANAGER)
        service.transfers.depart(session, me, first)
        count = service.transfers.confirm_arrival(session, bus, me, first)
        assert count == len(sheet.riders) == len(seen)
    with app.state.db.unit_of_work() as session:
        states = set(session.scalars(select(Stay.state).where(Stay.batch_id == first)))
        assert states == {StayState.checked_in}
        batch = service.transfers.get_batch(session, principal_of(session, MANAGER), first)
        assert batch.state is BatchState.arrived and batch.arrived_at is not None
        # The others are still on their way.
        assert session.scalar(select(Stay.state).where(Stay.batch_id != first).limit(1)) is StayState.placed
    with pytest.raises(Conflict), app.state.db.unit_of_work() as session:
        service.transfers.confirm_arrival(session, bus, principal_of(session, MANAGER), first)
