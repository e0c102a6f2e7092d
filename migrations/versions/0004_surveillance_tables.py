"""surveillance tables

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Owned by the surveillance capability: holds exactly the tables of `fangkong.surveillance.models`.
Built-in channels and fusion rules are seeded on first use (``surveillance.service.ensure_defaults``),
not here, so that a wiped test database gets them back too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surveillance_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("disease", sa.String(length=64), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column(
            "frequency",
            sa.Enum("daily", "weekly", name="frequency", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column(
            "report_level",
            sa.Enum(
                "province",
                "city",
                "county",
                "township",
                "community",
                name="level",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column(
            "aggregation",
            sa.Enum("sum", "mean", name="aggregation", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_channels")),
        sa.UniqueConstraint("code", name=op.f("uq_surveillance_channels_code")),
    )
    with op.batch_alter_table("surveillance_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveillance_channels_jpath"), ["jpath"], unique=False)

    op.create_table(
        "surveillance_detector_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("series", sa.Integer(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_detector_runs")),
    )
    with op.batch_alter_table("surveillance_detector_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveillance_detector_runs_jpath"), ["jpath"], unique=False)

    op.create_table(
        "surveillance_fusion_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "single_channel",
                "multi_channel",
                "single_case",
                name="rulekind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "level",
            sa.Enum(
                "province",
                "city",
                "county",
                "township",
                "community",
                name="level",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column(
            "alert_level",
            sa.Enum("blue", "yellow", "orange", "red", name="alertlevel", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("response_hours", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_fusion_rules")),
    )
    with op.batch_alter_table("surveillance_fusion_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveillance_fusion_rules_jpath"), ["jpath"], unique=False)

    op.create_table(
        "surveillance_ingest_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("revised", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_ingest_batches")),
    )
    with op.batch_alter_table("surveillance_ingest_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveillance_ingest_batches_jpath"), ["jpath"], unique=False)

    op.create_table(
        "surveillance_pull_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("channel_code", sa.String(length=64), nullable=True),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_pulled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=500), nullable=False),
        sa.Column("last_batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_pull_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_surveillance_pull_sources_name")),
    )
    with op.batch_alter_table("surveillance_pull_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveillance_pull_sources_jpath"), ["jpath"], unique=False)

    op.create_table(
        "surveillance_adjacency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("neighbour_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_surveillance_adjacency_jurisdiction_id_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["neighbour_id"],
            ["jurisdictions.id"],
            name=op.f("fk_surveillance_adjacency_neighbour_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_adjacency")),
        sa.UniqueConstraint(
            "jurisdiction_id", "neighbour_id", name=op.f("uq_surveillance_adjacency_jurisdiction_id")
        ),
    )
    with op.batch_alter_table("surveillance_adjacency", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveillance_adjacency_jpath"), ["jpath"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_surveillance_adjacency_jurisdiction_id"), ["jurisdiction_id"], unique=False
        )

    op.create_table(
        "surveillance_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "single_channel",
                "multi_channel",
                "single_case",
                name="rulekind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("assigned_jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "assigned_jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "level",
            sa.Enum("blue", "yellow", "orange", "red", name="alertlevel", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "signal",
                "verifying",
                "confirmed",
                "dismissed",
                name="alertstatus",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("dedupe_key", sa.String(length=100), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_hours", sa.Integer(), nullable=False),
        sa.Column("response_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("scan_pvalue", sa.Float(), nullable=True),
        sa.Column("scan_llr", sa.Float(), nullable=True),
        sa.Column("rank", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_surveillance_alerts_assigned_jurisdiction_id_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_surveillance_alerts_jurisdiction_id_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["surveillance_fusion_rules.id"],
            name=op.f("fk_surveillance_alerts_rule_id_surveillance_fusion_rules"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_alerts")),
    )
    with op.batch_alter_table("surveillance_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_surveillance_alerts_assigned_jpath"), ["assigned_jpath"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_surveillance_alerts_dedupe_key"), ["dedupe_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_surveillance_alerts_jpath"), ["jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_surveillance_alerts_status"), ["status"], unique=False)

    op.create_table(
        "surveillance_area_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_surveillance_area_locations_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_area_locations")),
        sa.UniqueConstraint("jurisdiction_id", name=op.f("uq_surveillance_area_locations_jurisdiction_id")),
    )
    with op.batch_alter_table("surveillance_area_locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveillance_area_locations_jpath"), ["jpath"], unique=False)

    op.create_table(
        "surveillance_detector_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "province",
                "city",
                "county",
                "township",
                "community",
                name="level",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["surveillance_channels.id"],
            name=op.f("fk_surveillance_detector_configs_channel_id_surveillance_channels"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_detector_configs")),
    )
    with op.batch_alter_table("surveillance_detector_configs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_surveillance_detector_configs_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_surveillance_detector_configs_jpath"), ["jpath"], unique=False)

    op.create_table(
        "surveillance_notifier_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_surveillance_notifier_endpoints_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_notifier_endpoints")),
    )
    with op.batch_alter_table("surveillance_notifier_endpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveillance_notifier_endpoints_jpath"), ["jpath"], unique=False)

    op.create_table(
        "surveillance_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["surveillance_ingest_batches.id"],
            name=op.f("fk_surveillance_observations_batch_id_surveillance_ingest_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["surveillance_channels.id"],
            name=op.f("fk_surveillance_observations_channel_id_surveillance_channels"),
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_surveillance_observations_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_observations")),
        sa.UniqueConstraint(
            "channel_id",
            "jurisdiction_id",
            "period_start",
            name=op.f("uq_surveillance_observations_channel_id"),
        ),
    )
    with op.batch_alter_table("surveillance_observations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_surveillance_observations_channel_jpath_period",
            ["channel_id", "jpath", "period_start"],
            unique=False,
        )

    op.create_table(
        "surveillance_alert_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["surveillance_alerts.id"],
            name=op.f("fk_surveillance_alert_actions_alert_id_surveillance_alerts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_alert_actions")),
    )
    with op.batch_alter_table("surveillance_alert_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_surveillance_alert_actions_alert_id"), ["alert_id"], unique=False
        )

    op.create_table(
        "surveillance_alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("notifier", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("pending", "sent", "failed", name="deliverystatus", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["surveillance_alerts.id"],
            name=op.f("fk_surveillance_alert_deliveries_alert_id_surveillance_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["surveillance_notifier_endpoints.id"],
            name=op.f("fk_surveillance_alert_deliveries_endpoint_id_surveillance_notifier_endpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_surveillance_alert_deliveries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_alert_deliveries")),
    )
    with op.batch_alter_table("surveillance_alert_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_surveillance_alert_deliveries_alert_id"), ["alert_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_surveillance_alert_deliveries_jpath"), ["jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_surveillance_alert_deliveries_status"), ["status"], unique=False)

    op.create_table(
        "surveillance_detection_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("config_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "jpath",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("observed", sa.Float(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("pvalue", sa.Float(), nullable=True),
        sa.Column("alarm", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["surveillance_channels.id"],
            name=op.f("fk_surveillance_detection_results_channel_id_surveillance_channels"),
        ),
        sa.ForeignKeyConstraint(
            ["config_id"],
            ["surveillance_detector_configs.id"],
            name=op.f("fk_surveillance_detection_results_config_id_surveillance_detector_configs"),
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_surveillance_detection_results_jurisdiction_id_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["surveillance_detector_runs.id"],
            name=op.f("fk_surveillance_detection_results_run_id_surveillance_detector_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_detection_results")),
        sa.UniqueConstraint(
            "config_id",
            "jurisdiction_id",
            "period_start",
            name=op.f("uq_surveillance_detection_results_config_id"),
        ),
    )
    with op.batch_alter_table("surveillance_detection_results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_surveillance_detection_results_jpath_period", ["jpath", "period_start"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_surveillance_detection_results_run_id"), ["run_id"], unique=False
        )

    op.create_table(
        "surveillance_observation_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["surveillance_ingest_batches.id"],
            name=op.f("fk_surveillance_observation_revisions_batch_id_surveillance_ingest_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["surveillance_observations.id"],
            name=op.f("fk_surveillance_observation_revisions_observation_id_surveillance_observations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_observation_revisions")),
    )
    with op.batch_alter_table("surveillance_observation_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_surveillance_observation_revisions_observation_id"),
            ["observation_id"],
            unique=False,
        )

    op.create_table(
        "surveillance_alert_signals",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["surveillance_alerts.id"],
            name=op.f("fk_surveillance_alert_signals_alert_id_surveillance_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["surveillance_detection_results.id"],
            name=op.f("fk_surveillance_alert_signals_result_id_surveillance_detection_results"),
        ),
        sa.PrimaryKeyConstraint("alert_id", "result_id", name=op.f("pk_surveillance_alert_signals")),
    )


def downgrade() -> None:
    op.drop_table("surveillance_alert_signals")
    with op.batch_alter_table("surveillance_observation_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_observation_revisions_observation_id"))

    op.drop_table("surveillance_observation_revisions")
    with op.batch_alter_table("surveillance_detection_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_detection_results_run_id"))
        batch_op.drop_index("ix_surveillance_detection_results_jpath_period")

    op.drop_table("surveillance_detection_results")
    with op.batch_alter_table("surveillance_alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_alert_deliveries_status"))
        batch_op.drop_index(batch_op.f("ix_surveillance_alert_deliveries_jpath"))
        batch_op.drop_index(batch_op.f("ix_surveillance_alert_deliveries_alert_id"))

    op.drop_table("surveillance_alert_deliveries")
    with op.batch_alter_table("surveillance_alert_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_alert_actions_alert_id"))

    op.drop_table("surveillance_alert_actions")
    with op.batch_alter_table("surveillance_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_surveillance_observations_channel_jpath_period")

    op.drop_table("surveillance_observations")
    with op.batch_alter_table("surveillance_notifier_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_notifier_endpoints_jpath"))

    op.drop_table("surveillance_notifier_endpoints")
    with op.batch_alter_table("surveillance_detector_configs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_detector_configs_jpath"))
        batch_op.drop_index(batch_op.f("ix_surveillance_detector_configs_channel_id"))

    op.drop_table("surveillance_detector_configs")
    with op.batch_alter_table("surveillance_area_locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_area_locations_jpath"))

    op.drop_table("surveillance_area_locations")
    with op.batch_alter_table("surveillance_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_surveillance_alerts_jpath"))
        batch_op.drop_index(batch_op.f("ix_surveillance_alerts_dedupe_key"))
        batch_op.drop_index(batch_op.f("ix_surveillance_alerts_assigned_jpath"))

    op.drop_table("surveillance_alerts")
    with op.batch_alter_table("surveillance_adjacency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_adjacency_jurisdiction_id"))
        batch_op.drop_index(batch_op.f("ix_surveillance_adjacency_jpath"))

    op.drop_table("surveillance_adjacency")
    with op.batch_alter_table("surveillance_pull_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_pull_sources_jpath"))

    op.drop_table("surveillance_pull_sources")
    with op.batch_alter_table("surveillance_ingest_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_ingest_batches_jpath"))

    op.drop_table("surveillance_ingest_batches")
    with op.batch_alter_table("surveillance_fusion_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_fusion_rules_jpath"))

    op.drop_table("surveillance_fusion_rules")
    with op.batch_alter_table("surveillance_detector_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_detector_runs_jpath"))

    op.drop_table("surveillance_detector_runs")
    with op.batch_alter_table("surveillance_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_channels_jpath"))

    op.drop_table("surveillance_channels")
