"""Linking an unidentified tracing record to the registry person it turned out to be.

Tracing keeps someone it cannot place in the registry (no ID number yet, or living elsewhere) as an
unidentified record; cases, contacts and exposures name that record instead of a person. Once the
person is known (their ID number now registered, or an investigator has found them), the duplicates
page lists the pair; linking moves every row that names the record to the person, as a merge of two
people does, audited and undoable within the same window.

Which rows, from the metadata (``linkage``), never a hand list of tables: every column with a foreign
key to the unidentified records, paired with the person column of its row (``unidentified_id`` with
``person_id``, as tracing's rule "a row names a person or a record, never both" pairs them). A row that
also keeps tracing's one-column who (``subject_key``: ``p:<id>`` or ``u:<id>``) gets the person's key,
and a row responsible where its subject lives (one with its own ``jurisdiction_id`` beside ``jpath``: a
case, a contact) moves to the person's jurisdiction, as tracing's own merge does. What each row said
before is written down with the merge, so the undo puts back exactly that.

When the undo window closes the record's own identity (ciphertext, hashes, masks) goes: the registry
holds the person now, and the record stays only as the trace of the link (``person_id``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope
from fangkong.privacy.models import PersonMerge
from fangkong.privacy.rules.merge import UNDO_WINDOW_DAYS
from fangkong.privacy.service import linkage

UNIDENTIFIED = "tracing_unidentified_people"
PERSON = "person"
TRACING_RECORD = "tracing_record"
# The state of a row the link changes and the undo restores (those of them the row has).
_KEPT = ("subject_key", "jurisdiction_id", "jpath")


@dataclass(frozen=True)
class RecordView:
    """An unidentified tracing record as the comparison shows it: masked forms only."""

    id: int
    label: str
    id_masked: str | None
    phone_masked: str | None
    sex: str | None
    age: int | None
    jpath: str
    created_at: dt.datetime | None
    linked_to: int | None


@dataclass(frozen=True)
class _Ref:
    table: Table
    column: Column[Any]
    person_column: Column[Any]


def records_table() -> Table | None:
    t = linkage.table(UNIDENTIFIED)
    return t if t is not None and {"id", "person_id", "jpath"} <= set(t.c.keys()) else None


def record_refs() -> list[_Ref]:
    """Every column naming an unidentified record, with the person column of its row."""
    records = records_table()
    if records is None:
        return []
    out = []
    for t in linkage.tables().values():
        for c in t.columns:
            if not any(fk.column.table is records for fk in c.foreign_keys):
                continue
            person_name = c.name.replace("unidentified_id", "person_id")
            if person_name != c.name and person_name in t.c and len(t.primary_key.columns) == 1:
                out.append(_Ref(t, c, t.c[person_name]))
    return sorted(out, key=lambda r: (r.table.name, r.column.name))


def _record(session: Session, scope_path: str, record_id: int) -> Any:
    records = records_table()
    found = None if records is None else select(records).where(records.c.id == record_id)
    row = None if found is None else session.execute(found).first()
    if row is None or not path_in_scope(row.jpath, scope_path):
        raise NotFound(f"tracing record {record_id} not found")
    return row


def view(session: Session, scope_path: str, record_id: int) -> RecordView:
    row = _record(session, scope_path, record_id)._mapping
    return RecordView(
        id=int(row["id"]),
        label=str(row.get("label") or "?"),
        id_masked=row.get("id_masked"),
        phone_masked=row.get("phone_masked"),
        sex=row.get("sex"),
        age=row.get("age"),
        jpath=str(row["jpath"]),
        created_at=row.get("created_at"),
        linked_to=row.get("person_id"),
    )


def linked_counts(session: Session, record_id: int) -> dict[str, int]:
    """Rows per table that name the record (for the comparison page)."""
    return linkage.rows_per_table(session, [(r.table, r.column) for r in record_refs()], record_id)


def link(
    session: Session, actor: audit.Actor, scope_path: str, person_id: int, record_id: int
) -> PersonMerge:
    """Move every row naming the tracing record to the person; undoable within the merge window."""
    from fangkong.privacy.service.merge import pending_merged_ids

    records = records_table()
    record = _record(session, scope_path, record_id)
    person = linkage.person_in_scope(session, scope_path, person_id)
    assert records is not None
    if record.person_id is not None:
        raise Conflict(Message("This tracing record is already linked to a person."))
    if person.id in pending_merged_ids(session):
        raise Conflict(Message("This person is already merged; undo that merge first."))
    record_hash = getattr(record, "id_hash", None)
    if record_hash and record_hash != person.id_hash:
        raise Conflict(Message("The tracing record's ID number is not this person's."))
    moves: list[dict[str, object]] = []
    for ref in record_refs():
        t, pk = ref.table, next(iter(ref.table.primary_key.columns))
        kept = [t.c[name] for name in _KEPT if name in t.c]
        responsible = "jurisdiction_id" in t.c and "jpath" in t.c
        before = session.execute(select(pk, *kept).where(ref.column == record_id)).all()
        if not before:
            continue
        values: dict[str, object] = {ref.column.name: None, ref.person_column.name: person.id}
        if "subject_key" in t.c:
            values["subject_key"] = f"p:{person.id}"
        if responsible:
            values["jurisdiction_id"], values["jpath"] = person.jurisdiction_id, person.jpath
        try:
            with session.begin_nested():
                session.execute(update(t).where(ref.column == record_id).values(values))
        except IntegrityError as exc:
            raise Conflict(
                Message("Both people have a record that allows only one per person: {table}.", table=t.name)
            ) from exc
        moves.append(
            {
                "table": t.name,
                "column": ref.column.name,
                "person_column": ref.person_column.name,
                "rows": [dict(zip(["id", *[c.name for c in kept]], r, strict=True)) for r in before],
            }
        )
    marked: dict[str, object] = {"person_id": person.id}
    if "merged_at" in records.c:
        marked["merged_at"] = clock.utcnow()
    session.execute(update(records).where(records.c.id == record_id).values(marked))
    now = clock.utcnow()
    row = PersonMerge(
        kind=TRACING_RECORD,
        survivor_id=person.id,
        merged_id=record_id,
        jpath=person.jpath,
        merged_at=now,
        merged_by=actor.username,
        undo_until=now + dt.timedelta(days=UNDO_WINDOW_DAYS),
        moves=json.dumps(moves, default=str),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "privacy.record_linked",
        "person_merge",
        row.id,
        jpath=person.jpath,
        detail={
            "person_id": person.id,
            "record_id": record_id,
            "moved": {str(m["table"]): len(m["rows"]) for m in moves},  # type: ignore[arg-type]
        },
    )
    return row


def undo(session: Session, row: PersonMerge) -> None:
    """Put every moved row back as it was and unlink the record (the caller checks the window)."""
    tables = linkage.tables()
    for move in json.loads(row.moves):
        t = tables.get(move["table"])
        if t is None:
            continue
        pk = next(iter(t.primary_key.columns))
        column, person_column = t.c[move["column"]], t.c[move["person_column"]]
        for before in move["rows"]:
            restored = {name: value for name, value in before.items() if name != "id" and name in t.c}
            session.execute(
                update(t)
                .where(pk == before["id"], person_column == row.survivor_id)
                .values({column.name: row.merged_id, person_column.name: None, **restored})
            )
    records = records_table()
    if records is not None:
        values: dict[str, object] = {"person_id": None}
        if "merged_at" in records.c:
            values["merged_at"] = None
        session.execute(update(records).where(records.c.id == row.merged_id).values(values))


def finalise(session: Session, row: PersonMerge) -> None:
    """The window has closed: the record's own copy of the identity goes (the registry holds it)."""
    records = records_table()
    if records is not None:
        linkage.anonymise_rows(session, records, records.c.id == row.merged_id)
