"""instants are UTC, in one text form on SQLite

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

The platform's rule (docs/developing.md, "Time"): every instant is stored as aware UTC. PostgreSQL's
timestamptz columns hold instants whatever the writer's zone, so nothing changes there. SQLite keeps
text: SQLAlchemy writes UTC as "YYYY-MM-DD HH:MM:SS.ffffff", but raw bulk inserts went through
sqlite3's default adapter and left an offset behind ("...+00:00", or "+08:00" for a local time), which
SQLAlchemy then read back ignoring the offset. This revision rewrites every such value as the UTC
instant it names, in the one text form, so sorting, range filters and reads agree.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CANONICAL_LENGTH = len("2026-12-06 20:19:00.000000")


def _canonical(text: str) -> str:
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _instant_columns(bind: sa.Connection) -> list[tuple[str, str]]:
    inspector = sa.inspect(bind)
    found = []
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], sa.DateTime):
                found.append((table, column["name"]))
    return found


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table, column in _instant_columns(bind):
        odd = bind.exec_driver_sql(
            f'SELECT rowid, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
            f' AND (length("{column}") <> {CANONICAL_LENGTH} OR substr("{column}", 11, 1) <> \' \')'
        ).all()
        if odd:
            bind.exec_driver_sql(
                f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?',
                [(_canonical(value), rowid) for rowid, value in odd],
            )


def downgrade() -> None:
    # The canonical form is what the previous revision's code writes and reads: nothing to undo.
    pass
