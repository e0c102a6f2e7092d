"""vaccination tables

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Owned by the vaccination capability: holds exactly the tables of `fangkong.vaccination.models` (doses,
contraindications, each person's status, stored coverage counts, outreach attempts, adverse events).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vaccination_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("band", sa.String(length=8), nullable=False),
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vaccination_coverage")),
        sa.UniqueConstraint("jpath", "as_of", "band", "measure", name="uq_vaccination_coverage"),
    )
    with op.batch_alter_table("vaccination_coverage", schema=None) as batch_op:
        batch_op.create_index("ix_vaccination_coverage_as_of", ["as_of"], unique=False)

    op.create_table(
        "vaccination_contraindications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "severe_allergy",
                "fever_acute_infection",
                "chronic_flare",
                "end_stage",
                name="contraindicationreason",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_vaccination_contraindications_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vaccination_contraindications")),
    )
    with op.batch_alter_table("vaccination_contraindications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vaccination_contraindications_jpath"), ["jpath"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_vaccination_contraindications_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "vaccination_doses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("product", sa.String(length=60), nullable=False),
        sa.Column(
            "platform",
            sa.Enum(
                "inactivated", "vector", "protein", "mrna", name="platform", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("dose_number", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("primary", "booster", "second_booster", name="dosekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("lot", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_vaccination_doses_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vaccination_doses")),
        sa.UniqueConstraint("person_id", "dose_number", name="uq_vaccination_doses_person_number"),
    )
    with op.batch_alter_table("vaccination_doses", schema=None) as batch_op:
        batch_op.create_index("ix_vaccination_doses_jpath_given_on", ["jpath", "given_on"], unique=False)
        batch_op.create_index("ix_vaccination_doses_lot", ["lot"], unique=False)

    op.create_table(
        "vaccination_outreach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("attempted_on", sa.Date(), nullable=False),
        sa.Column(
            "method",
            sa.Enum("phone", "door", "mobile_site", name="outreachmethod", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "appointment",
                "refused",
                "contraindicated",
                "moved",
                "done_elsewhere",
                "no_answer",
                name="outreachoutcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("appointment_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_vaccination_outreach_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vaccination_outreach")),
    )
    with op.batch_alter_table("vaccination_outreach", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vaccination_outreach_jpath"), ["jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_vaccination_outreach_person_id"), ["person_id"], unique=False)

    op.create_table(
        "vaccination_status",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "unvaccinated",
                "primary_started",
                "primary_complete",
                "boosted",
                "second_boosted",
                name="statusstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("doses", sa.Integer(), nullable=False),
        sa.Column("first_dose_on", sa.Date(), nullable=True),
        sa.Column("primary_complete_on", sa.Date(), nullable=True),
        sa.Column("booster_on", sa.Date(), nullable=True),
        sa.Column("second_booster_on", sa.Date(), nullable=True),
        sa.Column(
            "next_kind",
            sa.Enum("primary", "booster", "second_booster", name="dosekind", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column(
            "contraindication",
            sa.Enum(
                "severe_allergy",
                "fever_acute_infection",
                "chronic_flare",
                "end_stage",
                name="contraindicationreason",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_vaccination_status_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_vaccination_status")),
    )
    with op.batch_alter_table("vaccination_status", schema=None) as batch_op:
        batch_op.create_index("ix_vaccination_status_due", ["jpath", "due_on"], unique=False)
        batch_op.create_index("ix_vaccination_status_jpath_state", ["jpath", "state"], unique=False)

    op.create_table(
        "vaccination_adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("dose_id", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=40), nullable=False),
        sa.Column("product", sa.String(length=60), nullable=False),
        sa.Column("onset_on", sa.Date(), nullable=False),
        sa.Column("symptoms", sa.Text(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum("mild", "moderate", "severe", "death", name="severity", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "recovered",
                "recovering",
                "sequelae",
                "died",
                "unknown",
                name="aefioutcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cluster", sa.Boolean(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_to_county_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "causality",
            sa.Enum(
                "a1",
                "a2",
                "a3",
                "a4",
                "b1",
                "b2",
                "c",
                "unclassifiable",
                name="causality",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dose_id"],
            ["vaccination_doses.id"],
            name=op.f("fk_vaccination_adverse_events_dose_id_vaccination_doses"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_vaccination_adverse_events_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vaccination_adverse_events")),
    )
    with op.batch_alter_table("vaccination_adverse_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vaccination_adverse_events_dose_id"), ["dose_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vaccination_adverse_events_jpath"), ["jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_vaccination_adverse_events_lot"), ["lot"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_vaccination_adverse_events_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("vaccination_adverse_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vaccination_adverse_events_person_id"))
        batch_op.drop_index(batch_op.f("ix_vaccination_adverse_events_lot"))
        batch_op.drop_index(batch_op.f("ix_vaccination_adverse_events_jpath"))
        batch_op.drop_index(batch_op.f("ix_vaccination_adverse_events_dose_id"))

    op.drop_table("vaccination_adverse_events")
    with op.batch_alter_table("vaccination_status", schema=None) as batch_op:
        batch_op.drop_index("ix_vaccination_status_jpath_state")
        batch_op.drop_index("ix_vaccination_status_due")

    op.drop_table("vaccination_status")
    with op.batch_alter_table("vaccination_outreach", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vaccination_outreach_person_id"))
        batch_op.drop_index(batch_op.f("ix_vaccination_outreach_jpath"))

    op.drop_table("vaccination_outreach")
    with op.batch_alter_table("vaccination_doses", schema=None) as batch_op:
        batch_op.drop_index("ix_vaccination_doses_lot")
        batch_op.drop_index("ix_vaccination_doses_jpath_given_on")

    op.drop_table("vaccination_doses")
    with op.batch_alter_table("vaccination_contraindications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vaccination_contraindications_person_id"))
        batch_op.drop_index(batch_op.f("ix_vaccination_contraindications_jpath"))

    op.drop_table("vaccination_contraindications")
    with op.batch_alter_table("vaccination_coverage", schema=None) as batch_op:
        batch_op.drop_index("ix_vaccination_coverage_as_of")

    op.drop_table("vaccination_coverage")
