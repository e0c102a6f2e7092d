"""Who is calling: passwords (argon2), signed session cookies with CSRF tokens, API tokens.

Repeated failures are slowed down by ``core.throttle`` (per client address and per account); no
account is ever locked, because a lock-out lets anyone who knows a username shut its owner out.

Kept free of FastAPI so the CLI and tests use the same rules; ``core.deps`` adapts it to requests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.clock import as_utc, utcnow
from fangkong.core.errors import Conflict, DomainError
from fangkong.core.i18n import Message
from fangkong.core.models import ApiToken, Jurisdiction, Role, User
from fangkong.core.permissions import ROLE_PERMISSIONS, Permission

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class Principal:
    """An authenticated user as the request sees them."""

    user_id: int
    username: str
    display_name: str
    role: Role
    jurisdiction_id: int
    jpath: str
    jurisdiction_name: str
    via: str  # "cookie" or "token"
    csrf: str = ""

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


class TokenNoLongerValid(DomainError):
    """A call read with a bearer token that was revoked, expired or whose user was deactivated since."""

    status = 401

    def __init__(self) -> None:
        super().__init__(Message("this token is no longer valid: sign in again"))


class HolderChanged(Conflict):
    """A call read with a token whose user has since had their role or jurisdiction changed: the call is
    refused as a whole and may be sent again (it is then read as the user is now)."""

    def __init__(self) -> None:
        super().__init__(Message("your account was changed since this call was read: send again"))


class LoginFailed(Exception):
    """Wrong username or password (which one is not said); the message is safe to show."""


class WeakPassword(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def _verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, username: str, password: str) -> User:
    """Check a password; raise LoginFailed without saying which part was wrong.

    A failure writes nothing (the throttle counts it in memory), so guessing does not queue for the
    database's write lock.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        # Spend the same time as a real check so that timing does not reveal which usernames exist.
        _verify_password(_DUMMY_HASH, password)
        raise LoginFailed("wrong username or password")
    if not _verify_password(user.password_hash, password):
        raise LoginFailed("wrong username or password")
    if user.failed_logins or user.locked_until is not None:
        # Left by the lock-out of earlier versions; nothing sets them any more.
        user.failed_logins = 0
        user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")


class SessionSigner:
    """Signs the session cookie: user id, session version and the CSRF token, with an expiry."""

    def __init__(self, secret_key: str, max_age_hours: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="fangkong.session")
        self.max_age = max_age_hours * 3600

    def issue(self, user: User) -> tuple[str, str]:
        csrf = secrets.token_urlsafe(24)
        return self._serializer.dumps({"uid": user.id, "sv": user.session_version, "csrf": csrf}), csrf

    def read(self, cookie: str) -> tuple[int, int, str] | None:
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        uid, sv, csrf = data.get("uid"), data.get("sv"), data.get("csrf")
        if not isinstance(uid, int) or not isinstance(sv, int) or not isinstance(csrf, str):
            return None
        return uid, sv, csrf


def principal_for(session: Session, user: User, via: str, csrf: str = "") -> Principal:
    jurisdiction = session.get(Jurisdiction, user.jurisdiction_id)
    assert jurisdiction is not None  # foreign key
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        jurisdiction_id=jurisdiction.id,
        jpath=jurisdiction.path,
        jurisdiction_name=jurisdiction.name,
        via=via,
        csrf=csrf,
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, user: User, name: str, days: int | None = 90) -> str:
    """Create a bearer token; only its digest is stored, the token is returned once."""
    token = "fk_" + secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(days=days) if days else None
    session.add(ApiToken(user_id=user.id, name=name, token_hash=token_digest(token), expires_at=expires))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None:
        return None
    if row.expires_at is not None and as_utc(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


@dataclass(frozen=True)
class TokenHolder:
    """Who holds a valid bearer token now: the parts of a principal that decide what it may do."""

    user_id: int
    role: Role
    jurisdiction_id: int

    def holds(self, principal: Principal) -> bool:
        """Whether ``principal`` (read from this token earlier) still speaks for this holder."""
        return (self.user_id, self.role, self.jurisdiction_id) == (
            principal.user_id,
            principal.role,
            principal.jurisdiction_id,
        )


def token_holders(session: Session, digests: Collection[str]) -> dict[str, TokenHolder]:
    """The holder of each of these tokens (by ``token_digest``) that is still valid: unexpired, of an
    active user. One query for any number of tokens: a group of calls confirms its callers at once."""
    if not digests:
        return {}
    rows = session.execute(
        select(ApiToken.token_hash, ApiToken.expires_at, User.id, User.role, User.jurisdiction_id)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash.in_(sorted(digests)), User.is_active.is_(True))
    ).all()
    now = utcnow()
    return {
        digest: TokenHolder(user_id, role, jurisdiction_id)
        for digest, expires_at, user_id, role, jurisdiction_id in rows
        if expires_at is None or as_utc(expires_at) >= now
    }
