"""Daily case counts: the epidemic curve by report day or by onset day, read by other capabilities.

Which cases count: ``confirmed`` and ``asymptomatic`` (the two classifications China's protocol
reports as infections, protocols.md §2). A ``suspected`` case is not yet a case and an ``excluded`` one
never was; a case reclassified later counts under what it is now, on the day it was first reported.

Which day: by ``report`` the local day (deployment time zone, ``core.clock``) of ``reported_at``; by
``onset`` the recorded onset date, so asymptomatic cases and cases without a known onset do not appear
on the onset curve (they have no onset), which is why the two curves can differ in total.

These are system reads without a principal (the response capability's dashboard, closure and
counters, the Rt page): the caller limits the subtree with ``jpath`` and is responsible for having
checked that the user may see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.clock import day_bounds, local_day
from fangkong.core.scope import under
from fangkong.tracing.models import Case, Classification

# The classifications reported as infections (protocols.md §2): confirmed cases and asymptomatic ones.
COUNTED = (Classification.confirmed, Classification.asymptomatic)

CountBy = Literal["report", "onset"]


def _days(first: dt.date, last: dt.date) -> dict[dt.date, int]:
    return {first + dt.timedelta(days=i): 0 for i in range((last - first).days + 1)}


def daily_case_counts(
    session: Session, jpath: str, first: dt.date, last: dt.date, *, by: CountBy = "report"
) -> dict[dt.date, int]:
    """Cases (confirmed + asymptomatic) under ``jpath`` per local day ``first`` .. ``last``, every day
    present (zero when none), by report day or by onset day."""
    if last < first:
        return {}
    counts = _days(first, last)
    if by == "onset":
        rows = session.execute(
            select(Case.onset_date, func.count())
            .where(
                under(Case.jpath, jpath),
                Case.classification.in_(COUNTED),
                Case.onset_date >= first,
                Case.onset_date <= last,
            )
            .group_by(Case.onset_date)
        ).all()
        for day, n in rows:
            if day is not None:
                counts[day] = int(n)
        return counts
    if by != "report":
        raise ValueError(f"count by 'report' or 'onset', not {by!r}")
    start, end = day_bounds(first, last)
    # Bucketed here rather than in SQL: the local day of an instant depends on the zone's rules, which
    # SQLite does not know; a curve of a few weeks is a few thousand instants at most.
    for (reported_at,) in session.execute(
        select(Case.reported_at).where(
            under(Case.jpath, jpath),
            Case.classification.in_(COUNTED),
            Case.reported_at >= start,
            Case.reported_at < end,
        )
    ):
        day = local_day(reported_at)
        if day in counts:
            counts[day] += 1
    return counts


def case_count_rows(
    session: Session, principal: Principal, jpath: str, basis: str
) -> list[tuple[str, dt.date, int, int]]:
    """(case jpath, day, locally acquired, imported) rows of the counted cases under ``jpath`` within
    the principal's scope, by ``basis`` ('report' or 'onset'): what the Rt page estimates from."""
    scope = jpath if jpath.startswith(principal.jpath) else principal.jpath
    if not jpath.startswith(principal.jpath) and not principal.jpath.startswith(jpath):
        return []
    counted = (under(Case.jpath, scope), Case.classification.in_(COUNTED))
    totals: dict[tuple[str, dt.date], list[int]] = {}

    def add(rows: Iterable[tuple[str, dt.date | None, bool, int]]) -> None:
        for path, day, imported, n in rows:
            if day is None:
                continue
            pair = totals.setdefault((path, day), [0, 0])
            pair[1 if imported else 0] += int(n)

    if basis == "onset":
        add(
            (path, day, bool(imported), int(n))
            for path, day, imported, n in session.execute(
                select(Case.jpath, Case.onset_date, Case.imported, func.count())
                .where(*counted, Case.onset_date.is_not(None))
                .group_by(Case.jpath, Case.onset_date, Case.imported)
            )
        )
    elif basis == "report":
        add(
            (path, local_day(at), bool(imported), 1)
            for path, at, imported in session.execute(
                select(Case.jpath, Case.reported_at, Case.imported).where(*counted)
            ).all()
        )
    else:
        raise ValueError(f"count by 'report' or 'onset', not {basis!r}")
    return [(path, day, loc, imp) for (path, day), (loc, imp) in sorted(totals.items())]


def report_facts(session: Session, case_id: int) -> tuple[str, dt.date, bool] | None:
    """(jpath, local report day, found under management) of one case, for counters kept per day."""
    row = session.execute(
        select(Case.jpath, Case.reported_at, Case.found_under_management).where(Case.id == case_id)
    ).first()
    if row is None:
        return None
    path, reported_at, managed = row
    return path, local_day(reported_at), bool(managed)


def cases_by_place(session: Session, jpath: str, day: dt.date) -> dict[str, tuple[int, int]]:
    """Case jpath → (cases reported on ``day``, of them found under management), for the subtree
    ``jpath``: the exact places, for counters kept per jurisdiction."""
    start, end = day_bounds(day)
    rows = session.execute(
        select(Case.jpath, func.count(), func.count(case((Case.found_under_management.is_(True), 1))))
        .where(
            under(Case.jpath, jpath),
            Case.classification.in_(COUNTED),
            Case.reported_at >= start,
            Case.reported_at < end,
        )
        .group_by(Case.jpath)
    ).all()
    return {path: (int(n), int(m or 0)) for path, n, m in rows}
