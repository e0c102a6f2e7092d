"""protocol tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Owned by the protocol capability: holds exactly the tables of `fangkong.protocol.models`.
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401 - used once the capability adds its tables
from alembic import op  # noqa: F401

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
