"""Where people are referenced and where identity sits, found from the metadata; set-based delete and
anonymise over every such table.

This is the cross-cutting exception named in ``fangkong.privacy``: the functions here write the
person-linked and identity columns of every capability's tables through ``Table`` objects. What counts:

- a person reference is a column with a foreign key to ``people.id``, or an integer column named
  ``person_id`` or ``..._person_id`` (links kept without a constraint);
- a column marked ``info={"person_ref": True}`` refers to a person too, but only weakly: the row is a
  record *about* the person kept by someone else (an access grant), so it follows a merge and loses its
  free text with the person, and it outlives a deleted person (its id then points at nobody);
- an identity column is a ciphertext (binary), a keyed hash (a ``..._hash`` string of 32 characters, the
  width of every keyed hash) or a pre-masked display form (``..._masked``);
- a personal text column is free text a user typed that may name people (notes, typed addresses,
  reasons), marked on the model with ``info={"personal_text": True}``: nothing in its type says so.

Anonymising overwrites identity columns: binary with empty bytes (or NULL), masks with ``*``, hashes with a
tombstone (``~`` and the row's id, unique where the column must be, and never the hash of anything) or
NULL; personal text is blanked (NULL, or the empty string where the column is required). Free text on a
row that hangs off a person's record (a case's visits, a stay's room events, a contact's assist request:
one foreign key away, in a table with no people of its own) is blanked with the person too. Every
statement selects its rows with a subquery, so a million people cost a few statements per table, not a
million round trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    CompoundSelect,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from fangkong.core.db import Base
from fangkong.core.errors import NotFound
from fangkong.core.models import Person
from fangkong.core.scope import path_in_scope
from fangkong.models_registry import import_all_models

PEOPLE = "people"
HOUSEHOLDS = "households"
TOMBSTONE = "~"
HASH_WIDTH = 32


def tables() -> dict[str, Table]:
    import_all_models()
    return dict(Base.metadata.tables)


def table(name: str) -> Table | None:
    return tables().get(name)


PERSONAL_TEXT = "personal_text"
PERSON_REF = "person_ref"


def _refers_to_people(column: Column[object]) -> bool:
    if column.info.get(PERSON_REF):
        return True
    if any(fk.column.table.name == PEOPLE for fk in column.foreign_keys):
        return True
    named = column.name == "person_id" or column.name.endswith("_person_id")
    return isinstance(column.type, Integer) and named


@dataclass(frozen=True)
class PersonRef:
    table: Table
    column: Column[object]

    @property
    def owns(self) -> bool:
        """The row belongs to the person (``person_id``) rather than merely pointing at them
        (``located_person_id``): deleting the person deletes the first and unlinks the second."""
        return self.column.name == "person_id"

    @property
    def weak(self) -> bool:
        """A record about the person kept by someone else (``info={"person_ref": True}``): it stays
        when the person goes, its free text blanked."""
        return bool(self.column.info.get(PERSON_REF))


def person_refs() -> list[PersonRef]:
    """Every column of every table (the registry itself aside) that refers to a person."""
    tables()
    return [
        PersonRef(t, c)
        for t in Base.metadata.sorted_tables
        if t.name != PEOPLE
        for c in t.columns
        if _refers_to_people(c)
    ]


def identity_columns(t: Table) -> list[Column[object]]:
    return [
        c for c in t.columns if isinstance(c.type, LargeBinary) or _is_hash(c) or c.name.endswith("_masked")
    ]


def personal_text_columns(t: Table) -> list[Column[object]]:
    """Free-text columns marked as possibly naming people (``info={"personal_text": True}``)."""
    return [c for c in t.columns if c.info.get(PERSONAL_TEXT)]


def wiped_columns(t: Table) -> list[Column[object]]:
    """What anonymising overwrites: identity, then personal text."""
    return identity_columns(t) + [c for c in personal_text_columns(t) if c not in identity_columns(t)]


def _is_hash(c: Column[object]) -> bool:
    return c.name.endswith("_hash") and isinstance(c.type, String) and c.type.length == HASH_WIDTH


def _pk(t: Table) -> Column[object]:
    cols = list(t.primary_key.columns)
    return cols[0]


def _tombstones(t: Table) -> dict[str, object]:
    values: dict[str, object] = {}
    for c in wiped_columns(t):
        if c.info.get(PERSONAL_TEXT):
            values[c.name] = null() if c.nullable else ""
        elif c.nullable:
            values[c.name] = null()
        elif isinstance(c.type, LargeBinary):
            values[c.name] = b""
        elif c.name.endswith("_masked"):
            values[c.name] = "*"
        else:
            values[c.name] = literal(TOMBSTONE) + cast(_pk(t), String)
    return values


def _not_wiped(t: Table) -> ColumnElement[bool]:
    """Rows with some identity left (a row anonymised before is not written again)."""
    left: list[ColumnElement[bool]] = []
    for c in wiped_columns(t):
        if c.info.get(PERSONAL_TEXT):
            left.append(func.coalesce(c, "") != "")
        elif c.nullable:
            left.append(c.isnot(None))
        elif isinstance(c.type, LargeBinary):
            left.append(c != b"")
        elif c.name.endswith("_masked"):
            left.append(c != "*")
        else:
            left.append(~c.startswith(TOMBSTONE))
    return or_(*left)


def anonymise_rows(session: Session, t: Table, where: ColumnElement[bool]) -> int:
    """Overwrite the identity and personal text columns of the rows ``where`` selects; the rows stay."""
    values = _tombstones(t)
    if not values:
        return 0
    return int(session.execute(update(t).where(where, _not_wiped(t)).values(values)).rowcount or 0)  # type: ignore[attr-defined]


def delete_rows(session: Session, t: Table, where: ColumnElement[bool], _path: tuple[str, ...] = ()) -> int:
    """Delete the rows ``where`` selects and what depends on them: a nullable reference to a deleted row
    is cleared, a required one takes its row along (recursively). Returns the rows deleted from ``t``."""
    pk = _pk(t)
    doomed = select(pk).where(where).scalar_subquery()
    for child in Base.metadata.sorted_tables:
        for c in child.columns:
            for fk in c.foreign_keys:
                if fk.column.table is not t:
                    continue
                link = (f"{child.name}.{c.name}",)
                if c.nullable or link[0] in _path:
                    if c.nullable:
                        session.execute(update(child).where(c.in_(doomed)).values({c.name: None}))
                else:
                    delete_rows(session, child, c.in_(doomed), _path + link)
    return int(session.execute(delete(t).where(where)).rowcount or 0)  # type: ignore[attr-defined]


def _people() -> Table:
    t = table(PEOPLE)
    assert t is not None
    return t


def _pinned_hashes(session: Session, people: Table, chosen: Table) -> Table:
    """The ID and phone hashes of the chosen people that no other live person shares (a family phone
    stays with the family): what must go from every other table."""
    other = people.alias("other")
    phones = select(people.c.phone_hash).where(
        exists().where(chosen.c.id == people.c.id),
        people.c.phone_hash.isnot(None),
        ~exists().where(
            other.c.phone_hash == people.c.phone_hash,
            ~exists().where(chosen.c.id == other.c.id),
            ~other.c.id_hash.startswith(TOMBSTONE),
        ),
    )
    ids = select(people.c.id_hash).where(exists().where(chosen.c.id == people.c.id))
    return pin(session, ids.union(phones), "privacy_pinned_hashes", String(HASH_WIDTH))


def _person_linked(t: Table) -> list[Column[object]]:
    return [c for c in t.columns if _refers_to_people(c)]


def _hanging_off(t: Table, chosen: Table) -> list[ColumnElement[bool]]:
    """Rows of ``t`` one foreign key away from a record of the chosen people (a visit of their case)."""
    out: list[ColumnElement[bool]] = []
    for c in t.columns:
        for fk in c.foreign_keys:
            parent = fk.column.table
            if parent is t or parent.name in (PEOPLE, HOUSEHOLDS):
                continue
            for ref in _person_linked(parent):
                out.append(c.in_(select(fk.column).where(ref.in_(select(chosen.c.id)))))
    return out


def _sweep_linked(session: Session, chosen: Table) -> None:
    """Identity and personal text in other tables that belong to the chosen people: on rows linked to
    them (or hanging off such a row), and on rows that carry one of their hashes without a link (an
    arrival before the person was registered). One statement per column, each a semi-join on a pinned
    table (an OR of subqueries would not be)."""
    people = _people()
    hashes = _pinned_hashes(session, people, chosen)
    for t in Base.metadata.sorted_tables:
        if t.name in (PEOPLE, HOUSEHOLDS) or not wiped_columns(t):
            continue
        for c in _person_linked(t):
            anonymise_rows(session, t, c.in_(select(chosen.c.id)))
        # A table with people of its own (a contact, an exposure) speaks of them, not of its parent's.
        if personal_text_columns(t) and not any(c.name == "person_id" for c in _person_linked(t)):
            for near in _hanging_off(t, chosen):
                anonymise_rows(session, t, near)
        for c in identity_columns(t):
            if _is_hash(c):
                anonymise_rows(session, t, c.in_(select(hashes.c.id)))
    hashes.drop(session.connection())


def blank_text(session: Session, t: Table, where: ColumnElement[bool]) -> int:
    """Blank the personal text of the rows ``where`` selects (nothing else of them changes)."""
    columns = personal_text_columns(t)
    if not columns:
        return 0
    values = {c.name: null() if c.nullable else "" for c in columns}
    typed = or_(*[func.coalesce(c, "") != "" for c in columns])
    return int(session.execute(update(t).where(where, typed).values(values)).rowcount or 0)  # type: ignore[attr-defined]


def anonymise_people(session: Session, chosen: Select[Any] | Table) -> int:
    """Strip the identity of the chosen people everywhere; their rows, dates, sex, birth dates and
    places stay, so counts by day, age band and jurisdiction are what they were. ``chosen`` is a
    selection of ids, or a table of them already pinned (a bulk purge: no second copy)."""
    people = _people()
    households = table(HOUSEHOLDS)
    if isinstance(chosen, Table):
        pinned, own = chosen, False
    else:
        pinned, own = pin(session, chosen, "privacy_pinned_anonymise"), True
    # Already anonymised people are left as they are (their tombstones stay the same).
    mine = and_(exists().where(pinned.c.id == people.c.id), ~people.c.id_hash.startswith(TOMBSTONE))
    _sweep_linked(session, pinned)
    if households is not None:
        member = people.alias("member")
        # A household whose every member goes loses its address; one that keeps members keeps it.
        emptied = and_(
            households.c.id.in_(select(people.c.household_id).where(mine)),
            ~exists().where(
                member.c.household_id == households.c.id,
                ~exists().where(pinned.c.id == member.c.id),
                ~member.c.id_hash.startswith(TOMBSTONE),
            ),
        )
        anonymise_rows(session, households, emptied)
    # The person no longer points at a household: its address is gone with its last member, or it
    # stays with the members who remain and must not lead back to the anonymised person.
    values = {**_tombstones(people), "household_id": null()}
    done = int(session.execute(update(people).where(mine).values(values)).rowcount or 0)  # type: ignore[attr-defined]
    if own:
        pinned.drop(session.connection())
    return done


def delete_people(session: Session, chosen: Select[Any]) -> int:
    """Delete the chosen people with every record that belongs to them."""
    people = _people()
    pinned = pin(session, select(people.c.id).where(people.c.id.in_(chosen)), "privacy_pinned_delete")
    ids = select(pinned.c.id)
    _sweep_linked(session, pinned)
    for ref in person_refs():
        if ref.weak:
            continue  # swept above: its free text is blank, its row stays
        if ref.owns:
            delete_rows(session, ref.table, ref.column.in_(ids))
        elif ref.column.nullable:
            session.execute(update(ref.table).where(ref.column.in_(ids)).values({ref.column.name: None}))
        else:
            delete_rows(session, ref.table, ref.column.in_(ids))
    households = table(HOUSEHOLDS)
    emptied: Table | None = None
    if households is not None:
        # A household whose every member goes is deleted after them (its address with it); which ones
        # is settled first, while the members still point at it.
        member = people.alias("member")
        emptied = pin(
            session,
            select(households.c.id).where(
                households.c.id.in_(select(people.c.household_id).where(people.c.id.in_(ids))),
                ~exists().where(
                    member.c.household_id == households.c.id, ~exists().where(pinned.c.id == member.c.id)
                ),
            ),
            "privacy_pinned_households",
        )
    deleted = delete_rows(session, people, people.c.id.in_(ids))
    if households is not None and emptied is not None:
        delete_rows(session, households, households.c.id.in_(select(emptied.c.id)))
        emptied.drop(session.connection())
    pinned.drop(session.connection())
    return deleted


def pin(session: Session, stmt: Select[Any] | CompoundSelect[Any], name: str, kind: Any = None) -> Table:
    """The values ``stmt`` selects (ids unless ``kind`` says otherwise), kept in a temporary table
    (dropped by the caller) so that statements which change what ``stmt`` would select still act on the
    same rows, and so that every statement can join on it."""
    pinned = Table(name, MetaData(), Column("id", kind or Integer, primary_key=True), prefixes=["TEMPORARY"])
    connection = session.connection()
    pinned.drop(connection, checkfirst=True)
    pinned.create(connection)
    source = stmt.distinct() if isinstance(stmt, Select) else stmt  # a union is distinct already
    session.execute(insert(pinned).from_select(["id"], source))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {name}")  # the planner must know its size to join on it
    return pinned


def rows_per_table(session: Session, columns: list[tuple[Table, Column[Any]]], value: int) -> dict[str, int]:
    """How many rows of each table hold ``value`` in one of these columns (the comparison pages)."""
    counts: dict[str, int] = {}
    for t, column in columns:
        n = session.scalar(select(func.count()).select_from(t).where(column == value)) or 0
        if n:
            counts[t.name] = counts.get(t.name, 0) + int(n)
    return counts


def person_in_scope(session: Session, scope_path: str, person_id: int) -> Person:
    """A living person (not anonymised) in the reader's subtree, else "not found"."""
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, scope_path) or person.id_hash.startswith("~"):
        raise NotFound(f"person {person_id} not found")
    return person
