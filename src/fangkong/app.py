"""create_app(): one FastAPI app serving the JSON API (/api/...) and the web pages."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from fangkong import __version__
from fangkong.core import clock
from fangkong.core.auth import Principal, SessionSigner, principal_for, user_for_token
from fangkong.core.config import Settings, get_settings
from fangkong.core.crypto import Vault
from fangkong.core.db import Database, PoolSize
from fangkong.core.deps import BUSY_RETRY_SECONDS, DatabaseBusy, DatabaseGate, TokenPrincipals, _from_cookie
from fangkong.core.errors import DomainError, InvalidInput, RowError, TooManyRequests
from fangkong.core.i18n import Message, as_message, render_text
from fangkong.core.throttle import LoginThrottle, ThrottlePolicy
from fangkong.web.errors import HtmxRedirects, is_htmx, shown_errors, validation_errors
from fangkong.web.security import SecurityHeaders
from fangkong.web.templating import STATIC_DIR, language_of, render
from fangkong.wiring import build_bus


def _wants_html(request: Request) -> bool:
    # htmx asks with the browser's default Accept (*/*): its requests are the pages' own.
    return not request.url.path.startswith("/api/") and (
        is_htmx(request) or "text/html" in request.headers.get("accept", "text/html")
    )


def _page_principal(request: Request) -> Principal | None:
    """The signed-in user of a page, so an error page keeps the navigation; None if it cannot be told."""
    try:
        with request.app.state.db.unit_of_work() as session:
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                user = user_for_token(session, auth[7:].strip())
                return principal_for(session, user, "token") if user is not None else None
            return _from_cookie(request, session)
    except Exception:  # an error page must not fail because the session or the database did
        return None


def _html_error(
    request: Request,
    status: int,
    message: Message,
    errors: list[RowError],
    file: bool,
) -> Response:
    """A form's errors for htmx (placed in the form by forms.js), else a full page with navigation."""
    language = language_of(request)
    shown = shown_errors(errors, language, file=file or any(e.row > 1 for e in errors))
    text = "" if errors else render_text(message, language)
    if status in (403, 404) and language != "en" and text == str(message):
        # "case 12 not found" has no translation: the page's title (未找到, 不允许) says it in words.
        text = ""
    context = {
        "status": status,
        "message": text,
        "errors": shown,
        "file": file or any(e.row > 1 for e in errors),
    }
    if is_htmx(request):
        return render(request, "_form_errors.html", context, status_code=status)
    return render(request, "error.html", context, principal=_page_principal(request), status_code=status)


async def _error_response(
    request: Request,
    status: int,
    message: str | Message,
    errors: list[RowError] | None = None,
    *,
    json_errors: list[dict[str, Any]] | None = None,
    file: bool = False,
) -> Response:
    if _wants_html(request):
        if status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        # Rendering reads the database (the user, the jurisdiction picker): off the event loop.
        return await run_in_threadpool(_html_error, request, status, as_message(message), errors or [], file)
    body: dict[str, Any] = {"detail": str(message)}
    if json_errors is None and errors is not None:
        json_errors = [{"row": e.row, "field": e.field, "message": e.message} for e in errors]
    if json_errors is not None:
        body["errors"] = json_errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


BUSY_MESSAGE = "The server is busy. Please try again in a few seconds."
# PostgreSQL errors that mean "not now" rather than "wrong": connection exceptions (class 08),
# transaction rollback (40: deadlock, serialization failure), insufficient resources (53: too many
# connections), operator intervention (57: shutting down, statement cancelled), and a lock not granted
# within lock_timeout (55P03).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57")
_LOCK_NOT_AVAILABLE = "55P03"


def _database_busy(exc: OperationalError) -> bool:
    """Whether the database said "not now" (locked, busy, unreachable) rather than reporting a fault."""
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate == _LOCK_NOT_AVAILABLE
    if type(exc.orig).__module__.startswith("psycopg"):
        return True  # no SQLSTATE: the server could not be reached or went away
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text  # SQLite: "database is locked" past the busy timeout


