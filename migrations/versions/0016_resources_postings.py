"""resources postings

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

Owned by issue 17's assignment work (staff posted to quarantine and sampling sites, tasks given to teams):
the postings table, and the team a response task is given to (``response_tasks.team_id``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_PATH = sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "resources_postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "site_kind",
            sa.Enum("quarantine_site", "sampling_site", name="postedsitekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("site_name", sa.String(length=120), nullable=False),
        sa.Column("jpath", _PATH, nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "lead",
                "medical",
                "security",
                "cleaning",
                "support",
                "sampler",
                name="postingrole",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["resources_staff.id"], name=op.f("fk_resources_postings_staff_id_resources_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_postings")),
    )
    with op.batch_alter_table("resources_postings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_postings_jpath"), ["jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_postings_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index("ix_resources_postings_site", ["site_kind", "site_id"], unique=False)
    with op.batch_alter_table("response_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_response_tasks_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("response_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_tasks_team_id"))
        batch_op.drop_column("team_id")
    with op.batch_alter_table("resources_postings", schema=None) as batch_op:
        batch_op.drop_index("ix_resources_postings_site")
        batch_op.drop_index(batch_op.f("ix_resources_postings_staff_id"))
        batch_op.drop_index(batch_op.f("ix_resources_postings_jpath"))
    op.drop_table("resources_postings")
