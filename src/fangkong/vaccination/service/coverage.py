"""Coverage against the registry (应接尽接): counted, stored with numerator and denominator, and read.

:func:`refresh` counts every person's status once, set-based: one GROUP BY over ``vaccination_status``
crossed with the days counted (the last week ends and the day itself) gives, per day, place lived and
age band on that day, the denominator and the four numerators; Python then adds each place's counts to
every jurisdiction above it (``rules.coverage.roll_up``) and the rows are written in one COPY. Between
refreshes, status changes move the stored counts by exactly what they change (:func:`adjusted`), so the
pages are current after a dose without counting the province again.

Reads (:func:`coverage_table`, :func:`trend`, :func:`ranking`, :func:`figures_for_dashboard`) only read
stored rows: the province's page is a few indexed look-ups however many doses lie behind it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Date, String, Table, and_, bindparam, delete, func, select, type_coerce, update
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope
from fangkong.vaccination.models import CoverageCount, VaccinationStatus
from fangkong.vaccination.rules import coverage as rules
from fangkong.vaccination.rules.bands import ALL_BANDS, BANDS, MIN_AGE, band_cutoffs, born_on_or_before
from fangkong.vaccination.rules.coverage import MEASURES, Counts
from fangkong.vaccination.service import status

# Above this many people changed at once (an imported file), the stored days are counted again
# whole instead of moved row by row: one scan beats hundreds of thousands of updates.
RECOUNT_ABOVE = 20_000
MAX_PAGE_SIZE = 200
_COLUMNS = ("jpath", "as_of", "band", "measure", "numerator", "denominator")
_TABLE = cast(Table, CoverageCount.__table__)
Group = tuple[dt.date, str, str, int, int, int, int, int]


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


_EPOCH = dt.date(1970, 1, 1).toordinal()
_NAT = np.iinfo(np.int64).min


def _days(values: Sequence[object]) -> npt.NDArray[np.datetime64]:
    """Days from ISO words or dates, None as NaT."""
    sample = next((v for v in values if v is not None), None)
    if not isinstance(sample, dt.date):
        return np.array(values, dtype="datetime64[D]")
    ordinals = [_NAT if v is None else cast(dt.date, v).toordinal() - _EPOCH for v in values]
    return np.array(ordinals, dtype=np.int64).astype("datetime64[D]")


def _groups(
    session: Session, days: Sequence[dt.date], person_ids: Sequence[int] | None = None
) -> list[Group]:
    """(day, place, band, denominator, four numerators) for people 3 and over on each day.

    The status rows are read once and counted for every day with NumPy: the same count as a GROUP BY
    over the status crossed with the days, which SQLite took some ten seconds over the demo region's
    200,000 people and thirteen days."""
    s = VaccinationStatus
    # Dates as the driver gives them (ISO words on SQLite, dates on PostgreSQL): NumPy turns words into
    # days in C, where a million date objects through SQLAlchemy and NumPy took seconds.
    query = select(
        s.jpath,
        *(
            type_coerce(c, String)
            for c in (s.birth_date, s.first_dose_on, s.primary_complete_on, s.booster_on, s.second_booster_on)
        ),
    )
    if person_ids is not None:
        query = query.where(s.person_id.in_(person_ids))
    rows = session.execute(query).all()
    if not rows:
        return []
    columns = list(zip(*rows, strict=True))
    paths, place = np.unique(np.array(columns[0], dtype=object).astype(str), return_inverse=True)
    birth = _days(columns[1])
    # A date never reached is NaT, which no comparison counts.
    reached = [_days(c) for c in columns[2:]]
    found: list[Group] = []
    for day in days:
        when = np.datetime64(day, "D")
        counted = birth <= np.datetime64(born_on_or_before(day, MIN_AGE), "D")
        cutoffs = band_cutoffs(day)
        names = [b for b, _bound in cutoffs]
        # The CASE of the oldest band first: the first bound a birth date does not pass names its band;
        # past every bound, the youngest band.
        labels = names if BANDS[0] in names else [*names, BANDS[0]]
        band = np.full(birth.shape[0], labels.index(BANDS[0]))
        for index in range(len(cutoffs) - 1, -1, -1):
            band[birth <= np.datetime64(cutoffs[index][1], "D")] = index
        key = (place * len(labels) + band)[counted]
        size = len(paths) * len(labels)
        totals = np.bincount(key, minlength=size)
        numerators = [np.bincount(key, weights=(r <= when)[counted], minlength=size) for r in reached]
        for cell in np.flatnonzero(totals).tolist():
            counts = (int(totals[cell]), *(int(n[cell]) for n in numerators))
            found.append((day, str(paths[cell // len(labels)]), labels[cell % len(labels)], *counts))  # type: ignore[arg-type]
    return found


def _jurisdiction_paths(session: Session) -> list[str]:
    return list(session.scalars(select(Jurisdiction.path)))


def _store(session: Session, days: Sequence[dt.date]) -> int:
    """Count ``days`` again from scratch and replace their stored rows."""
    totals = rules.roll_up(_groups(session, days), _jurisdiction_paths(session))
    session.execute(delete(CoverageCount).where(CoverageCount.as_of.in_(list(days))))
    rows = [
        (jpath, day, band, measure, values[1 + i], values[0])
        for (jpath, day, band), values in totals.items()
        for i, measure in enumerate(MEASURES)
    ]
    write_rows(session, _TABLE, _COLUMNS, rows)
    return len(rows)


def refresh(
    session: Session,
    as_of: dt.date | None = None,
    weeks: int = rules.DEFAULT_WEEKS,
    *,
    actor: audit.Actor | None = None,
) -> int:
    """Count coverage for every jurisdiction's subtree × band (and the sums 60+ and all) × measure, for
    the ``weeks`` week ends before ``as_of`` (default today) and ``as_of`` itself; returns rows written.

    People missing a status (new, just turned 3) or evaluated under older rules are evaluated first, so
    the denominators are the registry. Rows of an earlier refresh's day that is no week end are dropped:
    the trend keeps Sundays and the latest day.
    """
    day = as_of or clock.today()
    if not 1 <= weeks <= 104:
        raise InvalidInput(
            [RowError(1, "weeks", Message("must be between {low} and {high}", low=1, high=104))]
        )
    status.evaluate_stale(session)
    days = rules.days_counted(day, weeks)
    stored = {_day(v) for v in session.scalars(select(CoverageCount.as_of).distinct())}
    dropped = [d for d in stored if not rules.is_week_end(d) and d not in days]
    if dropped:
        session.execute(delete(CoverageCount).where(CoverageCount.as_of.in_(dropped)))
    written = _store(session, days)
    if actor is not None:
        audit.record(
            session,
            actor,
            "vaccination.coverage_refresh",
            "coverage",
            day.isoformat(),
            detail={"rows": written},
        )
    return written


@contextmanager
def adjusted(session: Session, person_ids: Sequence[int]) -> Iterator[None]:
    """Move the stored counts of the recent days by what the status change inside the block changes
    for these people (their before and after counted the same way), so that the stored figures stay
    equal to a count from scratch. Nothing stored yet: nothing to move."""
    today = clock.today()
    horizon = today - dt.timedelta(weeks=rules.DEFAULT_WEEKS + 1)
    days = sorted(
        _day(v)
        for v in session.scalars(select(CoverageCount.as_of).where(CoverageCount.as_of >= horizon).distinct())
    )
    ids = sorted(set(person_ids))
    if not days or not ids:
        yield
        return
    if len(ids) > RECOUNT_ABOVE:
        yield
        _store(session, days)
        return
    paths = _jurisdiction_paths(session)
    before = rules.roll_up(_chunked_groups(session, days, ids), paths)
    yield
    after = rules.roll_up(_chunked_groups(session, days, ids), paths)
    changes: dict[tuple[str, dt.date, str, str], tuple[int, int]] = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key, [0] * 5), after.get(key, [0] * 5)
        for i, measure in enumerate(MEASURES):
            dn, dd = new[1 + i] - old[1 + i], new[0] - old[0]
            if dn or dd:
                changes[(*key, measure)] = (dn, dd)
    if changes:
        _apply(session, changes)


def _chunked_groups(session: Session, days: Sequence[dt.date], ids: Sequence[int]) -> list[Group]:
    out: list[Group] = []
    for start in range(0, len(ids), status.CHUNK):
        out += _groups(session, days, ids[start : start + status.CHUNK])
    return out


def _apply(session: Session, changes: dict[tuple[str, dt.date, str, str], tuple[int, int]]) -> None:
    jpaths = sorted({k[0] for k in changes})
    days = sorted({k[1] for k in changes})
    existing = {
        (jpath, _day(day), band, measure)
        for jpath, day, band, measure in session.execute(
            select(CoverageCount.jpath, CoverageCount.as_of, CoverageCount.band, CoverageCount.measure).where(
                CoverageCount.jpath.in_(jpaths), CoverageCount.as_of.in_(days)
            )
        )
    }
    table = _TABLE
    updates = [
        {"k_jpath": k[0], "k_day": k[1], "k_band": k[2], "k_measure": k[3], "dn": dn, "dd": dd}
        for k, (dn, dd) in changes.items()
        if k in existing
    ]
    if updates:
        statement = (
            update(table)
            .where(
                and_(
                    table.c.jpath == bindparam("k_jpath"),
                    table.c.as_of == bindparam("k_day", type_=Date),
                    table.c.band == bindparam("k_band"),
                    table.c.measure == bindparam("k_measure"),
                )
            )
            .values(
                numerator=table.c.numerator + bindparam("dn"),
                denominator=table.c.denominator + bindparam("dd"),
            )
        )
        session.connection().execute(statement, updates)
    new_rows = [(*k, dn, dd) for k, (dn, dd) in changes.items() if k not in existing]
    write_rows(session, table, _COLUMNS, new_rows)


# ------------------------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class BandRow:
    band: str
    counts: Counts


@dataclass(frozen=True)
class CoverageTable:
    jurisdiction_id: int
    code: str
    name: str
    jpath: str
    as_of: dt.date | None  # None: never counted
    rows: list[BandRow]


@dataclass(frozen=True)
class TrendPoint:
    as_of: dt.date
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return rules.rate(self.numerator, self.denominator)


@dataclass(frozen=True)
class RankedPlace:
    rank: int
    jurisdiction_id: int
    code: str
    name: str
    jpath: str
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return rules.rate(self.numerator, self.denominator)


@dataclass(frozen=True)
class Ranking:
    as_of: dt.date | None
    items: list[RankedPlace]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def place(session: Session, principal: Principal, code: str | None = None) -> Jurisdiction:
    """The jurisdiction asked for by code (the caller's own when None); NotFound outside scope."""
    if code is None or not code.strip():
        node = session.get(Jurisdiction, principal.jurisdiction_id)
    else:
        node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code.strip()))
    if node is None or not path_in_scope(node.path, principal.jpath):
        raise NotFound(f"jurisdiction {code} not found")
    return node


