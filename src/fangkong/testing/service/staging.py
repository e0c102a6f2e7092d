"""The temporary tables a large upload works in, one transaction at a time.

A site system's sampling records (``scanning.bulk``) and a laboratory's results (``results``) are put where
joins can check and write them: binary COPY on PostgreSQL (psycopg packs ints, strings, floats and instants
in C, with no text to format or parse), one executemany on SQLite. The columns carry their PostgreSQL
types, which binary COPY must be told. A table is made in every transaction that needs it (``IF NOT
EXISTS``: a table made by a transaction that rolled back is gone, so "made once per connection" cannot be
remembered) and emptied before use: a session may stage several times before it commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from fangkong.core.db import sqlite_instant

# A column: its name and its PostgreSQL type (integer, double precision, text, varchar(n), timestamptz).
Column = tuple[str, str]

# Binary COPY's names of the types (varchar(n), with or without a collation, is varchar).
_COPY_TYPES = {"integer": "int4", "double precision": "float8", "text": "text", "timestamptz": "timestamptz"}
# SQLite keeps numbers as numbers and instants as the text ``Instant`` stores.
_SQLITE_TYPES = {"integer": "INTEGER", "double precision": "REAL"}
# From this many rows a staged table is analysed: the planner then joins a large upload by hash and looks a
# few rows up by index in a table of millions (unanalysed, a temporary table's size is guessed from its
# pages, and a few thousand rows can look like a million).
ANALYZE_FROM = 1_000
# The rows ANALYZE reads are 300 × this target. The plans only need the table's size and whether a
# column's values repeat, which a sample of 3,000 rows tells as well as PostgreSQL's default of 30,000;
# at the default, analysing a site's upload of 100,000 scans took 90–120 ms, a tenth of its ingest.
_STATISTICS_TARGET = 10


def make(session: Session, table: str, columns: Sequence[Column]) -> None:
    """Make the session's temporary ``table`` if it is not there, and empty it."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        kinds = ", ".join(f"{name} {kind}" for name, kind in columns)
        connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({kinds}) ON COMMIT DELETE ROWS")
        connection.exec_driver_sql(f"TRUNCATE {table}")
        return
    kinds = ", ".join(f"{name} {_SQLITE_TYPES.get(kind, 'TEXT')}" for name, kind in columns)
    connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({kinds})")
    connection.exec_driver_sql(f"DELETE FROM {table}")


def analyze(session: Session, table: str) -> None:
    """Fresh planner statistics for the temporary ``table`` (PostgreSQL), from a small sample."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        # Only ANALYZE reads the target; it is put back at once so nothing else in the caller's
        # transaction (an ANALYZE of a real table, say) takes the small sample.
        cursor.execute(f"SET LOCAL default_statistics_target = {_STATISTICS_TARGET}")
        cursor.execute(f"ANALYZE {table}")
        cursor.execute("SET LOCAL default_statistics_target TO DEFAULT")


def stage(session: Session, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
    """Put ``rows`` (values in the order of ``columns``) in the emptied temporary ``table``, analysed when
    there are ``ANALYZE_FROM`` or more."""
    make(session, table, columns)
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    names = ", ".join(name for name, _ in columns)
    if connection.dialect.name == "postgresql":
        statement = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types([_COPY_TYPES.get(kind, "varchar") for _, kind in columns])
            for row in rows:
                copy.write_row(row)
        if len(rows) >= ANALYZE_FROM:
            analyze(session, table)
        return
    instants = [i for i, (_, kind) in enumerate(columns) if kind == "timestamptz"]
    if instants:
        rows = [
            tuple(sqlite_instant(v) if i in instants and v is not None else v for i, v in enumerate(row))
            for row in rows
        ]
    marks = ", ".join("?" for _ in columns)
    raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
