"""How a page shows an error: inline beside the field for a form, a whole page with its navigation else.

Every page form is an htmx form (``hx-boost="true"`` or ``hx-post``). When its request fails
(``InvalidInput``, any ``DomainError``, FastAPI's ``RequestValidationError``), the app's error handler
answers htmx with the fragment ``_form_errors.html``: a summary naming each field by the label the
user reads, and one item per field. ``static/js/forms.js`` puts the summary at the top of the form that
was sent and each message beside its field, and swaps nothing else, so what was typed stays. A request
without htmx (no script) gets ``error.html``: the same messages in a full page with the navigation.

A successful form answers a redirect as before; ``HtmxRedirects`` turns it into ``HX-Redirect`` for
htmx, so the browser loads the next page whole (its own scripts and styles), as a plain form would
(``HX-Refresh`` when the redirect leads back to the same page, which the browser would only scroll).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from fangkong.core.errors import RowError
from fangkong.core.i18n import Message, field_label, render_text


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


@dataclass(frozen=True)
class ShownError:
    """One error as a page shows it: the field's name (for its slot), its label and the message."""

    row: int
    field: str
    label: str
    text: str


def shown_errors(errors: list[RowError], language: str, *, file: bool) -> list[ShownError]:
    """Errors in ``language``; a file's columns keep the names the file gave them."""
    return [
        ShownError(
            e.row,
            e.field,
            ("" if e.field == "*" else e.field) if file else field_label(e.field, language),
            render_text(e.text, language),
        )
        for e in errors
    ]


# ------------------------------------------------------------------------------------------ validation

# FastAPI's (pydantic's) error types, in words a person reads; anything not listed is "is not valid".
_PYDANTIC: dict[str, str] = {
    "missing": "is required",
    "string_too_long": "must be at most {limit} characters",
    "string_too_short": "must be at least {limit} characters",
    "string_pattern_mismatch": "is not in the expected form",
    "int_parsing": "“{value}” is not a whole number",
    "int_from_float": "“{value}” is not a whole number",
    "int_type": "“{value}” is not a whole number",
    "float_parsing": "“{value}” is not a number",
    "float_type": "“{value}” is not a number",
    "bool_parsing": "“{value}” is neither yes nor no",
    "greater_than_equal": "must be at least {limit}",
    "greater_than": "must be more than {limit}",
    "less_than_equal": "must be at most {limit}",
    "less_than": "must be less than {limit}",
    "enum": "“{value}” is not one of the choices",
    "literal_error": "“{value}” is not one of the choices",
    "date_parsing": "“{value}” is not a date (write it as 2022-07-01)",
    "date_from_datetime_parsing": "“{value}” is not a date (write it as 2022-07-01)",
    "date_type": "“{value}” is not a date (write it as 2022-07-01)",
    "datetime_parsing": "“{value}” is not a time (write it as 2022-07-01 18:30, or a date)",
    "datetime_from_date_parsing": "“{value}” is not a time (write it as 2022-07-01 18:30, or a date)",
    "json_invalid": "is not valid JSON",
    "value_error": "is not valid",
}
_LIMIT_KEYS = ("max_length", "min_length", "ge", "gt", "le", "lt")


def validation_message(error: dict[str, Any]) -> Message:
    """One of FastAPI's validation errors as a message; the field is named separately (its label)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return Message("is required")
    template = _PYDANTIC.get(kind, "is not valid")
    limit = next((ctx[k] for k in _LIMIT_KEYS if k in ctx), "")
    shown = value if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    return Message(template, value=str(shown)[:60], limit=str(limit))


def validation_errors(exc: RequestValidationError) -> list[RowError]:
    """FastAPI's validation errors, one per field, named as the form names them (``onset_date``)."""
    found: list[RowError] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        found.append(RowError(1, ".".join(loc) or "*", validation_message(err)))
    return found


# ------------------------------------------------------------------------------------------ redirects


class HtmxRedirects:
    """A redirect answering an htmx request becomes ``HX-Redirect``: the browser then loads that page.

    Without it the browser's request would follow the redirect itself and htmx would paste the whole
    next page into the form. Plain ASGI (no response buffering): it only rewrites the start message.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(
            k == b"hx-request" and v == b"true" for k, v in scope.get("headers", ())
        ):
            await self.app(scope, receive, send)
            return

        current = next((v for k, v in scope.get("headers", ()) if k == b"hx-current-url"), b"")

        async def send_rewritten(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"location"]
                location = next((v for k, v in message.get("headers", ()) if k.lower() == b"location"), None)
                if location is not None:
                    if _same_page(location, current):
                        # Going to the same page (``#visits`` at most): the browser would only scroll.
                        headers.append((b"hx-refresh", b"true"))
                    else:
                        headers.append((b"hx-redirect", location))
                    message = {**message, "status": 200, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_rewritten)


def _same_page(location: bytes, current: bytes) -> bool:
    """Whether a redirect leads back to the page the form is on (path and query; the fragment aside)."""
    target = urlsplit(location.decode("latin-1"))
    here = urlsplit(current.decode("latin-1"))
    return bool(current) and (target.path, target.query) == (here.path, here.query)
