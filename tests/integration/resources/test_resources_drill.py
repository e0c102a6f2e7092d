"""The drill uses the real teams: each investigated case's tasks go to an investigation team of the county
the sandbox sits in, the team's members take part in the drill as an exercise, and the score reports the
staff-hours per case (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conftest import HOME_COUNTY, World, token_for
from fangkong.resources.service import teams, training
from fangkong.response.models import Task
from resources_support import acting, add_certified

DRILL: dict[str, Any] = {"people": 1200, "days": 14, "seed": 5, "realtime": False, "protocol_id": "cn-9"}


def test_the_drill_gives_its_cases_to_real_teams_and_reports_staff_hours(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        names = []
        for n, size in ((1, 3), (2, 2)):
            team = teams.create_team(
                session, me, jurisdiction_code=HOME_COUNTY, kind="investigation", name=f"西湖流调{n}队"
            )
            for i in range(size):
                teams.add_member(
                    session, me, team.id, add_certified(session, me, f"流调{n}-{i}", "field_investigation")
                )
            names.append(team.name)
    headers = token_for(client, "home_command_centre")
    started = client.post(
        "/api/modeling/drills",
        json={**DRILL, "autopilot": True, "investigation_delay_hours": 6.0},
        headers=headers,
    )
    assert started.status_code == 201, started.text
    drill = started.json()
    report = client.post(
        f"/api/modeling/drills/{drill['id']}/advance",
        json={"to_hours": DRILL["days"] * 24 + 1},
        headers=headers,
    ).json()
    assert report["finished"] and report["failed"] == 0, report
    status = client.get(f"/api/modeling/drills/{drill['id']}", headers=headers).json()
    dispatched = status["summary"]["team_dispatch"]
    investigated = {k["kind"]: k for k in status["events"]}["investigation"]["fed"]
    assert investigated >= 1 and len(dispatched) == investigated
    with db.unit_of_work() as session:
        sandbox_tasks = session.scalars(
            select(Task.team).where(Task.subject_kind == "case", Task.team.is_not(None))
        ).all()
    # The tasks still open when the team took the case went to the county's real teams, by name; the
    # readier team (3 certified) takes the cases.
    assert sandbox_tasks and set(sandbox_tasks) == {"西湖流调1队"}
    score = client.get(f"/api/modeling/drills/{drill['id']}/score", headers=headers).json()
    measure = {m["key"]: m for m in score["measures"]}["staff_hours"]
    assert measure["status"] == "ok" and measure["judged"] == investigated
    # Three people from the case's first task to its last: the 24 h contacts task is done by the same
    # investigation 6 h after the report, so each case takes the team at least 3 × 6 staff-hours.
    assert measure["value"] >= 3 * 6.0 - 0.5 and measure["points"] is None
    assert score["score"] is not None
    with acting(db, "home_administrator") as (session, me):
        exercises = [r for r in training.list_sessions(session, me) if r.session.is_exercise]
    assert [(r.session.source, r.attended) for r in exercises] == [(f"drill:{drill['id']}", 3)]
