"""The scope filter: the one place that limits people-linked queries to a user's jurisdiction subtree.

Every jurisdiction has a path such as ``/330000/330100/330106/``; a user sees rows whose path starts
with their jurisdiction's path. The prefix test is written as a range (``path >= p AND path < p + '~'``)
rather than ``LIKE 'p%'`` so that a plain B-tree index serves it on both SQLite and PostgreSQL ('~' sorts
after every digit and '/').
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import InstrumentedAttribute


def under(column: InstrumentedAttribute[str] | ColumnElement[str], path: str) -> ColumnElement[bool]:
    """True for rows whose path lies in the subtree rooted at ``path`` (``path`` itself included)."""
    return and_(column >= path, column < path + "~")


def path_in_scope(row_path: str, scope_path: str) -> bool:
    return row_path.startswith(scope_path)
