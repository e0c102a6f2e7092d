"""Bulk import of residents from CSV: validate everything, write all or nothing, fast.

The work is a pipeline: the main process reads the CSV in chunks and hands each to worker processes
that validate, encrypt, hash and mask it (``people_rules.shape_chunk``); as chunks come back in order,
the main process writes them with the backend's fastest path (``COPY`` on PostgreSQL, one
``executemany`` per chunk on SQLite) inside the caller's transaction. Once any row fails, writing stops
but validation goes on, so the user gets every error at once; the caller's transaction is then rolled
back, so nothing of the batch stays.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Index, Table, func, inspect, select, text
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.clock import utcnow
from fangkong.core.csvtext import rows_checked
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.models import Household, Person
from fangkong.core.people import communities_in_scope
from fangkong.core.people_rules import REQUIRED, Keys, ShapedPerson, canonical_header, shape_chunk

CHUNK_ROWS = 20_000
# Below this many rows the process pool costs more than it saves.
PARALLEL_MIN_ROWS = 50_000
MAX_ERRORS = 1_000

PEOPLE_COLUMNS = (
    "jurisdiction_id",
    "jpath",
    "household_id",
    "pii",
    "id_hash",
    "phone_hash",
    "name_hash",
    "id_masked",
    "phone_masked",
    "name_masked",
    "sex",
    "birth_date",
    "created_at",
)
HOUSEHOLD_COLUMNS = ("id", "jurisdiction_id", "jpath", "address_hash", "address_cipher", "address_masked")


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
        self.dropped_unique: list[tuple[str, str, list[str]]] = []

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
            # PostgreSQL can drop and re-add unique constraints inside the transaction; rebuilding them
            # once by sorting beats a million random B-tree inserts. Duplicates were already refused
            # row by row, and if one slipped through, re-adding fails and the whole import rolls back.
            for table in ("people", "households"):
                for constraint in inspect(connection).get_unique_constraints(table):
                    name = str(constraint["name"])
                    connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
                    self.dropped_unique.append((table, name, list(constraint["column_names"])))

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

    def write(self, people: Sequence[ShapedPerson]) -> None:
        if self.bulk_mode and not self.dropped and self.created == 0:
            self._drop_secondary_indexes()
        new_hashes = list({p[2] for p in people} - self.households.keys())
        self.existing_households(new_hashes)
        new_households: list[tuple[object, ...]] = []
        for p in people:
            if p[2] not in self.households:
                self.households[p[2]] = self.next_household_id
                new_households.append((self.next_household_id, p[0], p[1], p[2], p[3], p[4]))
                self.next_household_id += 1
        now: object = utcnow()
        if not self.is_pg:
            # sqlite3's per-value date adapters cost more than formatting once here.
            now = str(now)
        person_rows = [
            (p[0], p[1], self.households[p[2]], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], now)
            for p in people
        ]
        self._insert("households", HOUSEHOLD_COLUMNS, new_households)
        self._insert("people", PEOPLE_COLUMNS, person_rows)
        self.created += len(person_rows)
        if not self.analysed:
            # After the first COPY into a small or empty table PostgreSQL's statistics still say
            # "empty", so the next duplicate look-ups would scan the table instead of using the
            # unique indexes (0.3 s per 1,000 look-ups instead of 2 ms). One ANALYZE fixes the plans.
            self.session.execute(text("ANALYZE people"))
            self.session.execute(text("ANALYZE households"))
            self.analysed = True

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]) -> None:
        if not rows:
            return
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        if self.is_pg:
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def finish(self) -> int:
        connection = self.session.connection()
        for index in self.dropped:
            index.create(connection)
        for table, name, columns in self.dropped_unique:
            connection.execute(
                text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" UNIQUE ({", ".join(columns)})')
            )
        if self.is_pg and self.next_household_id > self.first_household_id:
            # Ids were assigned here, so the serial sequence must be moved past them.
            self.session.execute(
                text("SELECT setval(pg_get_serial_sequence('households', 'id'), :v)"),
                {"v": self.next_household_id - 1},
            )
        return self.next_household_id - self.first_household_id


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
    try:
        for shaped, errors, n_rows in _shaped_chunks(executor, chunks, header, keys, communities, workers):
            report.rows += n_rows
            report.errors.extend(errors)
            # Duplicates inside the file and people already registered are errors of their rows.
            for row_number, person in shaped:
                first = seen.setdefault(person[6], row_number)
                if first != row_number:
                    report.errors.append(RowError(row_number, "id_number", f"same ID number as row {first}"))
            known = writer.known_ids([p[6] for _, p in shaped])
            for row_number, person in shaped:
                if person[6] in known:
                    report.errors.append(
                        RowError(row_number, "id_number", "this person is already registered")
                    )
            if not report.errors and not dry_run:
                writer.write([p for _, p in shaped])
            if progress is not None:
                progress(n_rows)
            if len(report.errors) >= MAX_ERRORS:
                break
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
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


def _shaped_chunks(
    executor: Executor | None,
    chunks: Iterator[tuple[int, list[list[str]]]],
    header: list[str],
    keys: Keys,
    communities: dict[str, tuple[int, str]],
    workers: int,
) -> Iterator[tuple[list[tuple[int, ShapedPerson]], list[RowError], int]]:
    if executor is None:
        for first, rows in chunks:
            shaped, errors = shape_chunk(first, rows, header, keys, communities)
            yield shaped, errors, len(rows)
        return
    # Keep a few chunks in flight so workers stay busy while the main process writes.
    in_flight: list[tuple[Future[tuple[list[tuple[int, ShapedPerson]], list[RowError]]], int]] = []
    for first, rows in chunks:
        in_flight.append((executor.submit(shape_chunk, first, rows, header, keys, communities), len(rows)))
        if len(in_flight) > workers + 1:
            future, n = in_flight.pop(0)
            shaped, errors = future.result()
            yield shaped, errors, n
    for future, n in in_flight:
        shaped, errors = future.result()
        yield shaped, errors, n