def _check(band: str, measure: str) -> None:
    if band not in ALL_BANDS:
        raise InvalidInput([RowError(1, "band", Message("one of {values}", values=", ".join(ALL_BANDS)))])
    if measure not in MEASURES:
        raise InvalidInput([RowError(1, "measure", Message("one of {values}", values=", ".join(MEASURES)))])


def latest_day(session: Session, jpath: str) -> dt.date | None:
    found = session.scalar(select(func.max(CoverageCount.as_of)).where(CoverageCount.jpath == jpath))
    return None if found is None else _day(found)


def table_for(session: Session, node: Jurisdiction) -> CoverageTable:
    """The stored counts of ``node``'s subtree on its latest counted day, every band (zeros included)."""
    day = latest_day(session, node.path)
    found: dict[str, dict[str, tuple[int, int]]] = {}
    if day is not None:
        for band, measure, numerator, denominator in session.execute(
            select(
                CoverageCount.band, CoverageCount.measure, CoverageCount.numerator, CoverageCount.denominator
            ).where(CoverageCount.jpath == node.path, CoverageCount.as_of == day)
        ):
            found.setdefault(band, {})[measure] = (numerator, denominator)
    rows = [BandRow(band, rules.counts_of(found.get(band, {}))) for band in ALL_BANDS]
    return CoverageTable(node.id, node.code, node.name, node.path, day, rows)


