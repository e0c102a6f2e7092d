"""The daily closure on SQLite and PostgreSQL: the figures of a hand-made day, publication at the cut-off
(idempotent), a published version that later edits never change, corrections with a reason and their
diff, the sign-off and the activity log by role."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from areas_support import acting_as
from closure_support import EXPECTED, build_day, register
from conftest import HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.db import Database
from fangkong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from fangkong.response.rules import closure as rules
from fangkong.response.service import closure


@pytest.fixture
def day(db: Database, app: Any, world: World, frozen_clock: clock.FrozenClock) -> dt.date:
    """The hand-made day (today when it is built), then the clock moved to the next morning."""
    today = clock.today()
    build_day(db, app.state.vault, world, today)
    frozen_clock.advance(days=1)
    return today


def _county(world: World) -> int:
    return world.jurisdictions[HOME_COUNTY]


def test_the_figures_match_the_hand_made_day(db: Database, world: World, day: dt.date) -> None:
    with db.unit_of_work() as session:
        figures = closure.compute_figures(session, "/330000/330100/330106/", day)
    assert rules.problems(figures) == []
    for section, expected in EXPECTED.items():
        assert figures[section] == expected, section
    assert figures["jurisdiction"] == {
        "code": HOME_COUNTY,
        "name": "西湖区",
        "path": "/330000/330100/330106/",
    }
    assert figures["series"]["report"][day.isoformat()] == 3
    assert sum(figures["series"]["report"].values()) == 3
    onset = figures["series"]["onset"]
    assert (
        onset[(day - dt.timedelta(days=2)).isoformat()],
        onset[(day - dt.timedelta(days=1)).isoformat()],
    ) == (1, 1)
    assert sum(onset.values()) == 2  # the asymptomatic case has no onset
    with db.unit_of_work() as session:
        province = closure.compute_figures(session, "/330000/", day)
    assert province["cases"]["reported"] == 4  # the foreign county's case too
    assert province["tasks"]["due"] == 4


def test_publish_then_an_edit_leaves_v1_alone_and_a_correction_shows_the_diff(
    db: Database, app: Any, world: World, day: dt.date
) -> None:
    with acting_as(db, "home_command_centre") as (session, me):
        first = closure.publish(session, me, _county(world), day)
    assert (first.version, first.reason, first.published_by) == (1, None, "home_command_centre")
    # A case reported late, back-dated to the day: the published day does not move.
    register(db, app.state.vault, world, 2, reported=dt.datetime.combine(day, dt.time(22)))
    with acting_as(db, "home_command_centre") as (session, me):
        again = closure.get_closure(session, me, _county(world), day, 1)
        assert again.figures == first.figures
        assert again.figures["cases"]["reported"] == 3
        with pytest.raises(InvalidInput) as refused:
            closure.publish(session, me, _county(world), day)
        assert refused.value.errors[0].field == "reason"
        second = closure.publish(session, me, _county(world), day, reason="迟报病例补录")
    assert (second.version, second.reason) == (2, "迟报病例补录")
    with acting_as(db, "home_command_centre") as (session, me):
        latest = closure.get_closure(session, me, _county(world), day)
        assert latest.version == 2 and latest.latest_version == 2
        old = closure.get_closure(session, me, _county(world), day, 1)
        assert old.corrected and old.figures == first.figures
        found = closure.diff(session, me, _county(world), day, 1, 2)
        changes = {c.key: (c.old, c.new, c.change) for c in found.changes}
        assert changes["cases.reported"] == (3, 4, 1)
        assert changes["cases.total"] == (3, 4, 1)
        assert changes["cases.confirmed"] == (2, 3, 1)
        assert changes[f"series.report.{day.isoformat()}"] == (3, 4, 1)
        assert "tasks.due" not in changes
        assert [v.version for v in closure.versions(session, me, _county(world), day)] == [1, 2]
        with pytest.raises(NotFound):
            closure.get_closure(session, me, _county(world), day, 3)


def test_publish_refuses_today_other_roles_and_other_counties(
    db: Database, world: World, day: dt.date
) -> None:
    with acting_as(db, "home_command_centre") as (session, me):
        with pytest.raises(InvalidInput) as refused:
            closure.publish(session, me, _county(world), clock.today())
        assert refused.value.errors[0].field == "day"
        with pytest.raises(InvalidInput):
            closure.publish(session, me, _county(world), clock.today() + dt.timedelta(days=3))
        with pytest.raises(NotFound):
            closure.publish(session, me, world.jurisdictions["330203"], day)
        with pytest.raises(NotFound):
            closure.get_closure(session, me, _county(world), day)
    with acting_as(db, "home_investigator") as (session, me), pytest.raises(Forbidden):
        closure.publish(session, me, _county(world), day)


def test_the_cut_off_closes_every_county_and_above_once(
    db: Database, world: World, day: dt.date, frozen_clock: clock.FrozenClock
) -> None:
    with db.unit_of_work() as session:
        published = closure.close_due_days(session, clock.utcnow())
    assert {v.code for v in published} == {"330000", "330100", "330200", "330106", "330102", "330203"}
    assert {v.day for v in published} == {day} and {v.version for v in published} == {1}
    assert all(v.published_by == "system" for v in published)
    with db.unit_of_work() as session:
        assert closure.close_due_days(session, clock.utcnow()) == []
        # A day not ended yet is not closed, even when asked for.
        assert closure.close_due_days(session, clock.utcnow(), day=clock.today()) == []
    with acting_as(db, "home_command_centre") as (session, me):
        view = closure.get_closure(session, me, _county(world), day)
        assert view.figures["tasks"] == EXPECTED["tasks"]
        # The command centre publishing afterwards is a correction: it needs a reason.
        with pytest.raises(InvalidInput):
            closure.publish(session, me, _county(world), day)
        days = closure.closed_days(session, me, _county(world))
        assert [(d.day, d.version, d.signed_off) for d in days] == [(day, 1, False)]
    with acting_as(db, "province_admin") as (session, me):
        kids = closure.children_closures(session, me, world.jurisdictions["330000"], day)
        assert [(k.code, v is not None) for k, v in kids] == [("330100", True), ("330200", True)]
    # With a cut-off at 06:00 local, the next day's closure waits until then.
    at_five = clock.from_local(dt.datetime.combine(clock.today() + dt.timedelta(days=1), dt.time(5)))
    assert closure.last_ended_day(at_five, 6) == day
    assert closure.last_ended_day(at_five) == day + dt.timedelta(days=1)


def test_sign_off_once_per_version_by_the_command_centre(db: Database, world: World, day: dt.date) -> None:
    with acting_as(db, "home_command_centre") as (session, me):
        view = closure.publish(session, me, _county(world), day)
    with acting_as(db, "home_investigator") as (session, me), pytest.raises(Forbidden):
        closure.sign_off(session, me, view.id, "明日目标")
    with acting_as(db, "away_command_centre") as (session, me), pytest.raises(NotFound):
        closure.sign_off(session, me, view.id, "明日目标")
    with acting_as(db, "home_command_centre") as (session, me):
        with pytest.raises(InvalidInput):
            closure.sign_off(session, me, view.id, "   ")
        signed = closure.sign_off(session, me, view.id, "24小时内完成全部密接转运")
        assert (
            signed.objectives == "24小时内完成全部密接转运" and signed.signed_off_by == "home_command_centre"
        )
        assert signed.figures == view.figures
        with pytest.raises(Conflict):
            closure.sign_off(session, me, view.id, "再来一次")


def test_the_activity_log_groups_the_days_audit_trail_by_role(
    db: Database, app: Any, world: World, frozen_clock: clock.FrozenClock
) -> None:
    today = clock.today()
    register(db, app.state.vault, world, 0)
    with acting_as(db, "home_command_centre") as (session, me):
        log = closure.activity_log(session, me, me.jpath, today)
        roles = {group.role: group.entries for group in log}
        assert "investigator" in roles
        assert any(e.action == "cases.register" for e in roles["investigator"])
        assert roles["investigator"][0].at.date() == today
        with pytest.raises(NotFound):
            closure.activity_log(session, me, "/330000/330200/330203/", today)
    frozen_clock.advance(days=1)
    with acting_as(db, "home_command_centre") as (session, me):
        closure.publish(session, me, _county(world), today)
        log = closure.activity_log(session, me, me.jpath, clock.today())
        assert [e.action for g in log for e in g.entries] == ["response.closure.publish"]
        assert log[0].role == "command_centre"
