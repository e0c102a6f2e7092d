"""What the three importers share: the report, the row errors, typed cells, the shared row types,
set-based writing and the case-number lookup.

Errors are collected, each naming its row and the column as the file's header names it, and raised
together before anything is written; rows go in with the backend's fast path (``COPY`` on PostgreSQL,
one executemany on SQLite) under ids reserved from the table's sequence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.clock import as_local, utcnow
from fangkong.core.db import Base
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope
from fangkong.tracing import persons
from fangkong.tracing.models import Case, Certainty, ContactCategory
from fangkong.tracing.rules import (
    RuleError,
    WallTime,
    date_problem,
    parse_date,
    parse_wall_time,
    parse_yes_no,
    time_problem,
)
from fangkong.tracing.spreadsheets import Cell, cell_text

MAX_ERRORS = 1_000
_T = TypeVar("_T")

# Column order of the rows the importer writes (and bench/tracing.py copies in) set-based.
CASE_COLUMNS = (
    "id",
    "case_ref",
    "person_id",
    "unidentified_id",
    "subject_key",
    "jurisdiction_id",
    "jpath",
    "classification",
    "onset_date",
    "sampling_date",
    "diagnosis_date",
    "reported_at",
    "imported",
    "origin",
    "isolated_at",
    "outcome",
    "outcome_date",
    "source_contact_id",
    "found_under_management",
    "cluster_id",
    "notes",
    "created_by",
    "created_at",
)
CHAIN_LINK_COLUMNS = (
    "id",
    "infector_case_id",
    "infectee_case_id",
    "certainty",
    "exposure_id",
    "jpath",
    "cluster_id",
    "note",
    "created_by",
    "created_at",
)
EXPOSURE_COLUMNS = (
    "id",
    "case_id",
    "jpath",
    "person_id",
    "unidentified_id",
    "subject_key",
    "exposed_case_id",
    "via_contact_id",
    "setting",
    "place",
    "visit_id",
    "start",
    "end",
    "protected",
    "distance_m",
    "duration_minutes",
    "note",
    "created_by",
    "created_at",
)
CONTACT_COLUMNS = (
    "id",
    "case_id",
    "person_id",
    "unidentified_id",
    "subject_key",
    "jurisdiction_id",
    "jpath",
    "category",
    "decided_by",
    "reason",
    "via_contact_id",
    "setting",
    "first_exposure",
    "last_exposure",
    "high_risk",
    "isolated_at",
    "status",
    "converted_case_id",
    "residence_jurisdiction_id",
    "protocol_id",
    "created_at",
    "updated_at",
)


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    dry_run: bool = False
    cases: int = 0
    exposures: int = 0
    links: int = 0
    contacts: dict[str, int] = field(default_factory=dict)
    people_matched: int = 0
    people_registered: int = 0
    unidentified: int = 0
    seconds: float = 0.0


class _Errors:
    def __init__(self) -> None:
        self.items: list[RowError] = []
        # One clock for the whole file: "in the future" means the same for every row.
        self.now = as_local(utcnow())
        # Each column as the file's header names it (发病日期 or onset_date), once the header is read.
        self.written: dict[str, str] = {}

    def add(self, row: int, column: str, message: str | Message) -> None:
        self.items.append(RowError(row, column, message))

    def check(self) -> None:
        if self.items:
            self.items.sort(key=lambda e: (e.row, e.field))
            named = [e.renamed(self.written[e.field]) if e.field in self.written else e for e in self.items]
            raise InvalidInput(named[:MAX_ERRORS], file=True)

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_ERRORS


# ------------------------------------------------------------------------------------------ cells


class _Row:
    """One data row's cells by canonical column name, with typed getters that record errors."""

    def __init__(self, number: int, header: list[str], values: list[Cell], errors: _Errors) -> None:
        self.number = number
        self.cells = dict(zip(header, values, strict=False))
        self.errors = errors

    def raw(self, name: str) -> Cell:
        return self.cells.get(name)

    def text(self, name: str, limit: int = 200) -> str:
        value = cell_text(self.cells.get(name))
        if len(value) > limit:
            self.errors.add(self.number, name, Message("longer than {limit} characters", limit=limit))
            return value[:limit]
        return value

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            self.errors.add(self.number, name, "is required")
        return value

    def parsed(self, name: str, parse: Callable[[str], _T]) -> _T | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return parse(value)
        except RuleError as exc:
            self.errors.add(self.number, name, exc.text)
            return None

    def _checked(
        self, name: str, parse: Callable[[object], _T], problem_of: Callable[[_T], Message | None]
    ) -> _T | None:
        """The raw cell parsed, then checked; a blank cell is None, a bad one is an error and None."""
        value = self.cells.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            parsed = parse(value)
        except RuleError as exc:
            self.errors.add(self.number, name, exc.text)
            return None
        problem = problem_of(parsed)
        if problem:
            self.errors.add(self.number, name, problem)
            return None
        return parsed

    def date(self, name: str) -> dt.date | None:
        return self._checked(name, parse_date, date_problem)

    def wall(self, name: str) -> WallTime | None:
        return self._checked(name, parse_wall_time, lambda wall: time_problem(wall.at, self.errors.now))

    def number_value(self, name: str) -> float | None:
        value = self.text(name)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            self.errors.add(self.number, name, Message("“{value}” is not a number", value=value))
            return None
        if number < 0:
            self.errors.add(self.number, name, "cannot be negative")
            return None
        return number

    def yes_no(self, name: str) -> bool:
        return bool(self.parsed(name, parse_yes_no))

    def person(self, label: str = "") -> persons.CleanPerson | None:
        raw_id = self.cells.get("id_number")
        if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
            self.errors.add(
                self.number, "id_number", "stored as a number, which Excel rounds: format the column as text"
            )
            return None
        age_text = self.text("age")
        age: int | None = None
        if age_text:
            try:
                age = int(float(age_text))
            except ValueError:
                self.errors.add(self.number, "age", Message("“{value}” is not a number", value=age_text))
        found: list[RowError] = []
        data = persons.PersonInput(
            name=self.text("name", 50),
            id_number=self.text("id_number", 18),
            phone=self.text("phone", 20),
            sex=self.text("sex", 6),
            age=age,
            community_code=self.text("community_code", 12),
            address=self.text("address"),
            residence_code=self.text("residence_code", 12),
            label=label,
        )
        clean = persons.clean(data, self.number, found)
        for e in found:
            self.errors.add(e.row, e.field, e.text)
        return clean


