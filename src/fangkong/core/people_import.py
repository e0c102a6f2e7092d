"""Bulk import of residents from CSV: validate everything, write all or nothing, fast.

The work is a pipeline: the main process reads the CSV in chunks and hands each to worker processes
that validate, encrypt, hash and mask it (``people_batch.shape_rows``; on PostgreSQL they also encode
the rows for binary COPY); as chunks come back in order, the main process checks duplicates within
the file and passes them to a write-behind thread that owns the connection: it refuses people already
registered, numbers the households, fills their ids into the rows and writes them with the backend's
fastest path (binary ``COPY`` on PostgreSQL, one ``executemany`` per chunk on SQLite) inside the
caller's transaction. Once any row fails, writing stops but validation goes on, so the user gets every
error at once; the caller's transaction is then rolled back, so nothing of the batch stays.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Index, Table, func, inspect, select, text
from sqlalchemy.orm import Session

from fangkong.core import audit, pgcopy
from fangkong.core.clock import utcnow
from fangkong.core.csvtext import rows_checked
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Household, Person
from fangkong.core.people import communities_in_scope
from fangkong.core.people_batch import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_ID_AT,
    PEOPLE_COLUMNS,
    ShapedChunk,
    shape_rows,
)
from fangkong.core.people_rules import REQUIRED, Keys, canonical_header
from fangkong.core.write_behind import WriteBehind

CHUNK_ROWS = 20_000
# Below this many rows the process pool costs more than it saves.
PARALLEL_MIN_ROWS = 50_000
MAX_ERRORS = 1_000


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    households_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False


# Secondary indexes are dropped for the load and rebuilt once at the end (sorted, in one pass) when the
# import is at least this many times the rows already stored: the initial load of a region. For a
# small import into a big registry the incremental inserts are cheaper, and a dropped index would
# block readers for the duration.
BULK_MODE_RATIO = 1.0
IMPORT_CACHE_KIB = 512 * 1024
SQLITE_DEFAULT_CACHE = -2000  # SQLite's compiled-in default: 2,000 KiB


def _secondary_indexes() -> list[Index]:
    tables = (Person.__table__, Household.__table__)
    return [ix for table in tables if isinstance(table, Table) for ix in table.indexes if not ix.unique]


class _Writer:
    """Writes shaped chunks: new households first (ids assigned here), then people."""

    def __init__(self, session: Session, expected_rows: int = 0) -> None:
        self.session = session
        self.is_pg = session.get_bind().dialect.name == "postgresql"
        self.households: dict[str, int] = {}
        self.next_household_id = (session.scalar(select(func.max(Household.id))) or 0) + 1
        self.first_household_id = self.next_household_id
        self.created = 0
        self.analysed = not self.is_pg
        existing = session.scalar(select(func.count()).select_from(Person)) or 0
        households = session.scalar(select(func.count()).select_from(Household)) or 0
        # Into an empty registry no person or household can already exist: skip those look-ups.
        self.registry_was_empty = existing == 0 and households == 0
        self.bulk_mode = expected_rows >= BULK_MODE_RATIO * max(existing, 1) and expected_rows > CHUNK_ROWS
        self.dropped: list[Index] = []
        self.dropped_constraints: list[tuple[str, str, str]] = []
        self.column_types: dict[str, list[str]] = {}
        if not self.is_pg:
            # The unique indexes on keyed hashes take inserts at random places: with SQLite's default
            # 2 MB page cache nearly every insert reads a page back. Room for the whole index while
            # importing (the cache only grows as pages are used); put back in finish().
            self.session.execute(text(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))

    def _drop_secondary_indexes(self) -> None:
        connection = self.session.connection()
        present = {
            ix["name"] for table in ("people", "households") for ix in inspect(connection).get_indexes(table)
        }
        for index in _secondary_indexes():
            if index.name in present:
                index.drop(connection)
                self.dropped.append(index)
        if self.is_pg:
            # PostgreSQL can drop and re-add constraints inside the transaction. Unique constraints are
            # rebuilt once by sorting instead of a million random B-tree inserts, and foreign keys are
            # checked once by one join instead of a trigger per row (the PostgreSQL manual, "Populating
            # a Database"). Duplicates were already refused row by row; if anything slipped through,
            # re-adding fails and the whole import rolls back.
            rows = connection.execute(
                text(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE conrelid IN ('people'::regclass, 'households'::regclass)"
                    " AND contype IN ('u', 'f') ORDER BY contype DESC"
                )
            ).all()
            for table, name, definition in rows:
                connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
                self.dropped_constraints.append((table, name, definition))

    def known_ids(self, id_hashes: list[str]) -> set[str]:
        found: set[str] = set()
        if self.registry_was_empty:
            return found
        for start in range(0, len(id_hashes), 1000):
            batch = id_hashes[start : start + 1000]
            found.update(self.session.scalars(select(Person.id_hash).where(Person.id_hash.in_(batch))))
        return found

    def existing_households(self, hashes: list[str]) -> None:
        if self.registry_was_empty:
            return
        for start in range(0, len(hashes), 1000):
            batch = hashes[start : start + 1000]
            rows = self.session.execute(
                select(Household.address_hash, Household.id).where(Household.address_hash.in_(batch))
            )
            self.households.update(dict(rows.all()))

    def write(self, chunk: ShapedChunk) -> None:
        if self.bulk_mode and not self.dropped and not self.dropped_constraints and self.created == 0:
            self._drop_secondary_indexes()
        self.existing_households(list({h[2] for h in chunk.households} - self.households.keys()))
        household_ids = np.empty(len(chunk.households), dtype=np.int64)
        new_households: list[tuple[object, ...]] = []
        for i, household in enumerate(chunk.households):
            found = self.households.get(household[2])
            if found is None:
                found = self.households[household[2]] = self.next_household_id
                new_households.append((found, *household))
                self.next_household_id += 1
            household_ids[i] = found
        self._insert("households", HOUSEHOLD_COLUMNS, new_households)
        ids_of_people = household_ids[np.asarray(chunk.household_of, dtype=np.int64)]
        if self.is_pg:
            if chunk.copy_offsets:
                rows = pgcopy.set_int4(
                    chunk.copy_rows, [at + HOUSEHOLD_ID_AT for at in chunk.copy_offsets], ids_of_people
                )
                self._copy_encoded("people", PEOPLE_COLUMNS, rows)
        else:
            self._insert(
                "people",
                PEOPLE_COLUMNS,
                [(h, *p) for h, p in zip(ids_of_people.tolist(), chunk.people, strict=True)],
            )
        self.created += len(chunk.rows)
        if not self.analysed:
            # After the first COPY into a small or empty table PostgreSQL's statistics still say
            # "empty", so the next duplicate look-ups would scan the table instead of using the
            # unique indexes (0.3 s per 1,000 look-ups instead of 2 ms). One ANALYZE fixes the plans.
            self.session.execute(text("ANALYZE people"))
            self.session.execute(text("ANALYZE households"))
            self.analysed = True

    def _raw(self) -> Any:
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        return raw

    def _copy_encoded(self, table: str, columns: Sequence[str], rows: npt.NDArray[np.uint8]) -> None:
        """COPY rows already in binary form (built by the workers) straight through."""
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with self._raw().cursor() as cur, cur.copy(statement) as copy:
            copy.write(pgcopy.SIGNATURE)
            copy.write(rows.data)

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]) -> None:
        if not rows:
            return
        raw = self._raw()
        if self.is_pg:
            # Binary COPY: psycopg packs the values in C and the server parses no text, about three
            # times less work per row on both sides than text COPY. It needs the exact column types.
            types = self._column_types(table, columns)
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
            with raw.cursor() as cur, cur.copy(statement) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def _column_types(self, table: str, columns: Sequence[str]) -> list[str]:
        if table not in self.column_types:
            self.column_types[table] = pg_column_types(self.session.connection(), table, columns)
        return self.column_types[table]

    def finish(self) -> int:
        connection = self.session.connection()
        if self.is_pg and (self.dropped or self.dropped_constraints):
            # Index builds sort in memory when they may: the default 64 MB spills a million rows to disk.
            connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for index in self.dropped:
            index.create(connection)
        # Unique constraints come back before the foreign keys (the ORDER BY above), as they were.
        for table, name, definition in self.dropped_constraints:
            connection.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
        if self.is_pg and self.next_household_id > self.first_household_id:
            # Ids were assigned here, so the serial sequence must be moved past them.
            self.session.execute(
                text("SELECT setval(pg_get_serial_sequence('households', 'id'), :v)"),
                {"v": self.next_household_id - 1},
            )
        if not self.is_pg:
            self.session.execute(text(f"PRAGMA cache_size = {SQLITE_DEFAULT_CACHE}"))
        return self.next_household_id - self.first_household_id


def pg_column_types(connection: Connection, table: str, columns: Sequence[str]) -> list[str]:
    """The PostgreSQL type names of ``columns``, as binary COPY's ``set_types`` needs them."""
    found: dict[str, str] = dict(
        connection.execute(
            text(
                "SELECT attname, atttypid::regtype::text FROM pg_attribute"
                " WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
            ),
            {"table": table},
        ).all()
    )
    return [found[column] for column in columns]


