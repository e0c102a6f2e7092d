"""Write many new rows at once with the backend's fast path: binary COPY on PostgreSQL, one executemany
on SQLite.

The bulk paths (an import's exposures and contacts, the plans of an import's contacts) write through
here instead of ORM inserts: psycopg sends an ORM ``executemany`` as one statement per row, a round trip
each, which made the plans of a 100,000-contact import cost more than everything else in it. The rows
go into the session's transaction, so they commit or roll back with the rest of the unit of work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.orm import Session

from fangkong.core.people_import import pg_column_types


def write_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Insert ``rows`` (values in the order of ``columns``) into ``table``.

    On PostgreSQL the values must be of the columns' own types (``int`` for integer, ``str`` for
    strings and string-backed enums, aware ``datetime`` for instants): binary COPY packs them as they are.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        connection = session.connection()
        raw = connection.connection.driver_connection
        assert raw is not None
        types = pg_column_types(connection, table.name, columns)
        quoted = ", ".join(f'"{c}"' for c in columns)
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table.name} ({quoted}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        return
    # SQLite: the driver's own executemany with each value through its column type's bind processor,
    # which is what SQLAlchemy's executemany does, without its per-row bookkeeping (a tenth of the time
    # for the demo's hundreds of thousands of doses and coverage counts).
    connection = session.connection()
    dialect = connection.dialect
    # Columns left out get their Python-side defaults, as table.insert() would give them.
    defaulted = [c for c in table.c if c.name not in columns and c.default is not None and not c.primary_key]
    if defaulted:
        columns = [*columns, *(c.name for c in defaulted)]
        rows = [(*row, *(_default_of(c) for c in defaulted)) for row in rows]
    processors = [
        (k, f) for k, c in enumerate(columns) if (f := table.c[c].type._cached_bind_processor(dialect))
    ]

    if processors:
        rows = _processed(rows, processors)
    placeholders = ", ".join("?" for _ in columns)
    quoted = ", ".join(f'"{c}"' for c in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            f'INSERT INTO "{table.name}" ({quoted}) VALUES ({placeholders})',
            rows,
        )
    finally:
        cursor.close()


def _processed(
    rows: Sequence[Sequence[object]], processors: Sequence[tuple[int, Any]]
) -> Sequence[Sequence[object]]:
    """The rows with each processed column's values through its bind processor, column by column.

    Bulk rows repeat their dates, enum values and time stamps: each distinct value is processed once,
    and the columns are rebuilt with one comprehension each (per-row Python was a second per 200,000
    rows)."""
    columns = list(zip(*rows, strict=True))
    for k, f in processors:
        memo: dict[object, object] = {None: None}
        try:
            for value in set(columns[k]):
                memo[value] = f(value)
        except TypeError:  # unhashable (a JSON document): processed one by one
            columns[k] = tuple(None if v is None else f(v) for v in columns[k])
            continue
        columns[k] = tuple(map(memo.__getitem__, columns[k]))
    return list(zip(*columns, strict=True))


def without_indexes(session: Session, table: Table) -> AbstractContextManager[None]:
    """Drop ``table``'s secondary indexes for a bulk load into a table nothing reads meanwhile, and
    build them again after it: one sort per index instead of hundreds of thousands of index updates
    (the demo region's doses loaded in half the time). Unique constraints stay: they guard the data."""
    return _without_indexes(session, table)


@contextmanager
def _without_indexes(session: Session, table: Table) -> Iterator[None]:
    connection = session.connection()
    indexes = [i for i in table.indexes if not i.unique]
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


def _default_of(column: Column[Any]) -> object:
    """A column's Python-side default value (a scalar, or what its callable gives without a context)."""
    default: Any = column.default
    return default.arg if default.is_scalar else default.arg(None)