def _busy_response(request: Request) -> Response:
    """503 with Retry-After, drawn without the database (it is what is busy): no user, no navigation."""
    headers = {"Retry-After": str(BUSY_RETRY_SECONDS)}
    message = Message(BUSY_MESSAGE)
    if _wants_html(request):
        context = {"status": 503, "message": render_text(message, language_of(request)), "errors": []}
        response = render(request, "error.html", context, status_code=503)
        response.headers.update(headers)
        return response
    return JSONResponse({"detail": str(message)}, status_code=503, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DatabaseBusy)
    async def no_turn(request: Request, exc: DatabaseBusy) -> Response:
        logging.getLogger("fangkong").warning("no turn at the database in time on %s", request.url.path)
        return _busy_response(request)

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, exc: PoolTimeout) -> Response:
        logging.getLogger("fangkong").warning("no pooled connection in time on %s", request.url.path)
        return _busy_response(request)

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> Response:
        if not _database_busy(exc):
            logging.getLogger("fangkong").exception("database error on %s", request.url.path)
            return await _error_response(request, 500, "internal error; it has been logged")
        logging.getLogger("fangkong").warning("database busy on %s: %s", request.url.path, exc.orig)
        return _busy_response(request)

    @app.exception_handler(InvalidInput)
    async def invalid_input(request: Request, exc: InvalidInput) -> Response:
        return await _error_response(request, exc.status, exc.text, exc.errors, file=exc.file)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        response = await _error_response(request, exc.status, exc.text)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        # The JSON API keeps FastAPI's own wording; pages get the same errors in the reader's language.
        json_errors = [
            {
                "row": 1,
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        return await _error_response(
            request, 422, "invalid request", validation_errors(exc), json_errors=json_errors
        )

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # The database refused a value the schema let through (an integer beyond its column, a NUL
        # character): that is the caller's input, so a 422, never a 500.
        return await _error_response(
            request, 422, "a value is out of range or holds characters that cannot be stored"
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = await _error_response(request, exc.status_code, str(exc.detail))
        if exc.headers and response.status_code == exc.status_code:
            response.headers.update(exc.headers)  # Retry-After on a 429, WWW-Authenticate on a 401
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover - last resort
        logging.getLogger("fangkong").exception("unhandled error on %s", request.url.path)
        return await _error_response(request, 500, "internal error; it has been logged")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    import os
    import sys

    if os.environ.get("FK_SWITCH"):
        sys.setswitchinterval(float(os.environ["FK_SWITCH"]))
    clock.set_time_zone(settings.time_zone)
    worker_threads = settings.worker_threads

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The worker threads that run every plain-def route and dependency; the database's turns and
        # pool are sized against this number (Settings, DatabaseGate, PoolSize).
        anyio.to_thread.current_default_thread_limiter().total_tokens = worker_threads
        sweeping: asyncio.Task[None] | None = None
        if settings.sweep_seconds > 0:
            from fangkong.response.background import sweep_forever

            sweeping = asyncio.create_task(
                sweep_forever(app.state.db, settings.sweep_seconds, settings.closure_cutoff_hour)
            )
        yield
        if sweeping is not None:
            sweeping.cancel()

    app = FastAPI(
        title="fangkong",
        version=__version__,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        # fangkong exports no OpenTelemetry data; left on, FastAPI asks the global providers on every
        # request whether it should (environment reads and all), which costs the scanner's calls.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    pool = PoolSize.for_requests(
        settings.db_requests,
        timeout=settings.db_wait_seconds,
        lock_wait_seconds=settings.db_lock_wait_seconds,
    )
    app.state.db = Database(settings.resolved_database_url(), pool)
    app.state.db_gate = DatabaseGate(
        settings.db_requests, one_writer=not app.state.db.is_postgres, wait_seconds=settings.db_wait_seconds
    )
    app.state.vault = Vault(settings.encryption_key, settings.hash_key)
    app.state.signer = SessionSigner(settings.secret_key, settings.session_hours)
    app.state.token_principals = TokenPrincipals()
    app.state.login_throttle = LoginThrottle(
        ThrottlePolicy(
            window=dt.timedelta(minutes=settings.login_window_minutes),
            address_failures=settings.login_address_failures,
            address_max_wait=settings.login_address_max_wait_seconds,
            account_failures=settings.login_account_failures,
            account_max_delay=settings.login_account_max_delay_seconds,
        )
    )
    app.state.bus = build_bus()
    install_error_handlers(app)
    app.add_middleware(HtmxRedirects)
    documentation = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.add_middleware(
        SecurityHeaders,
        production=settings.env == "production",
        policy_exempt=frozenset(url for url in documentation if url),
    )

    # Async and without I/O: it answers from the event loop even when every worker thread is busy, so a
    # load balancer sees the process alive as long as it can serve at all. Declared first, so that it is
    # matched before the hundreds of routes below.
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from fangkong.routes import include_all

    include_all(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    return app
