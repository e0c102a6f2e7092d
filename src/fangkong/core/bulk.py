"""Write many new rows at once with the backend's fast path: binary COPY on PostgreSQL, one executemany
on SQLite.

The bulk paths (an import's exposures and contacts, the plans of an import's contacts) write through
here instead of ORM inserts: psycopg sends an ORM ``executemany`` as one statement per row, a round trip
each, which made the plans of a 100,000-contact import cost more than everything else in it. The rows
go into the session's transaction, so they commit or roll back with the rest of the unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
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
    session.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
