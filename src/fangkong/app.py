"""create_app(): one FastAPI app serving the JSON API (/api/...) and the web pages."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fangkong import __version__
from fangkong.core.auth import SessionSigner
from fangkong.core.config import Settings, get_settings
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.errors import DomainError, InvalidInput
from fangkong.web.templating import STATIC_DIR, render
from fangkong.wiring import build_bus


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", "text/html"
    )


def _error_response(
    request: Request, status: int, message: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    if _wants_html(request):
        if status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return render(
            request,
            "error.html",
            {"status": status, "message": message, "errors": errors or []},
            status_code=status,
        )
    body: dict[str, Any] = {"detail": message}
    if errors is not None:
        body["errors"] = errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidInput)
    async def invalid_input(request: Request, exc: InvalidInput) -> Response:
        errors = [{"row": e.row, "field": e.field, "message": e.message} for e in exc.errors]
        return _error_response(request, exc.status, exc.message, errors)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return _error_response(request, exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "row": 1,
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        return _error_response(request, 422, "invalid request", errors)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # The database refused a value the schema let through (an integer beyond its column, a NUL
        # character): that is the caller's input, so a 422, never a 500.
        return _error_response(
            request, 422, "a value is out of range or holds characters that cannot be stored"
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover - last resort
        import logging

        logging.getLogger("fangkong").exception("unhandled error on %s", request.url.path)
        return _error_response(request, 500, "internal error; it has been logged")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="fangkong", version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json"
    )
    app.state.settings = settings
    app.state.db = Database(settings.resolved_database_url())
    app.state.vault = Vault(settings.encryption_key, settings.hash_key)
    app.state.signer = SessionSigner(settings.secret_key, settings.session_hours)
    app.state.bus = build_bus()
    install_error_handlers(app)

    from fangkong.routes import include_all

    include_all(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
