"""Retention rules and the nightly job: each record class is kept its period after the date it counts
from, then deleted or anonymised; the dry run lists what would go without writing anything.

A person's identity goes when the last of their records in the classes under active rules has passed
its period (and at least one of them anonymises): their records stay, counted by day, age band and
jurisdiction, but nothing in them names the person any more. Records of a class that deletes go with
what depends on them (a nullable link to them is cleared instead).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, Table, and_, exists, func, or_, select, union
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.errors import InvalidInput, RowError
from fangkong.privacy.models import RetentionRule, RetentionRun
from fangkong.privacy.rules import retention as rr
from fangkong.privacy.service import linkage

# Person ids are pinned in chunks this size (under SQLite's bound-parameter limit).
CHUNK = 5000


@dataclass
class ClassCount:
    """What one rule did (or would do): records past their period and people who lose their identity."""

    record_class: str
    action: str
    period_days: int
    cutoff: dt.date
    records: int = 0
    people: int = 0


@dataclass
class RunReport:
    as_of: dt.date
    dry_run: bool
    classes: list[ClassCount] = field(default_factory=list)
    people_anonymised: int = 0
    merges_finalised: int = 0
    run_id: int | None = None

    def counts(self) -> dict[str, dict[str, int | str]]:
        return {
            c.record_class: {"action": c.action, "records": c.records, "people": c.people}
            for c in self.classes
        }


def rules_in_force(session: Session) -> list[rr.Rule]:
    """Every record class's rule: the stored one, or the default until an administrator sets one."""
    stored = {r.record_class: r for r in session.scalars(select(RetentionRule))}
    out = []
    for default in rr.default_rules():
        row = stored.get(default.record_class)
        out.append(
            default if row is None else rr.Rule(row.record_class, row.period_days, row.action, row.active)
        )
    return out


def set_rule(
    session: Session, actor: audit.Actor, record_class: str, period_days: int, action: str, active: bool
) -> rr.Rule:
    problems = rr.check_rule(record_class, period_days, action)
    if problems:
        raise InvalidInput([RowError(1, f, m) for f, m in problems])
    row = session.scalar(select(RetentionRule).where(RetentionRule.record_class == record_class))
    if row is None:
        row = RetentionRule(record_class=record_class, updated_by=actor.username)
        session.add(row)
    row.period_days, row.action, row.active = period_days, action, active
    row.updated_at, row.updated_by = clock.utcnow(), actor.username
    audit.record(
        session,
        actor,
        "privacy.rule_set",
        "retention_rule",
        record_class,
        detail={"period_days": period_days, "action": action, "active": active},
    )
    return rr.Rule(record_class, period_days, action, active)


def past_condition(t: Table, column: str, cutoff: dt.date) -> ColumnElement[bool]:
    """Rows whose date in ``column`` lies before the local day ``cutoff`` (dates and instants alike)."""
    col = t.c[column]
    bound: object = cutoff if isinstance(col.type, Date) else clock.day_bounds(cutoff)[0]
    return and_(col.isnot(None), col < bound)


def _young_condition(t: Table, column: str, cutoff: dt.date) -> ColumnElement[bool]:
    col = t.c[column]
    bound: object = cutoff if isinstance(col.type, Date) else clock.day_bounds(cutoff)[0]
    return or_(col.is_(None), col >= bound)


@dataclass(frozen=True)
class _Resolved:
    cls: rr.RecordClass
    rule: rr.Rule
    table: Table
    cutoff: dt.date

    @property
    def person(self) -> Any:
        return self.table.c[self.cls.person_column] if self.cls.person_column else None


def _resolve(session: Session, today: dt.date) -> list[_Resolved]:
    out = []
    for rule in rules_in_force(session):
        if not rule.active:
            continue
        cls = rr.BY_CODE[rule.record_class]
        t = linkage.table(cls.table)
        if t is None or cls.counts_from not in t.c:
            continue  # the capability is not installed here
        out.append(_Resolved(cls, rule, t, rr.cutoff(today, rule.period_days)))
    return out


def _people_to_anonymise(resolved: list[_Resolved]) -> Select[Any] | None:
    """People with a record past its period in an anonymising class and none still within one."""
    with_person = [r for r in resolved if r.person is not None and r.cls.code != "drill_sandboxes"]
    sources = [
        select(r.person).where(past_condition(r.table, r.cls.counts_from, r.cutoff))
        for r in with_person
        if r.rule.action == rr.ANONYMISE
    ]
    if not sources:
        return None
    people = linkage.table(linkage.PEOPLE)
    assert people is not None
    blocked = [
        exists().where(r.person == people.c.id, _young_condition(r.table, r.cls.counts_from, r.cutoff))
        for r in with_person
    ]
    return select(people.c.id).where(
        people.c.id.in_(union(*sources)),
        ~people.c.id_hash.startswith(linkage.TOMBSTONE),
        *[~b for b in blocked],
    )


