"""Supplies: a testing round draws down tubes, reagents and swabs from the store that served it and
raises the reorder alert when the stock will not last; receipts clear it; transfers move stock between
jurisdictions; quarantine sites draw protective suits per occupied room-day (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core.errors import InvalidInput
from fangkong.resources.events import ReorderAlertRaised
from fangkong.resources.models import SupplyKind
from fangkong.resources.service import supplies
from fangkong.wiring import build_bus
from resources_support import acting, add_certified


def _by_kind(session, jpath: str) -> dict[SupplyKind, supplies.StockRow]:  # type: ignore[no-untyped-def]
    return {r.stock.kind: r for r in supplies.stock_rows(session, jpath)}


def test_a_testing_round_draws_down_tubes_and_reagents_and_raises_the_reorder_alert(
    app, world: World
) -> None:
    from fangkong.core import clock
    from fangkong.testing.service import rounds
    from testing_support import HOME_COMMUNITIES, home_people, home_round, pooled_tube

    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        for kind, quantity in (("tube", 12), ("reagent", 200), ("swab", 500)):
            supplies.receive(session, me, jurisdiction_code=HOME_COUNTY, kind=kind, quantity=quantity)
        for name in ("采样员甲", "采样员乙"):
            add_certified(session, me, name, "sampling")
        home_path = me.jpath
    _campaign, round_id = home_round(db, world)
    people = home_people(world)
    raised: list[ReorderAlertRaised] = []
    bus = build_bus()
    bus.subscribe(ReorderAlertRaised, lambda _s, e: raised.append(e))  # type: ignore[arg-type, misc]
    with acting(db, "home_testing_coordinator") as (session, me):
        rounds.set_up_sites(session, me, round_id)
        # Six residents in two 5-in-1 tubes and one single tube: 3 tubes, 3 reactions, 6 swabs.
        for n, members in enumerate((people[:3], people[3:5], people[5:6])):
            tube = pooled_tube(
                session, f"RES-{n}", members, scanned_at=clock.utcnow(), pool_size=5, first_seq=10 * n + 1
            )
            tube.round_id = round_id
        session.flush()
        rounds.close_round(session, me, round_id, bus=bus)
    with acting(db, "home_administrator") as (session, me):
        rows = _by_kind(session, home_path)
        assert (rows[SupplyKind.tube].stock.on_hand, rows[SupplyKind.reagent].stock.on_hand) == (9, 197)
        assert rows[SupplyKind.swab].stock.on_hand == 494
        # Used today only: 3 tubes a day leaves 9 tubes = 3 days, under the 7-day threshold.
        assert rows[SupplyKind.tube].days_left == pytest.approx(3.0)
        assert rows[SupplyKind.tube].reorder and rows[SupplyKind.tube].stock.alert_since is not None
        assert not rows[SupplyKind.reagent].reorder
        assert [e.kind for e in raised] == ["tube"]
        assert [r.stock.kind for r in supplies.list_stock(session, me, alerts_only=True)] == [SupplyKind.tube]
        # A receipt that makes the stock last again clears the alert.
        supplies.receive(session, me, jurisdiction_code=HOME_COUNTY, kind="tube", quantity=100)
        assert not _by_kind(session, home_path)[SupplyKind.tube].reorder
    assert len(HOME_COMMUNITIES) == 2


def test_a_transfer_moves_stock_between_jurisdictions_and_bad_input_writes_nothing(app, world: World) -> None:
    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        store = supplies.receive(session, me, jurisdiction_code=HOME_COUNTY, kind="ppe", quantity=50)
        store_id = store.id
    with acting(db, "home_administrator") as (session, me), pytest.raises(InvalidInput) as caught:
        supplies.transfer(session, me, store_id, FOREIGN_COUNTY, 51)
    assert [e.field for e in caught.value.errors] == ["quantity"]
    with acting(db, "home_administrator") as (session, me):
        supplies.transfer(session, me, store_id, FOREIGN_COUNTY, 20)
        assert supplies.get_stock(session, me, store_id).on_hand == 30
    with acting(db, "away_administrator") as (session, me):
        assert [(r.stock.kind, r.stock.on_hand) for r in supplies.list_stock(session, me)] == [
            (SupplyKind.ppe, 20)
        ]
    with acting(db, "home_administrator") as (session, me), pytest.raises(InvalidInput) as caught:
        supplies.receive(session, me, jurisdiction_code="330203", kind="gold", quantity=0)
    assert {e.field for e in caught.value.errors} == {"quantity", "kind", "jurisdiction_code"}


def test_quarantine_sites_draw_protective_suits_per_occupied_room_day(app, world: World) -> None:
    from fangkong.core import clock
    from fangkong.resources import rules
    from quarantine_support import acting as quarantine_acting
    from quarantine_support import new_site, occupy, rooms_of

    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        supplies.receive(session, me, jurisdiction_code=HOME_COUNTY, kind="ppe", quantity=100)
        home_path = me.jpath
    with quarantine_acting(app, "home_quarantine_manager") as (session, me):
        site = new_site(session, me, "西湖宾馆", rooms=5)
        rooms = rooms_of(session, site)
        for room, person in zip(rooms[:3], world.people[HOME_COUNTY][:3], strict=True):
            occupy(session, room, person)
    with db.unit_of_work() as session:
        assert supplies.consume_quarantine_ppe(session) == 3 * rules.PPE_PER_OCCUPIED_ROOM_DAY
        # The same day again draws nothing more; the next day draws again.
        assert supplies.consume_quarantine_ppe(session) == 0
        tomorrow = clock.today() + dt.timedelta(days=1)
        assert supplies.consume_quarantine_ppe(session, tomorrow) == 3 * rules.PPE_PER_OCCUPIED_ROOM_DAY
        ppe = _by_kind(session, home_path)[SupplyKind.ppe]
        assert ppe.stock.on_hand == 100 - 2 * 3 * rules.PPE_PER_OCCUPIED_ROOM_DAY
