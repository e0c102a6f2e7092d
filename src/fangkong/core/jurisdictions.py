"""Jurisdiction use cases: create, import a tree, browse within one's scope."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.errors import Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import CODE_LENGTH, LEVEL_ORDER, Jurisdiction, Level, Role, User
from fangkong.core.scope import is_sandbox_path, path_in_scope, real_place_of, sandbox_root, under

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
        return [
            RowError(
                index,
                "level",
                Message("unknown level “{value}”; use one of {allowed}", value=row.level, allowed=allowed),
            )
        ]
    if not _DIGITS.match(row.code) or len(row.code) != CODE_LENGTH[level]:
        errors.append(
            RowError(
                index,
                "code",
                Message(
                    "“{value}” is not a {digits}-digit code for a {level}",
                    value=row.code,
                    digits=CODE_LENGTH[level],
                    level=Message(level.value),
                ),
            )
        )
    if not row.name.strip():
        errors.append(RowError(index, "name", "name is empty"))
    if row.code in known:
        errors.append(RowError(index, "code", Message("code {code} already exists", code=row.code)))
    if level is Level.province:
        if row.parent_code:
            errors.append(RowError(index, "parent_code", "a province has no parent"))
    elif row.parent_code not in known:
        errors.append(
            RowError(index, "parent_code", Message("parent “{code}” not found", code=row.parent_code))
        )
    else:
        parent_level, _ = known[row.parent_code]
        if LEVEL_ORDER[parent_level] >= LEVEL_ORDER[level]:
            errors.append(
                RowError(
                    index,
                    "parent_code",
                    Message(
                        "a {level} cannot sit under a {parent}",
                        level=Message(level.value),
                        parent=Message(parent_level.value),
                    ),
                )
            )
        elif len(row.code) > 6 and not row.code.startswith(row.parent_code[: len(row.parent_code)]):
            errors.append(
                RowError(
                    index,
                    "code",
                    Message(
                        "{code} does not start with its parent's code {parent}",
                        code=row.code,
                        parent=row.parent_code,
                    ),
                )
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
        if not parent.is_sandbox:
            # A drill's sandbox hangs under a real county but is no part of the real tree.
            stmt = stmt.where(Jurisdiction.is_sandbox.is_(False))
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
# Its rows live in the real tables (so teams practise on the real screens) under a path outside every
# real subtree (``core.scope.sandbox_root``), so every scoped read of real data leaves them out. The
# drill acts through an account of its own bound to the sandbox (``sandbox_actor``); a user who enters a
# drill (``drill_scope``) sees the sandbox, and only the sandbox, on the real screens.

# Township codes a sandbox may take under its county: the county code plus 990-999, a range no
# official township code uses in the demo region (GB/T 2260 township serials start at 001).
SANDBOX_TOWNSHIP_SERIALS = range(999, 989, -1)
# Name prefix that marks every sandbox node on every screen ("drill").
SANDBOX_NAME_PREFIX = "【演练】"


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
        raise InvalidInput(
            [RowError(1, "jurisdiction", Message("{place} has no free sandbox code left", place=county.name))]
        )
    township = Jurisdiction(
        code=code,
        name=f"{SANDBOX_NAME_PREFIX}{label}"[:100],
        level=Level.township,
        parent_id=county.id,
        path=sandbox_root(county.path, code),
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


# Username of a drill's own account: "drill:<drill id>".
DRILL_ACTOR_PREFIX = "drill:"


def sandbox_actor(session: Session, township: Jurisdiction, username: str, role: Role) -> User:
    """The account a drill acts through: bound to its sandbox, so it reads and writes nothing else.

    It cannot sign in (inactive, with no password that any hash check accepts); it exists so that
    the records and the audit entries the drill writes name the drill, not the person who started it.
    """
    if not township.is_sandbox or not is_sandbox_path(township.path):
        raise InvalidInput([RowError(1, "jurisdiction", "a drill's account belongs to its sandbox")])
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(
            username=username,
            display_name=f"{SANDBOX_NAME_PREFIX}{username}",
            role=role,
            jurisdiction_id=township.id,
            password_hash="!",
            is_active=False,
        )
        session.add(user)
        session.flush()
    elif user.jurisdiction_id != township.id:
        raise InvalidInput(
            [RowError(1, "username", Message("{username} belongs to another place", username=username))]
        )
    return user


def drill_scope(session: Session, principal: Principal, sandbox_id: str | None) -> Principal:
    """The principal a user acts as inside a drill they entered: their role, the sandbox's scope.

    ``sandbox_id`` comes from the drill cookie; anything that is not a sandbox in the user's real
    scope leaves the principal as it is.
    """
    if not sandbox_id or not sandbox_id.isdigit() or len(sandbox_id) > 10:
        return principal
    node = session.get(Jurisdiction, int(sandbox_id))
    if node is None or not node.is_sandbox or not is_sandbox_path(node.path):
        return principal
    if not path_in_scope(real_place_of(node.path), principal.jpath):
        return principal
    return replace(principal, jurisdiction_id=node.id, jpath=node.path, jurisdiction_name=node.name)


def same_world_as(session: Session, node_path: str, parent_id: int | None) -> ColumnElement[bool]:
    """Condition on ``Jurisdiction`` rows for the siblings of a node (``parent_id`` alike) that may count.

    Real places and a drill's sandbox are never each other's neighbours, and a sandbox hanging under a
    real county has no siblings at all: the other sandboxes beside it belong to other drills.
    """
    if not is_sandbox_path(node_path):
        return Jurisdiction.is_sandbox.is_(False)
    parent = session.get(Jurisdiction, parent_id) if parent_id is not None else None
    if parent is None or not parent.is_sandbox:
        return Jurisdiction.path == node_path
    return Jurisdiction.is_sandbox.is_(True)
