"""drill sandboxes live outside every real subtree

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A drill's sandbox used to hang in the real tree (``/330000/330100/330106/330106999/``), so every real
list, KPI, board and audit read of its county counted the drill (issue 11, item 1). Sandboxes now sit
behind the marker ``/~`` (``/~/330000/330100/330106/330106999/``, see ``core.scope``), out of reach of
every real scope's range. This revision moves the sandboxes made before: each sandbox root's path, and
every path column of every row under it, gets the marker in front.

The audit log is left as it is: its entries are hash-chained over their paths, and rewriting them would
break the chain that proves nothing was changed. Entries written by drills before this revision keep
their old paths.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MARKER = "/~"
# Hash-chained: its paths are part of each entry's hash (core.audit).
UNTOUCHED_TABLES = frozenset({"audit_log"})


def _path_columns(bind: sa.Connection) -> list[tuple[str, str]]:
    """Every column holding a jurisdiction path: ``path`` of the jurisdictions, ``*jpath``, ``*_path``."""
    inspector = sa.inspect(bind)
    found = []
    for table in inspector.get_table_names():
        if table in UNTOUCHED_TABLES:
            continue
        for column in inspector.get_columns(table):
            name = column["name"]
            if (
                (table == "jurisdictions" and name == "path")
                or name.endswith("jpath")
                or name == "sandbox_path"
            ):
                found.append((table, name))
    return found


def _roots(bind: sa.Connection, marked: bool) -> list[str]:
    """Paths of the sandbox roots (sandbox nodes whose parent is no sandbox), with or without the marker."""
    rows = bind.execute(
        sa.text(
            "SELECT child.path FROM jurisdictions child"
            " JOIN jurisdictions parent ON parent.id = child.parent_id"
            " WHERE child.is_sandbox AND NOT parent.is_sandbox"
        )
    ).scalars()
    return [p for p in rows if p.startswith(MARKER + "/") == marked]


def _move(bind: sa.Connection, old: str, new: str) -> None:
    """Every path under ``old`` (itself included) moved under ``new``, in every path column."""
    for table, column in _path_columns(bind):
        bind.execute(
            sa.text(
                f'UPDATE "{table}" SET "{column}" = :new || substr("{column}", :cut)'
                f' WHERE "{column}" >= :old AND "{column}" < :upper'
            ),
            {"new": new, "cut": len(old) + 1, "old": old, "upper": old + "~"},
        )


def upgrade() -> None:
    bind = op.get_bind()
    for old in _roots(bind, marked=False):
        _move(bind, old, MARKER + old)


def downgrade() -> None:
    bind = op.get_bind()
    for old in _roots(bind, marked=True):
        _move(bind, old, old[len(MARKER) :])
