"""The scope filter: the one place that limits people-linked queries to a user's jurisdiction subtree.

Every jurisdiction has a path such as ``/330000/330100/330106/``; a user sees rows whose path starts
with their jurisdiction's path. The prefix test is written as a range (``path >= p AND path < p + '~'``)
rather than ``LIKE 'p%'`` so that a plain B-tree index serves it on both SQLite and PostgreSQL ('~' sorts
after every digit and '/').

Drill sandboxes live outside every real subtree: a sandbox's path is the path it would have under its
real county, behind the marker ``/~`` (``/~/330000/330100/330106/330106999/``). '~' sorts after every
digit, so no real scope's range reaches a sandbox row, not even the whole tree's (``/``): every real
list, KPI, board, export, search and audit read that goes through :func:`under` leaves drills out
without knowing they exist. Only a principal whose own path is a sandbox's (the drill itself, or a
user who entered the drill) sees inside it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import InstrumentedAttribute

# Marker in front of every sandbox path (see the module docstring).
SANDBOX_ROOT = "/~"


def ancestor_paths(path: str) -> list[str]:
    """``/a/b/c/`` → ``['/a/', '/a/b/', '/a/b/c/']``: the path and every path above it, top first (for
    rows that apply to a subtree, such as a protocol assignment, a rule or a site serving the area)."""
    codes = [c for c in path.split("/") if c]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


# Prefix of the numbers a drill's records take where real ones carry a county code ("drill").
DRILL_CASE_PREFIX = "演练-"


def under(column: InstrumentedAttribute[str] | ColumnElement[str], path: str) -> ColumnElement[bool]:
    """True for rows whose path lies in the subtree rooted at ``path`` (``path`` itself included)."""
    return and_(column >= path, column < path + "~")


def path_in_scope(row_path: str, scope_path: str) -> bool:
    """The test :func:`under` makes in SQL, for one path in Python.

    It differs from :func:`under` only for ``/``, which no user holds: built-in rows owned by ``/``
    (channels, rules) apply everywhere, sandboxes included.
    """
    return row_path.startswith(scope_path)


def sandbox_root(real_parent_path: str, code: str) -> str:
    """The path of a sandbox node ``code`` made under the real node at ``real_parent_path``."""
    return f"{SANDBOX_ROOT}{real_parent_path}{code}/"


def is_sandbox_path(path: str) -> bool:
    return path.startswith(SANDBOX_ROOT + "/")


def real_place_of(path: str) -> str:
    """Where a sandbox path sits in the real tree (its marker removed); a real path is returned as is."""
    return path[len(SANDBOX_ROOT) :] if is_sandbox_path(path) else path
