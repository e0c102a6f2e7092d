"""The command dashboard's read model: one jurisdiction's picture with its children for drill-down.

Built to stay fast for a province with a million people under management: the flows (cases by report
day, placements, tests, alerts) and the levels (people under each measure) come from the counters kept
in ``.counters`` (``DailyCount``/``Gauge``), whose rows hold each jurisdiction's subtree figures, so the
node and its children are read as a few rows;
the rest are small reads of the source capabilities (the onset curve from the cases, quarantine beds,
today's plan tests, open alerts, risk areas in force) and of this capability's own tasks.

Timeliness is read from the task clocks of the window's cases as distributions (median, 90th percentile,
histogram), not only as met/missed: report → team on site (``team_on_site``), report → core facts
(``core_facts``), and the share of cases whose close contacts were all placed within the 12 h of
``contacts_transferred``; plus the share of new cases already under management when found.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Float, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope, under
from fangkong.response.models import DailyCount, Gauge, Task, TaskState, TaskTemplate
from fangkong.response.rules import metrics as m
from fangkong.response.rules.timeliness import Distribution, distribution, share

# The epidemic curve's window: four weeks, the span of the closure's series.
CURVE_DAYS = 28
# Serial interval of the Rt estimate (days), the Rt page's defaults (Nishiura et al. 2020, via modeling).
SI_MEAN_DAYS = 4.7
SI_SD_DAYS = 2.9
RT_WINDOW_DAYS = 7
# How many overdue tasks the page lists (the rest are counted and linked to the task list).
OVERDUE_LISTED = 10
OPEN_STATES = (TaskState.open, TaskState.in_progress)
# The task clocks the timeliness panel reads (template codes of response.service.templates).
TIMELINESS_STEPS: tuple[tuple[str, str], ...] = (
    ("on_site", "team_on_site"),
    ("core_facts", "core_facts"),
    ("contacts_placed", "contacts_transferred"),
)


@dataclass(frozen=True)
class Place:
    id: int
    code: str
    name: str
    path: str
    level: str


@dataclass(frozen=True)
class ChildRow:
    """One child jurisdiction's headline figures, each a link down the tree."""

    place: Place
    cases_window: int
    cases_today: int
    under_measure: int
    overdue_tasks: int


@dataclass(frozen=True)
class OverdueTask:
    id: int
    code: str
    title_zh: str
    title_en: str
    subject_ref: str
    jpath: str
    due_at: dt.datetime
    hours_late: float


@dataclass(frozen=True)
class CoverageFigure:
    """A full primary series among one group: people counted, of how many, and the share."""

    vaccinated: int
    people: int
    rate: float | None


@dataclass(frozen=True)
class VaccinationFigures:
    as_of: dt.date
    elderly: CoverageFigure  # 60 and over
    oldest: CoverageFigure  # 80 and over
    elderly_boosted: CoverageFigure


def _vaccination(session: Session, path: str) -> VaccinationFigures | None:
    from fangkong.vaccination.service.coverage import figures_for_dashboard

    figures = figures_for_dashboard(session, path)
    if figures is None:
        return None

    def of(counts: Any, index: int) -> CoverageFigure:
        done = int(counts.numerators[index])
        return CoverageFigure(done, int(counts.denominator), share(done, int(counts.denominator)))

    # Numerators in the vaccination capability's order: at least one dose, primary complete, booster, ...
    return VaccinationFigures(
        figures.as_of, of(figures.elderly, 1), of(figures.oldest, 1), of(figures.elderly, 2)
    )


def _resources(session: Session, path: str) -> dict[str, int]:
    from fangkong.quarantine.service.staffing import open_sites_short
    from fangkong.resources.service import postings
    from fangkong.resources.service.overview import counts

    figures = counts(session, path)
    # Staff posted to sites now, and open quarantine sites with fewer posted than their minimum (issue 17).
    figures["posted"] = sum(r.posted for r in postings.on_duty_by_place(session, path))
    figures["sites_short"] = len(open_sites_short(session, path))
    return figures


@dataclass(frozen=True)
class StaffingGaps:
    """The command's gaps of staff: teams below their standard size or readiness, open quarantine sites
    short of their minimum staff, and the staff posted to sites per jurisdiction."""

    teams_below: list[tuple[int, str, int, int]]  # (team id, name, ready, standard)
    sites_short: list[tuple[int, str, int, int]]  # (site id, name, on duty, minimum)
    on_duty_by_place: list[tuple[str, int, int]]  # (place, staff posted, sites staffed)


