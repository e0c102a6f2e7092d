"""The session's temporary staging tables: the rows of a large upload put where joins can check and write
them (COPY on PostgreSQL, one executemany on SQLite). The bulk ingest stages its rows here, and so does
the results upload (``service.results``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from fangkong.core.db import sqlite_instant


def stage_rows(
    session: Session, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Empty the session's temporary ``table`` (made on first use, with ``columns``: name and PostgreSQL
    type) and put ``rows`` in it: COPY on PostgreSQL, one executemany on SQLite."""
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    names = ", ".join(name for name, _ in columns)
    # Made in every transaction that needs it (IF NOT EXISTS): a table made by a transaction that rolled
    # back is gone, so "made once per connection" cannot be remembered.
    if postgres:
        kinds = ", ".join(f"{name} {kind}" for name, kind in columns)
        connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({kinds}) ON COMMIT DELETE ROWS")
    else:
        kinds = ", ".join(f"{name} {'TEXT' if kind.startswith(('var', 'time')) else 'INTEGER'}"
                          for name, kind in columns)  # fmt: skip
        connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({kinds})")
    raw = connection.connection.driver_connection
    assert raw is not None
    if postgres:
        with raw.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
            # Binary COPY: psycopg packs ints, strings and instants in C, with no text to format or parse.
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([_PG_TYPES.get(kind, "varchar") for _, kind in columns])
                for row in rows:
                    copy.write_row(row)
            if len(rows) > 1_000:
                # The planner joins a million staged scans by hash only if it knows there are that many,
                # and looks a few thousand up by index in a table of millions only if it knows there are
                # only that many (unanalysed, a temporary table is guessed from its pages).
                cursor.execute(f"ANALYZE {table}")
        return
    connection.exec_driver_sql(f"DELETE FROM {table}")
    marks = ", ".join("?" for _ in columns)
    instants = [i for i, (_, kind) in enumerate(columns) if kind == "timestamptz"]
    if instants:
        rows = [tuple(sqlite_instant(v) if i in instants else v for i, v in enumerate(row)) for row in rows]
    raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


_PG_TYPES = {"integer": "int4", "timestamptz": "timestamptz"}
