"""The dashboard's pre-aggregated figures, kept in the same transaction as each change they count.

Event handlers (``(session, event) -> None``, registered in ``wiring.py``) add to a flow counted per
local day (``DailyCount``) or refresh a level (``Gauge``). Every row holds the figure of a jurisdiction's
whole subtree: a change is added at the jurisdiction it happened in and at each jurisdiction above it
(five rows from a community to its province), so the dashboard reads a province's figures from a few
rows instead of summing thousands of communities. Both are upserts (``INSERT ... ON CONFLICT DO
UPDATE``), so two transactions counting the same cell never lose an increment and a first count needs no
row beforehand.

Flows are incremented from the event; levels (people under each measure) are recomputed for the place
that changed from the protocol capability's read, which is exact whatever the event did (a re-placement
from the same source replaces a plan rather than adding one), and the difference is carried up. Those
handlers must run after the protocol's own (its rows come first in ``wiring.py``). A level counts the
people whose plan covers today, as the daily closure does; plans that start or end when the day changes
move it at the nightly recount.

:func:`recount` repairs drift nightly: it recomputes one day's flows and today's levels of every
jurisdiction from the source capabilities' service reads (which count a subtree, as the rows do) and
returns what it changed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.events import (
    DomainEvent,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
    PersonReleasedFromManagement,
)
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.scope import ancestor_paths, under
from fangkong.response.models import DailyCount, Gauge
from fangkong.response.rules import metrics as m

COUNTED_CLASSIFICATIONS = ("confirmed", "asymptomatic")


def _insert(session: Session, table: type[DailyCount] | type[Gauge]):  # type: ignore[no-untyped-def]
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def rollup_paths(session: Session, jpath: str) -> list[str]:
    """``jpath`` and the paths of the jurisdictions above it (kept per session: a bulk event asks for
    the same few again and again)."""
    return rollup_paths_of(session, [jpath])[jpath]


def rollup_paths_of(session: Session, jpaths: Iterable[str]) -> dict[str, list[str]]:
    """:func:`rollup_paths` of many places, with one query for all the places not yet known to the
    session (so a batch over thirty communities costs what a batch over one does)."""
    cache: dict[str, list[str]] = session.info.setdefault("response_rollup_paths", {})
    missing = sorted({p for p in jpaths if p not in cache})
    if missing:
        wanted = {p: ancestor_paths(p) for p in missing}
        every = sorted({a for chain in wanted.values() for a in chain})
        known: set[str] = set()
        for start in range(0, len(every), 500):
            chunk = every[start : start + 500]
            known.update(session.scalars(select(Jurisdiction.path).where(Jurisdiction.path.in_(chunk))))
        for p, chain in wanted.items():
            # A path that is no jurisdiction (a test's or an import's odd row) still counts where it is.
            cache[p] = [a for a in chain if a in known or a == p]
    return {p: cache[p] for p in jpaths}


def add_daily(
    session: Session, rows: Iterable[tuple[str, str, dt.date, int]], *, rollup: bool = True
) -> None:
    """Add ``delta`` to each (jpath, metric, day, delta) cell and (``rollup``) to the cells of every
    jurisdiction above it, creating them when missing."""
    rows = list(rows)
    chains = rollup_paths_of(session, {p for p, _, _, _ in rows}) if rollup else {}
    deltas: Counter[tuple[str, str, dt.date]] = Counter()
    for p, k, d, n in rows:
        for path in chains[p] if rollup else [p]:
            deltas[(path, k, d)] += n
    values = [{"jpath": p, "metric": k, "day": d, "value": n} for (p, k, d), n in sorted(deltas.items()) if n]
    if not values:
        return
    stmt = _insert(session, DailyCount)
    stmt = stmt.on_conflict_do_update(
        index_elements=["jpath", "metric", "day"], set_={"value": DailyCount.value + stmt.excluded.value}
    )
    session.execute(stmt, values)


def add_gauges(session: Session, rows: Iterable[tuple[str, str, int]]) -> None:
    """Add ``delta`` to each (jpath, metric) level, creating it when missing."""
    now = clock.utcnow()
    # Summed per cell first: one INSERT may not touch the same row twice (PostgreSQL refuses it).
    deltas: Counter[tuple[str, str]] = Counter()
    for p, k, n in rows:
        deltas[(p, k)] += n
    values = [
        {"jpath": p, "metric": k, "value": n, "updated_at": now} for (p, k), n in sorted(deltas.items()) if n
    ]
    if not values:
        return
    stmt = _insert(session, Gauge)
    stmt = stmt.on_conflict_do_update(
        index_elements=["jpath", "metric"],
        set_={"value": Gauge.value + stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
    )
    session.execute(stmt, values)


def set_daily(session: Session, rows: Iterable[tuple[str, str, dt.date, int]]) -> None:
    """Set each (jpath, metric, day) cell to a value (the recount)."""
    values = [{"jpath": p, "metric": k, "day": d, "value": n} for p, k, d, n in rows]
    if not values:
        return
    stmt = _insert(session, DailyCount)
    stmt = stmt.on_conflict_do_update(
        index_elements=["jpath", "metric", "day"], set_={"value": stmt.excluded.value}
    )
    session.execute(stmt, values)


def set_gauges(session: Session, rows: Iterable[tuple[str, str, int]]) -> None:
    """Set each (jpath, metric) level to a value, stamped now."""
    now = clock.utcnow()
    values = [{"jpath": p, "metric": k, "value": n, "updated_at": now} for p, k, n in rows]
    if not values:
        return
    stmt = _insert(session, Gauge)
    stmt = stmt.on_conflict_do_update(
        index_elements=["jpath", "metric"],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
    )
    session.execute(stmt, values)


def refresh_measures(session: Session, jpaths: Iterable[str]) -> None:
    """Recompute the people-under-measure gauges of these places from the protocol's read and carry the
    difference to the jurisdictions above them (a fixed number of statements however many places)."""
    from fangkong.protocol.daily import people_under_measure_at

    places = sorted(set(jpaths))
    if not places:
        return
    counted = people_under_measure_at(session, places, clock.today())
    stored: dict[str, dict[str, int]] = {p: {} for p in places}
    for start in range(0, len(places), 500):
        chunk = places[start : start + 500]
        for jpath, metric, value in session.execute(
            select(Gauge.jpath, Gauge.metric, Gauge.value).where(
                Gauge.jpath.in_(chunk), Gauge.metric.startswith(m.UNDER_MEASURE_PREFIX)
            )
        ):
            stored[str(jpath)][str(metric)] = int(value)
    chains = rollup_paths_of(session, places)
    rows: list[tuple[str, str, int]] = []
    for jpath in places:
        now = {m.under_measure(c): n for c, n in counted[jpath].items()}
        was = stored[jpath]
        changed = {k: now.get(k, 0) - was.get(k, 0) for k in set(now) | set(was)}
        rows += [(p, k, d) for k, d in sorted(changed.items()) for p in chains[jpath]]
    add_gauges(session, rows)


def _person_paths(session: Session, person_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = session.execute(select(Person.id, Person.jpath).where(Person.id.in_(ids))).all()
    return {int(i): str(p) for i, p in rows}


# -- event handlers (wiring.py) ------------------------------------------------------------------


def case_reported(session: Session, event: DomainEvent) -> None:
    """A case reported: counted on its local report day (and as found under management if it was)."""
    from fangkong.tracing.events import CaseReported
    from fangkong.tracing.service import report_facts

    assert isinstance(event, CaseReported)
    if event.classification not in COUNTED_CLASSIFICATIONS:
        return
    facts = report_facts(session, event.case_id)
    if facts is None:
        return
    jpath, day, managed = facts
    add_daily(
        session,
        [
            (jpath, m.CASES_REPORTED, day, 1),
            (jpath, m.CASES_FOUND_UNDER_MANAGEMENT, day, 1 if managed else 0),
        ],
    )


def case_reclassified(session: Session, event: DomainEvent) -> None:
    """A suspected case confirmed counts from its report day; a case excluded stops counting."""
    from fangkong.tracing.events import CaseReclassified
    from fangkong.tracing.service import report_facts

    assert isinstance(event, CaseReclassified)
    was = event.previous in COUNTED_CLASSIFICATIONS
    now = event.classification in COUNTED_CLASSIFICATIONS
    if was == now:
        return
    facts = report_facts(session, event.case_id)
    if facts is None:
        return
    jpath, day, managed = facts
    delta = 1 if now else -1
    add_daily(
        session,
        [
            (jpath, m.CASES_REPORTED, day, delta),
            (jpath, m.CASES_FOUND_UNDER_MANAGEMENT, day, delta if managed else 0),
        ],
    )


def person_placed(session: Session, event: DomainEvent) -> None:
    """One placement under management: counted today; the place's people under measure recomputed."""
    assert isinstance(event, PersonPlacedUnderManagement)
    add_daily(session, [(event.jpath, m.PEOPLE_PLACED, clock.today(), 1)])
    refresh_measures(session, [event.jpath])


