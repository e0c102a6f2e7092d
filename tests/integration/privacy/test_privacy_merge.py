"""Merging duplicate people, on SQLite and PostgreSQL: the merge moves every linked record (in every
table the metadata shows referring to a person) to the survivor, the undo restores each one, and after
the window the merged entry is gone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from privacy_rows import make
from sqlalchemy import select

from conftest import HOME_COUNTY, World
from fangkong.core import audit
from fangkong.core.errors import Conflict
from fangkong.core.models import AuditEntry, Person
from fangkong.privacy.service import linkage, merge, retention

Snapshot = dict[tuple[str, str, object], object]


def snapshot(session: Any) -> Snapshot:
    """Every person reference in the database: (table, column, primary key) → the person it names."""
    out: Snapshot = {}
    for ref in linkage.person_refs():
        pk = next(iter(ref.table.primary_key.columns))
        for key, value in session.execute(select(pk, ref.column).where(ref.column.isnot(None))):
            out[(ref.table.name, ref.column.name, key)] = value
    return out


def test_merging_moves_every_linked_record_and_the_undo_restores_them(app: Any, world: World) -> None:
    db = app.state.db
    survivor, merged = world.people[HOME_COUNTY][:2]
    owning_tables = sorted({r.table.name for r in linkage.person_refs() if r.owns})
    assert {"tracing_cases", "testing_orders", "vaccination_doses", "quarantine_stays"} <= set(owning_tables)
    with db.unit_of_work() as session:
        jpath = session.get(Person, merged).jpath
        for name in owning_tables:
            make(session, name, person_id=merged, jpath=jpath)
        # The survivor already has a row in a table keyed by the person: theirs is kept.
        make(session, "vulnerable_flags", person_id=survivor, jpath=jpath)
        before = snapshot(session)
    linked = {k: v for k, v in before.items() if v == merged}
    assert {k[0] for k in linked} >= set(owning_tables) - {"vulnerable_flags"}

    with db.unit_of_work() as session:
        row = merge.merge(session, audit.SYSTEM, "/", survivor, merged)
        merge_id = row.id
    with db.unit_of_work() as session:
        after = snapshot(session)
        still = {k for k, v in after.items() if v == merged}
        assert still == {("vulnerable_flags", "person_id", merged)}  # the survivor kept their own
        moved = {k for k in linked if k not in still}
        # A row keyed by the person moves under the survivor's key; any other keeps its own.
        keyed = {r.table.name for r in linkage.person_refs() if r.column.primary_key}
        assert all(after[(t, c, survivor if t in keyed else key)] == survivor for t, c, key in moved)
        assert session.get(Person, merged) is not None  # kept whole until the window closes
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.merge"))
        assert entry is not None and entry.object_id == str(merge_id)

    with db.unit_of_work() as session:
        merge.undo(session, audit.SYSTEM, "/", merge_id)
    with db.unit_of_work() as session:
        assert snapshot(session) == before
        with pytest.raises(Conflict):
            merge.undo(session, audit.SYSTEM, "/", merge_id)


def test_after_the_window_the_undo_is_refused_and_the_nightly_job_deletes_the_merged_entry(
    app: Any, world: World, frozen_clock: Any
) -> None:
    db = app.state.db
    survivor, merged = world.people[HOME_COUNTY][:2]
    with db.unit_of_work() as session:
        jpath = session.get(Person, merged).jpath
        case = make(session, "tracing_cases", person_id=merged, jpath=jpath)
        merge_id = merge.merge(session, audit.SYSTEM, "/", survivor, merged).id
    frozen_clock.advance(dt.timedelta(days=8))
    with db.unit_of_work() as session, pytest.raises(Conflict):
        merge.undo(session, audit.SYSTEM, "/", merge_id)
    with db.unit_of_work() as session:
        report = retention.run(session, audit.SYSTEM, dry_run=False)
    assert report.merges_finalised == 1
    with db.unit_of_work() as session:
        assert session.get(Person, merged) is None
        cases = linkage.table("tracing_cases")
        assert cases is not None
        assert session.scalar(select(cases.c.person_id).where(cases.c.id == case)) == survivor


def test_likely_duplicates_are_found_by_name_phone_and_birth_date_without_decrypting(
    app: Any, world: World
) -> None:
    db = app.state.db
    first = world.people[HOME_COUNTY][0]
    with db.unit_of_work() as session:
        p = session.get(Person, first)
        twin = make(
            session,
            "people",
            jpath=p.jpath,
            name_hash=p.name_hash,
            phone_hash=p.phone_hash,
            birth_date=p.birth_date,
            sex=p.sex,
        )
        candidates = merge.likely_duplicates(session, "/330000/")
        assert [(c.first_id, c.second_id, c.reason) for c in candidates] == [
            (first, twin, "name_phone_birth")
        ]
        # Outside the reader's scope the pair is not shown.
        assert merge.likely_duplicates(session, "/330000/330200/") == []
        with pytest.raises(Conflict):
            merge.merge(session, audit.SYSTEM, "/", first, first)
