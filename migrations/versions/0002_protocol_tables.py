"""protocol tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Owned by the protocol capability: holds exactly the tables of `fangkong.protocol.models`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PATH = sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "uploaded_protocols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.String(length=64), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploaded_protocols")),
        sa.UniqueConstraint("protocol_id", name=op.f("uq_uploaded_protocols_protocol_id")),
    )
    op.create_table(
        "protocol_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("jpath", PATH, nullable=False),
        sa.Column("protocol_id", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_protocol_assignments_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_assignments")),
        sa.UniqueConstraint("jurisdiction_id", name=op.f("uq_protocol_assignments_jurisdiction_id")),
    )
    op.create_index(op.f("ix_protocol_assignments_jpath"), "protocol_assignments", ["jpath"], unique=False)
    op.create_table(
        "management_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("jpath", PATH, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("protocol_id", sa.String(length=64), nullable=False),
        sa.Column("linked_person_id", sa.Integer(), nullable=True),
        sa.Column("last_exposure", sa.Date(), nullable=True),
        sa.Column("arrival", sa.Date(), nullable=True),
        sa.Column("area_departure", sa.Date(), nullable=True),
        sa.Column("diagnosis", sa.Date(), nullable=True),
        sa.Column("clock_date", sa.Date(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "active", "released", "replaced", "ended", name="planstate", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_management_plans_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_management_plans")),
        sa.UniqueConstraint("person_id", "source", name="uq_management_plans_person_source"),
    )
    op.create_index("ix_management_plans_jpath_state", "management_plans", ["jpath", "state"], unique=False)
    op.create_index(op.f("ix_management_plans_person_id"), "management_plans", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_management_plans_person_id"), table_name="management_plans")
    op.drop_index("ix_management_plans_jpath_state", table_name="management_plans")
    op.drop_table("management_plans")
    op.drop_index(op.f("ix_protocol_assignments_jpath"), table_name="protocol_assignments")
    op.drop_table("protocol_assignments")
    op.drop_table("uploaded_protocols")
