"""Importing doses from a vaccination system's export (CSV or Excel): every bad row named, all or nothing.

The file is read a chunk at a time. Each chunk is shaped column by column (``doses_batch``); its people
are found by the keyed hash of their ID number (one query per chunk: ``= ANY(array)`` on PostgreSQL,
``IN`` batches on SQLite), in the caller's scope; a dose number seen before for the same person, in the
file or in the database, is refused. While the file has no error, each chunk is written at once with the
backend's bulk path (binary COPY on PostgreSQL, executemany on SQLite) into the caller's transaction;
after the first error writing stops but checking goes on, so the user gets every error at once, and the
caller's unit of work rolls back whatever was written. A dry run checks everything and writes nothing.
At the end the people whose doses were written are announced once (``DosesRecorded``), so their status
is evaluated set-based in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePath
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault, normalise_for_hash
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.idnumber import InvalidIdNumber, validate_id_number
from fangkong.core.models import Person
from fangkong.core.scope import path_in_scope
from fangkong.core.write_behind import WriteBehind
from fangkong.vaccination.events import DosesRecorded
from fangkong.vaccination.models import Dose, DoseKind, Platform
from fangkong.vaccination.service.doses_batch import (
    Memo,
    ShapedChunk,
    shape_rows,
    too_young,
)
from fangkong.vaccination.service.doses_files import is_excel, read_rows
from fangkong.vaccination.service.doses_write import DoseWriter

MAX_ERRORS = 1_000
# SQLite refuses statements with more than 32,766 parameters; IN lists stay well below.
SQLITE_IN_BATCH = 900
DOSE_COLUMNS = (
    "person_id",
    "jpath",
    "product",
    "platform",
    "dose_number",
    "kind",
    "given_on",
    "site",
    "lot",
    "source",
    "created_at",
)
NOT_REGISTERED = "no one with this ID number is registered in your jurisdiction"


@dataclass
class ImportReport:
    """What an import wrote, or (dry run) would write."""

    rows: int = 0
    doses: int = 0
    people: int = 0
    dry_run: bool = False
    by_kind: dict[str, int] = field(default_factory=dict)
    by_platform: dict[str, int] = field(default_factory=dict)
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------ people


@dataclass(frozen=True)
class _Found:
    person_id: int
    jpath: str
    birth_date: dt.date


class _People:
    """People of the file found by the keyed hash of their ID number, remembered for the whole file."""

    def __init__(self, session: Session, vault: Vault, scope: str) -> None:
        self.session = session
        self.vault = vault
        self.scope = scope
        self.is_pg = session.get_bind().dialect.name == "postgresql"
        self.by_number: dict[str, _Found | None] = {}

    def find(self, id_numbers: Sequence[str]) -> list[_Found | None]:
        new = list({n for n in id_numbers if n not in self.by_number})
        if new:
            hashes = [self.vault.keyed_hash_normalised(normalise_for_hash(n)) for n in new]
            found = self._by_hash(hashes)
            for number, id_hash in zip(new, hashes, strict=True):
                person = found.get(id_hash)
                # Outside the caller's scope is "not registered": the two are not told apart.
                self.by_number[number] = (
                    person if person and path_in_scope(person.jpath, self.scope) else None
                )
        return [self.by_number[n] for n in id_numbers]

    def _by_hash(self, hashes: list[str]) -> dict[str, _Found]:
        columns = (Person.id_hash, Person.id, Person.jpath, Person.birth_date)
        if self.is_pg:
            rows: Iterator[Any] = iter(
                self.session.execute(
                    text("SELECT id_hash, id, jpath, birth_date FROM people WHERE id_hash = ANY(:hashes)"),
                    {"hashes": hashes},
                ).all()
            )
        else:
            rows = itertools.chain.from_iterable(
                self.session.execute(
                    select(*columns).where(Person.id_hash.in_(hashes[at : at + SQLITE_IN_BATCH]))
                ).all()
                for at in range(0, len(hashes), SQLITE_IN_BATCH)
            )
        return {h: _Found(pid, jpath, birth) for h, pid, jpath, birth in rows}


def _recorded(session: Session, person_ids: list[int]) -> set[tuple[int, int]]:
    """(person id, dose number) of the doses already stored for these people."""
    if session.get_bind().dialect.name == "postgresql":
        return {
            (pid, number)
            for pid, number in session.execute(
                text("SELECT person_id, dose_number FROM vaccination_doses WHERE person_id = ANY(:ids)"),
                {"ids": person_ids},
            )
        }
    found: set[tuple[int, int]] = set()
    for at in range(0, len(person_ids), SQLITE_IN_BATCH):
        batch = person_ids[at : at + SQLITE_IN_BATCH]
        found.update(
            (pid, number)
            for pid, number in session.execute(
                select(Dose.person_id, Dose.dose_number).where(Dose.person_id.in_(batch))
            )
        )
    return found


# ------------------------------------------------------------------------------------------ the import


@dataclass
class _Run:
    """The state of one import across its chunks."""

    session: Session
    people: _People
    writer: DoseWriter
    source: str
    created_at: dt.datetime
    write: bool
    table_was_empty: bool
    report: ImportReport
    # person id × 16 + dose number → the file row that gave it (ints: a million keys stay small).
    seen: dict[int, int] = field(default_factory=dict)
    person_ids: set[int] = field(default_factory=set)
    errors: list[RowError] = field(default_factory=list)
    kinds: Counter[DoseKind] = field(default_factory=Counter)
    platforms: Counter[Platform] = field(default_factory=Counter)


def _check_people(run: _Run, chunk: ShapedChunk) -> tuple[list[int], list[_Found | None]]:
    """Find each row's person; refuse rows of unknown people, of children and repeated dose numbers.
    Returns the positions (in ``chunk``) of the rows that pass, and each row's person."""
    found = run.people.find(chunk.id_numbers)
    good: list[int] = []
    errors: list[RowError] = []
    candidates: list[tuple[int, int]] = []
    for i, (row, number, person) in enumerate(zip(chunk.rows, chunk.id_numbers, found, strict=True)):
        if person is None:
            try:
                validate_id_number(number)
                errors.append(RowError(row, "id_number", NOT_REGISTERED))
            except InvalidIdNumber as exc:
                errors.append(RowError(row, "id_number", exc.text))
            continue
        if person.birth_date > chunk.days[i] or chunk.days[i].year - person.birth_date.year < 4:
            problem = too_young(person.birth_date, chunk.days[i])
            if problem is not None:
                errors.append(RowError(row, "given_on", problem))
                continue
        candidates.append((i, person.person_id))
    stored = set() if run.table_was_empty else _recorded(run.session, sorted({p for _, p in candidates}))
    seen = run.seen
    for i, person_id in candidates:
        row, dose_number = chunk.rows[i], chunk.numbers[i]
        key = person_id * 16 + dose_number
        first = seen.setdefault(key, row)
        if first != row:
            errors.append(
                RowError(row, "dose_number", Message("same person and dose number as row {row}", row=first))
            )
        elif (person_id, dose_number) in stored:
            errors.append(
                RowError(row, "dose_number", "this person's dose with this number is already recorded")
            )
        else:
            good.append(i)
    errors.sort(key=lambda e: e.row)
    run.errors.extend(errors)
    return good, found


