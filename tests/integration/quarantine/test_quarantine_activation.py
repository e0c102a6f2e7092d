"""Tier-by-tier activation: every status transition, approval, the rule and its advice (SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from conftest import HOME_COUNTY, World
from fangkong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from fangkong.core.events import DomainEvent, EventBus
from fangkong.core.i18n import Message
from fangkong.core.models import AuditEntry
from fangkong.quarantine.events import QuarantineSiteActivated
from fangkong.quarantine.models import (
    OperatorNotice,
    QuarantineRoom,
    QuarantineSite,
    RoomState,
    SiteStatus,
    SiteStatusChange,
    Stay,
    StayState,
)
from fangkong.quarantine.service import activation
from quarantine_support import acting, new_site, occupy, plan_centralized, rooms_of

MANAGER = "home_quarantine_manager"
COMMAND = "home_command_centre"


class Recorder:
    def __init__(self) -> None:
        self.bus = EventBus()
        self.events: list[DomainEvent] = []
        self.bus.subscribe(QuarantineSiteActivated, lambda _s, e: self.events.append(e))


def _status(app, site_id: int) -> SiteStatus:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        site = session.get(QuarantineSite, site_id)
        assert site is not None
        return site.status


def test_a_site_goes_round_the_whole_cycle(app, world: World) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    with acting(app, MANAGER) as (session, principal):
        site_id = new_site(session, principal, "一号点", rooms=4, hours_to_open=6).id
        new_site(session, principal, "开放点", rooms=5, status=SiteStatus.open)
        opened = rooms_of(
            session, session.scalars(select(QuarantineSite).where(QuarantineSite.name == "开放点")).one()
        )
        for room, person in zip(opened[:2], world.people[HOME_COUNTY], strict=False):
            occupy(session, room, person)
    with acting(app, COMMAND) as (session, principal):
        change = activation.activate(session, recorder.bus, principal, site_id, ip="10.0.0.9")
        assert (change.previous, change.status) == (SiteStatus.reserve, SiteStatus.preparing)
        assert change.approved_by == COMMAND
        # 2 of the 5 rooms of the open site were occupied when it was approved.
        assert change.occupancy == pytest.approx(0.4)
        assert "activated as tier 1" in str(Message.loads(change.reason))
    assert _status(app, site_id) == SiteStatus.preparing
    (event,) = recorder.events
    assert isinstance(event, QuarantineSiteActivated)
    assert (event.site_id, event.tier, event.hours_to_open) == (site_id, 1, 6)
    with acting(app, MANAGER) as (session, principal):
        (notice,) = session.scalars(select(OperatorNotice).where(OperatorNotice.site_id == site_id))
        assert "一号点 运营方" in notice.recipient
        assert "within 6 h" in str(Message.loads(notice.message))
        assert session.scalar(select(AuditEntry.id).where(AuditEntry.action == "quarantine.site.preparing"))
        activation.mark_open(session, principal, site_id)
    assert _status(app, site_id) == SiteStatus.open
    with acting(app, MANAGER) as (session, principal):
        room = rooms_of(session, session.get(QuarantineSite, site_id))[0]  # type: ignore[arg-type]
        stay = occupy(session, room, world.people[HOME_COUNTY][3])
        stay_id, room_id = stay.id, room.id
        activation.start_closing(session, principal, site_id, reason="疫情缓解")
    with acting(app, MANAGER) as (session, principal), pytest.raises(Conflict) as caught:
        activation.finish_closing(session, principal, site_id)
    assert (
        "still has 1 people staying, 1 rooms occupied and 0 rooms awaiting terminal cleaning"
        in caught.value.message
    )
    with acting(app, MANAGER) as (session, principal):
        # The last release: the room goes to cleaning (as stays.release_due leaves it).
        session.execute(update(Stay).where(Stay.id == stay_id).values(state=StayState.released))
        session.execute(
            update(QuarantineRoom)
            .where(QuarantineRoom.id == room_id)
            .values(occupants=0, state=RoomState.cleaning, group_key=None)
        )
    with (
        acting(app, MANAGER) as (session, principal),
        pytest.raises(Conflict, match="1 rooms awaiting terminal"),
    ):
        activation.finish_closing(session, principal, site_id)
    with acting(app, MANAGER) as (session, principal):
        session.execute(
            update(QuarantineRoom).where(QuarantineRoom.id == room_id).values(state=RoomState.free)
        )
    with acting(app, MANAGER) as (session, principal):
        activation.finish_closing(session, principal, site_id)
    assert _status(app, site_id) == SiteStatus.reserve
    with acting(app, MANAGER) as (session, principal):
        with pytest.raises(InvalidInput):
            activation.close_for_good(session, principal, site_id)
        activation.close_for_good(session, principal, site_id, reason="合同到期")
    assert _status(app, site_id) == SiteStatus.closed
    with acting(app, MANAGER) as (session, principal):
        changes = activation.history(session, principal, site_id)
        assert [(c.previous, c.status) for c in reversed(changes)] == [
            (SiteStatus.reserve, SiteStatus.preparing),
            (SiteStatus.preparing, SiteStatus.open),
            (SiteStatus.open, SiteStatus.closing),
            (SiteStatus.closing, SiteStatus.reserve),
            (SiteStatus.reserve, SiteStatus.closed),
        ]
        assert changes[0].reason == "合同到期"
        assert changes[0].site_name == "一号点"


@pytest.mark.parametrize(
    ("status", "move", "words"),
    [
        (SiteStatus.reserve, "mark_open", "一号点 is reserve: it cannot become open"),
        (SiteStatus.reserve, "start_closing", "cannot become closing"),
        (SiteStatus.reserve, "finish_closing", "cannot become reserve"),
        (SiteStatus.preparing, "activate", "cannot become preparing"),
        (SiteStatus.preparing, "start_closing", "cannot become closing"),
        (SiteStatus.open, "activate", "cannot become preparing"),
        (SiteStatus.open, "finish_closing", "cannot become reserve"),
        (SiteStatus.open, "close_for_good", "cannot become closed"),
        (SiteStatus.closing, "mark_open", "cannot become open"),
        (SiteStatus.closed, "activate", "closed for good"),
        (SiteStatus.closed, "finish_closing", "closed for good"),
    ],
)
def test_a_refused_transition_is_a_clear_conflict(  # type: ignore[no-untyped-def]
    app, world: World, status: SiteStatus, move: str, words: str
) -> None:
    with acting(app, MANAGER) as (session, principal):
        site_id = new_site(session, principal, "一号点", status=status).id

    def attempt(session, principal) -> None:  # type: ignore[no-untyped-def]
        if move == "activate":
            activation.activate(session, EventBus(), principal, site_id)
        else:
            getattr(activation, move)(session, principal, site_id, reason="试试")

    with acting(app, COMMAND) as (session, principal), pytest.raises(Conflict) as caught:
        attempt(session, principal)
    assert words in caught.value.message
    assert _status(app, site_id) == status


def test_activation_needs_the_approval_permission_and_the_scope(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting(app, MANAGER) as (session, principal):
        site_id = new_site(session, principal, "一号点").id
        with pytest.raises(Forbidden):
            activation.activate(session, EventBus(), principal, site_id)
    with acting(app, "away_command_centre") as (session, principal), pytest.raises(NotFound):
        activation.activate(session, EventBus(), principal, site_id)
    with acting(app, "away_quarantine_manager") as (session, principal), pytest.raises(NotFound):
        activation.mark_open(session, principal, site_id)
    with acting(app, "away_quarantine_manager") as (session, principal):
        assert activation.history(session, principal) == []
        with pytest.raises(NotFound):
            activation.history(session, principal, site_id)
    assert _status(app, site_id) == SiteStatus.reserve


def test_tier_one_opens_first(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting(app, MANAGER) as (session, principal):
        new_site(session, principal, "一级点", tier=1)
        second = new_site(session, principal, "二级点", tier=2).id
    with acting(app, COMMAND) as (session, principal):
        with pytest.raises(Conflict, match="sites of a lower tier are still in reserve: 一级点"):
            activation.activate(session, EventBus(), principal, second)
        with pytest.raises(InvalidInput):
            activation.activate(session, EventBus(), principal, second, out_of_order=True)
        change = activation.activate(
            session, EventBus(), principal, second, out_of_order=True, reason="一级点在维修"
        )
        assert change.reason == "一级点在维修"


def test_rules_default_inherit_and_are_checked(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting(app, COMMAND) as (session, principal):
        rule = activation.get_rule(session, principal)
        assert (rule.occupancy_threshold, rule.forecast_hours, rule.is_default) == (0.8, 48, True)
        with pytest.raises(InvalidInput) as caught:
            activation.set_rule(session, principal, 80, 500)
        assert {e.field for e in caught.value.errors} == {"occupancy_threshold", "forecast_hours"}
        rule = activation.set_rule(session, principal, 0.7, 24)
        assert (rule.occupancy_threshold, rule.forecast_hours, rule.inherited_from) == (0.7, 24, None)
    with acting(app, "province_admin") as (session, principal):
        activation.set_rule(session, principal, 0.9, 72)
    with acting(app, "away_command_centre") as (session, principal):
        inherited = activation.get_rule(session, principal)
        assert (inherited.occupancy_threshold, inherited.inherited_from) == (0.9, "浙江省")
    with acting(app, MANAGER) as (session, principal):
        assert activation.get_rule(session, principal).occupancy_threshold == 0.7
    with acting(app, "away_command_centre") as (session, principal), pytest.raises(NotFound):
        activation.set_rule(session, principal, 0.5, 12, jurisdiction_id=world.jurisdictions[HOME_COUNTY])
    with acting(app, "home_investigator") as (session, principal), pytest.raises(Forbidden):
        activation.set_rule(session, principal, 0.5, 12)


def _open_site_with(app, world: World, occupied: int, *, exposure: dt.date | None = None) -> None:  # type: ignore[no-untyped-def]
    """An open tier-1 site of 5 rooms with ``occupied`` of them taken, and the reserve: two tier-2 sites
    and one of tier 3. With ``exposure``, the occupants' plans keep them past the forecast's week."""
    with acting(app, MANAGER) as (session, principal):
        site = new_site(session, principal, "一级点", tier=1, rooms=5, status=SiteStatus.open)
        new_site(session, principal, "二级慢", tier=2, rooms=30, hours_to_open=48)
        new_site(session, principal, "二级快", tier=2, rooms=20, hours_to_open=12)
        new_site(session, principal, "三级点", tier=3, rooms=100)
        for room, person in zip(rooms_of(session, site)[:occupied], world.people[HOME_COUNTY], strict=False):
            source = plan_centralized(session, person, exposure) if exposure else None
            occupy(session, room, person, source=source)


def test_the_advice_when_the_threshold_is_crossed(app, world: World) -> None:  # type: ignore[no-untyped-def]
    _open_site_with(app, world, 4)
    with acting(app, COMMAND) as (session, principal):
        advice = activation.evaluate(session, principal)
    assert advice.activate
    assert (advice.occupied, advice.capacity_open) == (4, 5)
    assert advice.decision.next_tier == 2
    assert [s.name for s in advice.sites] == ["二级快", "二级慢"]
    text = [str(r) for r in advice.reasons]
    assert "open rooms are 80% occupied (4 of 5)" in text[0]
    assert "tier 2 is next: 2 sites in reserve with 50 rooms" in text[1]


def test_no_advice_below_the_threshold(app, world: World) -> None:  # type: ignore[no-untyped-def]
    _open_site_with(app, world, 3, exposure=dt.date(2026, 12, 6))
    with acting(app, COMMAND) as (session, principal):
        advice = activation.evaluate(session, principal)
    assert not advice.activate
    assert advice.decision.occupancy == pytest.approx(0.6)
    assert "below the threshold of 80%" in str(advice.reasons[0])


def test_the_forecast_triggers_within_its_horizon(app, world: World) -> None:  # type: ignore[no-untyped-def]
    """3 of 5 rooms taken until 14 December; one close contact exposed today (7 December local) starts
    quarantine tomorrow: 4 of 5 = 80 % from tomorrow, about 20 hours from now (04:19 local)."""
    _open_site_with(app, world, 3, exposure=dt.date(2026, 12, 6))
    with acting(app, MANAGER) as (session, _principal):
        plan_centralized(session, world.people[HOME_COUNTY][4], dt.date(2026, 12, 7))
    with acting(app, COMMAND) as (session, principal):
        advice = activation.evaluate(session, principal)
        assert advice.activate
        assert advice.waiting == 0  # the arrival is due tomorrow, not waiting now
        assert advice.decision.hours_until_threshold == pytest.approx(19.68, abs=0.01)
        assert "the forecast reaches 80% occupancy in about 20 h" in str(advice.reasons[0])
        activation.set_rule(session, principal, 0.8, 12)
    with acting(app, COMMAND) as (session, principal):
        advice = activation.evaluate(session, principal)
        assert not advice.activate
        assert "beyond the horizon of 12 h" in str(advice.reasons[0])


def test_status_changes_are_kept_per_site(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with acting(app, MANAGER) as (session, principal):
        first = new_site(session, principal, "一级点").id
        new_site(session, principal, "一级点二", tier=1)
    with acting(app, COMMAND) as (session, principal):
        activation.activate(session, EventBus(), principal, first)
    with acting(app, MANAGER) as (session, principal):
        activation.mark_open(session, principal, first)
        assert len(activation.history(session, principal)) == 2
        assert session.scalar(select(SiteStatusChange.approved_by).order_by(SiteStatusChange.id)) == COMMAND
