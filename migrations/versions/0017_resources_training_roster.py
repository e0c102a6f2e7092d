"""resources training roster

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Owned by issue 17's training, duty roster and staff phone protection: the dated duty roster
(``resources_shifts``) replaces the on-call flag on staff, and a staff member's work phone is kept like a
person's phone (ciphertext, keyed hash, masked form) instead of in clear.

Existing phones are encrypted here with the deployment's keys (``get_settings``, as ``fangkong db
upgrade`` reads them; in development the generated ``var/keys.json``). A database without staff phones
needs no key. The on-call flag is not carried over: it had no day, and the roster is dated.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_PATH = sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql")
_HASH = sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql")


def _encrypt_existing_phones() -> None:
    connection = op.get_bind()
    staff = sa.table(
        "resources_staff",
        sa.column("id", sa.Integer()),
        sa.column("work_phone", sa.String()),
        sa.column("phone_cipher", sa.LargeBinary()),
        sa.column("phone_hash", sa.String()),
        sa.column("phone_masked", sa.String()),
    )
    rows = connection.execute(sa.select(staff.c.id, staff.c.work_phone).where(staff.c.work_phone != "")).all()
    if not rows:
        return
    from fangkong.core.config import get_settings
    from fangkong.core.crypto import Vault
    from fangkong.resources.service.staff import phone_columns

    settings = get_settings()
    vault = Vault(settings.encryption_key, settings.hash_key)
    for staff_id, phone in rows:
        cipher, keyed, masked = phone_columns(vault, phone)
        connection.execute(
            sa.update(staff)
            .where(staff.c.id == staff_id)
            .values(phone_cipher=cipher, phone_hash=keyed, phone_masked=masked)
        )


def upgrade() -> None:
    with op.batch_alter_table("resources_staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_cipher", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("phone_hash", _HASH, nullable=True))
        batch_op.add_column(sa.Column("phone_masked", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_resources_staff_phone_hash"), ["phone_hash"], unique=False)
    _encrypt_existing_phones()
    with op.batch_alter_table("resources_staff", schema=None) as batch_op:
        batch_op.drop_column("work_phone")
        batch_op.drop_column("on_call")

    op.create_table(
        "resources_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("jpath", _PATH, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("on_duty", "on_call", name="shiftkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["resources_staff.id"], name=op.f("fk_resources_shifts_staff_id_resources_staff")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["resources_teams.id"], name=op.f("fk_resources_shifts_team_id_resources_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_shifts")),
        sa.UniqueConstraint("staff_id", "day", name="uq_resources_shifts"),
    )
    with op.batch_alter_table("resources_shifts", schema=None) as batch_op:
        batch_op.create_index("ix_resources_shifts_day_jpath", ["day", "jpath"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_shifts_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    # The phones cannot go back into clear text without the key and a reason; a downgrade leaves them
    # empty (and the on-call flag false), which is what a fresh 0016 database holds.
    with op.batch_alter_table("resources_shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_shifts_team_id"))
        batch_op.drop_index("ix_resources_shifts_day_jpath")
    op.drop_table("resources_shifts")
    with op.batch_alter_table("resources_staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_phone", sa.String(length=20), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("on_call", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_index(batch_op.f("ix_resources_staff_phone_hash"))
        batch_op.drop_column("phone_masked")
        batch_op.drop_column("phone_hash")
        batch_op.drop_column("phone_cipher")
