"""FastAPI dependencies: the database session, the caller, and permission checks.

``Require(permission)`` is the only way a route asks for a permission; the authorization test finds
these objects on every route to check that each role is refused or allowed as the table says.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal, principal_for, user_for_token
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.events import EventBus
from fangkong.core.models import User
from fangkong.core.permissions import Permission

SESSION_COOKIE = "fk_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed if the route returns, rolled back if it raises."""
    with get_db(request).unit_of_work() as session:
        yield session


def get_vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_bus(request: Request) -> EventBus:
    bus: EventBus = request.app.state.bus
    return bus


SessionDep = Annotated[Session, Depends(get_session)]
# Row ids in paths: bounded to the 32-bit integer columns they address.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
# The same bound for ids given as query parameters (filters).
RowIdQuery = Annotated[int | None, Query(ge=1, le=2_147_483_647)]
VaultDep = Annotated[Vault, Depends(get_vault)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
BusDep = Annotated[EventBus, Depends(get_bus)]


class NotAuthenticated(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=401, detail="not authenticated", headers={"WWW-Authenticate": "Bearer"})


def _from_cookie(request: Request, session: Session) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    parsed = request.app.state.signer.read(cookie)
    if parsed is None:
        return None
    uid, version, csrf = parsed
    user = session.get(User, uid)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return principal_for(session, user, "cookie", csrf)


async def _check_csrf(request: Request, principal: Principal) -> None:
    if principal.via != "cookie" or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent != principal.csrf:
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token")


async def optional_principal(request: Request, session: SessionDep) -> Principal | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = user_for_token(session, auth[7:].strip())
        if user is None:
            raise NotAuthenticated()
        return principal_for(session, user, "token")
    principal = _from_cookie(request, session)
    if principal is not None:
        await _check_csrf(request, principal)
    return principal


async def current_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if principal is None:
        raise NotAuthenticated()
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


class Require:
    """Dependency: the caller is authenticated and their role has ``permission``."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, principal: CurrentUser) -> Principal:
        if not principal.can(self.permission):
            raise HTTPException(
                status_code=403, detail=f"your role lacks the permission {self.permission.value}"
            )
        return principal

    def __repr__(self) -> str:
        return f"Require({self.permission.value})"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
