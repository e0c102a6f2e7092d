"""User accounts: create within one's scope, list, lock and unlock, API tokens."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import MIN_PASSWORD_LENGTH, WeakPassword, create_api_token, hash_password
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Role, User
from fangkong.core.scope import path_in_scope, under

_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")


def create_user(
    session: Session,
    actor: audit.Actor,
    scope_path: str,
    *,
    username: str,
    display_name: str,
    role: str,
    jurisdiction_code: str,
    password: str,
) -> User:
    """Create an account in a jurisdiction inside the creator's scope."""
    errors: list[RowError] = []
    if not _USERNAME.match(username):
        errors.append(
            RowError(
                1, "username", "3-64 characters: lower-case letters, digits, _ . - ; start with a letter"
            )
        )
    if not display_name.strip():
        errors.append(RowError(1, "display_name", "is required"))
    try:
        role_value = Role(role)
    except ValueError:
        errors.append(
            RowError(
                1,
                "role",
                Message(
                    "unknown role “{value}”; use one of {roles}",
                    value=role,
                    roles=[Message(r.value) for r in Role],
                ),
            )
        )
        role_value = Role.viewer
    place = session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction_code))
    if place is None or not path_in_scope(place.path, scope_path):
        errors.append(
            RowError(
                1, "jurisdiction_code", Message("{code} is not in your jurisdiction", code=jurisdiction_code)
            )
        )
    try:
        password_hash = hash_password(password)
    except WeakPassword:
        errors.append(
            RowError(1, "password", Message("must be at least {limit} characters", limit=MIN_PASSWORD_LENGTH))
        )
    if errors:
        raise InvalidInput(errors)
    assert place is not None
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(Message("username {username} is taken", username=username))
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role_value,
        jurisdiction_id=place.id,
        password_hash=password_hash,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "users.create",
        "user",
        user.id,
        jpath=place.path,
        detail={"username": username, "role": role_value.value},
    )
    return user


def list_users(session: Session, scope_path: str) -> list[tuple[User, Jurisdiction]]:
    stmt = (
        select(User, Jurisdiction)
        .join(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
        .where(under(Jurisdiction.path, scope_path))
        .order_by(User.username)
    )
    return [(u, j) for u, j in session.execute(stmt)]


def get_in_scope(session: Session, scope_path: str, user_id: int) -> User:
    row = session.execute(
        select(User, Jurisdiction)
        .join(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
        .where(User.id == user_id)
    ).first()
    if row is None or not path_in_scope(row[1].path, scope_path):
        raise NotFound(f"user {user_id} not found")
    return row[0]


def set_active(session: Session, actor: audit.Actor, scope_path: str, user_id: int, active: bool) -> User:
    user = get_in_scope(session, scope_path, user_id)
    user.is_active = active
    user.session_version += 1
    if active:
        user.failed_logins = 0
        user.locked_until = None
    audit.record(session, actor, "users.activate" if active else "users.deactivate", "user", user.id)
    return user


def issue_token(session: Session, actor: audit.Actor, user: User, name: str) -> str:
    token = create_api_token(session, user, name)
    audit.record(session, actor, "users.token", "user", user.id, detail={"name": name})
    return token
