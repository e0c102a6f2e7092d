"""Sites and rooms of the reserve list, and the reserve standard per jurisdiction (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.core.models import AuditEntry, Jurisdiction, Person
from fangkong.quarantine.models import QuarantineRoom, RoomKind, RoomState, SiteKind, SiteStatus
from fangkong.quarantine.service import sites
from quarantine_support import acting, new_site, occupy, rooms_of

MANAGER = "home_quarantine_manager"
AWAY = "away_quarantine_manager"


def _input(**changes: object) -> sites.SiteInput:
    values: dict[str, object] = {
        "name": "西湖宾馆",
        "kind": "hotel",
        "address": "杨公堤1号",
        "jurisdiction_code": HOME_COUNTY,
        "operator": "西湖宾馆有限公司",
        "contact_name": "陈经理",
        "contact_phone": "13900000001",
        "tier": 1,
        "hours_to_open": 12,
    }
    values.update(changes)
    return sites.SiteInput(**values)  # type: ignore[arg-type]


def test_create_get_update_and_list(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting(app, MANAGER) as (session, principal):
        site = sites.create_site(session, principal, _input(), ip="10.0.0.1")
        site_id = site.id
        assert site.status == SiteStatus.reserve
        assert site.kind == SiteKind.hotel
        assert site.jpath.endswith(f"/{HOME_COUNTY}/")
    with acting(app, MANAGER) as (session, principal):
        changed = sites.update_site(session, principal, site_id, _input(tier=2, name="西湖宾馆北楼"))
        # Staff on duty is not typed in: it is the people posted there (resources' postings), none yet.
        assert (changed.tier, changed.staff_on_duty, changed.name) == (2, 0, "西湖宾馆北楼")
        assert changed.status == SiteStatus.reserve
        assert sites.get_site(session, principal, site_id).hours_to_open == 12
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "quarantine_site"))
        )
        assert {"quarantine.site.create", "quarantine.site.update"} <= actions
    with acting(app, MANAGER) as (session, principal):
        new_site(session, principal, "一级隔离点", tier=1, rooms=3, status=SiteStatus.open)
        new_site(session, principal, "关闭点", tier=3, status=SiteStatus.closed)
        listed = sites.list_sites(session, principal)
        assert [r.name for r in listed.items] == ["一级隔离点", "西湖宾馆北楼", "关闭点"]
        assert listed.total == 3
        assert [r.name for r in sites.list_sites(session, principal, status=SiteStatus.open).items] == [
            "一级隔离点"
        ]
        paged = sites.list_sites(session, principal, page=2, size=2)
        assert [r.name for r in paged.items] == ["关闭点"]
        assert paged.pages == 2
        first = listed.items[0]
        assert first.jurisdiction_name == "西湖区"
        assert (first.rooms, first.beds, first.in_service) == (3, 3, 3)
        assert first.rooms_by_state == {RoomState.free: 3}


def test_site_input_is_checked_field_by_field(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting(app, MANAGER) as (session, principal):
        with pytest.raises(InvalidInput) as caught:
            sites.create_site(
                session,
                principal,
                _input(name=" ", kind="castle", tier=0, hours_to_open=-1, jurisdiction_code=FOREIGN_COUNTY),
            )
        fields = {e.field for e in caught.value.errors}
        assert fields == {"name", "kind", "tier", "hours_to_open", "jurisdiction_code"}
        sites.create_site(session, principal, _input())
        with pytest.raises(Conflict, match="already exists"):
            sites.create_site(session, principal, _input())


def test_rooms_added_checked_and_counted(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting(app, MANAGER) as (session, principal):
        site = new_site(session, principal, "一号点")
        added = sites.add_rooms(
            session,
            principal,
            site.id,
            [
                sites.RoomInput("101", RoomKind.single, 1, "1", "A"),
                sites.RoomInput("102", "family", 3, "1", "A"),
                sites.RoomInput("201", "accessible", 2, "2", "B"),
            ],
        )
        assert added == 3
        with pytest.raises(InvalidInput) as caught:
            sites.add_rooms(
                session,
                principal,
                site.id,
                [
                    sites.RoomInput("101", "single", 1),
                    sites.RoomInput("301", "suite", 1),
                    sites.RoomInput("302", "single", 0),
                    sites.RoomInput("302", "single", 1),
                ],
            )
        problems = {(e.row, e.field) for e in caught.value.errors}
        assert problems == {(1, "number"), (2, "kind"), (3, "beds"), (4, "number")}
        assert "also row 3" in str(caught.value)
        row = sites.list_sites(session, principal).items[0]
        assert row.rooms == 3
        assert row.beds == 6
        assert row.rooms_by_kind == {RoomKind.single: 1, RoomKind.family: 1, RoomKind.accessible: 1}


def test_room_out_of_service_and_back(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting(app, MANAGER) as (session, principal):
        site = new_site(session, principal, "一号点", rooms=2, status=SiteStatus.open)
        free, taken = rooms_of(session, site)
        occupy(session, taken, world.people[HOME_COUNTY][0])
        room = sites.set_room_service(session, principal, free.id, False, "空调维修")
        assert room.state == RoomState.out_of_service
        with pytest.raises(Conflict, match="only a free room goes out of service"):
            sites.set_room_service(session, principal, taken.id, False)
        row = sites.list_sites(session, principal).items[0]
        assert row.in_service == 1
        assert row.occupancy == 1.0
        assert sites.set_room_service(session, principal, free.id, True).state == RoomState.free


def test_another_countys_user_cannot_see_or_change_a_site(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting(app, MANAGER) as (session, principal):
        site_id = new_site(session, principal, "一号点", rooms=1).id
        room_id = session.scalar(select(QuarantineRoom.id).where(QuarantineRoom.site_id == site_id))
        assert room_id is not None
    with acting(app, AWAY) as (session, principal):
        assert sites.list_sites(session, principal).total == 0
        with pytest.raises(NotFound):
            sites.get_site(session, principal, site_id)
        with pytest.raises(NotFound):
            sites.update_site(session, principal, site_id, _input(jurisdiction_code=FOREIGN_COUNTY))
        with pytest.raises(NotFound):
            sites.add_rooms(session, principal, site_id, [sites.RoomInput("999", "single", 1)])
        with pytest.raises(NotFound):
            sites.set_room_service(session, principal, room_id, False)
    with acting(app, "province_admin") as (session, principal):
        assert sites.get_site(session, principal, site_id).name == "一号点"


def _residents(session, community_code: str, n: int) -> None:  # type: ignore[no-untyped-def]
    """``n`` registry entries in a community, written directly: only their count matters here."""
    place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == community_code))
    rows = [
        {
            "jurisdiction_id": place.id,
            "jpath": place.path,
            "pii": b"-",
            "id_hash": f"r{community_code}{i:08d}",
            "name_hash": "n",
            "id_masked": "-",
            "name_masked": "-",
            "sex": "F",
            "birth_date": dt.date(1980, 1, 1),
        }
        for i in range(n)
    ]
    session.execute(insert(Person), rows)


def test_reserve_standard_on_a_hand_made_example(app, world: World) -> None:  # type: ignore[no-untyped-def]
    """杭州市: 西湖区 has the 6 seeded residents, 上城区 4,994 more (5,000 in the city with 海曙区 outside).

    西湖区: a site of 3 rooms, one out of service (2 count), and a closed site of 5 (none count):
    6 residents need ceil(0.012) = 1 room; 2 rooms are 3,333.3 per 10,000. 上城区: 7 rooms for 4,994
    residents, who need ceil(9.988) = 10: 3 short, 14.0 per 10,000. 杭州市: 9 rooms for 5,000 residents
    need 10: 1 short, 18.0 per 10,000.
    """
    with acting(app, "province_admin") as (session, principal):
        _residents(session, "330102001001", 4_994)
        west = new_site(session, principal, "西湖一号", rooms=3)
        sites.set_room_service(session, principal, rooms_of(session, west)[0].id, False)
        new_site(session, principal, "西湖旧点", rooms=5, status=SiteStatus.closed)
        new_site(session, principal, "上城一号", rooms=7, county="330102", status=SiteStatus.open)
        assert session.scalar(select(func.count()).select_from(Person)) == 9 + 4_994
        rows = {r.code: r for r in sites.reserve_standard(session, principal, level_code="330100")}
    assert list(rows) == ["330100", "330102", "330106"]
    city, shangcheng, xihu = rows["330100"], rows["330102"], rows["330106"]
    assert (xihu.residents, xihu.rooms, xihu.required, xihu.shortfall) == (6, 2, 1, 0)
    assert xihu.per_10k == pytest.approx(3333.33, abs=0.01)
    assert (shangcheng.residents, shangcheng.rooms, shangcheng.required, shangcheng.shortfall) == (
        4_994,
        7,
        10,
        3,
    )
    assert shangcheng.per_10k == pytest.approx(14.016, abs=0.001)
    assert (city.residents, city.rooms, city.required, city.shortfall) == (5_000, 9, 10, 1)
    assert city.per_10k == pytest.approx(18.0)
    assert city.standard == 20
    assert "S19" in city.source
    assert not city.meets_standard
    with acting(app, MANAGER) as (session, principal):
        own = sites.reserve_standard(session, principal)
        # A county's sites serve its townships: the standard is not asked of a township.
        assert [r.code for r in own] == [HOME_COUNTY]
        with pytest.raises(NotFound):
            sites.reserve_standard(session, principal, level_code="330102")
