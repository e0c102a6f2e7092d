"""The epidemic curve from the platform's own cases, for the reader: daily counts per jurisdiction down
the tree, locally acquired and imported apart, the onset → report pairs and the nowcast of the curve by
onset learnt from them (:mod:`fangkong.analytics.nowcast`, as R ``surveillance::nowcast``).

Which cases count and on which day is :mod:`.daily`'s rule (confirmed and asymptomatic; by ``report``
the local day of ``reported_at``, by ``onset`` the onset date). Unlike the system reads there, every
read here is limited to the reader's scope with ``core.scope`` (a subtree outside it reads as empty).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.clock import day_bounds, local_day
from fangkong.core.scope import ancestor_paths, path_in_scope, under
from fangkong.tracing.models import Case
from fangkong.tracing.service.daily import COUNTED, CountBy

# Days of onsets the nowcast learns the reporting delay from, days: four times the longest delay modelled,
# so that delays of up to 15 days are seen on many onset days (assumption).
NOWCAST_DAYS: Final[int] = 60


@dataclass(frozen=True)
class AreaCurve:
    """Daily counts of one jurisdiction's subtree, aligned with :attr:`CaseCounts.days`."""

    path: str
    local: list[int]
    imported: list[int]

    @property
    def total(self) -> list[int]:
        return [a + b for a, b in zip(self.local, self.imported, strict=True)]


@dataclass(frozen=True)
class CaseCounts:
    """Counts per day ``first`` .. ``last`` for the asked jurisdiction and every jurisdiction below it
    that has a case (keyed by jurisdiction path; a place's counts include those of the places under it)."""

    by: CountBy
    days: list[dt.date]
    areas: dict[str, AreaCurve]


def area_counts(
    session: Session, jpath: str, first: dt.date, last: dt.date, *, by: CountBy = "onset"
) -> CaseCounts:
    """Cases per day under ``jpath`` for each jurisdiction down the tree: a system read without a
    principal (the surveillance feed), the caller responsible for the subtree, as in :mod:`.daily`."""
    if by not in ("onset", "report"):
        raise ValueError(f"count by 'report' or 'onset', not {by!r}")
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    if not days:
        return CaseCounts(by, days, {})
    counted = (under(Case.jpath, jpath), Case.classification.in_(COUNTED))
    rows: list[tuple[str, dt.date, bool]]
    if by == "onset":
        rows = [
            (path, day, bool(imported))
            for path, day, imported in session.execute(
                select(Case.jpath, Case.onset_date, Case.imported).where(
                    *counted, Case.onset_date >= first, Case.onset_date <= last
                )
            )
            if day is not None
        ]
    else:
        start, end = day_bounds(first, last)
        # Bucketed here, as in .daily: the local day of an instant depends on the zone's rules.
        rows = [
            (path, local_day(at), bool(imported))
            for path, at, imported in session.execute(
                select(Case.jpath, Case.reported_at, Case.imported).where(
                    *counted, Case.reported_at >= start, Case.reported_at < end
                )
            )
        ]
    depth = len(ancestor_paths(jpath))
    curves: dict[str, tuple[list[int], list[int]]] = {}
    for path, day, imported in rows:
        offset = (day - first).days
        if not 0 <= offset < len(days):
            continue
        for place in ancestor_paths(path)[max(depth - 1, 0) :]:
            local_counts, imported_counts = curves.setdefault(place, ([0] * len(days), [0] * len(days)))
            (imported_counts if imported else local_counts)[offset] += 1
    areas = {path: AreaCurve(path, loc, imp) for path, (loc, imp) in sorted(curves.items())}
    return CaseCounts(by, days, areas)


def has_cases(session: Session, jpath: str) -> bool:
    """Whether any counted case was ever recorded under ``jpath`` (a system read, as :func:`area_counts`)."""
    first = session.scalar(
        select(Case.id).where(under(Case.jpath, jpath), Case.classification.in_(COUNTED)).limit(1)
    )
    return first is not None


def case_counts(
    session: Session,
    principal: Principal,
    jpath: str,
    first: dt.date,
    last: dt.date,
    *,
    by: CountBy = "onset",
) -> CaseCounts:
    """Cases per day under ``jpath`` within the reader's scope, for each jurisdiction down the tree
    (a subtree above the reader's own is read as the reader's own; one beside it as empty)."""
    if path_in_scope(jpath, principal.jpath):
        root = jpath
    elif path_in_scope(principal.jpath, jpath):
        root = principal.jpath
    else:
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        return CaseCounts(by, days, {})
    return area_counts(session, root, first, last, by=by)


def onset_report_pairs(
    session: Session, principal: Principal, jpath: str, first_onset: dt.date | None = None
) -> list[tuple[dt.date, dt.date]]:
    """(onset date, local report day) of every counted case with an onset under ``jpath`` within the
    reader's scope (onset on or after ``first_onset`` when given): the reporting delays of the nowcast."""
    if not path_in_scope(jpath, principal.jpath):
        jpath = principal.jpath if path_in_scope(principal.jpath, jpath) else ""
    if not jpath:
        return []
    stmt = select(Case.onset_date, Case.reported_at).where(
        under(Case.jpath, jpath), Case.classification.in_(COUNTED), Case.onset_date.is_not(None)
    )
    if first_onset is not None:
        stmt = stmt.where(Case.onset_date >= first_onset)
    return [(onset, local_day(at)) for onset, at in session.execute(stmt) if onset is not None]


@dataclass(frozen=True)
class CurveNowcast:
    """The curve by onset of the ``NOWCAST_DAYS`` days up to a day: reported counts (as they are) and, on
    the days the reporting delay still hides cases, the nowcast median and interval (``None`` before)."""

    days: list[dt.date]
    reported: list[int]
    median: list[int | None]
    lower: list[int | None]
    upper: list[int | None]
    delay_cdf: list[float]
    level: float

    @property
    def corrected_days(self) -> list[int]:
        return [i for i, m in enumerate(self.median) if m is not None]


def onset_nowcast(
    session: Session, principal: Principal, jpath: str, until: dt.date | None = None
) -> CurveNowcast | None:
    """The nowcast of the curve by onset under ``jpath`` (the reader's scope) up to ``until`` (default
    today), or ``None`` without a case with an onset in those days."""
    from fangkong.analytics.nowcast import DEFAULT_MAX_DELAY, nowcast

    last = until or clock.today()
    first = last - dt.timedelta(days=NOWCAST_DAYS - 1)
    pairs = [(o, r) for o, r in onset_report_pairs(session, principal, jpath, first) if o <= last]
    if not pairs:
        return None
    onset = [(o - first).days for o, _ in pairs]
    # A case reported before its onset (found in quarantine, fell ill later) was known on its onset day.
    report = [max((r - first).days, (o - first).days) for o, r in pairs]
    result = nowcast(onset, report, NOWCAST_DAYS - 1, max_delay=DEFAULT_MAX_DELAY)
    hidden = result.corrected

    def band(values: Any) -> list[int | None]:
        return [int(v) if h else None for v, h in zip(values, hidden, strict=True)]

    return CurveNowcast(
        days=[first + dt.timedelta(days=i) for i in range(NOWCAST_DAYS)],
        reported=[int(v) for v in result.reported],
        median=band(result.median),
        lower=band(result.lower),
        upper=band(result.upper),
        delay_cdf=[float(v) for v in result.delay_cdf],
        level=1 - result.alpha,
    )