def _estimate_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return max(sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b"")) - 1, 0)


def _read_chunks(path: Path) -> tuple[list[str], Iterator[tuple[int, list[list[str]]]]]:
    fh = path.open(newline="", encoding="utf-8-sig")
    reader = csv.reader(fh)
    checked = rows_checked(reader, reader)
    try:
        header = [canonical_header(h) for h in next(checked)]
    except (StopIteration, InvalidInput) as exc:
        fh.close()
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput([RowError(1, "*", "the file is empty")]) from None

    def chunks() -> Iterator[tuple[int, list[list[str]]]]:
        row = 2
        with fh:
            while True:
                chunk = list(itertools.islice(checked, CHUNK_ROWS))
                if not chunk:
                    return
                yield row, chunk
                row += len(chunk)

    return header, chunks()


def import_people_csv(
    session: Session,
    keys: Keys,
    actor: audit.Actor,
    scope_path: str,
    path: Path,
    *,
    dry_run: bool = False,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV of residents into the caller's transaction; raise InvalidInput listing every bad row."""
    header, chunks = _read_chunks(path)
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InvalidInput([RowError(1, name, "column is missing from the header") for name in missing])
    communities = communities_in_scope(session, scope_path)
    report = ImportReport(dry_run=dry_run)
    writer = _Writer(session, expected_rows=_estimate_rows(path))
    seen: dict[str, int] = {}
    executor: Executor | None = None
    if workers >= 1 and path.stat().st_size > PARALLEL_MIN_ROWS * 80:
        executor = ProcessPoolExecutor(max_workers=workers)
    shape = partial(
        shape_rows,
        header=header,
        keys=keys,
        communities=communities,
        created_at=utcnow(),
        binary_copy=writer.is_pg,
    )
    # The database work (look-ups of registered people, the writes) runs in a thread of its own, so
    # that it overlaps with reading the file and collecting the workers' results.
    stored_errors: list[RowError] = []
    behind: WriteBehind[_Pending] = WriteBehind(partial(_store, writer, stored_errors, dry_run))
    try:
        for first, chunk in _shaped_chunks(executor, chunks, shape, workers):
            report.rows += chunk.records
            report.errors.extend(RowError(first + e.row, e.field, e.message) for e in chunk.errors)
            rows = [first + offset for offset in chunk.rows]
            _check_duplicates(seen, rows, chunk.id_hashes, report.errors)
            behind.put(_Pending(rows, chunk, write=not report.errors))
            if progress is not None:
                progress(chunk.records)
            if len(report.errors) + len(stored_errors) >= MAX_ERRORS:
                break
        behind.close()
    finally:
        behind.cancel()
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    report.errors.extend(stored_errors)
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        raise InvalidInput(report.errors[:MAX_ERRORS])
    if report.rows == 0:
        raise InvalidInput([RowError(2, "*", "the file has a header but no rows")])
    report.households_created = writer.finish()
    report.created = writer.created if not dry_run else 0
    if not dry_run:
        audit.record(
            session,
            actor,
            "people.import",
            "person",
            "*",
            jpath=scope_path,
            detail={"file": path.name, "rows": report.rows, "households": report.households_created},
        )
    return report


@dataclass
class _Pending:
    """A shaped chunk on its way to the database, with its rows' numbers in the file."""

    rows: list[int]
    chunk: ShapedChunk
    write: bool  # False once the file is known to have errors: then only look-ups are left to do


def _store(writer: _Writer, errors: list[RowError], dry_run: bool, pending: _Pending) -> None:
    """In the write-behind thread: refuse people already registered, then write the chunk."""
    known = writer.known_ids(pending.chunk.id_hashes)
    errors.extend(
        RowError(row, "id_number", "this person is already registered")
        for row, id_hash in zip(pending.rows, pending.chunk.id_hashes, strict=True)
        if id_hash in known
    )
    if pending.write and not errors and not dry_run:
        writer.write(pending.chunk)


def _check_duplicates(
    seen: dict[str, int], rows: list[int], id_hashes: list[str], errors: list[RowError]
) -> None:
    """Record the chunk's ID hashes; a number seen before in the file is an error of its later row."""
    fresh = set(id_hashes)
    if len(fresh) == len(id_hashes) and seen.keys().isdisjoint(fresh):
        seen.update(zip(id_hashes, rows, strict=True))
        return
    for row, id_hash in zip(rows, id_hashes, strict=True):
        first = seen.setdefault(id_hash, row)
        if first != row:
            errors.append(RowError(row, "id_number", Message("same ID number as row {row}", row=first)))


def _shaped_chunks(
    executor: Executor | None,
    chunks: Iterator[tuple[int, list[list[str]]]],
    shape: Callable[[list[list[str]]], ShapedChunk],
    workers: int,
) -> Iterator[tuple[int, ShapedChunk]]:
    """The chunks shaped, in file order, with the row number of each chunk's first row."""
    if executor is None:
        for first, rows in chunks:
            yield first, shape(rows)
        return
    # Keep a few chunks in flight so workers stay busy while the main process writes.
    in_flight: list[tuple[int, Future[ShapedChunk]]] = []
    for first, rows in chunks:
        in_flight.append((first, executor.submit(shape, rows)))
        if len(in_flight) > workers + 1:
            done_first, future = in_flight.pop(0)
            yield done_first, future.result()
    for done_first, future in in_flight:
        yield done_first, future.result()
