"""FastAPI dependencies: the database session, the caller, and permission checks.

``Require(permission)`` is the only way a route asks for a permission; the authorization test finds
these objects on every route to check that each role is refused or allowed as the table says.

Nothing here that touches the database or a file is ``async def``. FastAPI runs a plain ``def`` in its
worker threads, but an ``async def`` on the event loop itself, where one blocking call stops every
other request, ``/healthz`` included (issue 11: forty people saving at once hung the server for good).
The ``async def`` dependencies below only wait for a turn at the database or read the request body.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, TypeVar

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, HTTPException, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fangkong.core.auth import Principal, principal_for, token_digest, user_for_token
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.events import EventBus
from fangkong.core.jurisdictions import drill_scope
from fangkong.core.models import User
from fangkong.core.permissions import Permission
from fangkong.core.throttle import LoginThrottle

_T = TypeVar("_T")

SESSION_COOKIE = "fk_session"
# The sandbox (jurisdiction id) of the drill the user entered on the pages.
DRILL_COOKIE = "fk_drill"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Seconds a client is asked to wait before trying again when the database is saturated.
BUSY_RETRY_SECONDS = 5


class DatabaseBusy(HTTPException):
    """No turn at the database within the wait: 503 with Retry-After, never an endless wait."""

    def __init__(self) -> None:
        super().__init__(
            status_code=503,
            detail="the server is busy; please try again in a few seconds",
            headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
        )


class DatabaseGate:
    """Turns at the database: at most ``requests`` requests at once, and on SQLite one writer at a time.

    A request waits for its turn here, on the event loop, holding neither a worker thread nor a pooled
    connection. Once admitted it always finds a thread (there are at least twice as many threads as
    turns, see ``Settings``) and a connection (the pool holds two per turn, see ``PoolSize``), so
    requests cannot deadlock on each other however many arrive; one that waits longer than
    ``wait_seconds`` is answered 503. SQLite has one write lock for the whole database: write requests
    (any method but GET, HEAD and OPTIONS) queue for it here in arrival order, instead of polling in
    SQLite's busy handler from worker threads.
    """

    def __init__(self, requests: int, *, one_writer: bool, wait_seconds: float) -> None:
        self.requests = requests
        self.one_writer = one_writer
        self.wait_seconds = wait_seconds
        # Semaphores belong to one event loop, and a test may serve one app from several loops in turn.
        self._semaphores: RunVar[tuple[anyio.Semaphore, anyio.Semaphore]] = RunVar("fangkong_database_gate")

    def _for_this_loop(self) -> tuple[anyio.Semaphore, anyio.Semaphore]:
        try:
            return self._semaphores.get()
        except LookupError:
            pair = (anyio.Semaphore(self.requests), anyio.Semaphore(1))
            self._semaphores.set(pair)
            return pair

    @asynccontextmanager
    async def turn(self, *, write: bool) -> AsyncIterator[None]:
        turns, writer = self._for_this_loop()
        async with AsyncExitStack() as held:
            with anyio.move_on_after(self.wait_seconds) as waiting:
                if write and self.one_writer:
                    await held.enter_async_context(writer)
                await held.enter_async_context(turns)
            if waiting.cancelled_caught:
                raise DatabaseBusy()
            yield


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _database_turn(request: Request) -> AsyncIterator[None]:
    gate: DatabaseGate = request.app.state.db_gate
    async with gate.turn(write=request.method not in SAFE_METHODS):
        yield


def get_session(
    request: Request, _turn: Annotated[None, Depends(_database_turn, scope="function")]
) -> Iterator[Session]:
    """One unit of work per request: committed before the answer is sent, rolled back if the route raises.

    Scope "function": the commit happens before the answer leaves, so a client told 201 knows the row
    is stored (a commit that fails is answered as an error, not after a success).
    """
    with get_db(request).unit_of_work() as session:
        yield session


# The small dependencies below do no I/O: async, so that they cost no trip through the worker threads.
async def get_vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_bus(request: Request) -> EventBus:
    bus: EventBus = request.app.state.bus
    return bus


async def read_form(request: Request) -> FormData:
    """The submitted form, for a plain-def route that reads its fields by name (awaiting the body, no I/O)."""
    return await request.form()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# Declare it before the principal and the session, so that the body is read before the database turn.
FormDep = Annotated[FormData, Depends(read_form)]
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
    # A user who entered a drill sees its sandbox there, and nothing else (jurisdictions.drill_scope).
    principal = principal_for(session, user, "cookie", csrf)
    return drill_scope(session, principal, request.cookies.get(DRILL_COOKIE))


async def sent_csrf(request: Request) -> str | None:
    """The CSRF token a write with the session cookie carries: the header, else the form's field.

    Async because a form is read by awaiting the body; that is all it does (no database), so it may run
    on the event loop. The form is parsed once: the route's own form fields reuse it.
    """
    if request.method in SAFE_METHODS or not request.cookies.get(SESSION_COOKIE):
        return None
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return None
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _from_token(session: Session, token: str) -> Principal:
    user = user_for_token(session, token)
    if user is None:
        raise NotAuthenticated()
    return principal_for(session, user, "token")


def optional_principal(
    request: Request, csrf: Annotated[str | None, Depends(sent_csrf)], session: SessionDep
) -> Principal | None:
    token = _bearer(request)
    if token is not None:
        return _from_token(session, token)
    principal = _from_cookie(request, session)
    if principal is not None and request.method not in SAFE_METHODS and csrf != principal.csrf:
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
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

    async def __call__(self, principal: CurrentUser) -> Principal:
        if not principal.can(self.permission):
            raise HTTPException(
                status_code=403, detail=f"your role lacks the permission {self.permission.value}"
            )
        return principal

    def __repr__(self) -> str:
        return f"Require({self.permission.value})"


class TokenPrincipals:
    """The principals of bearer tokens read lately, in this process: a hint, never the last word.

    The handhelds' scans come one per call, thousands a second at a round's peak; reading the caller
    from the database on each call (token, user, jurisdiction: three queries and a worker thread) cost
    more than binding the scan. A route that uses this (``RequireAtCommit``) confirms every token in
    the transaction that writes its calls (``core.auth.token_holders``, one query for a whole group of
    calls), so a token revoked or a user deactivated or moved is refused from the next commit on,
    exactly as if it had been read afresh. Entries are read again after ``seconds`` (the display name a
    principal carries) and the whole map is dropped when it holds ``most``.
    """

    def __init__(self, seconds: float = 60.0, most: int = 10_000) -> None:
        self.seconds = seconds
        self.most = most
        self._found: dict[str, tuple[Principal, float]] = {}

    def get(self, digest: str) -> Principal | None:
        found = self._found.get(digest)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def put(self, digest: str, principal: Principal) -> None:
        if len(self._found) >= self.most:
            self._found.clear()
        self._found[digest] = (principal, time.monotonic() + self.seconds)

    def drop(self, digest: str) -> None:
        self._found.pop(digest, None)


# The request state key under which ``RequireAtCommit`` leaves the caller's token digest (None: a cookie).
TOKEN_DIGEST = "token_digest"


class RequireAtCommit(Require):
    """``Require`` for a hot write route whose service confirms the caller's token when it commits.

    Async: a bearer token already read in this process costs no database turn and no worker thread
    (``TokenPrincipals``); the route hands ``request.state.token_digest`` to the service, which must
    refuse the call if ``token_holders`` no longer finds the principal's holder. A token not yet seen,
    and a page's session cookie (with its CSRF check), are read as ``optional_principal`` reads them,
    in a worker thread.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        # No sub-dependencies: FastAPI's solving of each costs this route more than its whole work.
        token = _bearer(request)
        principal: Principal | None
        if token is not None:
            digest = token_digest(token)
            known: TokenPrincipals = request.app.state.token_principals
            principal = known.get(digest)
            if principal is None:
                principal = await _read_in_thread(request, lambda session: _from_token(session, token))
                known.put(digest, principal)
            setattr(request.state, TOKEN_DIGEST, digest)
        else:
            csrf = await sent_csrf(request)
            principal = await _read_in_thread(
                request, lambda session: optional_principal(request, csrf, session)
            )
            setattr(request.state, TOKEN_DIGEST, None)
        if principal is None:
            raise NotAuthenticated()
        return await Require.__call__(self, principal)


