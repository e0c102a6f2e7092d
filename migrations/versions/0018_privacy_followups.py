"""privacy followups

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Owned by issue 19's follow-ups (tracing records merged, free text cleaned, access reasons).

A merge is now of two kinds: two registry entries (``person``), or an unidentified tracing record linked
to the registry person it turned out to be (``tracing_record``; ``merged_id`` is then the record's id).
Free text marked as personal (``info={"personal_text": True}``) needs no schema change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("privacy_person_merges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="person"))


def downgrade() -> None:
    with op.batch_alter_table("privacy_person_merges", schema=None) as batch_op:
        batch_op.drop_column("kind")
