"""testing ingest: the scanner's bindings table keeps only what its reads and its rules need

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

Owned by issue 13's ingest performance work. A round of a city of ten million writes ten million rows
into ``testing_tube_members``; each foreign key costs a trigger and a row lock per row (measured at about
half the insert: 300,000 bindings took 6.3 s with the four keys and 3.4 s without) and each index an entry.

* The keys to tubes, rounds and people go (the one to orders stays: it is NULL on every scanner row, so it
  costs nothing there). The testing services write every binding, after finding its round and person and
  making or locking its tube in the same transaction; tubes and rounds are never deleted; a person is
  deleted only by the privacy purge, which finds ``person_id`` columns by name and deletes their rows with
  the person (``privacy.service.linkage``).
* Likewise the keys of ``testing_lab_results`` (a million rows a round) to tubes and laboratories: the
  loader takes both ids from the rows it has just read in the same transaction, and neither tubes nor
  laboratories are ever deleted (30,000 results: 1.2–1.3 s with the keys, 0.4–0.5 s without).
* The index on ``person_id`` and the unique key ``(round_id, person_id)`` become one unique key
  ``(person_id, round_id)``: it refuses a person twice in a round as before and serves a person's test
  history (by ``person_id``) as the old index did.
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_TABLE = "testing_tube_members"


def upgrade() -> None:
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.drop_constraint("fk_testing_tube_members_tube_id_testing_tubes", type_="foreignkey")
        batch_op.drop_constraint("fk_testing_tube_members_round_id_testing_rounds", type_="foreignkey")
        batch_op.drop_constraint("fk_testing_tube_members_person_id_people", type_="foreignkey")
        batch_op.drop_index("ix_testing_tube_members_person_id")
        batch_op.drop_constraint("uq_testing_tube_members_round_person", type_="unique")
        batch_op.create_unique_constraint("uq_testing_tube_members_person_round", ["person_id", "round_id"])
    with op.batch_alter_table("testing_lab_results", schema=None) as batch_op:
        batch_op.drop_constraint("fk_testing_lab_results_tube_id_testing_tubes", type_="foreignkey")
        batch_op.drop_constraint(
            "fk_testing_lab_results_laboratory_id_testing_laboratories", type_="foreignkey"
        )


def downgrade() -> None:
    with op.batch_alter_table("testing_lab_results", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_testing_lab_results_laboratory_id_testing_laboratories",
            "testing_laboratories",
            ["laboratory_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            "fk_testing_lab_results_tube_id_testing_tubes", "testing_tubes", ["tube_id"], ["id"]
        )
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.drop_constraint("uq_testing_tube_members_person_round", type_="unique")
        batch_op.create_unique_constraint("uq_testing_tube_members_round_person", ["round_id", "person_id"])
        batch_op.create_index("ix_testing_tube_members_person_id", ["person_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_testing_tube_members_person_id_people", "people", ["person_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_testing_tube_members_round_id_testing_rounds", "testing_rounds", ["round_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_testing_tube_members_tube_id_testing_tubes", "testing_tubes", ["tube_id"], ["id"]
        )