async def _read_in_thread(request: Request, read: Callable[[Session], _T]) -> _T:
    """``read`` in a worker thread with its own unit of work, after a (reading) turn at the database."""
    gate: DatabaseGate = request.app.state.db_gate

    def work() -> _T:
        with get_db(request).unit_of_work() as session:
            return read(session)

    async with gate.turn(write=False):
        return await anyio.to_thread.run_sync(work)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ------------------------------------------------------------------------------------------ logins


class TooManyAttempts(HTTPException):
    """An address past its allowance of failed logins: 429, and how long to wait (core.throttle)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            status_code=429,
            detail=f"too many failed logins from this address; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


@dataclass(frozen=True)
class LoginAttempt:
    """A login the throttle has let through (``retry_after`` 0) or refused, and who it names."""

    address: str
    username: str
    retry_after: int


async def _username_sent(request: Request) -> str:
    # The body was already read (FastAPI reads it before the dependencies): this parses, no I/O.
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            return ""
        value = body.get("username") if isinstance(body, dict) else None
    else:
        value = (await request.form()).get("username")
    return value[:64] if isinstance(value, str) else ""


async def login_attempt(request: Request) -> LoginAttempt:
    """The throttle's word on a login, before the password is checked (core.throttle).

    On the event loop and without the database: an address past its allowance is refused at once,
    and an attempt on an account past its allowance is held back here, by an ``await``, so that
    neither a worker thread nor a connection waits with it.
    """
    throttle: LoginThrottle = request.app.state.login_throttle
    address = client_ip(request)
    username = await _username_sent(request)
    wait = throttle.address_wait(address)
    if wait > 0:
        return LoginAttempt(address, username, max(1, math.ceil(wait)))
    await throttle.hold(username)
    return LoginAttempt(address, username, 0)


# Declare it before the session, so that a held-back attempt waits before its database turn.
LoginAttemptDep = Annotated[LoginAttempt, Depends(login_attempt)]