def staffing_gaps(session: Session, path: str) -> StaffingGaps:
    """Read from resources (teams, postings) and quarantine (sites' minimums) for the dashboard."""
    from fangkong.quarantine.service.staffing import open_sites_short
    from fangkong.resources.service import postings, teams

    below = [
        (r.team.id, r.team.name, r.readiness.ready, r.readiness.standard)
        for r in teams.teams_of(session, path)
        if r.readiness.gap
    ]
    short = [(s.id, s.name, s.on_duty, s.needed) for s in open_sites_short(session, path)]
    duty = [(r.name, r.posted, r.sites) for r in postings.on_duty_by_place(session, path)]
    return StaffingGaps(below, short, duty)


@dataclass(frozen=True)
class Dashboard:
    place: Place
    parent: Place | None
    on: dt.date
    days: list[dt.date]
    by_report: list[int]
    by_onset: list[int]
    rt_mean: list[float | None]
    rt_low: list[float | None]
    rt_high: list[float | None]
    cases_today: int
    cases_window: int
    flows_window: dict[str, int]
    under_measure: dict[str, int]
    quarantine: dict[str, int]
    testing: dict[str, int]
    alerts: dict[str, int | float | None]
    areas: dict[str, int]
    overdue_count: int
    overdue: list[OverdueTask]
    timeliness: dict[str, Distribution]
    found_under_management: float | None
    children: list[ChildRow] = field(default_factory=list)
    # The vaccination capability's latest coverage of the subtree (None before its first count).
    vaccination: VaccinationFigures | None = None
    # The resources capability's figures of the subtree: staff on duty, teams deployed, gaps, alerts.
    resources: dict[str, int] = field(default_factory=dict)
    staffing: StaffingGaps | None = None
    # The nowcast of the onset curve (tracing.service.onset_nowcast), aligned with ``days``: median and
    # interval on the days the reporting delay still hides cases, None elsewhere.
    nowcast: list[int | None] = field(default_factory=list)
    nowcast_low: list[int | None] = field(default_factory=list)
    nowcast_high: list[int | None] = field(default_factory=list)

    @property
    def under_measure_total(self) -> int:
        return sum(self.under_measure.values())

    @property
    def occupancy(self) -> float | None:
        return share(self.quarantine.get("occupied", 0), self.quarantine.get("capacity", 0))

    @property
    def latest_rt(self) -> tuple[float, float, float] | None:
        for mean, low, high in zip(
            reversed(self.rt_mean), reversed(self.rt_low), reversed(self.rt_high), strict=True
        ):
            if mean is not None and low is not None and high is not None:
                return mean, low, high
        return None


def place_of(j: Jurisdiction) -> Place:
    return Place(j.id, j.code, j.name, j.path, str(j.level))


def node_for(
    session: Session, principal: Principal, jurisdiction_id: int | None = None, code: str | None = None
) -> Jurisdiction:
    """The jurisdiction asked for by id or code (default: the caller's own), if in the caller's scope."""
    if code:
        node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    else:
        node = session.get(Jurisdiction, jurisdiction_id or principal.jurisdiction_id)
    if node is None or not path_in_scope(node.path, principal.jpath):
        raise NotFound(f"jurisdiction {code or jurisdiction_id} not found")
    return node


def children_of(session: Session, node: Jurisdiction) -> list[Jurisdiction]:
    return list(
        session.scalars(
            select(Jurisdiction)
            .where(Jurisdiction.parent_id == node.id, Jurisdiction.is_sandbox.is_(False))
            .order_by(Jurisdiction.code)
        )
    )


def _by_child(rows: list[tuple[str, int]], children: list[Jurisdiction]) -> dict[str, int]:
    """Sum (jpath, value) rows per child subtree (a child's path is a prefix of its rows' paths)."""
    lengths = {len(c.path) for c in children}
    paths = {c.path for c in children}
    totals: Counter[str] = Counter()
    for path, value in rows:
        for n in lengths:
            if path[:n] in paths:
                totals[path[:n]] += int(value)
                break
    return dict(totals)


def _prefix_rows(
    session: Session,
    column: InstrumentedAttribute[str],
    value: ColumnElement[Any],
    where: Sequence[ColumnElement[bool]],
    children: list[Jurisdiction],
) -> list[tuple[str, int]]:
    """(child path prefix, summed value) rows grouped in the database, one query per path length (the
    children of a node share one code length, so usually one query)."""
    rows: list[tuple[str, int]] = []
    for n in sorted({len(c.path) for c in children}):
        prefix = func.substr(column, 1, n)
        rows.extend(
            (str(p), int(v or 0))
            for p, v in session.execute(select(prefix, value).where(*where).group_by(prefix))
        )
    return rows


