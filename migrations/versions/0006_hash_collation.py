"""keyed hashes compare bytewise

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

The keyed-hash columns (hex text) get collation "C" on PostgreSQL: their indexes then compare with
memcmp instead of the database's linguistic collation, which makes building and probing them faster
(the initial people import rebuilds them). All of them change together, as PostgreSQL refuses to
compare columns of two different collations. SQLite compares bytewise already: nothing to do there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HASH_COLUMNS = (
    ("households", "address_hash", False),
    ("people", "id_hash", False),
    ("people", "phone_hash", True),
    ("people", "name_hash", False),
    ("tracing_unidentified_people", "id_hash", True),
    ("tracing_unidentified_people", "phone_hash", True),
    ("tracing_unidentified_people", "name_hash", True),
    ("tracing_assist_requests", "id_hash", True),
)


def _set_collation(collation: str | None) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, nullable in HASH_COLUMNS:
        op.alter_column(
            table,
            column,
            type_=sa.String(length=32, collation=collation),
            existing_type=sa.String(length=32),
            existing_nullable=nullable,
            postgresql_using=f'{column}::varchar(32) COLLATE "{collation or "default"}"',
        )


def upgrade() -> None:
    _set_collation("C")


def downgrade() -> None:
    _set_collation(None)
