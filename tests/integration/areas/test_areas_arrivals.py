"""Arrival registration on SQLite and PostgreSQL: categories and plans, one trip one worklist entry,
repeat registrations, look-back on designation, hostile input and the rate limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from areas_support import area_in_force, arrival_input, arrivals_bus, as_user, lift_area
from conftest import HOME_COUNTY, World, valid_id
from fangkong.areas.events import RiskAreaDesignated
from fangkong.areas.models import Arrival, ArrivalReport, WorklistState
from fangkong.areas.service import arrivals
from fangkong.areas.service.arrivals import SubmissionLimiter, TooManySubmissions
from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.errors import Forbidden, InvalidInput, NotFound
from fangkong.core.models import AuditEntry, Person
from fangkong.protocol.models import ManagementPlanRecord

FOREIGN_COMMUNITY = "330203001001"  # 南门社区, 海曙区: where the risk areas of these tests lie


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault(settings.encryption_key, settings.hash_key)


@pytest.fixture(autouse=True)
def _fresh_limiter() -> Iterator[None]:
    arrivals.PUBLIC_LIMITER.reset()
    yield
    arrivals.PUBLIC_LIMITER.reset()


def register(
    app: Any, vault: Vault, data: Any, *, channel: str = "form", ip: str = "198.51.100.7", **kw: Any
) -> Any:
    with app.state.db.unit_of_work() as session:
        return arrivals.register_arrival(
            session, vault, arrivals_bus(), data, channel=channel, reporter=kw.pop("reporter", "staff_user"),
            ip=ip, **kw,
        )  # fmt: skip


def designate(app: Any, **kw: Any) -> int:
    """An area put in force and announced (the look-back runs on the announcement)."""
    with app.state.db.unit_of_work() as session:
        area_id = area_in_force(session, place_code=FOREIGN_COMMUNITY, **kw)
        arrivals_bus().publish(
            session, RiskAreaDesignated(area_id=area_id, jpath="", level=kw.get("level", "high"))
        )
        return area_id


def plans_of(session: Session, arrival_id: int) -> list[ManagementPlanRecord]:
    return list(
        session.scalars(
            select(ManagementPlanRecord).where(ManagementPlanRecord.source == f"arrival:{arrival_id}")
        )
    )


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(table)) or 0
        for table in (Arrival, ArrivalReport, Person, ManagementPlanRecord, AuditEntry)
    )


def days_ago(n: int) -> str:
    return (clock.today() - dt.timedelta(days=n)).isoformat()


# --------------------------------------------------------------------------------------- categories


def test_categorisation_end_to_end(app: Any, world: World, vault: Vault) -> None:
    high = designate(app, name="南门小区", level="high")
    medium = designate(app, name="鼓楼菜市场", level="medium", unit_kind="building")
    departed, arrived = clock.today() - dt.timedelta(days=2), clock.today() - dt.timedelta(days=1)

    by_name = register(app, vault, arrival_input(origin_unit=" 南门 小区"))
    by_id = register(
        app, vault, arrival_input(id_number=valid_id("330203", "19850505", 31), origin_area_id=medium)
    )
    rest = register(app, vault, arrival_input(id_number=valid_id("330203", "19850505", 33)))
    elsewhere = register(
        app, vault, arrival_input(id_number=valid_id("110105", "19850505", 35), origin_county_code="110105")
    )

    assert (by_name.category, by_name.measure) == ("high_risk_area_arrival", "centralized_quarantine")
    assert (by_id.category, by_id.measure) == ("medium_risk_area_arrival", "home_isolation")
    assert (rest.category, rest.measure) == ("low_risk_area_arrival", "testing_only")
    assert (elsewhere.category, elsewhere.measure) == ("no_risk", None)
    with app.state.db.unit_of_work() as session:
        first = session.get(Arrival, by_name.arrival_id)
        assert first is not None
        assert first.origin_area_id == high
        [plan] = plans_of(session, by_name.arrival_id)
        assert (plan.category, plan.area_departure, plan.jpath) == (
            "high_risk_area_arrival",
            departed,
            first.jpath,
        )
        assert by_name.valid_until == plan.end_date
        [low_plan] = plans_of(session, rest.arrival_id)
        # cn-9 counts "3天2检" from the arrival, the others from leaving the area.
        assert (low_plan.category, low_plan.arrival) == ("low_risk_area_arrival", arrived)
        assert plans_of(session, elsewhere.arrival_id) == []
        # The traveller, unknown before, is now in the registry at the destination community.
        person = session.get(Person, first.person_id)
        assert person is not None
        assert person.jpath.endswith("/330106001001/")
    with as_user(app, "home_community_worker") as (session, me):
        page = arrivals.worklist(session, me)
        assert page.total == 4
        row = next(r for r in page.items if r.id == by_name.arrival_id)
        assert (row.name, row.origin_area_name, row.origin_county_name) == ("赵*", "南门小区", "海曙区")
        assert row.id_number.startswith("330") and "*" in row.id_number
        assert row.phone == "139****9000"


def test_an_area_lifted_before_departure_does_not_count(app: Any, world: World, vault: Vault) -> None:
    area = designate(app, name="南门小区", level="high", at=clock.utcnow() - dt.timedelta(days=9))
    with app.state.db.unit_of_work() as session:
        lift_area(session, area, clock.utcnow() - dt.timedelta(days=4))
    assert register(app, vault, arrival_input(origin_unit="南门小区")).category == "no_risk"
    before = arrival_input(
        id_number=valid_id("330203", "19850505", 41), origin_unit="南门小区", departed_on=days_ago(5)
    )
    assert register(app, vault, before).category == "high_risk_area_arrival"


# ------------------------------------------------------------------------------ one trip, one person


def test_a_trip_reported_by_the_form_and_by_staff_is_one_worklist_entry(
    app: Any, world: World, vault: Vault
) -> None:
    designate(app, name="南门小区", level="high")
    public = register(app, vault, arrival_input())
    staff = register(app, vault, arrival_input(origin_unit="南门小区", phone="13900139001"), channel="staff",
                     reporter="home_community_worker")  # fmt: skip
    again = register(app, vault, arrival_input(), channel="form", ip="203.0.113.9")

    assert staff.arrival_id == public.arrival_id == again.arrival_id
    assert (public.merged, staff.merged, again.merged) == (False, True, True)
    # The staff report named the high area: the trip moved up, once, and its plan with it.
    assert staff.trip_category == "high_risk_area_arrival"
    # A public answer speaks only of what that submission said, never of what others reported.
    assert again.category == "low_risk_area_arrival"
    assert set(again.public_answer()) == {"registered", "message", "category", "measure"}
    with app.state.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Arrival)) == 1
        channels = session.scalars(select(ArrivalReport.channel).order_by(ArrivalReport.id)).all()
        assert channels == ["form", "staff", "form"]
        [plan] = plans_of(session, public.arrival_id)
        assert plan.category == "high_risk_area_arrival"
    with as_user(app, "home_community_worker") as (session, me):
        page = arrivals.worklist(session, me)
        assert page.total == 1
        assert page.items[0].reports == 3
        assert page.items[0].channels == ("form", "staff")


def test_a_repeat_registration_merges_into_the_same_person(app: Any, world: World, vault: Vault) -> None:
    resident = world.people[HOME_COUNTY][0]
    known = world.id_numbers[resident]
    first = register(app, vault, arrival_input(id_number=known, name="张伟"))
    second = register(app, vault, arrival_input(id_number=known, name="张伟", departed_on=days_ago(20),
                                                 arrived_on=days_ago(19)))  # fmt: skip
    stranger_first = register(app, vault, arrival_input())
    stranger_second = register(app, vault, arrival_input(departed_on=days_ago(30), arrived_on=days_ago(29)))
    with app.state.db.unit_of_work() as session:
        rows = {a.id: a for a in session.scalars(select(Arrival))}
        assert rows[first.arrival_id].person_id == rows[second.arrival_id].person_id == resident
        assert rows[stranger_first.arrival_id].person_id == rows[stranger_second.arrival_id].person_id
        assert first.arrival_id != second.arrival_id
        hash_ = vault.keyed_hash(valid_id("330203", "19900101", 123))
        assert session.scalar(select(func.count()).select_from(Person).where(Person.id_hash == hash_)) == 1


# ------------------------------------------------------------------------------------------- look-back


def test_look_back_finds_an_earlier_arrival_when_its_area_is_designated_later(
    app: Any, world: World, vault: Vault
) -> None:
    named = register(app, vault, arrival_input(origin_unit="东门小区", departed_on=days_ago(3)))
    unnamed = register(
        app, vault, arrival_input(id_number=valid_id("330203", "19850505", 51), departed_on=days_ago(4))
    )
    too_early_trip = arrival_input(
        id_number=valid_id("330203", "19850505", 53),
        origin_unit="东门小区",
        departed_on=days_ago(9),
        arrived_on=days_ago(8),
    )
    too_early = register(app, vault, too_early_trip)
    assert named.category == unnamed.category == too_early.category == "no_risk"

    area = designate(app, name="东门小区", level="high")

    with app.state.db.unit_of_work() as session:
        rows = {a.id: a for a in session.scalars(select(Arrival))}
        assert rows[named.arrival_id].category.value == "high_risk_area_arrival"
        assert rows[named.arrival_id].origin_area_id == area
        assert rows[unnamed.arrival_id].category.value == "low_risk_area_arrival"
        assert rows[too_early.arrival_id].category.value == "no_risk"
        [plan] = plans_of(session, named.arrival_id)
        assert (plan.category, plan.area_departure) == (
            "high_risk_area_arrival",
            clock.today() - dt.timedelta(days=3),
        )
        assert [p.category for p in plans_of(session, unnamed.arrival_id)] == ["low_risk_area_arrival"]
        assert plans_of(session, too_early.arrival_id) == []


def test_look_back_never_moves_an_arrival_down(app: Any, world: World, vault: Vault) -> None:
    designate(app, name="南门小区", level="high")
    high = register(app, vault, arrival_input(origin_unit="南门小区"))
    designate(app, name="鼓楼菜市场", level="medium")
    with app.state.db.unit_of_work() as session:
        arrival = session.get(Arrival, high.arrival_id)
        assert arrival is not None
        assert arrival.category.value == "high_risk_area_arrival"


# ---------------------------------------------------------------------------------------- hostile input


MALFORMED = [
    ({"id_number": "330203199001011234"}, "id_number"),
    ({"id_number": "<script>alert(1)</script>"}, "id_number"),
    ({"id_number": 330203199001011234}, "id_number"),
    ({"name": "<script>alert(1)</script>"}, "name"),
    ({"name": {"first": "赵"}}, "name"),
    ({"name": ""}, "name"),
    ({"phone": "12345"}, "phone"),
    ({"origin_county_code": "999999"}, "origin_county_code"),
    ({"origin_county_code": "330203001001"}, "origin_county_code"),
    ({"departed_on": "2026-13-01"}, "departed_on"),
    ({"departed_on": "1926-01-01"}, "departed_on"),
    ({"arrived_on": ["2026-12-01"]}, "arrived_on"),
    ({"departed_on": days_ago(1), "arrived_on": days_ago(3)}, "arrived_on"),
    ({"destination_code": "330106001"}, "destination_code"),
    ({"destination_code": "330203001001'; DROP TABLE arrivals;--"}, "destination_code"),
    ({"address": "", "hotel": ""}, "address"),
    ({"address": "x" * 100_000}, "address"),
    ({"hotel": "酒" * 101}, "hotel"),
    ({"origin_area_id": 999_999}, "origin_area_id"),
    ({"origin_area_id": "1 OR 1=1"}, "origin_area_id"),
    ({"companions": -1}, "companions"),
    ({"companions": "many"}, "companions"),
    ({"places_visited": "<img src=x onerror=alert(1)>" * 200}, "places_visited"),
]


@pytest.mark.parametrize(("overrides", "field"), MALFORMED)
def test_malformed_input_is_named_and_writes_nothing(
    app: Any, world: World, vault: Vault, overrides: dict[str, object], field: str
) -> None:
    with app.state.db.unit_of_work() as session:
        before = counts(session)
    with pytest.raises(InvalidInput) as caught:
        register(app, vault, arrival_input(**overrides))
    assert field in {e.field for e in caught.value.errors}
    assert caught.value.status == 422
    with app.state.db.unit_of_work() as session:
        assert counts(session) == before


def test_markup_is_stripped_from_text(app: Any, world: World, vault: Vault) -> None:
    receipt = register(app, vault, arrival_input(places_visited="<b>天一广场</b><script>x</script> 鼓楼",
                                                 origin_unit="<i>南门</i>小区"))  # fmt: skip
    with app.state.db.unit_of_work() as session:
        arrival = session.get(Arrival, receipt.arrival_id)
        assert arrival is not None
        assert "<" not in arrival.places_visited and ">" not in arrival.places_visited
        assert arrival.places_visited == "天一广场 x 鼓楼"
        assert arrival.origin_text == "南门 小区"


def test_the_rate_limit_holds_per_address(
    app: Any, world: World, vault: Vault, frozen_clock: clock.FrozenClock
) -> None:
    limiter = SubmissionLimiter(limit=3)
    bad = arrival_input(id_number="not an id")
    for _ in range(3):
        with pytest.raises(InvalidInput):
            register(app, vault, bad, ip="192.0.2.1", limiter=limiter)
    with app.state.db.unit_of_work() as session:
        before = counts(session)
    with pytest.raises(TooManySubmissions) as caught:
        register(app, vault, arrival_input(), ip="192.0.2.1", limiter=limiter)
    assert caught.value.status == 429
    assert 0 < caught.value.retry_after <= 60
    with app.state.db.unit_of_work() as session:
        assert counts(session) == before
    # Another address is not affected; staff channels are not limited.
    register(app, vault, arrival_input(), ip="192.0.2.2", limiter=limiter)
    for _ in range(4):
        register(app, vault, arrival_input(), channel="staff", ip="192.0.2.1", limiter=limiter)
    frozen_clock.advance(seconds=61)
    assert register(app, vault, arrival_input(), ip="192.0.2.1", limiter=limiter).merged


def test_an_unknown_channel_is_refused(app: Any, world: World, vault: Vault) -> None:
    with pytest.raises(InvalidInput) as caught:
        register(app, vault, arrival_input(), channel="<script>")
    assert caught.value.errors[0].field == "channel"


# ------------------------------------------------------------------------------------------ worklist


def test_the_worklist_is_scoped_and_marked(app: Any, world: World, vault: Vault) -> None:
    receipt = register(app, vault, arrival_input())
    with as_user(app, "home_community_worker") as (session, me):
        view = arrivals.mark(session, me, receipt.arrival_id, "contacted")
        assert view.state == "contacted"
        assert arrivals.worklist(session, me, state=WorklistState.new).total == 0
        assert arrivals.worklist(session, me, state="contacted").total == 1
        with pytest.raises(InvalidInput):
            arrivals.mark(session, me, receipt.arrival_id, "done!")
    with as_user(app, "away_community_worker") as (session, me):
        assert arrivals.worklist(session, me).total == 0
        with pytest.raises(NotFound):
            arrivals.mark(session, me, receipt.arrival_id, "closed")
    with as_user(app, "home_viewer") as (session, me), pytest.raises(Forbidden):
        arrivals.worklist(session, me)
    with app.state.db.unit_of_work() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("arrivals.%"))).all()
        assert sorted(actions) == ["arrivals.mark", "arrivals.report"]
