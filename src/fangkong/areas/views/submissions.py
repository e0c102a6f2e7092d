"""The checks a public submission passes before the database is touched: same origin (the Origin and
Fetch-Metadata headers), the address's allowance for arrival reports, the size of the body, and its
shape (a JSON object or a form).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl, urlparse

from fastapi import Depends, Request

from fangkong.areas import service
from fangkong.core.deps import client_ip
from fangkong.core.errors import DomainError, Forbidden, InvalidInput, RowError
from fangkong.core.i18n import Message

# A public form is a few hundred bytes; anything past this is refused unread (413).
MAX_PUBLIC_BODY = 16 * 1024


class PayloadTooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415


def _same_origin(request: Request) -> None:
    """Refuse a submission another site's page makes a browser send (its Origin or Fetch-Metadata says
    so). The public forms need no CSRF token: they act for nobody signed in; this keeps other sites
    from spending a visitor's allowance or posting in their name."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        raise Forbidden(Message("submissions from another site are refused"))
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser's cross-origin request (curl, an app, an old browser's same-site form)
    host = request.headers.get("host", "")
    if origin == "null" or urlparse(origin).netloc != host:
        raise Forbidden(Message("submissions from another site are refused"))


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_PUBLIC_BODY):
        raise PayloadTooLarge(Message("the submission is larger than {limit} bytes", limit=MAX_PUBLIC_BODY))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PUBLIC_BODY:
            raise PayloadTooLarge(
                Message("the submission is larger than {limit} bytes", limit=MAX_PUBLIC_BODY)
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _fields_of(request: Request, body: bytes, *, json_only: bool) -> dict[str, object]:
    """The submitted fields: a JSON object, or (a form) url-encoded text; anything else is refused."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput([RowError(1, "body", Message("not UTF-8 text"))]) from None
    if media == "application/json":
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            raise InvalidInput([RowError(1, "body", Message("not valid JSON"))]) from None
        if not isinstance(data, dict):
            raise InvalidInput([RowError(1, "body", Message("send one JSON object of fields"))])
        return {str(k): v for k, v in data.items()}
    if media == "application/x-www-form-urlencoded" and not json_only:
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=40, strict_parsing=False)
        except ValueError:
            raise InvalidInput([RowError(1, "body", Message("too many fields"))]) from None
        fields: dict[str, object] = {}
        for key, value in pairs:
            if key in fields:
                raise InvalidInput([RowError(1, key[:30], Message("given more than once"))])
            fields[key] = value
        return fields
    raise UnsupportedMediaType(
        Message("send the fields as {kinds}", kinds="application/json" if json_only else "a form or JSON")
    )


@dataclass(frozen=True)
class Submission:
    """A public submission that passed the checks made before the database: its fields and address."""

    fields: dict[str, object]
    ip: str


async def public_arrival_submission(request: Request) -> Submission:
    """Origin, the address's allowance (counted before anything is read: floods are refused unread),
    the size and the shape of a public arrival report. No database: it runs on the event loop."""
    _same_origin(request)
    ip = client_ip(request)
    service.arrivals.PUBLIC_LIMITER.check(ip)
    body = await _bounded_body(request)
    return Submission(_fields_of(request, body, json_only=request.url.path.startswith("/public/api/")), ip)


async def public_form_submission(request: Request) -> Submission:
    """The subscription forms: origin, size and shape (their allowance is the service's, per attempt)."""
    _same_origin(request)
    body = await _bounded_body(request)
    return Submission(_fields_of(request, body, json_only=False), client_ip(request))


ArrivalSubmission = Annotated[Submission, Depends(public_arrival_submission)]
FormSubmission = Annotated[Submission, Depends(public_form_submission)]
