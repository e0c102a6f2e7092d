"""person reference indexes

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

Every column that refers to a person gets an index led by it: merging two people and purging people
update or delete these rows by person, which without one is a scan of the whole table per merge
(tracing's exposures and contacts reach millions of rows). Found by listing the person references of
the metadata (``privacy.service.linkage.person_refs``) without such an index.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_tracing_contacts_person_id", "tracing_contacts", "person_id"),
    ("ix_tracing_exposures_person_id", "tracing_exposures", "person_id"),
    ("ix_tracing_assist_requests_located_person_id", "tracing_assist_requests", "located_person_id"),
    ("ix_management_plans_linked_person_id", "management_plans", "linked_person_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
