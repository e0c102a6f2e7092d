"""resources tables

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Owned by the resources capability: holds exactly the tables of `fangkong.resources.models` (staff,
skills and certifications, teams and deployments, training, supplies).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resources_courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column(
            "skill",
            sa.Enum(
                "field_investigation",
                "sampling",
                "laboratory_testing",
                "disinfection",
                "data_entry",
                "transport",
                "clinical",
                name="skill",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("pass_score", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_courses")),
    )
    with op.batch_alter_table("resources_courses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_courses_jpath"), ["jpath"], unique=False)

    op.create_table(
        "resources_stock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "ppe",
                "swab",
                "tube",
                "reagent",
                "antigen_test",
                "disinfectant",
                "medicine",
                name="supplykind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reorder_days", sa.Integer(), nullable=False),
        sa.Column("alert_since", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_resources_stock_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_stock")),
        sa.UniqueConstraint("jpath", "site", "kind", name="uq_resources_stock"),
    )
    with op.batch_alter_table("resources_stock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_stock_jpath"), ["jpath"], unique=False)

    op.create_table(
        "resources_training_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("is_exercise", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["resources_courses.id"],
            name=op.f("fk_resources_training_sessions_course_id_resources_courses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_training_sessions")),
    )
    with op.batch_alter_table("resources_training_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resources_training_sessions_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resources_training_sessions_jpath"), ["jpath"], unique=False)

    op.create_table(
        "resources_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("work_phone", sa.String(length=20), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("on_call", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_resources_staff_jurisdiction_id_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_resources_staff_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_staff")),
    )
    with op.batch_alter_table("resources_staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_staff_jpath"), ["jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_staff_user_id"), ["user_id"], unique=False)

    op.create_table(
        "resources_stock_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stock_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "ppe",
                "swab",
                "tube",
                "reagent",
                "antigen_test",
                "disinfectant",
                "medicine",
                name="supplykind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "receipt",
                "issue",
                "consumption",
                "transfer_in",
                "transfer_out",
                name="movereason",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["stock_id"],
            ["resources_stock.id"],
            name=op.f("fk_resources_stock_moves_stock_id_resources_stock"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_stock_moves")),
    )
    with op.batch_alter_table("resources_stock_moves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_stock_moves_jpath"), ["jpath"], unique=False)
        batch_op.create_index("ix_resources_stock_moves_stock_day", ["stock_id", "moved_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_stock_moves_stock_id"), ["stock_id"], unique=False)

    op.create_table(
        "resources_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("exam_score", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("part", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["resources_training_sessions.id"],
            name=op.f("fk_resources_attendance_session_id_resources_training_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["resources_staff.id"],
            name=op.f("fk_resources_attendance_staff_id_resources_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_attendance")),
        sa.UniqueConstraint("session_id", "staff_id", name="uq_resources_attendance"),
    )
    with op.batch_alter_table("resources_attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_attendance_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_attendance_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "resources_certifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "skill",
            sa.Enum(
                "field_investigation",
                "sampling",
                "laboratory_testing",
                "disinfection",
                "data_entry",
                "transport",
                "clinical",
                name="skill",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("passed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["resources_staff.id"],
            name=op.f("fk_resources_certifications_staff_id_resources_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_certifications")),
    )
    with op.batch_alter_table("resources_certifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_certifications_jpath"), ["jpath"], unique=False)
        batch_op.create_index(
            "ix_resources_certifications_skill_expires", ["skill", "expires_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resources_certifications_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "resources_staff_skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "skill",
            sa.Enum(
                "field_investigation",
                "sampling",
                "laboratory_testing",
                "disinfection",
                "data_entry",
                "transport",
                "clinical",
                name="skill",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["resources_staff.id"],
            name=op.f("fk_resources_staff_skills_staff_id_resources_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_staff_skills")),
        sa.UniqueConstraint("staff_id", "skill", name="uq_resources_staff_skills"),
    )
    op.create_table(
        "resources_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "level",
            sa.Enum("province", "city", "county", name="teamlevel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "investigation",
                "sampling",
                "testing",
                "disinfection",
                "transfer",
                name="teamkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_resources_teams_jurisdiction_id_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["resources_staff.id"], name=op.f("fk_resources_teams_leader_id_resources_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_teams")),
    )
    with op.batch_alter_table("resources_teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_teams_jpath"), ["jpath"], unique=False)

    op.create_table(
        "resources_deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("to_jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "to_jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("outbreak", sa.String(length=120), nullable=False),
        sa.Column("commander", sa.String(length=100), nullable=False),
        sa.Column(
            "state",
            sa.Enum("sent", "closed", name="deploymentstate", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["resources_teams.id"], name=op.f("fk_resources_deployments_team_id_resources_teams")
        ),
        sa.ForeignKeyConstraint(
            ["to_jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_resources_deployments_to_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_deployments")),
    )
    with op.batch_alter_table("resources_deployments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_deployments_from_jpath"), ["from_jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_deployments_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_deployments_to_jpath"), ["to_jpath"], unique=False)

    op.create_table(
        "resources_team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["resources_staff.id"],
            name=op.f("fk_resources_team_members_staff_id_resources_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["resources_teams.id"],
            name=op.f("fk_resources_team_members_team_id_resources_teams"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_team_members")),
        sa.UniqueConstraint("team_id", "staff_id", name="uq_resources_team_members"),
    )
    with op.batch_alter_table("resources_team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_team_members_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "resources_deployment_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("working_group", sa.String(length=60), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["resources_deployments.id"],
            name=op.f("fk_resources_deployment_members_deployment_id_resources_deployments"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["resources_staff.id"],
            name=op.f("fk_resources_deployment_members_staff_id_resources_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_deployment_members")),
        sa.UniqueConstraint("deployment_id", "staff_id", name="uq_resources_deployment_members"),
    )
    with op.batch_alter_table("resources_deployment_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resources_deployment_members_deployment_id"), ["deployment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resources_deployment_members_staff_id"), ["staff_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("resources_deployment_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_deployment_members_staff_id"))
        batch_op.drop_index(batch_op.f("ix_resources_deployment_members_deployment_id"))

    op.drop_table("resources_deployment_members")
    with op.batch_alter_table("resources_team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_team_members_staff_id"))

    op.drop_table("resources_team_members")
    with op.batch_alter_table("resources_deployments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_deployments_to_jpath"))
        batch_op.drop_index(batch_op.f("ix_resources_deployments_team_id"))
        batch_op.drop_index(batch_op.f("ix_resources_deployments_from_jpath"))

    op.drop_table("resources_deployments")
    with op.batch_alter_table("resources_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_teams_jpath"))

    op.drop_table("resources_teams")
    op.drop_table("resources_staff_skills")
    with op.batch_alter_table("resources_certifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_certifications_staff_id"))
        batch_op.drop_index("ix_resources_certifications_skill_expires")
        batch_op.drop_index(batch_op.f("ix_resources_certifications_jpath"))

    op.drop_table("resources_certifications")
    with op.batch_alter_table("resources_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_attendance_staff_id"))
        batch_op.drop_index(batch_op.f("ix_resources_attendance_session_id"))

    op.drop_table("resources_attendance")
    with op.batch_alter_table("resources_stock_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_stock_moves_stock_id"))
        batch_op.drop_index("ix_resources_stock_moves_stock_day")
        batch_op.drop_index(batch_op.f("ix_resources_stock_moves_jpath"))

    op.drop_table("resources_stock_moves")
    with op.batch_alter_table("resources_staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_staff_user_id"))
        batch_op.drop_index(batch_op.f("ix_resources_staff_jpath"))

    op.drop_table("resources_staff")
    with op.batch_alter_table("resources_training_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_training_sessions_jpath"))
        batch_op.drop_index(batch_op.f("ix_resources_training_sessions_course_id"))

    op.drop_table("resources_training_sessions")
    with op.batch_alter_table("resources_stock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_stock_jpath"))

    op.drop_table("resources_stock")
    with op.batch_alter_table("resources_courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_courses_jpath"))

    op.drop_table("resources_courses")
