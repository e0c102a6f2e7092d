"""The temporary tables a results load works in, one transaction at a time.

A chunk's rows are put where joins can check and write them: binary COPY on PostgreSQL, one executemany
on SQLite. Unlike the sampling ingest's ``stage_rows`` the columns carry their own types, Ct values
(``double precision``) included, which binary COPY must be told. A table is made in every transaction
that needs it (``IF NOT EXISTS``; a table made by a transaction that rolled back is gone) and emptied
before use: a session may load several times before it commits (retests entered one by one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from fangkong.core.db import sqlite_instant

# A column: its name and its PostgreSQL type (integer, double precision, text, varchar(n), timestamptz).
Column = tuple[str, str]

# Binary COPY's names of the types (varchar(n) is varchar).
_COPY_TYPES = {"integer": "int4", "double precision": "float8", "text": "text", "timestamptz": "timestamptz"}
# SQLite keeps numbers as numbers and instants as the text ``Instant`` stores.
_SQLITE_TYPES = {"integer": "INTEGER", "double precision": "REAL"}
# From this many rows a staged table is analysed: the planner then joins a large chunk by hash and looks a
# few rows up by index (unanalysed, a temporary table's size is guessed from its pages).
ANALYZE_FROM = 1_000


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


def stage(session: Session, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
    """Put ``rows`` (values in the order of ``columns``) in the emptied temporary ``table``."""
    make(session, table, columns)
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    names = ", ".join(name for name, _ in columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([_COPY_TYPES.get(kind, "varchar") for _, kind in columns])
                for row in rows:
                    copy.write_row(row)
            if len(rows) >= ANALYZE_FROM:
                cursor.execute(f"ANALYZE {table}")
        return
    instants = [i for i, (_, kind) in enumerate(columns) if kind == "timestamptz"]
    if instants:
        rows = [
            tuple(sqlite_instant(v) if i in instants and v is not None else v for i, v in enumerate(row))
            for row in rows
        ]
    marks = ", ".join("?" for _ in columns)
    raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