def people_placed(session: Session, event: DomainEvent) -> None:
    """Many placements (an import): one upsert per place, one recomputation per place."""
    assert isinstance(event, PeoplePlacedUnderManagement)
    per_place = Counter(p.jpath for p in event.placements)
    today = clock.today()
    add_daily(session, [(jpath, m.PEOPLE_PLACED, today, n) for jpath, n in sorted(per_place.items())])
    refresh_measures(session, per_place)


def person_released(session: Session, event: DomainEvent) -> None:
    """A release from management, counted at the person's place, whose levels are recomputed."""
    assert isinstance(event, PersonReleasedFromManagement)
    jpath = _person_paths(session, [event.person_id]).get(event.person_id)
    if jpath is None:
        return
    add_daily(session, [(jpath, m.PEOPLE_RELEASED, clock.today(), 1)])
    refresh_measures(session, [jpath])


def checked_into_quarantine(session: Session, event: DomainEvent) -> None:
    """A check-in at a quarantine site, counted at the person's place on the local day of check-in."""
    from fangkong.quarantine.events import PersonCheckedIntoQuarantine

    assert isinstance(event, PersonCheckedIntoQuarantine)
    jpath = _person_paths(session, [event.person_id]).get(event.person_id)
    if jpath is not None:
        add_daily(session, [(jpath, m.QUARANTINE_CHECKED_IN, clock.local_day(event.at), 1)])


