"""privacy tables

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

Owned by the personal-data lifecycle (`fangkong.privacy`): holds exactly the tables of
`fangkong.privacy.models` (retention rules and runs, emergencies and purges, person merges, access
with a stated reason).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _path() -> sa.types.TypeEngine[str]:
    return sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "privacy_retention_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_class", sa.String(length=40), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_retention_rules")),
        sa.UniqueConstraint("record_class", name=op.f("uq_privacy_retention_rules_record_class")),
    )
    op.create_table(
        "privacy_retention_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_retention_runs")),
    )
    op.create_table(
        "privacy_emergencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("jpath", _path(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("purge_after", sa.Date(), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_privacy_emergencies_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_emergencies")),
    )
    with op.batch_alter_table("privacy_emergencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_emergencies_jpath"), ["jpath"], unique=False)
    op.create_table(
        "privacy_person_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("jpath", _path(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_by", sa.String(length=64), nullable=False),
        sa.Column("undo_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moves", sa.Text(), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_person_merges")),
    )
    with op.batch_alter_table("privacy_person_merges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_person_merges_jpath"), ["jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_privacy_person_merges_merged_id"), ["merged_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_privacy_person_merges_survivor_id"), ["survivor_id"], unique=False
        )
    op.create_table(
        "privacy_access_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("user_jpath", _path(), nullable=False),
        sa.Column("person_ref", sa.Integer(), nullable=False),
        sa.Column("person_jpath", _path(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("reason_text", sa.String(length=300), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("review_note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_privacy_access_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_access_grants")),
    )
    with op.batch_alter_table("privacy_access_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_access_grants_person_ref"), ["person_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_privacy_access_grants_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_privacy_access_grants_user_jpath"), ["user_jpath"], unique=False)


def downgrade() -> None:
    op.drop_table("privacy_access_grants")
    op.drop_table("privacy_person_merges")
    op.drop_table("privacy_emergencies")
    op.drop_table("privacy_retention_runs")
    op.drop_table("privacy_retention_rules")
