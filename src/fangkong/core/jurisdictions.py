"""Jurisdiction use cases: create, import a tree, browse within one's scope."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.errors import Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.models import CODE_LENGTH, LEVEL_ORDER, Jurisdiction, Level
from fangkong.core.scope import path_in_scope, under

_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class JurisdictionRow:
    """One jurisdiction to create: ``parent_code`` empty for a province."""

    code: str
    name: str
    level: str
    parent_code: str


def _level_rank(level: str) -> int:
    # Unknown levels sort last; _check_row reports them.
    try:
        return LEVEL_ORDER[Level(level)]
    except ValueError:
        return len(LEVEL_ORDER)


def _check_row(index: int, row: JurisdictionRow, known: dict[str, tuple[Level, str]]) -> list[RowError]:
    errors: list[RowError] = []
    try:
        level = Level(row.level)
    except ValueError:
        allowed = ", ".join(level.value for level in Level)
        return [RowError(index, "level", f"unknown level {row.level!r}; use one of {allowed}")]
    if not _DIGITS.match(row.code) or len(row.code) != CODE_LENGTH[level]:
        errors.append(
            RowError(index, "code", f"{row.code!r} is not a {CODE_LENGTH[level]}-digit code for a {level.value}")
        )
    if not row.name.strip():
        errors.append(RowError(index, "name", "name is empty"))
    if row.code in known:
        errors.append(RowError(index, "code", f"code {row.code} already exists"))
    if level is Level.province:
        if row.parent_code:
            errors.append(RowError(index, "parent_code", "a province has no parent"))
    elif row.parent_code not in known:
        errors.append(RowError(index, "parent_code", f"parent {row.parent_code!r} not found"))
    else:
        parent_level, _ = known[row.parent_code]
        if LEVEL_ORDER[parent_level] >= LEVEL_ORDER[level]:
            errors.append(
                RowError(index, "parent_code", f"a {level.value} cannot sit under a {parent_level.value}")
            )
        elif len(row.code) > 6 and not row.code.startswith(row.parent_code[: len(row.parent_code)]):
            errors.append(
                RowError(index, "code", f"{row.code} does not start with its parent's code {row.parent_code}")
            )
    return errors


def import_tree(
    session: Session,
    actor: audit.Actor,
    rows: Sequence[JurisdictionRow],
    *,
    first_row: int = 2,
    skip_existing: bool = False,
) -> int:
    """Validate every row, then insert all of them (parents before children) or none.

    Rows may come in any order; a parent may be in the same batch. ``first_row`` is the row number
    of ``rows[0]`` in the caller's file, so errors name the row the user sees.
    """
    existing = session.execute(select(Jurisdiction.code, Jurisdiction.level, Jurisdiction.path)).all()
    known: dict[str, tuple[Level, str]] = {code: (Level(level), path) for code, level, path in existing}
    if skip_existing:
        rows = [r for r in rows if r.code not in known]
    ordered = sorted(enumerate(rows, start=first_row), key=lambda item: _level_rank(item[1].level))
    errors: list[RowError] = []
    pending: dict[str, tuple[Level, str]] = dict(known)
    for index, row in ordered:
        row_errors = _check_row(index, row, pending)
        errors.extend(row_errors)
        if not row_errors:
            level = Level(row.level)
            parent_path = pending[row.parent_code][1] if row.parent_code else "/"
            pending[row.code] = (level, f"{parent_path}{row.code}/")
    if errors:
        raise InvalidInput(sorted(errors, key=lambda e: e.row))
    ids = dict(session.execute(select(Jurisdiction.code, Jurisdiction.id)).all())
    created = 0
    for _index, row in ordered:
        parent_id = ids[row.parent_code] if row.parent_code else None
        node = Jurisdiction(
            code=row.code,
            name=row.name.strip(),
            level=Level(row.level),
            parent_id=parent_id,
            path=pending[row.code][1],
        )
        session.add(node)
        session.flush()
        ids[row.code] = node.id
        created += 1
    audit.record(session, actor, "jurisdictions.import", "jurisdiction", "*", detail={"created": created})
    return created


def get_in_scope(session: Session, jurisdiction_id: int, scope_path: str) -> Jurisdiction:
    node = session.get(Jurisdiction, jurisdiction_id)
    if node is None or not path_in_scope(node.path, scope_path):
        raise NotFound(f"jurisdiction {jurisdiction_id} not found")
    return node


def by_code(session: Session, code: str) -> Jurisdiction | None:
    return session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))


def children(session: Session, parent: Jurisdiction | None, scope_path: str) -> list[Jurisdiction]:
    """Direct children of a node, or the caller's own top node when ``parent`` is None."""
    if parent is None:
        stmt = select(Jurisdiction).where(Jurisdiction.path == scope_path)
    else:
        if not path_in_scope(parent.path, scope_path):
            raise Forbidden("outside your jurisdiction")
        stmt = select(Jurisdiction).where(Jurisdiction.parent_id == parent.id)
    return list(session.scalars(stmt.order_by(Jurisdiction.code)))


def ancestors(session: Session, node: Jurisdiction) -> list[Jurisdiction]:
    codes = [c for c in node.path.split("/") if c]
    rows = session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(codes)))
    by = {j.code: j for j in rows}
    return [by[c] for c in codes if c in by]


def in_scope_of_level(session: Session, scope_path: str, levels: Iterable[Level]) -> list[Jurisdiction]:
    stmt = (
        select(Jurisdiction)
        .where(under(Jurisdiction.path, scope_path), Jurisdiction.level.in_(list(levels)))
        .order_by(Jurisdiction.path)
    )
    return list(session.scalars(stmt))


def count_by_level(session: Session, scope_path: str) -> dict[str, int]:
    stmt = (
        select(Jurisdiction.level, func.count())
        .where(under(Jurisdiction.path, scope_path))
        .group_by(Jurisdiction.level)
    )
    return {Level(level).value: n for level, n in session.execute(stmt)}