def tested_positive(session: Session, event: DomainEvent) -> None:
    from fangkong.testing.events import PersonTestedPositive

    assert isinstance(event, PersonTestedPositive)
    add_daily(session, [(event.jpath, m.TESTS_POSITIVE, clock.local_day(event.resulted_at), 1)])


def alert_raised(session: Session, event: DomainEvent) -> None:
    from fangkong.surveillance.events import AlertRaised

    assert isinstance(event, AlertRaised)
    add_daily(session, [(event.jpath, m.ALERTS_RAISED, clock.local_day(event.raised_at), 1)])


# -- the nightly recount --------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One counter the recount found wrong: where, which, the day (None for a level), before → after."""

    jpath: str
    metric: str
    day: dt.date | None
    before: int
    after: int


def _day_reads(session: Session, day: dt.date) -> Callable[[str], dict[str, int]]:
    """The recounted flows of a subtree on ``day``, from the source capabilities' service reads."""
    from fangkong.surveillance.daily import alert_figures
    from fangkong.testing.service.daily import testing_figures

    def read(jpath: str) -> dict[str, int]:
        tests = testing_figures(session, jpath, day)
        alerts = alert_figures(session, jpath, day)
        return {
            m.TESTS_DONE: tests["done"],
            m.TESTS_POSITIVE: tests["positive"],
            m.ALERTS_RAISED: int(alerts["raised"] or 0),
        }

    return read


def recount(session: Session, day: dt.date, jpath: str = "/") -> list[Change]:
    """Recompute ``day``'s recounted flows and today's levels of every jurisdiction under ``jpath`` (and
    carry the root's corrections to the jurisdictions above it); write the cells that differ and return
    them (an empty list: no drift)."""
    from fangkong.protocol.daily import people_under_measure_at
    from fangkong.tracing.service import cases_by_place

    # The scope filter's own test (a sandbox stays out of the real tree's recount and vice versa).
    paths = [p for p in session.scalars(select(Jurisdiction.path)) if jpath <= p < jpath + "~"]
    inside = set(paths)
    wanted: dict[tuple[str, str], int] = {}
    for place, (reported, managed) in cases_by_place(session, jpath, day).items():
        for p in rollup_paths(session, place):
            if p in inside:
                for metric, n in ((m.CASES_REPORTED, reported), (m.CASES_FOUND_UNDER_MANAGEMENT, managed)):
                    wanted[(p, metric)] = wanted.get((p, metric), 0) + n
    day_read = _day_reads(session, day)
    today = clock.today()
    levels: dict[tuple[str, str], int] = {}
    measured = people_under_measure_at(session, paths, today)
    for p in paths:
        for metric, n in day_read(p).items():
            if n:
                wanted[(p, metric)] = n
        for category, n in measured[p].items():
            if n:
                levels[(p, m.under_measure(category))] = n

    stored = {
        (str(p), str(k)): int(v)
        for p, k, v in session.execute(
            select(DailyCount.jpath, DailyCount.metric, DailyCount.value).where(
                under(DailyCount.jpath, jpath),
                DailyCount.day == day,
                DailyCount.metric.in_(m.RECOUNTED_DAILY),
            )
        )
    }
    changes = [
        Change(p, k, day, stored.get((p, k), 0), wanted.get((p, k), 0))
        for p, k in sorted(set(stored) | set(wanted))
        if stored.get((p, k), 0) != wanted.get((p, k), 0)
    ]
    set_daily(session, [(c.jpath, c.metric, day, c.after) for c in changes])

    stored_levels = {
        (str(p), str(k)): int(v)
        for p, k, v in session.execute(
            select(Gauge.jpath, Gauge.metric, Gauge.value).where(
                under(Gauge.jpath, jpath), Gauge.metric.startswith(m.UNDER_MEASURE_PREFIX)
            )
        )
    }
    level_changes = [
        Change(p, k, None, stored_levels.get((p, k), 0), levels.get((p, k), 0))
        for p, k in sorted(set(stored_levels) | set(levels))
        if stored_levels.get((p, k), 0) != levels.get((p, k), 0)
    ]
    set_gauges(session, [(c.jpath, c.metric, c.after) for c in level_changes])

    # The root's corrections change the subtrees above it by as much.
    above = [p for p in rollup_paths(session, jpath) if p != jpath] if jpath in inside else []
    if above:
        root = [c for c in changes + level_changes if c.jpath == jpath]
        add_daily(session, [(p, c.metric, day, c.after - c.before) for c in root if c.day for p in above],
                  rollup=False)  # fmt: skip
        add_gauges(session, [(p, c.metric, c.after - c.before) for c in root if c.day is None for p in above])
    audit.record(
        session, audit.SYSTEM, "response.recount", "dashboard_counts", day.isoformat(), jpath=jpath,
        detail={"flows_changed": len(changes), "levels_changed": len(level_changes)},
    )  # fmt: skip
    return changes + level_changes
