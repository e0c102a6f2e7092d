"""Access outside one's jurisdiction with a stated reason ("break the glass", as DHIS2 calls it).

A user who must read a person registered elsewhere in the province (an arrival, a contact referred by
another area) states a reason, chosen or typed; the grant lasts a shift, is audited when given and at
every read it allows, and is listed for review by the supervisors above the user. The people registry
asks :func:`allows` (registered in ``wiring.py``) before it answers "not found" for a person outside the
reader's subtree; without a grant the answer stays "not found".
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Person
from fangkong.core.scope import path_in_scope, under
from fangkong.privacy.models import AccessGrant
from fangkong.privacy.rules import access as ar


def _actor(principal: Principal, ip: str) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


def request_access(
    session: Session, principal: Principal, person_id: int, reason: str, reason_text: str, ip: str = ""
) -> AccessGrant:
    """Grant the principal access to one person outside their subtree, for the stated reason."""
    problems = ar.check_reason(reason, reason_text)
    if problems:
        raise InvalidInput([RowError(1, f, m) for f, m in problems])
    person = session.get(Person, person_id)
    if person is None or not ar.same_province(person.jpath, principal.jpath):
        raise NotFound(f"person {person_id} not found")
    if path_in_scope(person.jpath, principal.jpath):
        raise InvalidInput([RowError(1, "person_id", Message("This person is in your own jurisdiction."))])
    now = clock.utcnow()
    grant = AccessGrant(
        user_id=principal.user_id,
        username=principal.username,
        user_jpath=principal.jpath,
        person_ref=person.id,
        person_jpath=person.jpath,
        reason=reason,
        reason_text=reason_text.strip(),
        granted_at=now,
        expires_at=now + dt.timedelta(hours=ar.GRANT_HOURS),
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        _actor(principal, ip),
        "privacy.access_granted",
        "person",
        person.id,
        jpath=principal.jpath,
        # The typed reason stays on the grant (it may name someone, and goes with the person); the log
        # keeps who, when and the reason's code only.
        detail={"grant_id": grant.id, "reason": reason, "typed": bool(grant.reason_text)},
    )
    return grant


def active_grant(session: Session, principal: Principal, person_id: int) -> AccessGrant | None:
    return session.scalar(
        select(AccessGrant)
        .where(
            AccessGrant.user_id == principal.user_id,
            AccessGrant.person_ref == person_id,
            AccessGrant.expires_at > clock.utcnow(),
        )
        .order_by(AccessGrant.id.desc())
        .limit(1)
    )


def allows(session: Session, principal: Principal, person: Person) -> bool:
    """Whether a live grant lets the principal read this person outside their subtree; each such read is
    audited (the hook the people registry calls)."""
    grant = active_grant(session, principal, person.id)
    if grant is None:
        return False
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, "web"),
        "privacy.access_read",
        "person",
        person.id,
        jpath=principal.jpath,
        detail={"grant_id": grant.id, "reason": grant.reason},
    )
    return True


def for_review(
    session: Session, scope_path: str, *, pending_only: bool = True, limit: int = 200
) -> list[AccessGrant]:
    """Grants given to users in the supervisor's subtree, newest first."""
    stmt = select(AccessGrant).where(under(AccessGrant.user_jpath, scope_path))
    if pending_only:
        stmt = stmt.where(AccessGrant.reviewed_at.is_(None))
    return list(session.scalars(stmt.order_by(AccessGrant.id.desc()).limit(limit)))


def mine(session: Session, principal: Principal, limit: int = 50) -> list[AccessGrant]:
    return list(
        session.scalars(
            select(AccessGrant)
            .where(AccessGrant.user_id == principal.user_id)
            .order_by(AccessGrant.id.desc())
            .limit(limit)
        )
    )


def review(session: Session, principal: Principal, grant_id: int, note: str, ip: str = "") -> AccessGrant:
    """A supervisor marks a grant reviewed, with an optional note."""
    grant = session.get(AccessGrant, grant_id)
    if grant is None or not path_in_scope(grant.user_jpath, principal.jpath):
        raise NotFound(f"grant {grant_id} not found")
    if len(note) > ar.MAX_TYPED_REASON:
        raise InvalidInput([RowError(1, "note", Message("At most {n} characters.", n=ar.MAX_TYPED_REASON))])
    grant.reviewed_at, grant.reviewed_by, grant.review_note = clock.utcnow(), principal.username, note.strip()
    audit.record(
        session,
        _actor(principal, ip),
        "privacy.access_reviewed",
        "access_grant",
        grant.id,
        jpath=grant.user_jpath,
        detail={"person_id": grant.person_ref},
    )
    return grant
