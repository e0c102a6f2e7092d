"""Linking an unidentified tracing record to the registry person it turned out to be, on SQLite and
PostgreSQL: the duplicates list offers the pair once the record's ID number is registered; linking moves
every row that names the record (in every table the metadata shows pointing at such records) to the
person, audited; the undo puts each row back as it was; after the window the record's own copy of the
identity goes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from privacy_rows import make, tables
from sqlalchemy import select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import audit
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.models import AuditEntry, Jurisdiction, Person
from fangkong.privacy.service import merge, records, retention

Rows = dict[tuple[str, object], tuple[object, ...]]


def _rows(session: Any) -> Rows:
    """Every row that names a tracing record or a person through a paired column: who it names, its
    subject key and where it is filed."""
    out: Rows = {}
    for ref in records.record_refs():
        t = ref.table
        pk = next(iter(t.primary_key.columns))
        kept = [t.c[n] for n in ("subject_key", "jurisdiction_id", "jpath") if n in t.c]
        for row in session.execute(select(pk, ref.column, ref.person_column, *kept)):
            out[(t.name, row[0])] = tuple(row[1:])
    return out


@pytest.fixture
def traced(app: Any, world: World) -> dict[str, int]:
    """An unidentified record (a contact met before they were registered, carrying the ID number of a
    registered resident) named by a row of every table that can name one."""
    person_id, index_person = world.people[HOME_COUNTY][:2]
    with app.state.db.unit_of_work() as session:
        person = session.get(Person, person_id)
        county = session.scalar(select(Jurisdiction).where(Jurisdiction.code == HOME_COUNTY))
        record = make(
            session,
            "tracing_unidentified_people",
            jurisdiction_id=county.id,
            jpath=county.path,
            id_hash=person.id_hash,
            label="张*",
            id_masked="3301**********1234",
        )
        index_case = make(
            session,
            "tracing_cases",
            person_id=index_person,
            subject_key=f"p:{index_person}",
            jurisdiction_id=county.id,
            jpath=county.path,
        )
        refs = records.record_refs()
        assert {r.table.name for r in refs} >= {"tracing_cases", "tracing_contacts", "tracing_exposures"}
        for ref in refs:
            values: dict[str, object] = {ref.column.name: record, "jpath": county.path}
            if "subject_key" in ref.table.c:
                values["subject_key"] = f"u:{record}"
            if "jurisdiction_id" in ref.table.c:
                values["jurisdiction_id"] = county.id
            if "case_id" in ref.table.c:
                values["case_id"] = index_case
            make(session, ref.table.name, **values)
    return {"person": person_id, "record": record}


def test_linking_a_record_moves_every_row_naming_it_and_the_undo_puts_each_back(
    app: Any, world: World, traced: dict[str, int]
) -> None:
    db = app.state.db
    person_id, record_id = traced["person"], traced["record"]
    with db.unit_of_work() as session:
        candidates = merge.likely_duplicates(session, "/")
        assert (person_id, record_id, "identified_tracing_record") in [
            (c.first_id, c.second_id, c.reason) for c in candidates
        ]
        before = _rows(session)
        naming = {k for k, v in before.items() if v[0] == record_id}
        assert {t for t, _ in naming} == {r.table.name for r in records.record_refs()}
        assert records.linked_counts(session, record_id) == {r.table.name: 1 for r in records.record_refs()}
        person = session.get(Person, person_id)
        row = records.link(session, audit.Actor(None, "home_investigator"), "/", person_id, record_id)
        merge_id = row.id
    with db.unit_of_work() as session:
        after = _rows(session)
        for key in naming:
            table = tables()[key[0]]
            moved = dict(
                zip(
                    [
                        "record",
                        "person",
                        *[c for c in ("subject_key", "jurisdiction_id", "jpath") if c in table.c],
                    ],
                    after[key],
                    strict=True,
                )
            )
            assert moved["record"] is None and moved["person"] == person_id, key
            if "subject_key" in moved:
                assert moved["subject_key"] == f"p:{person_id}"
            if "jurisdiction_id" in moved:  # a case or contact is now filed where the person lives
                assert (moved["jurisdiction_id"], moved["jpath"]) == (person.jurisdiction_id, person.jpath)
        # Rows not naming the record are untouched.
        assert {k: v for k, v in after.items() if k not in naming} == {
            k: v for k, v in before.items() if k not in naming
        }
        # Listed no more, and linked once only.
        assert record_id not in [c.second_id for c in merge.likely_duplicates(session, "/")]
        with pytest.raises(Conflict):
            records.link(session, audit.SYSTEM, "/", person_id, record_id)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.record_linked"))
        assert entry is not None and entry.object_id == str(merge_id) and entry.actor == "home_investigator"
        assert [m.kind for m in merge.list_merges(session, "/")] == ["tracing_record"]

    with db.unit_of_work() as session:
        merge.undo(session, audit.SYSTEM, "/", merge_id)
    with db.unit_of_work() as session:
        assert _rows(session) == before
        unidentified = records.records_table()
        assert unidentified is not None
        assert session.scalar(select(unidentified.c.person_id).where(unidentified.c.id == record_id)) is None
        with pytest.raises(Conflict):
            merge.undo(session, audit.SYSTEM, "/", merge_id)
        # Offered again, and linkable again.
        assert record_id in [c.second_id for c in merge.likely_duplicates(session, "/")]


def test_after_the_window_the_link_stays_and_the_records_copy_of_the_identity_goes(
    app: Any, world: World, traced: dict[str, int], frozen_clock: Any
) -> None:
    db = app.state.db
    person_id, record_id = traced["person"], traced["record"]
    with db.unit_of_work() as session:
        merge_id = records.link(session, audit.SYSTEM, "/", person_id, record_id).id
    frozen_clock.advance(dt.timedelta(days=8))
    with db.unit_of_work() as session, pytest.raises(Conflict):
        merge.undo(session, audit.SYSTEM, "/", merge_id)
    with db.unit_of_work() as session:
        assert retention.run(session, audit.SYSTEM, dry_run=False).merges_finalised == 1
    with db.unit_of_work() as session:
        unidentified = records.records_table()
        assert unidentified is not None
        row = session.execute(select(unidentified).where(unidentified.c.id == record_id)).one()
        assert row.person_id == person_id  # the trace of the link
        assert row.id_hash is None and row.pii == b"" and row.id_masked is None
        assert session.get(Person, person_id) is not None  # the person is not a merged entry


def test_a_record_with_another_id_number_or_outside_ones_area_is_not_linked(
    app: Any, world: World, traced: dict[str, int]
) -> None:
    other = world.people[HOME_COUNTY][2]
    with app.state.db.unit_of_work() as session:
        with pytest.raises(Conflict):
            records.link(session, audit.SYSTEM, "/", other, traced["record"])
        # Another county's user neither sees the record nor links it.
        away = session.get(Jurisdiction, world.jurisdictions[FOREIGN_COUNTY]).path
        with pytest.raises(NotFound):
            records.view(session, away, traced["record"])
        with pytest.raises(NotFound):
            records.link(session, audit.SYSTEM, away, traced["person"], traced["record"])
