"""Every column that refers to a person has an index led by it.

Merging two people and purging people (``fangkong.privacy``) find their rows by person in every table
that refers to one; without such an index each merge scans whole tables of millions of rows. The person
references are the ones privacy's linkage finds in the metadata, so a new table is checked the day it is
added."""

from __future__ import annotations

from sqlalchemy import Index, PrimaryKeyConstraint, Table, UniqueConstraint

from fangkong.privacy.service.linkage import person_refs


def _led_by(t: Table, column: str) -> bool:
    leading: set[str] = {c.name for c in t.columns if c.index or c.unique}
    for index in t.indexes:
        leading.add(next(iter(index.columns)).name)
    for constraint in t.constraints:
        if isinstance(constraint, (PrimaryKeyConstraint, UniqueConstraint)) and len(constraint.columns):
            leading.add(next(iter(constraint.columns)).name)
    return column in leading


def test_every_person_reference_is_indexed() -> None:
    refs = person_refs()
    assert len(refs) > 20  # the linkage sees the capabilities' tables, not an empty metadata
    missing = sorted(f"{r.table.name}.{r.column.name}" for r in refs if not _led_by(r.table, r.column.name))
    assert missing == []


def test_the_check_sees_an_unindexed_reference() -> None:
    from sqlalchemy import Column, Integer, MetaData

    t = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("person_id", Integer))
    assert not _led_by(t, "person_id")
    Index("ix_t_person_id", t.c.person_id)
    assert _led_by(t, "person_id")