def _drill_people(r: _Resolved) -> Select[Any]:
    people = linkage.table(linkage.PEOPLE)
    assert people is not None
    d = r.table
    inside = exists().where(
        past_condition(d, r.cls.counts_from, r.cutoff),
        people.c.jpath >= d.c.sandbox_path,
        people.c.jpath < d.c.sandbox_path + "~",
    )
    return select(people.c.id).where(inside)


def _count(session: Session, stmt: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def run(session: Session, actor: audit.Actor, *, dry_run: bool, as_of: dt.date | None = None) -> RunReport:
    """The nightly job (or, with ``dry_run``, what it would do): apply every active rule as of today."""
    from fangkong.privacy.service import merge

    today = as_of or clock.today()
    started = clock.utcnow()
    report = RunReport(as_of=today, dry_run=dry_run)
    resolved = _resolve(session, today)
    anonymise = _people_to_anonymise(resolved)
    # Pinned before anything is written: deleting one class's rows must not change who qualifies.
    people_ids = [int(i) for i in session.scalars(anonymise)] if anonymise is not None else []
    for r in resolved:
        count = ClassCount(r.cls.code, r.rule.action, r.rule.period_days, r.cutoff)
        report.classes.append(count)
        past = past_condition(r.table, r.cls.counts_from, r.cutoff)
        if r.cls.code == "drill_sandboxes":
            count.records = _count(session, select(r.table.c.id).where(past))
            chosen = _drill_people(r)
            count.people = _count(session, chosen)
            if not dry_run and count.people:
                ids = [int(i) for i in session.scalars(chosen)]
                for part in _chunks(ids):
                    people = linkage.table(linkage.PEOPLE)
                    assert people is not None
                    linkage.delete_people(session, select(people.c.id).where(people.c.id.in_(part)))
            continue
        if dry_run:
            count.records = _count(session, select(*r.table.primary_key.columns).where(past))
        elif r.rule.action == rr.DELETE:
            count.records = linkage.delete_rows(session, r.table, past)
        else:
            count.records = _count(session, select(*r.table.primary_key.columns).where(past))
            linkage.anonymise_rows(session, r.table, past)
    report.people_anonymised = len(people_ids)
    if not dry_run:
        people = linkage.table(linkage.PEOPLE)
        assert people is not None
        for part in _chunks(people_ids):
            linkage.anonymise_people(session, select(people.c.id).where(people.c.id.in_(part)))
        report.merges_finalised = merge.finalise_due(session, actor)
    row = RetentionRun(
        started_at=started,
        finished_at=clock.utcnow(),
        as_of=today,
        dry_run=dry_run,
        actor=actor.username,
        counts=json.dumps({"classes": report.counts(), "people_anonymised": report.people_anonymised}),
    )
    session.add(row)
    session.flush()
    report.run_id = row.id
    if not dry_run:
        audit.record(
            session,
            actor,
            "privacy.retention_run",
            "retention_run",
            row.id,
            detail={
                "as_of": today,
                "classes": report.counts(),
                "people_anonymised": report.people_anonymised,
            },
        )
    return report


def recent_runs(session: Session, limit: int = 20) -> list[RetentionRun]:
    return list(session.scalars(select(RetentionRun).order_by(RetentionRun.id.desc()).limit(limit)))


@dataclass
class SandboxForecast:
    """What the drill-sandbox rule will take of one sandbox and when (a dry run: nothing is written)."""

    action: str
    period_days: int
    active: bool
    goes_on: dt.date
    people: int
    records: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "goes_on": self.goes_on.isoformat()}


def sandbox_forecast(session: Session, sandbox_path: str, ends_on: dt.date) -> SandboxForecast:
    """The drill-sandbox rule applied to one sandbox ending on ``ends_on``: the people it will delete,
    their records table by table, and the first day the nightly job takes them."""
    rule = next(r for r in rules_in_force(session) if r.record_class == "drill_sandboxes")
    people = linkage.table(linkage.PEOPLE)
    assert people is not None
    inside = select(people.c.id).where(people.c.jpath >= sandbox_path, people.c.jpath < sandbox_path + "~")
    # A record is past its period once its day is before the cut-off: the day after the period ends.
    goes_on = ends_on + dt.timedelta(days=max(rule.period_days, rr.MINIMUM_PERIOD_DAYS) + 1)
    forecast = SandboxForecast(rule.action, rule.period_days, rule.active, goes_on, _count(session, inside))
    for ref in linkage.person_refs():
        if not ref.owns:
            continue
        n = session.scalar(select(func.count()).select_from(ref.table).where(ref.column.in_(inside))) or 0
        if n:
            forecast.records[ref.table.name] = forecast.records.get(ref.table.name, 0) + int(n)
    return forecast
