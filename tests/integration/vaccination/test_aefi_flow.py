"""An AEFI card from report to review on real databases: its deadline (48 h; 2 h for a death or a
cluster) escalating on a frozen clock, the events it publishes, sending it to the county CDC, the WHO
causality review, the checks on the card, the scope, and the cards past due."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.core.events import DomainEvent, EventBus
from fangkong.vaccination.events import AdverseEventReported, AdverseEventSentToCounty
from fangkong.vaccination.models import AefiOutcome, Causality, Severity
from fangkong.vaccination.rules.aefi import Deadline
from fangkong.vaccination.service import aefi
from vaccination_support import as_user, give_doses

WORKER = "home_community_worker"


class Recorder(EventBus):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[DomainEvent] = []

    def publish(self, session: Any, event: DomainEvent) -> None:
        self.seen.append(event)


@pytest.fixture
def doses(app: Any, world: World) -> dict[str, int]:
    given = clock.today() - dt.timedelta(days=2)
    with app.state.db.unit_of_work() as session:
        home = give_doses(session, world.people[HOME_COUNTY][0], [given], lot="202212A")
        away = give_doses(session, world.people[FOREIGN_COUNTY][0], [given], lot="202212B")
    return {"home": home[0], "away": away[0]}


def _report(app: Any, bus: EventBus, dose_id: int, **changes: Any) -> int:
    card: dict[str, Any] = {
        "onset_on": clock.today() - dt.timedelta(days=1),
        "symptoms": "发热 38.9℃，接种部位红肿",
        "severity": Severity.moderate,
        "outcome": AefiOutcome.recovering,
        "cluster": False,
        **changes,
    }
    with as_user(app, WORKER) as (session, me):
        event = aefi.report(session, me, bus, dose_id, **card)
        return event.id


def test_a_card_is_due_in_48_hours_and_escalates_on_the_clock(
    app: Any, doses: dict[str, int], frozen_clock: clock.FrozenClock
) -> None:
    bus = Recorder()
    found = clock.utcnow()
    event_id = _report(app, bus, doses["home"])
    (published,) = bus.seen
    assert isinstance(published, AdverseEventReported)
    assert (published.event_id, published.severity, published.cluster) == (event_id, "moderate", False)
    assert abs(published.due_at - (found + dt.timedelta(hours=48))) < dt.timedelta(seconds=1)
    assert published.found_at is not None and published.found_at - found < dt.timedelta(seconds=1)

    def state() -> Deadline:
        with as_user(app, "home_viewer") as (session, me):
            event = aefi.get_event(session, me, event_id)
            assert event.lot == "202212A" and event.product == "北京生物"
            return aefi.deadline_of(event)

    assert state() is Deadline.open
    frozen_clock.advance(hours=35)
    assert state() is Deadline.open
    frozen_clock.advance(hours=2)  # 11 h left: the last quarter of 48 h
    assert state() is Deadline.due_soon
    with app.state.db.unit_of_work() as session:
        assert aefi.overdue(session) == []
    frozen_clock.advance(hours=12)
    assert state() is Deadline.overdue
    with app.state.db.unit_of_work() as session:
        assert [e.id for e in aefi.overdue(session)] == [event_id]
        assert aefi.overdue(session, jpath="/330000/330200/") == []
        # As of the end of yesterday it was not yet late.
        assert aefi.overdue(session, clock.today() - dt.timedelta(days=1)) == []
    with as_user(app, WORKER) as (session, me):
        aefi.send_to_county(session, me, bus, event_id)
        with pytest.raises(Conflict):
            aefi.send_to_county(session, me, bus, event_id)
    assert isinstance(bus.seen[-1], AdverseEventSentToCounty) and bus.seen[-1].event_id == event_id
    assert state() is Deadline.sent_late


@pytest.mark.parametrize(
    ("changes", "hours"),
    [
        ({"severity": Severity.death, "outcome": AefiOutcome.died}, 2),
        ({"cluster": True}, 2),
        ({"severity": Severity.severe, "outcome": AefiOutcome.sequelae}, 48),
    ],
)
def test_deaths_and_clusters_have_two_hours(
    app: Any, doses: dict[str, int], frozen_clock: clock.FrozenClock, changes: dict[str, Any], hours: int
) -> None:
    bus = Recorder()
    found = clock.utcnow()
    event_id = _report(app, bus, doses["home"], **changes)
    frozen_clock.advance(hours=hours, minutes=-29)
    with as_user(app, "home_viewer") as (session, me):
        event = aefi.get_event(session, me, event_id)
        assert abs(event.report_due_at - (found + dt.timedelta(hours=hours))) < dt.timedelta(seconds=1)
        assert aefi.deadline_of(event) is Deadline.due_soon
    frozen_clock.advance(minutes=30)
    with app.state.db.unit_of_work() as session:
        assert [e.id for e in aefi.overdue(session)] == [event_id]


def test_a_deadline_runs_from_when_the_event_was_found(app: Any, doses: dict[str, int]) -> None:
    found = clock.utcnow() - dt.timedelta(hours=47)
    onset = clock.today() - dt.timedelta(days=2)
    event_id = _report(app, Recorder(), doses["home"], found_at=found, onset_on=onset)
    with as_user(app, "home_viewer") as (session, me):
        assert aefi.deadline_of(aefi.get_event(session, me, event_id)) is Deadline.due_soon


def test_the_card_is_checked(app: Any, doses: dict[str, int]) -> None:
    with as_user(app, WORKER) as (session, me):
        bus = Recorder()
        with pytest.raises(InvalidInput) as bad:
            aefi.report(
                session,
                me,
                bus,
                doses["home"],
                clock.today() - dt.timedelta(days=5),
                "  ",
                Severity.death,
                AefiOutcome.recovered,
                False,
                found_at=clock.utcnow() + dt.timedelta(hours=1),
            )
        assert sorted(e.field for e in bad.value.errors) == ["found_at", "onset_on", "outcome", "symptoms"]
        with pytest.raises(NotFound):
            aefi.report(
                session,
                me,
                bus,
                doses["away"],
                clock.today(),
                "发热",
                Severity.mild,
                AefiOutcome.recovered,
                False,
            )
        assert bus.seen == []


def test_causality_is_reviewed_after_the_card_reached_the_county(app: Any, doses: dict[str, int]) -> None:
    bus = Recorder()
    event_id = _report(app, bus, doses["home"])
    with as_user(app, "home_command_centre") as (session, me), pytest.raises(Conflict):
        aefi.review(session, me, event_id, Causality.a1)
    with as_user(app, WORKER) as (session, me):
        aefi.send_to_county(session, me, bus, event_id)
    with as_user(app, "home_command_centre") as (session, me):
        aefi.review(session, me, event_id, Causality.b1)
        event = aefi.review(session, me, event_id, Causality.a1)
        assert (event.causality, event.reviewed_by, event.reviewed_on) == (
            Causality.a1,
            "home_command_centre",
            clock.today(),
        )
        assert event.reported_to_county_at is not None
    with as_user(app, "away_command_centre") as (session, away), pytest.raises(NotFound):
        aefi.review(session, away, event_id, Causality.c)


def test_the_list_puts_unsent_cards_first_by_deadline(app: Any, doses: dict[str, int]) -> None:
    bus = Recorder()
    normal = _report(app, bus, doses["home"])
    death = _report(app, bus, doses["home"], severity=Severity.death, outcome=AefiOutcome.died)
    sent = _report(app, bus, doses["home"], severity=Severity.mild, outcome=AefiOutcome.recovered)
    with as_user(app, WORKER) as (session, me):
        aefi.send_to_county(session, me, bus, sent)
    with as_user(app, "home_viewer") as (session, me):
        assert [e.id for e in aefi.list_events(session, me).items] == [death, normal, sent]
        assert [e.id for e in aefi.list_events(session, me, state="unsent").items] == [death, normal]
        assert [e.id for e in aefi.list_events(session, me, severity=Severity.death).items] == [death]
        assert aefi.list_events(session, me, lot="nope").total == 0
        found = aefi.list_events(session, me, size=2, page=2)
        assert (found.total, found.pages, [e.id for e in found.items]) == (3, 2, [sent])
        assert aefi.products_and_lots(session, me) == (["北京生物"], ["202212A"])
    with as_user(app, "away_viewer") as (session, away):
        assert aefi.list_events(session, away).total == 0