# ------------------------------------------------------------------------------------------ writing


def _reserve_ids(session: Session, table: str, n: int) -> list[int]:
    """Ids for ``n`` new rows, taken from the table's sequence on PostgreSQL (safe beside other writers)."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"),
            {"n": n},
        )
        return [int(r[0]) for r in rows]
    start = (session.scalar(text(f"SELECT max(id) FROM {table}")) or 0) + 1
    return list(range(start, start + n))


def _write(
    session: Session, model: type[Base], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    # Binary COPY on PostgreSQL (the values are already of the columns' types), one executemany on SQLite.
    write_rows(session, cast(Table, model.__table__), columns, rows)


def _cases_by_ref(session: Session, principal: Principal, refs: set[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    wanted = sorted(refs)
    for start in range(0, len(wanted), 1000):
        # By the unique case number alone, the scope checked here: with the scope's range in the query,
        # PostgreSQL's generic plan for this prepared statement scans the whole jurisdiction's cases
        # once per 1,000 numbers (1.3 s a batch at 100,000 cases instead of 2 ms).
        for case in session.scalars(select(Case).where(Case.case_ref.in_(wanted[start : start + 1000]))):
            if path_in_scope(case.jpath, principal.jpath):
                found[case.case_ref] = case
    return found


# ------------------------------------------------------------------------------ exposure rows


@dataclass
class _ExposureLine:
    row: int
    case_ref: str
    person: persons.CleanPerson | None
    contact_case_ref: str
    via: str
    setting: str
    start: dt.datetime
    end: dt.datetime | None
    protected: bool
    distance_m: float | None
    duration_minutes: float | None
    place: str
    infected: Certainty | None
    note: str
    category: ContactCategory | None = None


@dataclass
class _Item:
    line: _ExposureLine
    case: Case
    subject: persons.Subject
    exposed_case_id: int | None
    via_key: str | None
    exposure_id: int = 0
