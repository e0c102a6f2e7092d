"""Jurisdiction use cases: create, import a tree, browse within one's scope."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, not_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

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
            RowError(
                index, "code", f"{row.code!r} is not a {CODE_LENGTH[level]}-digit code for a {level.value}"
            )
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


# ---------------------------------------------------------------- drill sandboxes
# A drill's sandbox is a township of made-up communities under a real county, flagged ``is_sandbox``.
# Its rows live in the real tables (so teams practise on the real screens) and are kept out of real
# statistics by filtering on the sandbox paths below.

# Township codes a sandbox may take under its county: the county code plus 990-999, a range no
# official township code uses in the demo region (GB/T 2260 township serials start at 001).
SANDBOX_TOWNSHIP_SERIALS = range(999, 989, -1)
# Name prefix that marks every sandbox node on every screen ("drill").
SANDBOX_NAME_PREFIX = "【演练】"


def sandbox_paths(session: Session) -> list[str]:
    """Paths of the sandbox roots (sandbox nodes whose parent is real), shortest first."""
    rows = sorted(session.scalars(select(Jurisdiction.path).where(Jurisdiction.is_sandbox.is_(True))))
    roots: list[str] = []
    for path in rows:
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots


def outside_sandboxes(column: InstrumentedAttribute[str], paths: Sequence[str]) -> ColumnElement[bool]:
    """True for rows that lie in no sandbox: add it to any query that feeds real statistics."""
    if not paths:
        return true()
    return and_(*[not_(under(column, path)) for path in paths])


def create_sandbox(
    session: Session, actor: audit.Actor, county: Jurisdiction, *, label: str, communities: int
) -> tuple[Jurisdiction, list[Jurisdiction]]:
    """A sandbox township with ``communities`` communities under a real county, all ``is_sandbox``."""
    if county.level is not Level.county or county.is_sandbox:
        raise InvalidInput([RowError(1, "jurisdiction", "a sandbox is made under a real county")])
    if not 1 <= communities <= 99:
        raise InvalidInput([RowError(1, "communities", "between 1 and 99 communities")])
    taken = set(session.scalars(select(Jurisdiction.code).where(Jurisdiction.parent_id == county.id)))
    code = next(
        (f"{county.code}{s:03d}" for s in SANDBOX_TOWNSHIP_SERIALS if f"{county.code}{s:03d}" not in taken),
        None,
    )
    if code is None:
        raise InvalidInput([RowError(1, "jurisdiction", f"{county.name} has no free sandbox code left")])
    township = Jurisdiction(
        code=code,
        name=f"{SANDBOX_NAME_PREFIX}{label}"[:100],
        level=Level.township,
        parent_id=county.id,
        path=f"{county.path}{code}/",
        is_sandbox=True,
    )
    session.add(township)
    session.flush()
    members: list[Jurisdiction] = []
    for i in range(1, communities + 1):
        member_code = f"{code}{i:03d}"
        member = Jurisdiction(
            code=member_code,
            name=f"{SANDBOX_NAME_PREFIX}{label} {i}"[:100],
            level=Level.community,
            parent_id=township.id,
            path=f"{township.path}{member_code}/",
            is_sandbox=True,
        )
        session.add(member)
        members.append(member)
    session.flush()
    audit.record(
        session,
        actor,
        "jurisdictions.sandbox",
        "jurisdiction",
        township.id,
        jpath=township.path,
        detail={"code": code, "communities": communities},
    )
    return township, members