def _write(run: _Run, chunk: ShapedChunk, good: list[int], people: list[_Found | None]) -> None:
    """The chunk's good rows, column by column in the order of ``DOSE_COLUMNS``, to the writer."""
    found = [p for i in good if (p := people[i]) is not None]
    every = len(good) == len(chunk.rows)

    def pick(values: list[Any]) -> list[Any]:
        return values if every else [values[i] for i in good]

    run.writer.write(
        [
            [p.person_id for p in found],
            [p.jpath for p in found],
            pick(chunk.products),
            [v.value for v in pick(chunk.platforms)],
            pick(chunk.numbers),
            [v.value for v in pick(chunk.kinds)],
            pick(chunk.days),
            pick(chunk.sites),
            pick(chunk.lots),
            [f"{run.source}:{row}" for row in pick(chunk.rows)],
            [run.created_at] * len(good),
        ]
    )


def _account(run: _Run, chunk: ShapedChunk, good: list[int], people: list[_Found | None]) -> None:
    report = run.report
    report.doses += len(good)
    every = len(good) == len(chunk.rows)
    kinds = chunk.kinds if every else [chunk.kinds[i] for i in good]
    platforms = chunk.platforms if every else [chunk.platforms[i] for i in good]
    run.kinds.update(Counter(kinds))
    run.platforms.update(Counter(platforms))
    run.person_ids.update(p.person_id for p in people if p is not None)
    if good:
        days = set(chunk.days if every else [chunk.days[i] for i in good])
        low, high = min(days), max(days)
        report.first_day = low if report.first_day is None else min(report.first_day, low)
        report.last_day = high if report.last_day is None else max(report.last_day, high)


