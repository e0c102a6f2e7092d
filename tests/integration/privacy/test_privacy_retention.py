"""Retention rules and the nightly job, on SQLite and PostgreSQL: a rule deletes exactly the records
past their period and nothing younger; the dry run lists the same and writes nothing; a person's
identity goes when the last of their records has passed; no rule goes below the minimum period."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from privacy_rows import make, tables
from sqlalchemy import func, select

from conftest import HOME_COUNTY, World
from fangkong.core import audit, clock
from fangkong.core.errors import InvalidInput
from fangkong.core.models import AuditEntry, Person
from fangkong.privacy.rules.retention import MINIMUM_PERIOD_DAYS
from fangkong.privacy.service import retention


def _local_noon(day: dt.date) -> dt.datetime:
    return clock.from_local(dt.datetime.combine(day, dt.time(12)))


def _ids(session: Any, table: str) -> set[int]:
    t = tables()[table]
    return {int(i) for i in session.scalars(select(t.c.id))}


def test_a_rule_deletes_exactly_the_records_past_their_period_and_nothing_younger(
    app: Any, world: World
) -> None:
    db = app.state.db
    today = clock.today()
    a, b, c = world.people[HOME_COUNTY][:3]
    with db.unit_of_work() as session:
        retention.set_rule(session, audit.SYSTEM, "exposures", 30, "delete", True)
        retention.set_rule(session, audit.SYSTEM, "test_results", 60, "anonymise", True)
        path = session.get(Person, a).jpath
        # Reported on day D, an exposure goes once D is more than 30 days back: day -31 goes, -30 stays.
        old = make(
            session,
            "tracing_exposures",
            person_id=a,
            jpath=path,
            created_at=_local_noon(today - dt.timedelta(days=31)),
        )
        edge = make(
            session,
            "tracing_exposures",
            person_id=a,
            jpath=path,
            created_at=_local_noon(today - dt.timedelta(days=30)),
        )
        young = make(
            session,
            "tracing_exposures",
            person_id=b,
            jpath=path,
            created_at=_local_noon(today - dt.timedelta(days=2)),
        )
        # Midnight at the start of day -30 is still day -30 in local time (16:00 UTC the day before).
        midnight = clock.day_bounds(today - dt.timedelta(days=30))[0]
        at_midnight = make(session, "tracing_exposures", person_id=b, jpath=path, created_at=midnight)
        old_test = make(
            session,
            "testing_orders",
            person_id=c,
            jpath=path,
            resulted_at=_local_noon(today - dt.timedelta(days=61)),
        )
        young_test = make(
            session,
            "testing_orders",
            person_id=b,
            jpath=path,
            resulted_at=_local_noon(today - dt.timedelta(days=59)),
        )
        untested = make(session, "testing_orders", person_id=b, jpath=path, resulted_at=None)

    with db.unit_of_work() as session:
        dry = retention.run(session, audit.SYSTEM, dry_run=True)
    counts = dry.counts()
    assert counts["exposures"]["records"] == 1
    assert counts["test_results"]["records"] == 1
    assert dry.people_anonymised == 1  # c: their one record is past; a and b have younger ones
    with db.unit_of_work() as session:
        assert _ids(session, "tracing_exposures") == {
            old,
            edge,
            young,
            at_midnight,
        }  # the dry run wrote nothing
        assert not session.get(Person, c).id_hash.startswith("~")

    with db.unit_of_work() as session:
        done = retention.run(session, audit.SYSTEM, dry_run=False)
    assert done.counts() == counts
    assert done.people_anonymised == 1
    with db.unit_of_work() as session:
        assert _ids(session, "tracing_exposures") == {edge, young, at_midnight}
        assert _ids(session, "testing_orders") == {old_test, young_test, untested}  # anonymised, kept
        people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_([a, b, c])))}
        assert people[c].id_hash.startswith("~") and people[c].pii == b""
        assert people[c].name_masked == "*" and people[c].phone_hash is None
        assert not people[a].id_hash.startswith("~") and not people[b].id_hash.startswith("~")
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.retention_run"))
        assert entry is not None and '"people_anonymised": 1' in entry.detail
        # A second night finds nothing more.
    with db.unit_of_work() as session:
        again = retention.run(session, audit.SYSTEM, dry_run=False)
    assert again.counts()["exposures"]["records"] == 0 and again.people_anonymised == 0


def test_no_rule_goes_below_the_minimum_period(app: Any, world: World) -> None:
    with app.state.db.unit_of_work() as session:
        with pytest.raises(InvalidInput) as caught:
            retention.set_rule(session, audit.SYSTEM, "cases", MINIMUM_PERIOD_DAYS - 1, "anonymise", True)
        assert [e.field for e in caught.value.errors] == ["period_days"]
        with pytest.raises(InvalidInput) as caught:
            retention.set_rule(session, audit.SYSTEM, "cases", 90, "shred", True)
        assert [e.field for e in caught.value.errors] == ["action"]
        kept = retention.set_rule(session, audit.SYSTEM, "cases", MINIMUM_PERIOD_DAYS, "delete", True)
        assert kept.period_days == MINIMUM_PERIOD_DAYS
    with app.state.db.unit_of_work() as session:
        rules = {r.record_class: r for r in retention.rules_in_force(session)}
        assert rules["cases"].action == "delete"
        assert rules["doses"].active is False  # a lifelong record: kept unless turned on
        count = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "privacy.rule_set")
        )
        assert count == 1


def test_a_drill_sandbox_goes_with_its_people_after_the_drill_ends(app: Any, world: World) -> None:
    db = app.state.db
    today = clock.today()
    with db.unit_of_work() as session:
        sandbox = "/~/330000/330100/330106/330106999/"
        drill = make(
            session,
            "modeling_drills",
            sandbox_path=sandbox,
            finished_at=_local_noon(today - dt.timedelta(days=45)),
        )
        synthetic = make(session, "people", jpath=sandbox + "330106999001/")
        make(session, "tracing_exposures", person_id=synthetic, jpath=sandbox, created_at=_local_noon(today))
        before = session.scalar(select(func.count()).select_from(Person))
    with db.unit_of_work() as session:
        report = retention.run(session, audit.SYSTEM, dry_run=False)
    assert report.counts()["drill_sandboxes"] == {"action": "delete", "records": 1, "people": 1}
    with db.unit_of_work() as session:
        assert session.get(Person, synthetic) is None
        assert session.scalar(select(func.count()).select_from(Person)) == before - 1
        assert drill in _ids(session, "modeling_drills")  # the drill and its score stay
