"""Merging duplicate people: likely duplicates, a side-by-side comparison, the merge that moves every
linked record to the survivor, and its undo within the window.

Linking an unidentified tracing record to the person it turned out to be is the same kind of merge
(see ``records``): listed here, undone and finalised here.

The merge moves the value of every person reference (found from the metadata, see ``linkage``) from
the merged entry to the survivor and writes down the primary keys it moved, table by table, so the undo
moves back exactly those rows. A table keyed by the person (one row per person: needs, status, flags)
moves only when the survivor has no row of its own; otherwise the survivor's row is kept and the
merged entry's row stays with it. The merged entry itself stays in the registry until the window
closes (the undo needs it whole); the nightly job then deletes it with anything still attached.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.i18n import Message
from fangkong.core.models import Person
from fangkong.core.scope import path_in_scope, under
from fangkong.privacy.models import PersonMerge
from fangkong.privacy.rules.merge import UNDO_WINDOW_DAYS
from fangkong.privacy.service import linkage, records


@dataclass(frozen=True)
class Candidate:
    """A pair that is probably one person, and why."""

    first_id: int
    second_id: int
    reason: str  # "name_phone_birth" or "identified_tracing_record"


def pending_merged_ids(session: Session) -> set[int]:
    rows = session.scalars(
        select(PersonMerge.merged_id).where(
            PersonMerge.kind == records.PERSON,
            PersonMerge.undone_at.is_(None),
            PersonMerge.finalised_at.is_(None),
        )
    )
    return {int(r) for r in rows}


def likely_duplicates(session: Session, scope_path: str, limit: int = 200) -> list[Candidate]:
    """People in scope with the same name, phone and birth date (keyed hashes compared, nothing
    decrypted), and unidentified tracing records whose ID number now matches a registered person."""
    a = Person.__table__.alias("a")
    b = Person.__table__.alias("b")
    pairs = session.execute(
        select(a.c.id, b.c.id)
        .where(
            under(a.c.jpath, scope_path),
            under(b.c.jpath, scope_path),
            a.c.id < b.c.id,
            a.c.name_hash == b.c.name_hash,
            a.c.phone_hash == b.c.phone_hash,
            a.c.birth_date == b.c.birth_date,
            ~a.c.id_hash.startswith(linkage.TOMBSTONE),
            ~b.c.id_hash.startswith(linkage.TOMBSTONE),
        )
        .order_by(a.c.id, b.c.id)
        .limit(limit)
    ).all()
    pending = pending_merged_ids(session)
    out = [
        Candidate(int(x), int(y), "name_phone_birth")
        for x, y in pairs
        if x not in pending and y not in pending
    ]
    unidentified = records.records_table()
    if unidentified is not None and "id_hash" in unidentified.c:
        rows = session.execute(
            select(unidentified.c.id, Person.id)
            .join(Person, Person.id_hash == unidentified.c.id_hash)
            .where(unidentified.c.person_id.is_(None), under(Person.jpath, scope_path))
            .order_by(unidentified.c.id)
            .limit(limit)
        ).all()
        out += [Candidate(int(p), int(u), "identified_tracing_record") for u, p in rows]
    return out


def linked_counts(session: Session, person_id: int) -> dict[str, int]:
    """Rows per table that refer to the person (for the comparison page)."""
    return linkage.rows_per_table(session, [(r.table, r.column) for r in linkage.person_refs()], person_id)


def merge(
    session: Session, actor: audit.Actor, scope_path: str, survivor_id: int, merged_id: int
) -> PersonMerge:
    if survivor_id == merged_id:
        raise Conflict(Message("A person cannot be merged into themselves."))
    survivor = linkage.person_in_scope(session, scope_path, survivor_id)
    merged = linkage.person_in_scope(session, scope_path, merged_id)
    if merged_id in pending_merged_ids(session) or survivor_id in pending_merged_ids(session):
        raise Conflict(Message("This person is already merged; undo that merge first."))
    moves: list[dict[str, object]] = []
    for ref in linkage.person_refs():
        pk_cols = list(ref.table.primary_key.columns)
        if len(pk_cols) != 1:
            continue
        pk = pk_cols[0]
        # One row per person: move it only when the survivor has none.
        if pk is ref.column and session.scalar(select(pk).where(pk == survivor_id)) is not None:
            continue
        ids = list(session.scalars(select(pk).where(ref.column == merged_id)))
        if not ids:
            continue
        try:
            with session.begin_nested():
                session.execute(
                    update(ref.table).where(ref.column == merged_id).values({ref.column.name: survivor_id})
                )
        except IntegrityError as exc:
            raise Conflict(
                Message(
                    "Both people have a record that allows only one per person: {table}.",
                    table=ref.table.name,
                )
            ) from exc
        moved = [survivor_id] if pk is ref.column else ids
        moves.append({"table": ref.table.name, "column": ref.column.name, "ids": moved})
    now = clock.utcnow()
    row = PersonMerge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        jpath=survivor.jpath,
        merged_at=now,
        merged_by=actor.username,
        undo_until=now + dt.timedelta(days=UNDO_WINDOW_DAYS),
        moves=json.dumps(moves),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "privacy.merge",
        "person_merge",
        row.id,
        jpath=survivor.jpath,
        detail={
            "survivor_id": survivor.id,
            "merged_id": merged.id,
            "moved": {m["table"]: len(m["ids"]) for m in moves},  # type: ignore[arg-type]
        },
    )
    return row


def get(session: Session, scope_path: str, merge_id: int) -> PersonMerge:
    row = session.get(PersonMerge, merge_id)
    if row is None or not path_in_scope(row.jpath, scope_path):
        raise NotFound(f"merge {merge_id} not found")
    return row


def undo(session: Session, actor: audit.Actor, scope_path: str, merge_id: int) -> PersonMerge:
    row = get(session, scope_path, merge_id)
    if row.undone_at is not None:
        raise Conflict(Message("This merge has already been undone."))
    if row.finalised_at is not None or clock.as_utc(row.undo_until) < clock.utcnow():
        raise Conflict(Message("The undo window of this merge has closed."))
    if row.kind == records.TRACING_RECORD:
        records.undo(session, row)
        return _undone(session, actor, row)
    tables = linkage.tables()
    for move in json.loads(row.moves):
        t = tables.get(move["table"])
        if t is None:
            continue
        column = t.c[move["column"]]
        pk = next(iter(t.primary_key.columns))
        ids = move["ids"]
        if pk is column:
            session.execute(update(t).where(pk == row.survivor_id).values({column.name: row.merged_id}))
            continue
        for i in range(0, len(ids), 5000):
            part = ids[i : i + 5000]
            session.execute(
                update(t)
                .where(and_(pk.in_(part), column == row.survivor_id))
                .values({column.name: row.merged_id})
            )
    return _undone(session, actor, row)


def _undone(session: Session, actor: audit.Actor, row: PersonMerge) -> PersonMerge:
    row.undone_at, row.undone_by = clock.utcnow(), actor.username
    audit.record(
        session,
        actor,
        "privacy.merge_undo",
        "person_merge",
        row.id,
        jpath=row.jpath,
        detail={"survivor_id": row.survivor_id, "merged_id": row.merged_id, "kind": row.kind},
    )
    return row


def finalise_due(session: Session, actor: audit.Actor) -> int:
    """Delete the merged entries whose undo window has closed (the nightly job calls this)."""
    due = list(
        session.scalars(
            select(PersonMerge).where(
                PersonMerge.undone_at.is_(None),
                PersonMerge.finalised_at.is_(None),
                PersonMerge.undo_until < clock.utcnow(),
            )
        )
    )
    for row in due:
        if row.kind == records.TRACING_RECORD:
            records.finalise(session, row)
        else:
            linkage.delete_people(session, select(Person.id).where(Person.id == row.merged_id))
        row.finalised_at = clock.utcnow()
    return len(due)


def list_merges(session: Session, scope_path: str, limit: int = 100) -> list[PersonMerge]:
    return list(
        session.scalars(
            select(PersonMerge)
            .where(under(PersonMerge.jpath, scope_path))
            .order_by(PersonMerge.id.desc())
            .limit(limit)
        )
    )