@dataclass
class _Pending:
    """A shaped chunk on its way to the database thread."""

    chunk: ShapedChunk
    write: bool  # False once the file is known to have errors: then only the checks are left to do


def _store(run: _Run, pending: _Pending) -> None:
    """In the write-behind thread: find the people, refuse what the database refuses, write the chunk."""
    good, people = _check_people(run, pending.chunk)
    if pending.write and not run.errors:
        _write(run, pending.chunk, good, people)
    _account(run, pending.chunk, good, people)


def import_doses(
    session: Session,
    principal: Principal,
    bus: EventBus,
    vault: Vault,
    data: bytes,
    filename: str,
    *,
    dry_run: bool,
    ip: str = "local",
) -> ImportReport:
    """Import a file of doses into the caller's transaction; raise InvalidInput listing every bad row."""
    with _without_cycle_collection():
        return _import(session, principal, bus, vault, data, filename, dry_run=dry_run, ip=ip)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a file is imported.

    An import makes millions of small acyclic objects (cells, rows, tuples) that reference counting
    frees; the collector would walk every live one again at each full collection, which made a
    million-row import cost twice what it does without (bench/doses_import.py). It is process-wide,
    so it is switched back on at the end whatever happens; nothing cyclic is lost, only collected later.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(
    session: Session,
    principal: Principal,
    bus: EventBus,
    vault: Vault,
    data: bytes,
    filename: str,
    *,
    dry_run: bool,
    ip: str,
) -> ImportReport:
    started = time.perf_counter()
    header, chunks = read_rows(data, filename)
    name = PurePath(filename).name[:150] or "upload"
    run = _Run(
        session=session,
        people=_People(session, vault, principal.jpath),
        # A CSV's line count is its row count near enough to choose how to write (an Excel file: small).
        writer=DoseWriter(session, DOSE_COLUMNS, data.count(b"\n") if not is_excel(filename) else 0),
        source=f"import:{name}",
        created_at=clock.utcnow(),
        write=not dry_run,
        table_was_empty=session.scalar(select(Dose.id).limit(1)) is None,
        report=ImportReport(dry_run=dry_run, ignored_columns=header.ignored),
    )
    memo = Memo()
    today = clock.today()
    shape_errors: list[RowError] = []
    # The database work (finding people, COPY) runs in a thread of its own, so that it overlaps with
    # reading and checking the next chunk; only that thread uses the session until it is closed.
    behind: WriteBehind[_Pending] = WriteBehind(partial(_store, run))
    try:
        for numbers, table in chunks:
            run.report.rows += len(numbers)
            chunk = shape_rows(header.positions, numbers, table, memo, today)
            shape_errors.extend(chunk.errors)
            behind.put(_Pending(chunk, write=run.write and not shape_errors))
            if len(shape_errors) + len(run.errors) >= MAX_ERRORS:
                break
        behind.close()
    finally:
        behind.cancel()
    errors = sorted([*shape_errors, *run.errors], key=lambda e: e.row)
    if errors:
        raise InvalidInput(header.named(errors[:MAX_ERRORS]), file=True)
    if run.report.rows == 0:
        raise InvalidInput([RowError(2, "*", "the file has a header but no rows")], file=True)
    report = run.report
    report.people = len(run.person_ids)
    report.by_kind = {k.value: n for k, n in sorted(run.kinds.items())}
    report.by_platform = {p.value: n for p, n in sorted(run.platforms.items())}
    if not dry_run:
        run.writer.finish()
        audit.record(
            session,
            audit.Actor(principal.user_id, principal.username, ip),
            "doses.import",
            "dose",
            "*",
            jpath=principal.jpath,
            detail={"file": name, "rows": report.rows, "doses": report.doses, "people": report.people},
        )
        bus.publish(session, DosesRecorded(tuple(sorted(run.person_ids))))
    report.seconds = round(time.perf_counter() - started, 3)
    return report
