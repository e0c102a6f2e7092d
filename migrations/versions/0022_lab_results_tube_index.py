"""testing: a round's results and recalls keep only the indexes and keys something reads

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

Owned by issue 13's lab-results performance work. A round of a city of ten million stores a result version
for each of its million tubes and flags every member of its positive pools for recall (a hundred thousand
people at 1 % prevalence in tubes of ten); each index is one more entry per row and each foreign key a
trigger and a row lock per row.

* ``testing_lab_results`` loses its index on ``tube_id``: nothing looks results up by tube. A tube's
  versions are found by its barcode (the unique key on barcode and version), the loader matches rows to
  tubes by barcode, and a tube's newest result is on the tube itself.
* ``testing_recalls`` loses its index on ``tube_id`` (the unique key on ``(tube_id, person_id)`` leads with
  it and serves the same look-ups) and its keys to tubes and people: the results loader writes the
  recalls from the bindings it has just read in the same transaction, tubes are never deleted, and a person
  is deleted only by the privacy purge, which finds ``person_id`` columns by name and deletes their rows
  with the person (``privacy.service.linkage``), as migration 0019 did for the bindings. Writing the
  10,000 recalls of a 1,000,000-person round took 0.26 s with them, most of the results step's recall
  work.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("testing_lab_results", schema=None) as batch_op:
        batch_op.drop_index("ix_testing_lab_results_tube_id")
    with op.batch_alter_table("testing_recalls", schema=None) as batch_op:
        batch_op.drop_index("ix_testing_recalls_tube_id")
        batch_op.drop_constraint("fk_testing_recalls_tube_id_testing_tubes", type_="foreignkey")
        batch_op.drop_constraint("fk_testing_recalls_person_id_people", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("testing_recalls", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_testing_recalls_person_id_people", "people", ["person_id"], ["id"])
        batch_op.create_foreign_key(
            "fk_testing_recalls_tube_id_testing_tubes", "testing_tubes", ["tube_id"], ["id"]
        )
        batch_op.create_index("ix_testing_recalls_tube_id", ["tube_id"], unique=False)
    with op.batch_alter_table("testing_lab_results", schema=None) as batch_op:
        batch_op.create_index("ix_testing_lab_results_tube_id", ["tube_id"], unique=False)
