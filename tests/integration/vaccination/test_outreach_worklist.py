"""The outreach worklist on real databases: who is on it (60+, unvaccinated or due, not withheld, not
closed by their last contact), oldest first; attempts that close and reopen a person; reminders before
and after the due date; the gaps ranking; the Excel export."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.errors import InvalidInput, NotFound
from fangkong.vaccination.models import (
    ContraindicationReason,
    DoseKind,
    OutreachMethod,
    OutreachOutcome,
    StatusState,
)
from fangkong.vaccination.rules.outreach import Plan, Reminder
from fangkong.vaccination.service import outreach, status
from vaccination_support import FOREIGN, HOME_A, HOME_B, add_person, as_user, give_doses, set_status

WORKER = "home_community_worker"


@pytest.fixture
def elderly(app: Any, world: World) -> dict[str, int]:
    """Elderly people of 西湖区 in chosen states; the seeded 66-year-olds stay as the rules leave them."""
    ids = {
        "p88": add_person(app, world, HOME_A, "19380501"),
        "p82": add_person(app, world, HOME_B, "19440301"),
        "p76": add_person(app, world, HOME_A, "19500601"),
        "p71": add_person(app, world, HOME_A, "19550101"),
        "p70": add_person(app, world, HOME_A, "19560201"),
        "p65": add_person(app, world, HOME_A, "19610201"),
    }
    today = clock.today()
    with app.state.db.unit_of_work() as session:
        status.evaluate(session)
        set_status(
            session,
            ids["p76"],
            StatusState.primary_complete,
            due_on=today - dt.timedelta(days=30),
            next_kind=DoseKind.booster,
        )
        set_status(
            session,
            ids["p71"],
            StatusState.boosted,
            due_on=today + dt.timedelta(days=100),
            next_kind=DoseKind.second_booster,
        )
        set_status(
            session,
            ids["p70"],
            StatusState.primary_started,
            due_on=today + dt.timedelta(days=5),
            next_kind=DoseKind.primary,
        )
        set_status(
            session,
            ids["p65"],
            StatusState.unvaccinated,
            contraindication=ContraindicationReason.severe_allergy,
        )
    return ids


def _listed(app: Any, username: str = WORKER, **kwargs: Any) -> list[int]:
    with as_user(app, username) as (session, me):
        return [i.person_id for i in outreach.worklist(session, me, size=200, **kwargs).items]


def test_the_list_holds_the_unvaccinated_and_due_elderly_oldest_first(
    app: Any, world: World, elderly: dict[str, int]
) -> None:
    seeded_66 = [world.people[HOME_COUNTY][0], world.people[HOME_COUNTY][3]]
    assert _listed(app) == [elderly["p88"], elderly["p82"], elderly["p76"], elderly["p70"], *seeded_66]
    # Not due for 100 days, withheld by a severe allergy, under 60, another county: none of them.
    listed = set(_listed(app))
    assert not listed & {
        elderly["p71"],
        elderly["p65"],
        world.people[HOME_COUNTY][1],
        *world.people[FOREIGN_COUNTY],
    }
    with as_user(app, WORKER) as (session, me):
        found = outreach.worklist(session, me, page=2, size=2)
        assert found.total == 6 and found.pages == 3
        assert [i.person_id for i in found.items] == [elderly["p76"], elderly["p70"]]
        first = outreach.worklist(session, me, size=1).items[0]
        assert (first.age, first.state, first.community) == (88, StatusState.unvaccinated, "保俶社区")
        assert first.name != "赵大爷" and first.name.startswith("赵")  # masked
        # One community only; 80 and over only.
        only_b = outreach.worklist(session, me, jpath=outreach.scope_path(session, me, HOME_B))
        assert [i.person_id for i in only_b.items] == [elderly["p82"], world.people[HOME_COUNTY][3]]
        assert [i.person_id for i in outreach.worklist(session, me, min_age=80).items] == [
            elderly["p88"],
            elderly["p82"],
        ]
        with pytest.raises(NotFound):
            outreach.scope_path(session, me, FOREIGN)
    with as_user(app, "away_community_worker") as (session, away):
        assert [i.person_id for i in outreach.worklist(session, away).items] == [
            world.people[FOREIGN_COUNTY][0]
        ]


def test_an_outcome_closes_a_person_for_its_time_and_a_newer_attempt_reopens(
    app: Any, world: World, elderly: dict[str, int], frozen_clock: clock.FrozenClock
) -> None:
    with as_user(app, WORKER) as (session, me):
        outreach.record_attempt(
            session, me, elderly["p88"], OutreachMethod.phone, OutreachOutcome.refused, note="再劝"
        )
        outreach.record_attempt(session, me, elderly["p82"], OutreachMethod.door, OutreachOutcome.moved)
        outreach.record_attempt(session, me, elderly["p76"], OutreachMethod.phone, OutreachOutcome.no_answer)
    listed = _listed(app)
    assert elderly["p88"] not in listed and elderly["p82"] not in listed and elderly["p76"] in listed
    with as_user(app, WORKER) as (session, me):
        item = next(i for i in outreach.worklist(session, me).items if i.person_id == elderly["p76"])
        assert (item.attempts, item.last_outcome, item.last_method) == (
            1,
            OutreachOutcome.no_answer,
            OutreachMethod.phone,
        )
    frozen_clock.advance(days=29)
    assert elderly["p88"] not in _listed(app)
    frozen_clock.advance(days=1)  # a refusal is asked again after 30 days; a move never
    listed = _listed(app)
    assert elderly["p88"] in listed and elderly["p82"] not in listed
    with as_user(app, WORKER) as (session, me):
        outreach.record_attempt(session, me, elderly["p82"], OutreachMethod.phone, OutreachOutcome.no_answer)
    assert elderly["p82"] in _listed(app)


def test_an_appointment_stays_on_the_list_with_its_reminder(
    app: Any, world: World, elderly: dict[str, int]
) -> None:
    today = clock.today()
    with as_user(app, WORKER) as (session, me):
        with pytest.raises(InvalidInput) as missing:
            outreach.record_attempt(
                session, me, elderly["p88"], OutreachMethod.phone, OutreachOutcome.appointment
            )
        assert [e.field for e in missing.value.errors] == ["appointment_on"]
        with pytest.raises(InvalidInput) as wrong:
            outreach.record_attempt(
                session,
                me,
                elderly["p88"],
                OutreachMethod.phone,
                OutreachOutcome.refused,
                appointment_on=today,
                attempted_on=today + dt.timedelta(days=1),
            )
        assert sorted(e.field for e in wrong.value.errors) == ["appointment_on", "attempted_on"]
        with pytest.raises(NotFound):
            outreach.record_attempt(
                session, me, world.people[FOREIGN_COUNTY][0], OutreachMethod.phone, OutreachOutcome.no_answer
            )
        outreach.record_attempt(
            session,
            me,
            elderly["p88"],
            OutreachMethod.phone,
            OutreachOutcome.appointment,
            appointment_on=today + dt.timedelta(days=3),
        )
        item = outreach.worklist(session, me, size=1).items[0]
    assert item.person_id == elderly["p88"]
    assert item.appointment_on == today + dt.timedelta(days=3)
    assert item.next_reminder == today + dt.timedelta(days=2)


def test_reminders_fall_before_on_and_weekly_after_the_due_date(
    app: Any, world: World, elderly: dict[str, int]
) -> None:
    day = clock.today()
    with app.state.db.unit_of_work() as session:
        for key, offset in (("p88", 7), ("p82", 0), ("p76", -14), ("p70", -10)):
            set_status(
                session,
                elderly[key],
                StatusState.primary_complete,
                due_on=day + dt.timedelta(days=offset),
                next_kind=DoseKind.booster,
            )
        for pid in world.people[HOME_COUNTY]:
            set_status(session, pid, StatusState.boosted, due_on=day + dt.timedelta(days=200))
    with as_user(app, WORKER) as (session, me):
        outreach.record_attempt(
            session,
            me,
            elderly["p71"],
            OutreachMethod.phone,
            OutreachOutcome.appointment,
            appointment_on=day + dt.timedelta(days=1),
        )
        found = outreach.reminders(session, me, day)
    # p71 is not due for 100 days: an appointment alone does not put them on the list.
    assert {(i.person_id, i.reminder) for i in found.items} == {
        (elderly["p88"], Reminder.due_soon),
        (elderly["p82"], Reminder.due_today),
        (elderly["p76"], Reminder.overdue),
    }
    with app.state.db.unit_of_work() as session:
        set_status(
            session,
            elderly["p71"],
            StatusState.boosted,
            due_on=day + dt.timedelta(days=3),
            next_kind=DoseKind.second_booster,
        )
    with as_user(app, WORKER) as (session, me):
        kinds = {i.person_id: i.reminder for i in outreach.reminders(session, me, day).items}
        assert kinds[elderly["p71"]] is Reminder.appointment
        tomorrow = {
            i.person_id: i.reminder for i in outreach.reminders(session, me, day + dt.timedelta(days=6)).items
        }
        assert tomorrow == {elderly["p88"]: Reminder.due_soon}  # one day before


def test_gaps_rank_communities_by_their_unvaccinated_elderly(
    app: Any, world: World, elderly: dict[str, int]
) -> None:
    with as_user(app, "home_command_centre") as (session, me):
        found = outreach.gaps(session, me)
    rows = {r.code: r for r in found.items}
    assert [r.code for r in found.items] == [HOME_A, HOME_B]  # 上城区 has nobody 60+; 南门 is foreign
    a, b = rows[HOME_A].gap, rows[HOME_B].gap
    # 保俶: 88, 76, 71, 70, 65 (withheld) and the seeded 66 are 60+; unvaccinated and open: 88 and 66.
    assert (a.people_60, a.unvaccinated_60, a.unvaccinated_80, a.due_60) == (6, 2, 1, 2)
    assert (b.people_60, b.unvaccinated_60, b.unvaccinated_80, b.due_60) == (2, 2, 1, 0)
    assert rows[HOME_A].plans == [Plan.door_to_door]
    assert rows[HOME_A].share == pytest.approx(2 / 6)
    assert (found.unvaccinated_60, found.unvaccinated_80) == (4, 2)
    with as_user(app, "away_command_centre") as (session, away):
        assert [r.code for r in outreach.gaps(session, away).items] == [FOREIGN]


def test_the_export_is_the_whole_list_in_chinese_with_masked_names(
    app: Any, world: World, elderly: dict[str, int]
) -> None:
    with as_user(app, WORKER) as (session, me):
        data = outreach.export_xlsx(session, me, language="zh")
        total = outreach.worklist(session, me).total
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("社区", "姓名", "性别", "年龄")
    assert len(rows) - 1 == total == 6
    assert rows[1][0] == "保俶社区" and rows[1][3] == 88 and rows[1][4] == "未接种"
    assert all("赵大爷" not in str(cell) for row in rows for cell in row)


def test_real_doses_through_the_status_rules(app: Any, world: World) -> None:
    """Statuses from helper A's rules: a fresh full series and booster is off the list, none is on it."""
    protected = add_person(app, world, HOME_A, "19400101")
    bare = add_person(app, world, HOME_A, "19410101")
    today = clock.today()
    with app.state.db.unit_of_work() as session:
        give_doses(session, protected, [today - dt.timedelta(days=d) for d in (200, 170, 40)])
        status.evaluate(session)
    listed = _listed(app)
    assert bare in listed and protected not in listed
