"""The append-only, hash-chained audit log.

Each entry's hash covers the previous entry's hash and every field of its own, so editing, deleting or
inserting a row anywhere breaks the chain from that row on, and ``fangkong audit verify`` names the first
broken link. Appends are serialised by writing the one-row ``audit_head`` before reading it: on
PostgreSQL the UPDATE takes a row lock, on SQLite it takes the database write lock, so the chain cannot
fork under concurrent writers. Entries are written in the same transaction as the change they record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, insert, select, update
from sqlalchemy.orm import Session

from fangkong.core.clock import utcnow
from fangkong.core.models import AuditEntry, AuditHead

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did it and from where; ``system`` for the CLI and background jobs."""

    user_id: int | None
    username: str
    ip: str = "local"


SYSTEM = Actor(user_id=None, username="system")


def _canonical_time(at: dt.datetime) -> str:
    # SQLite hands datetimes back naive and PostgreSQL in the session's zone: compare in naive UTC.
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def _entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    fields = [
        prev_hash,
        _canonical_time(entry.at),
        "" if entry.actor_id is None else str(entry.actor_id),
        entry.actor,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.jpath or "",
        entry.detail,
        entry.ip,
    ]
    return hashlib.sha256("\x1e".join(fields).encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    *,
    detail: Mapping[str, object] | None = None,
    jpath: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain inside the caller's transaction."""
    # Write the head before reading it (see the module doc), both in one statement: the head is locked
    # (PostgreSQL) or the write lock taken (SQLite), and its hash read, in one round trip.
    heads = cast(Table, AuditHead.__table__)
    last = session.execute(
        update(heads).where(heads.c.id == 1).values(last_hash=heads.c.last_hash).returning(heads.c.last_hash)
    ).scalar()
    if last is None:
        session.execute(insert(heads).values(id=1, last_hash=GENESIS))
        last = GENESIS
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.user_id,
        actor=actor.username,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        jpath=jpath,
        detail=json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str),
        ip=actor.ip,
        prev_hash=last,
    )
    entry.hash = _entry_hash(last, entry)
    session.add(entry)
    session.flush()
    session.execute(update(heads).where(heads.c.id == 1).values(last_hash=entry.hash))
    return entry


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    first_broken_id: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify(session: Session) -> VerifyReport:
    """Walk the chain in order and report the first entry whose link does not hold."""
    prev = GENESIS
    checked = 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=2000))
    for entry in rows.scalars():
        if entry.prev_hash != prev:
            return VerifyReport(checked, entry.id, "its previous-hash does not match the entry before it")
        if _entry_hash(prev, entry) != entry.hash:
            return VerifyReport(checked, entry.id, "its content does not match its hash")
        prev = entry.hash
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return VerifyReport(
            checked, -1, "the chain's head does not match the last entry (rows removed at the end)"
        )
    return VerifyReport(checked, None, "")


@dataclass(frozen=True)
class EntryFilter:
    """Which entries a reader asks for; every field left empty matches every entry."""

    # Entries by this user (their id); ``system_only``: the platform's own entries (no user).
    actor_id: int | None = None
    system_only: bool = False
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    # Entries at or after ``since`` and before ``until`` (aware UTC instants, e.g. ``clock.day_bounds``).
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _filter_conditions(where: EntryFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.system_only:
        conditions.append(AuditEntry.actor_id.is_(None))
    elif where.actor_id is not None:
        conditions.append(AuditEntry.actor_id == where.actor_id)
    if where.action:
        conditions.append(AuditEntry.action == where.action)
    if where.object_type:
        conditions.append(AuditEntry.object_type == where.object_type)
    if where.object_id:
        conditions.append(AuditEntry.object_id == where.object_id)
    if where.since is not None:
        conditions.append(AuditEntry.at >= where.since)
    if where.until is not None:
        conditions.append(AuditEntry.at < where.until)
    return conditions


def list_entries(
    session: Session,
    scope_path: str,
    *,
    include_system: bool,
    page: int = 1,
    size: int = 50,
    where: EntryFilter | None = None,
) -> tuple[list[AuditEntry], int]:
    """Entries about the caller's subtree that match ``where``, newest first; system entries only for
    top-level users."""
    from sqlalchemy import func, or_

    from fangkong.core.scope import under

    condition = under(AuditEntry.jpath, scope_path)  # type: ignore[arg-type]  # NULL paths fail the range
    if include_system:
        condition = or_(condition, AuditEntry.jpath.is_(None))
    condition = and_(condition, *_filter_conditions(where or EntryFilter()))
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(condition)) or 0
    size = max(1, min(size, 200))
    rows = session.scalars(
        select(AuditEntry)
        .where(condition)
        .order_by(AuditEntry.id.desc())
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    return list(rows), total


def actor_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    """Display names of the users who wrote entries (a user since removed from scope keeps a name)."""
    from fangkong.core.models import User

    names: dict[int, str] = {}
    ids = sorted(user_ids)
    for start in range(0, len(ids), 1000):
        names.update(
            session.execute(
                select(User.id, User.display_name).where(User.id.in_(ids[start : start + 1000]))
            ).all()
        )
    return names
