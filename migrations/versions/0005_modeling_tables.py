"""modeling tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Owned by the modeling capability: holds exactly the tables of `fangkong.modeling.models` (background
jobs, uploaded case counts for Rt, drills with their events and clock marks).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "modeling_case_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "basis",
            sa.Enum("onset", "report", name="countbasis", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("local", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_modeling_case_counts_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modeling_case_counts")),
        sa.UniqueConstraint(
            "jurisdiction_id", "basis", "day", name="uq_modeling_case_counts_place_basis_day"
        ),
    )
    with op.batch_alter_table("modeling_case_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_modeling_case_counts_jpath"), ["jpath"], unique=False)

    op.create_table(
        "modeling_drills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum("running", "finished", "stopped", name="drillstatus", native_enum=False, length=12),
            nullable=False,
        ),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("sandbox_id", sa.Integer(), nullable=False),
        sa.Column(
            "sandbox_path",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("protocol_id", sa.String(length=40), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("autopilot", sa.Boolean(), nullable=False),
        sa.Column("realtime", sa.Boolean(), nullable=False),
        sa.Column("investigation_delay_hours", sa.Float(), nullable=False),
        sa.Column("alert_response_delay_hours", sa.Float(), nullable=False),
        sa.Column("calendar_start", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_modeling_drills_jurisdiction_id_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["sandbox_id"], ["jurisdictions.id"], name=op.f("fk_modeling_drills_sandbox_id_jurisdictions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modeling_drills")),
    )
    with op.batch_alter_table("modeling_drills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_modeling_drills_jpath"), ["jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_modeling_drills_status"), ["status"], unique=False)

    op.create_table(
        "modeling_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("comparison", name="jobkind", native_enum=False, length=20), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "done", "failed", name="jobstatus", native_enum=False, length=12),
            nullable=False,
        ),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("runs_done", sa.Integer(), nullable=False),
        sa.Column("runs_total", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_modeling_jobs_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modeling_jobs")),
    )
    with op.batch_alter_table("modeling_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_modeling_jobs_jpath"), ["jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_modeling_jobs_status"), ["status"], unique=False)

    op.create_table(
        "modeling_drill_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("wall_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drill_hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["drill_id"],
            ["modeling_drills.id"],
            name=op.f("fk_modeling_drill_clock_drill_id_modeling_drills"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modeling_drill_clock")),
    )
    with op.batch_alter_table("modeling_drill_clock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_modeling_drill_clock_drill_id"), ["drill_id"], unique=False)

    op.create_table(
        "modeling_drill_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("due_hours", sa.Float(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("fed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_ref", sa.String(length=60), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["drill_id"],
            ["modeling_drills.id"],
            name=op.f("fk_modeling_drill_events_drill_id_modeling_drills"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modeling_drill_events")),
    )
    with op.batch_alter_table("modeling_drill_events", schema=None) as batch_op:
        batch_op.create_index("ix_modeling_drill_events_drill_due", ["drill_id", "due_hours"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("modeling_drill_events", schema=None) as batch_op:
        batch_op.drop_index("ix_modeling_drill_events_drill_due")

    op.drop_table("modeling_drill_events")
    with op.batch_alter_table("modeling_drill_clock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_modeling_drill_clock_drill_id"))

    op.drop_table("modeling_drill_clock")
    with op.batch_alter_table("modeling_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_modeling_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_modeling_jobs_jpath"))

    op.drop_table("modeling_jobs")
    with op.batch_alter_table("modeling_drills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_modeling_drills_status"))
        batch_op.drop_index(batch_op.f("ix_modeling_drills_jpath"))

    op.drop_table("modeling_drills")
    with op.batch_alter_table("modeling_case_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_modeling_case_counts_jpath"))

    op.drop_table("modeling_case_counts")