def coverage_table(session: Session, principal: Principal, code: str | None = None) -> CoverageTable:
    """Counts, rates and dropout by band for a jurisdiction in scope (the caller's own by default)."""
    return table_for(session, place(session, principal, code))


def trend(
    session: Session, principal: Principal, code: str | None, band: str, measure: str
) -> list[TrendPoint]:
    """One point per counted week end (and the latest day), oldest first."""
    _check(band, measure)
    node = place(session, principal, code)
    points = [
        TrendPoint(_day(day), numerator, denominator)
        for day, numerator, denominator in session.execute(
            select(CoverageCount.as_of, CoverageCount.numerator, CoverageCount.denominator)
            .where(
                CoverageCount.jpath == node.path, CoverageCount.band == band, CoverageCount.measure == measure
            )
            .order_by(CoverageCount.as_of)
        )
    ]
    return [p for i, p in enumerate(points) if rules.is_week_end(p.as_of) or i == len(points) - 1]


def children(session: Session, node: Jurisdiction) -> list[Jurisdiction]:
    return list(
        session.scalars(
            select(Jurisdiction)
            .where(Jurisdiction.parent_id == node.id, Jurisdiction.is_sandbox == node.is_sandbox)
            .order_by(Jurisdiction.code)
        )
    )


def ranking(
    session: Session,
    principal: Principal,
    code: str | None,
    band: str,
    measure: str,
    page: int = 1,
    size: int = 50,
    *,
    lowest_first: bool = True,
) -> Ranking:
    """The child jurisdictions by their rate (lowest first: where the work is), counted on the parent's
    latest day; places nobody lives in come last."""
    _check(band, measure)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput([RowError(1, "size", Message("must be at most {limit}", limit=MAX_PAGE_SIZE))])
    node = place(session, principal, code)
    day = latest_day(session, node.path)
    kids = children(session, node)
    counts: dict[str, tuple[int, int]] = {}
    if day is not None and kids:
        counts = {
            jpath: (n, d)
            for jpath, n, d in session.execute(
                select(CoverageCount.jpath, CoverageCount.numerator, CoverageCount.denominator).where(
                    CoverageCount.jpath.in_([k.path for k in kids]),
                    CoverageCount.as_of == day,
                    CoverageCount.band == band,
                    CoverageCount.measure == measure,
                )
            )
        }

    def order(k: Jurisdiction) -> tuple[int, float, str]:
        n, d = counts.get(k.path, (0, 0))
        value = n / d if d else 0.0
        return (0 if d else 1, value if lowest_first else -value, k.code)

    ordered = sorted(kids, key=order)
    start = (page - 1) * size
    items = [
        RankedPlace(start + i + 1, k.id, k.code, k.name, k.path, *counts.get(k.path, (0, 0)))
        for i, k in enumerate(ordered[start : start + size])
    ]
    return Ranking(day, items, len(ordered), page, size)


@dataclass(frozen=True)
class DashboardFigures:
    as_of: dt.date
    elderly: Counts  # 60 and over
    oldest: Counts  # 80 and over
    everyone: Counts


def figures_for_dashboard(session: Session, jpath: str) -> DashboardFigures | None:
    """The command dashboard's vaccination figures for a subtree (the caller has checked its scope):
    ≥ 60, ≥ 80 and everyone on the latest counted day; None before the first count."""
    node = session.scalar(select(Jurisdiction).where(Jurisdiction.path == jpath))
    if node is None:
        return None
    table = table_for(session, node)
    if table.as_of is None:
        return None
    by_band = {r.band: r.counts for r in table.rows}
    return DashboardFigures(table.as_of, by_band["60+"], by_band["80+"], by_band["all"])
