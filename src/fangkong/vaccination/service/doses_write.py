"""Writing an import's doses: the backend's bulk path, and for a large load the indexes and constraints
taken off for the load and put back once at the end.

Every row of a COPY into ``vaccination_doses`` otherwise pays for a foreign-key trigger (a look-up in
``people``), a unique-index insert at a random place and two more index inserts: about four times the
bare COPY. When an import is at least as large as the table already is (a region's first load, a
year of a county's doses), the secondary indexes are dropped for the load and rebuilt once, sorted; on
PostgreSQL the unique constraint and the foreign key too (the PostgreSQL manual, "Populating a
Database"): the unique index is rebuilt by one sort and the foreign key checked by one join. All of it
happens inside the caller's transaction, so a failed import puts everything back as it was. Duplicates
were refused row by row before anything was written; if one slipped through, re-adding the constraint
fails and the whole import rolls back. Small imports into a big table write with everything in place:
dropping an index would hold readers up for longer than the inserts cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy import Index, Table, inspect, text
from sqlalchemy.orm import Session

from fangkong.core import pgcopy
from fangkong.core.bulk import write_rows
from fangkong.core.people_import import pg_column_types
from fangkong.vaccination.models import Dose

# An import is a bulk load when it has at least this many rows and at least as many as the table holds.
BULK_MIN_ROWS = 50_000


# Binary COPY encoders by PostgreSQL type (the doses table's column types).
_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "integer": pgcopy.int4,
    "character varying": pgcopy.text,
    "text": pgcopy.text,
    "date": pgcopy.date,
    "timestamp with time zone": pgcopy.timestamptz,
}


def _table() -> Table:
    table = Dose.__table__
    assert isinstance(table, Table)
    return table


class DoseWriter:
    """Writes chunks of dose rows (values in the order of ``columns``) into the caller's transaction."""

    def __init__(self, session: Session, columns: Sequence[str], expected_rows: int) -> None:
        self.session = session
        self.columns = columns
        self.is_pg = session.get_bind().dialect.name == "postgresql"
        self.bulk = expected_rows >= BULK_MIN_ROWS and expected_rows >= self._stored_rows()
        self.dropped: list[Index] = []
        self.dropped_constraints: list[tuple[str, str]] = []
        self.started = False
        self.written = 0
        self.types: list[str] | None = None

    def _stored_rows(self) -> int:
        if self.is_pg:
            # The planner's estimate: counting a table of millions of rows would cost more than it tells.
            estimate = self.session.scalar(
                text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'vaccination_doses'::regclass")
            )
            return max(int(estimate or 0), 0)
        return int(self.session.scalar(text("SELECT count(*) FROM vaccination_doses")) or 0)

    def _take_off(self) -> None:
        connection = self.session.connection()
        present = {ix["name"] for ix in inspect(connection).get_indexes("vaccination_doses")}
        for index in _table().indexes:
            if not index.unique and index.name in present:
                index.drop(connection)
                self.dropped.append(index)
        if self.is_pg:
            rows = connection.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE conrelid = 'vaccination_doses'::regclass AND contype IN ('u', 'f')"
                    " ORDER BY contype DESC"
                )
            ).all()
            for name, definition in rows:
                connection.execute(text(f'ALTER TABLE vaccination_doses DROP CONSTRAINT "{name}"'))
                self.dropped_constraints.append((name, definition))

    def write(self, columns: Sequence[Sequence[Any]]) -> None:
        """Write rows given column by column, in the order of ``self.columns``."""
        n = len(columns[0])
        if n == 0:
            return
        if self.bulk and not self.started:
            self._take_off()
        self.started = True
        if self.is_pg:
            self._copy(columns, n)
        else:
            write_rows(self.session, _table(), self.columns, list(zip(*columns, strict=True)))
        self.written += n

    def _copy(self, columns: Sequence[Sequence[Any]], n: int) -> None:
        """Binary COPY of rows encoded here a column at a time: a repeated value (a place, a product, a
        day) is encoded once, and the rows are joined in C; about a third of the work of ``write_row``."""
        if self.types is None:
            self.types = pg_column_types(self.session.connection(), "vaccination_doses", self.columns)
        encoded: list[Iterable[bytes]] = [repeat(pgcopy.field_count(len(self.columns)), n)]
        for values, pg_type in zip(columns, self.types, strict=True):
            encode = _ENCODERS[pg_type]
            distinct_values = set(values)
            if len(distinct_values) > n // 2:
                encoded.append(map(encode, values))
            else:
                # Places, products, days, dose numbers repeat: each is encoded once.
                distinct = {v: encode(v) for v in distinct_values}
                encoded.append(map(distinct.__getitem__, values))
        data = b"".join(map(b"".join, zip(*encoded, strict=False)))
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        statement = f"COPY vaccination_doses ({', '.join(self.columns)}) FROM STDIN (FORMAT BINARY)"
        with raw.cursor() as cur, cur.copy(statement) as copy:
            copy.write(pgcopy.SIGNATURE)
            copy.write(data)

    def finish(self) -> None:
        """Put back what the load took off (indexes sorted in one pass each, constraints checked once)."""
        connection = self.session.connection()
        if self.is_pg and (self.dropped or self.dropped_constraints):
            # Index builds sort in memory when they may: the default 64 MB spills a million rows to disk.
            connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for index in self.dropped:
            index.create(connection)
        # The unique constraint comes back before the foreign key (the ORDER BY above), as they were.
        for name, definition in self.dropped_constraints:
            connection.execute(text(f'ALTER TABLE vaccination_doses ADD CONSTRAINT "{name}" {definition}'))
        if self.is_pg and self.bulk and self.written:
            # Fresh statistics, so that the first reads after a big load plan with the new rows in view.
            connection.execute(text("ANALYZE vaccination_doses"))