def _rt(series: list[int]) -> tuple[list[float | None], list[float | None], list[float | None]]:
    """Rt over the report curve (7-day windows), shown where the posterior is narrow enough."""
    from fangkong.analytics.rt import MAX_POSTERIOR_CV, RtInputError, estimate_r

    n = len(series)
    empty: list[float | None] = [None] * n
    if sum(series) == 0 or n < RT_WINDOW_DAYS + 1:
        return empty, list(empty), list(empty)
    try:
        est = estimate_r(
            [float(x) for x in series], mean_si=SI_MEAN_DAYS, std_si=SI_SD_DAYS, window=RT_WINDOW_DAYS
        )
    except RtInputError:
        return empty, list(empty), list(empty)
    mean, low, high = list(empty), list(empty), list(empty)
    usable = est.usable(MAX_POSTERIOR_CV)
    lo = est.quantile(0.025)
    hi = est.quantile(0.975)
    for k, t in enumerate(est.t_end):
        if bool(usable[k]):
            i = int(t) - 1
            mean[i], low[i], high[i] = (
                round(float(est.mean[k]), 2),
                round(float(lo[k]), 2),
                round(float(hi[k]), 2),
            )
    return mean, low, high


def _hours(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    """Hours between two stored instants, computed by the database (SQLite keeps them as UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier) / 3600.0, Float)
    return cast((func.julianday(later) - func.julianday(earlier)) * 24.0, Float)


def _timeliness(session: Session, path: str, first: dt.date, on: dt.date) -> dict[str, Distribution]:
    """Task clocks of the steps, for tasks opened in the window where it happened (``origin_jpath``).

    The delays are computed by the database; the open tasks, which are few, are read as instants."""
    start, end = clock.day_bounds(first, on)
    now = min(clock.utcnow(), end)
    codes = [code for _, code in TIMELINESS_STEPS]
    window = (
        under(Task.origin_jpath, path),
        Task.code.in_(codes),
        Task.opened_at >= start,
        Task.opened_at < end,
    )
    # The target of each step: its template's deadline (every task keeps the clock it opened with; a
    # template edited since changes only the later ones, and the page shows the current promise).
    allowed = {
        code: minutes / 60.0
        for code, minutes in session.execute(
            select(TaskTemplate.code, TaskTemplate.minutes).where(TaskTemplate.code.in_(codes))
        )
    }
    # Only the delays travel, computed by the database. Summarising them there instead (percentile_cont
    # and a CASE per histogram bin, PostgreSQL only) was measured slower on a province's month of tasks.
    done: dict[str, list[float]] = defaultdict(list)
    for code, hours in session.execute(
        select(Task.code, _hours(session, Task.closed_at, Task.opened_at)).where(
            *window, Task.state == TaskState.done, Task.closed_at.is_not(None)
        )
    ):
        done[code].append(float(hours))
    waiting: dict[str, list[float]] = defaultdict(list)
    for code, opened_at in session.execute(
        select(Task.code, Task.opened_at).where(*window, Task.state.in_(OPEN_STATES))
    ):
        waiting[code].append(max(0.0, (now - clock.as_utc(opened_at)).total_seconds() / 3600.0))
    result = {}
    for key, code in TIMELINESS_STEPS:
        result[key] = distribution(done[code], allowed.get(code), waiting=waiting[code])
    return result


def dashboard(
    session: Session,
    principal: Principal,
    jurisdiction_id: int | None = None,
    *,
    on: dt.date | None = None,
    code: str | None = None,
) -> Dashboard:
    """The picture of one jurisdiction (default: the caller's) on a local day (default: today)."""
    from fangkong.areas.service.daily import area_figures
    from fangkong.quarantine.service.daily import quarantine_figures
    from fangkong.surveillance.daily import alert_figures
    from fangkong.testing.service.daily import testing_figures
    from fangkong.tracing.service import daily_case_counts, onset_nowcast

    node = node_for(session, principal, jurisdiction_id, code)
    parent = session.get(Jurisdiction, node.parent_id) if node.parent_id else None
    if parent is not None and not path_in_scope(parent.path, principal.jpath):
        parent = None
    day = on or clock.today()
    first = day - dt.timedelta(days=CURVE_DAYS - 1)
    days = [first + dt.timedelta(days=i) for i in range(CURVE_DAYS)]
    path = node.path
    children = children_of(session, node)

    # Flows of the window, per day and metric: the node's own rows hold its subtree's figures.
    in_window = (DailyCount.day >= first, DailyCount.day <= day)
    per_day: dict[tuple[str, dt.date], int] = {}
    for metric, d, v in session.execute(
        select(DailyCount.metric, DailyCount.day, DailyCount.value).where(
            DailyCount.jpath == path, *in_window
        )
    ):
        per_day[(metric, d)] = int(v or 0)
    by_report = [per_day.get((m.CASES_REPORTED, d), 0) for d in days]
    flows = {k: sum(per_day.get((k, d), 0) for d in days) for k in m.DAILY_METRICS}
    by_onset = list(daily_case_counts(session, path, first, day, by="onset").values())
    rt_mean, rt_low, rt_high = _rt(by_report)

    under_measure = {
        (m.measure_of(metric) or metric): int(v or 0)
        for metric, v in session.execute(
            select(Gauge.metric, Gauge.value)
            .where(Gauge.jpath == path, Gauge.metric.startswith(m.UNDER_MEASURE_PREFIX))
            .order_by(Gauge.metric)
        )
        if int(v or 0)
    }

    now = clock.utcnow()
    overdue_where = (
        under(Task.jpath, path),
        Task.state.in_(OPEN_STATES),
        Task.due_at < now,
    )
    overdue_count = int(session.scalar(select(func.count()).select_from(Task).where(*overdue_where)) or 0)
    overdue = [
        OverdueTask(
            t.id,
            t.code,
            t.title_zh,
            t.title_en,
            t.subject_ref,
            t.jpath,
            t.due_at,
            round((now - clock.as_utc(t.due_at)).total_seconds() / 3600.0, 1),
        )
        for t in session.scalars(
            select(Task).where(*overdue_where).order_by(Task.due_at).limit(OVERDUE_LISTED)
        )
    ]

    reported = flows[m.CASES_REPORTED]
    found_managed = share(flows[m.CASES_FOUND_UNDER_MANAGEMENT], reported)

    child_rows: list[ChildRow] = []
    if children:
        child_paths = [c.path for c in children]
        window_cases: Counter[str] = Counter()
        today_cases: Counter[str] = Counter()
        for p, d, v in session.execute(
            select(DailyCount.jpath, DailyCount.day, DailyCount.value).where(
                DailyCount.jpath.in_(child_paths), DailyCount.metric == m.CASES_REPORTED, *in_window
            )
        ):
            window_cases[p] += int(v)
            if d == day:
                today_cases[p] += int(v)
        measures: Counter[str] = Counter()
        for p, v in session.execute(
            select(Gauge.jpath, Gauge.value).where(
                Gauge.jpath.in_(child_paths), Gauge.metric.startswith(m.UNDER_MEASURE_PREFIX)
            )
        ):
            measures[p] += int(v)
        late = _by_child(_prefix_rows(session, Task.jpath, func.count(), overdue_where, children), children)
        child_rows = [
            ChildRow(
                place_of(c),
                window_cases.get(c.path, 0),
                today_cases.get(c.path, 0),
                measures.get(c.path, 0),
                late.get(c.path, 0),
            )
            for c in children
        ]

    curve = onset_nowcast(session, principal, path, day)
    blank: list[int | None] = [None] * len(days)
    return Dashboard(
        place=place_of(node),
        parent=place_of(parent) if parent is not None else None,
        on=day,
        days=days,
        by_report=by_report,
        by_onset=by_onset,
        rt_mean=rt_mean,
        rt_low=rt_low,
        rt_high=rt_high,
        cases_today=by_report[-1],
        cases_window=reported,
        flows_window=flows,
        under_measure=under_measure,
        quarantine=quarantine_figures(session, path, day),
        testing=testing_figures(session, path, day),
        alerts=alert_figures(session, path, day),
        areas=area_figures(session, path, day),
        overdue_count=overdue_count,
        overdue=overdue,
        timeliness=_timeliness(session, path, first, day),
        found_under_management=found_managed,
        children=child_rows,
        vaccination=_vaccination(session, path),
        resources=_resources(session, path),
        staffing=staffing_gaps(session, path),
        nowcast=curve.median[-len(days) :] if curve is not None else blank,
        nowcast_low=curve.lower[-len(days) :] if curve is not None else blank,
        nowcast_high=curve.upper[-len(days) :] if curve is not None else blank,
    )
