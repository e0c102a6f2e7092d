"""The dashboard's pre-aggregated figures, kept in the same transaction as each change they count.

Event handlers (``(session, event) -> None``, registered in ``wiring.py``) add to a flow counted per
local day (``DailyCount``) or refresh a level (``Gauge``) at the jurisdiction the change happened in.
Both are upserts (``INSERT ... ON CONFLICT DO UPDATE``), so two transactions counting the same cell
never lose an increment and a first count needs no row beforehand. The dashboard then sums a subtree
instead of counting a province's people.

Flows are incremented from the event; levels (people under each measure) are recomputed for the one
jurisdiction that changed from the protocol capability's read, which is exact whatever the event did
(a re-placement from the same source replaces a plan rather than adding one). Those handlers must run
after the protocol's own (its rows come first in ``wiring.py``).

:func:`recount` repairs drift nightly: it recomputes one day's flows and the levels from the source
capabilities' service reads and returns what it changed. The reads count a subtree; a jurisdiction's
own figure is its subtree's minus its children's subtrees.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
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
from fangkong.core.scope import under
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


def add_daily(session: Session, rows: Iterable[tuple[str, str, dt.date, int]]) -> None:
    """Add ``delta`` to each (jpath, metric, day, delta) cell, creating it when missing."""
    values = [{"jpath": p, "metric": k, "day": d, "value": n} for p, k, d, n in rows if n]
    if not values:
        return
    stmt = _insert(session, DailyCount)
    stmt = stmt.on_conflict_do_update(
        index_elements=["jpath", "metric", "day"], set_={"value": DailyCount.value + stmt.excluded.value}
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


def _child_paths(session: Session, jpath: str) -> list[str]:
    """The paths of the direct children of the jurisdiction at ``jpath``."""
    parent = session.scalar(select(Jurisdiction.id).where(Jurisdiction.path == jpath))
    if parent is None:
        return []
    return list(session.scalars(select(Jurisdiction.path).where(Jurisdiction.parent_id == parent)))


def _own(
    session: Session, jpath: str, read: Callable[[str], Mapping[str, int]], children: list[str] | None = None
) -> dict[str, int]:
    """A jurisdiction's own figures: its subtree's minus each child's subtree's."""
    own = Counter(read(jpath))
    for child in _child_paths(session, jpath) if children is None else children:
        own.subtract(read(child))
    return {k: max(0, v) for k, v in own.items()}


def refresh_measures(session: Session, jpaths: Iterable[str]) -> None:
    """Recompute the people-under-measure gauges of these jurisdictions from the protocol's read."""
    from fangkong.protocol.daily import people_under_measure

    day = clock.today()
    for jpath in sorted(set(jpaths)):
        own = _own(session, jpath, lambda p: people_under_measure(session, p, day))
        existing = session.scalars(
            select(Gauge.metric).where(Gauge.jpath == jpath, Gauge.metric.startswith(m.UNDER_MEASURE_PREFIX))
        ).all()
        levels = dict.fromkeys(existing, 0)
        levels.update({m.under_measure(c): n for c, n in own.items()})
        set_gauges(session, ((jpath, metric, n) for metric, n in sorted(levels.items())))


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
    """Recompute ``day``'s recounted flows and today's levels of every jurisdiction under ``jpath``;
    write the cells that differ and return them (an empty list: no drift)."""
    from fangkong.protocol.daily import people_under_measure
    from fangkong.tracing.service import cases_by_place

    nodes = session.execute(select(Jurisdiction.id, Jurisdiction.parent_id, Jurisdiction.path)).all()
    # The scope filter's own test (a sandbox stays out of the real tree's recount and vice versa).
    paths = {i: p for i, _, p in nodes if jpath <= p < jpath + "~"}
    children: dict[str, list[str]] = {}
    for i, parent, p in nodes:
        if parent in paths and i in paths:
            children.setdefault(paths[parent], []).append(p)

    wanted: dict[tuple[str, str], int] = {}
    for place, (reported, managed) in cases_by_place(session, jpath, day).items():
        wanted[(place, m.CASES_REPORTED)] = reported
        wanted[(place, m.CASES_FOUND_UNDER_MANAGEMENT)] = managed
    day_read = _day_reads(session, day)
    subtree = {p: day_read(p) for p in paths.values()}
    today = clock.today()
    measures = {p: people_under_measure(session, p, today) for p in paths.values()}
    levels: dict[tuple[str, str], int] = {}
    for p in paths.values():
        own = Counter(subtree[p])
        own_measures = Counter(measures[p])
        for child in children.get(p, []):
            own.subtract(subtree[child])
            own_measures.subtract(measures[child])
        for metric, n in own.items():
            if n > 0:
                wanted[(p, metric)] = n
        for category, n in own_measures.items():
            if n > 0:
                levels[(p, m.under_measure(category))] = n

    stored = {
        (p, k): v
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
        (p, k): v
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
    audit.record(
        session, audit.SYSTEM, "response.recount", "dashboard_counts", day.isoformat(), jpath=jpath,
        detail={"flows_changed": len(changes), "levels_changed": len(level_changes)},
    )  # fmt: skip
    return changes + level_changes
