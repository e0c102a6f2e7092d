"""create_app(): one FastAPI app serving the JSON API (/api/...) and the web pages."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fangkong import __version__
from fangkong.core import clock
from fangkong.core.auth import Principal, SessionSigner
from fangkong.core.config import Settings, get_settings
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.deps import _from_cookie
from fangkong.core.errors import DomainError, InvalidInput, RowError
from fangkong.core.i18n import Message, as_message, render_text
from fangkong.web.errors import HtmxRedirects, is_htmx, shown_errors, validation_errors
from fangkong.web.templating import STATIC_DIR, language_of, render
from fangkong.wiring import build_bus


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", "text/html"
    )


def _page_principal(request: Request) -> Principal | None:
    """The signed-in user of a page, so an error page keeps the navigation; None if it cannot be told."""
    try:
        with request.app.state.db.unit_of_work() as session:
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
    context = {
        "status": status,
        "message": "" if errors else render_text(message, language),
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
        return await run_in_threadpool(
            _html_error, request, status, as_message(message), errors or [], file
        )
    body: dict[str, Any] = {"detail": str(message)}
    if json_errors is None and errors is not None:
        json_errors = [{"row": e.row, "field": e.field, "message": e.message} for e in errors]
    if json_errors is not None:
        body["errors"] = json_errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidInput)
    async def invalid_input(request: Request, exc: InvalidInput) -> Response:
        return await _error_response(request, exc.status, exc.text, exc.errors, file=exc.file)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return await _error_response(request, exc.status, exc.text)

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
        return await _error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover - last resort
        import logging

        logging.getLogger("fangkong").exception("unhandled error on %s", request.url.path)
        return await _error_response(request, 500, "internal error; it has been logged")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    clock.set_time_zone(settings.time_zone)
    app = FastAPI(
        title="fangkong", version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json"
    )
    app.state.settings = settings
    app.state.db = Database(settings.resolved_database_url())
    app.state.vault = Vault(settings.encryption_key, settings.hash_key)
    app.state.signer = SessionSigner(settings.secret_key, settings.session_hours)
    app.state.bus = build_bus()
    install_error_handlers(app)
    app.add_middleware(HtmxRedirects)

    from fangkong.routes import include_all

    include_all(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
