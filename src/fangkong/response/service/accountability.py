"""Timeliness accountability (表扬 / 问责): deadlines met and missed per jurisdiction and per team, week
by week, and the slowest steps, from the task clocks.

A task is judged against its first clock (``due_at`` never moves, escalation does not excuse the
delay): met when done by its deadline; missed when done after it, or still open past it; not yet judged
while open and not due; cancelled tasks are not judged. A missed task counts against the child area
where it happened (``origin_jpath``) and the team that held it, so a county that escalated its work to
the city still answers for it. Weeks are local weeks starting on Monday, by the deadline's day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.scope import under
from fangkong.response.models import Task, TaskState
from fangkong.response.rules.timeliness import quantile, share
from fangkong.response.service.dashboard import Place, children_of, node_for, place_of

# How far back the page looks by default: a quarter, enough to see a trend week by week.
DEFAULT_WEEKS = 12
# Rows in the slowest-steps table.
SLOWEST_LISTED = 10
NO_TEAM = ""


@dataclass(frozen=True)
class Tally:
    met: int = 0
    missed: int = 0

    @property
    def judged(self) -> int:
        return self.met + self.missed

    @property
    def met_share(self) -> float | None:
        return share(self.met, self.judged)


@dataclass(frozen=True)
class Row:
    """One jurisdiction or team: its tally per week (oldest first) and over the whole span."""

    key: str
    label: str
    place: Place | None
    weeks: list[Tally]
    total: Tally


@dataclass(frozen=True)
class SlowStep:
    code: str
    title_zh: str
    title_en: str
    judged: int
    missed: int
    median_late_hours: float | None
    p90_late_hours: float | None


@dataclass(frozen=True)
class Accountability:
    place: Place
    weeks: list[dt.date]
    total: Tally
    by_jurisdiction: list[Row]
    by_team: list[Row]
    slowest: list[SlowStep]


def week_of(day: dt.date) -> dt.date:
    """The Monday of the local week ``day`` falls in."""
    return day - dt.timedelta(days=day.weekday())


def accountability(
    session: Session,
    principal: Principal,
    jurisdiction_id: int | None = None,
    *,
    code: str | None = None,
    weeks: int = DEFAULT_WEEKS,
    on: dt.date | None = None,
) -> Accountability:
    """Met and missed deadlines under a jurisdiction (default: the caller's), per child area and per
    team over the last ``weeks`` weeks up to ``on``, and the steps slowest by median lateness."""
    node = node_for(session, principal, jurisdiction_id, code)
    weeks = max(1, min(weeks, 104))
    last_week = week_of(on or clock.today())
    first_week = last_week - dt.timedelta(weeks=weeks - 1)
    week_list = [first_week + dt.timedelta(weeks=i) for i in range(weeks)]
    start, end = clock.day_bounds(first_week, last_week + dt.timedelta(days=6))
    now = min(clock.utcnow(), end)
    children = children_of(session, node)
    child_paths = sorted({c.path for c in children}, key=len, reverse=True)
    places = {c.path: place_of(c) for c in children}

    rows = session.execute(
        select(
            Task.code, Task.title_zh, Task.title_en, Task.origin_jpath, Task.team,
            Task.state, Task.due_at, Task.closed_at,
        ).where(
            under(Task.origin_jpath, node.path),
            Task.due_at >= start,
            Task.due_at < end,
            Task.state != TaskState.cancelled,
        )
    ).all()  # fmt: skip

    index = {w: i for i, w in enumerate(week_list)}
    area: dict[str, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in week_list])
    team: dict[str, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in week_list])
    late_by_code: dict[str, list[float]] = defaultdict(list)
    titles: dict[str, tuple[str, str]] = {}
    missed_by_code: dict[str, int] = defaultdict(int)
    for code_, title_zh, title_en, origin, team_name, state, due_at, closed_at in rows:
        due = clock.as_utc(due_at)
        if state == TaskState.done and closed_at is not None:
            finished = clock.as_utc(closed_at)
        elif due < now:
            finished = now  # open past its deadline: missed, and late by at least this much so far
        else:
            continue
        missed = finished > due
        w = index.get(week_of(clock.local_day(due)))
        if w is None:
            continue
        area_key = next((p for p in child_paths if origin.startswith(p)), node.path)
        area[area_key][w][1 if missed else 0] += 1
        team[team_name or NO_TEAM][w][1 if missed else 0] += 1
        late_by_code[code_].append((finished - due).total_seconds() / 3600.0)
        missed_by_code[code_] += int(missed)
        titles.setdefault(code_, (title_zh, title_en))

    def tally_rows(
        table: dict[str, list[list[int]]], labels: dict[str, str], where: dict[str, Place]
    ) -> list[Row]:
        out = []
        for key in sorted(table):
            cells = [Tally(met, missed) for met, missed in table[key]]
            total = Tally(sum(t.met for t in cells), sum(t.missed for t in cells))
            out.append(Row(key, labels.get(key, key), where.get(key), cells, total))
        return out

    area_labels = {c.path: c.name for c in children}
    area_labels[node.path] = node.name
    all_places = {**places, node.path: place_of(node)}
    by_area = tally_rows(area, area_labels, all_places)
    by_team = tally_rows(team, {}, {})
    slowest = sorted(
        (
            SlowStep(
                code=c,
                title_zh=titles[c][0],
                title_en=titles[c][1],
                judged=len(lates),
                missed=missed_by_code[c],
                median_late_hours=_round(quantile(lates, 0.5)),
                p90_late_hours=_round(quantile(lates, 0.9)),
            )
            for c, lates in late_by_code.items()
        ),
        key=lambda s: (-(s.median_late_hours or 0.0), s.code),
    )[:SLOWEST_LISTED]
    total = Tally(sum(r.total.met for r in by_area), sum(r.total.missed for r in by_area))
    return Accountability(place_of(node), week_list, total, by_area, by_team, slowest)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
