"""The in-app sweeper's one run: a late task escalates, yesterday is closed everywhere at the cut-off (the
county's day listing the task as late) and recounted, and a second run (another worker, or the next
tick) changes nothing."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select
from tasks_support import report_case

from conftest import HOME_COUNTY, World, token_for
from fangkong.core import clock
from fangkong.response.background import sweep_once
from fangkong.response.models import DailyClosure, Task, TaskEvent


def _state(app) -> tuple[int, int, list[tuple[str, int, bool]]]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        closures = session.scalar(select(func.count()).select_from(DailyClosure)) or 0
        history = session.scalar(select(func.count()).select_from(TaskEvent)) or 0
        tasks = [(t.code, t.escalations, t.late) for t in session.scalars(select(Task).order_by(Task.id))]
    return closures, history, tasks


def test_one_sweep_escalates_closes_yesterday_and_a_second_changes_nothing(
    app, client, world: World, frozen_clock: clock.FrozenClock
) -> None:  # type: ignore[no-untyped-def]
    # A case reported on the morning of 6 December (local); the sweep runs at 08:00 the next morning.
    frozen_clock.set(clock.from_local(dt.datetime(2026, 12, 6, 9, 0)))
    report_case(client, world, token_for(client, "home_investigator"))
    frozen_clock.set(clock.from_local(dt.datetime(2026, 12, 7, 8, 0)))

    sweep_once(app.state.db)
    closures, history, tasks = _state(app)

    on_site = next(t for t in tasks if t[0] == "team_on_site")
    assert on_site[2] is True and on_site[1] == 1, "the untouched 2 h task is late and went one level up"
    with app.state.db.unit_of_work() as session:
        days = set(session.scalars(select(DailyClosure.day)))
        places = set(session.scalars(select(DailyClosure.jpath)))
    assert days == {dt.date(2026, 12, 6)}
    assert any(p.endswith(f"/{HOME_COUNTY}/") for p in places), places
    assert closures >= 3  # the county, its city and the province at least
    # The county's frozen day lists the untouched task as late and carried over.
    with app.state.db.unit_of_work() as session:
        row = session.scalar(select(DailyClosure).where(DailyClosure.jpath.endswith(f"/{HOME_COUNTY}/")))
        assert row is not None
        figures = json.loads(row.figures)
    assert figures["cases"]["reported"] == 1
    assert figures["tasks"]["late"] >= 1 and figures["tasks"]["carried_over"] >= 1

    sweep_once(app.state.db)
    assert _state(app) == (closures, history, tasks)
