"""The drill and the resources capability: each case the drill investigates goes to a real investigation
team of the county the sandbox sits in (its case tasks are given to that team by its id, and the team's
members take part in the drill as an exercise), and the score reports the staff-hours a case took.

* ``dispatch``: called as the autopilot's team reaches the scene. The team is the county's most ready
  investigation team, taken in turn (case by case) among those equally ready, so that a drill of many
  cases spreads over the county's teams as a real duty roster would.
* ``staff_hours``: for every dispatched case, the team's size times the drill hours from its first case
  task opening to its last one done (still open: up to now); the measure is their mean per case. It has
  no points: staff-hours are a cost to read beside the score, not a target met or missed.
"""

from __future__ import annotations

import json
import statistics

from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.scope import real_place_of
from fangkong.modeling.drill_clock import Mark, drill_hours_at
from fangkong.modeling.models import Drill

# Key of the drill summary that keeps which team took which case ({case id: team id}).
DISPATCH_KEY = "team_dispatch"


def _teams(session: Session, drill: Drill) -> list[tuple[int, str, int, int]]:
    """(id, name, members, ready) of the sandbox's real county's investigation teams, most ready first."""
    from fangkong.resources.service import staff, teams

    county = staff.county_path(real_place_of(drill.sandbox_path))
    # The kind by its value: modeling does not import resources' models.
    rows = [r for r in teams.teams_of(session, county) if r.team.kind.value == "investigation"]
    found = [(r.team.id, r.team.name, r.readiness.members, r.readiness.ready) for r in rows]
    return sorted(found, key=lambda t: (-t[3], t[0]))


def dispatch(session: Session, principal: Principal, drill: Drill, case_id: int) -> str | None:
    """Give the case's open tasks to a real team and record its members' part in the exercise; returns
    the team's name (None when the county keeps no investigation team on the platform)."""
    from fangkong.core import clock
    from fangkong.resources.service import training
    from fangkong.response.service import compliance, tasks

    summary = json.loads(drill.summary or "{}")
    taken: dict[str, int] = summary.get(DISPATCH_KEY, {})
    if str(case_id) in taken:
        return None
    teams = _teams(session, drill)
    if not teams:
        return None
    best = [t for t in teams if t[3] == teams[0][3]]
    team_id, name, _members, _ready = best[len(taken) % len(best)]
    for task_id, _code, _due in compliance.open_tasks_of(session, "case", case_id):
        tasks.assign(session, principal, task_id, team_id=team_id, ip="drill")
    training.join_exercise(
        session,
        team_id,
        title=f"演练 {drill.name}",
        held_on=clock.today(),
        source=f"drill:{drill.id}",
        part=f"case:{case_id}",
    )
    summary[DISPATCH_KEY] = {**taken, str(case_id): team_id}
    drill.summary = json.dumps(summary, ensure_ascii=False)
    return name


def staff_hours(
    session: Session, principal: Principal, drill: Drill, marks: list[Mark], hours: float
) -> tuple[float | None, int]:
    """(mean staff-hours per dispatched case, cases judged)."""
    from fangkong.resources.service import teams
    from fangkong.response.service.compliance import TWO_FOUR_TWENTY_FOUR, task_clocks

    taken: dict[str, int] = json.loads(drill.summary or "{}").get(DISPATCH_KEY, {})
    if not taken:
        return None, 0
    sizes = {t[0]: t[2] for t in _teams(session, drill)}
    spans: dict[str, tuple[float, float]] = {}
    for clock in task_clocks(session, principal, TWO_FOUR_TWENTY_FOUR):
        if clock.cancelled:
            continue
        opened = drill_hours_at(marks, drill.speed, clock.opened_at)
        done = hours if clock.done_at is None else drill_hours_at(marks, drill.speed, clock.done_at)
        first, last = spans.get(clock.subject_ref, (opened, done))
        spans[clock.subject_ref] = (min(first, opened), max(last, done))
    per_case = []
    for case_id, team_id in taken.items():
        span = spans.get(f"case:{case_id}")
        size = sizes.get(team_id) or teams.member_count(session, team_id)
        if span is not None and size:
            per_case.append(size * max(0.0, span[1] - span[0]))
    return (statistics.fmean(per_case) if per_case else None), len(per_case)
