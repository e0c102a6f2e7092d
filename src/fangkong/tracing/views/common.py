"""What the tracing pages share: the permission guards, paging, form parsing and error display."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep
from fangkong.core.errors import DomainError, InvalidInput, RowError
from fangkong.core.i18n import Message, render_text
from fangkong.core.permissions import Permission
from fangkong.tracing import service
from fangkong.tracing.rules import RuleError, parse_wall_time
from fangkong.tracing.schemas import MAX_ID
from fangkong.web.errors import shown_errors
from fangkong.web.templating import language_of

Reader = Annotated[Principal, Depends(Require(Permission.cases_read))]
Writer = Annotated[Principal, Depends(Require(Permission.cases_write))]
Assistant = Annotated[Principal, Depends(Require(Permission.assist_manage))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE_SIZE = 50


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_texts(exc: DomainError, request: Request) -> list[str]:
    """The error's messages for a page drawn without htmx, each naming its field by its label."""
    language = language_of(request)
    if isinstance(exc, InvalidInput):
        return [
            f"{e.label}{render_text(': ', language)}{e.text}" if e.label else e.text
            for e in shown_errors(exc.errors, language, file=exc.file)
        ]
    return [render_text(exc.text, language)]


def optional_date(text: str, field: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            [RowError(1, field, Message("“{value}” is not a date (write it as 2022-07-01)", value=text))]
        ) from None


def optional_time(text: str, field: str) -> dt.datetime | None:
    if not text.strip():
        return None
    try:
        return parse_wall_time(text.replace("T", " ")).at
    except RuleError as exc:
        raise InvalidInput([RowError(1, field, exc.text)]) from None


def id_or_none(text: str) -> int | None:
    value = text.strip()
    return int(value) if value.isdigit() and 1 <= int(value) <= MAX_ID else None


def optional_number(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput([RowError(1, field, Message("“{value}” is not a number", value=text))]) from None


def picker_communities(session: SessionDep, principal: Principal) -> list[service.PlaceGroup]:
    """The community picker's choices, for those who enter people."""
    if not principal.can(Permission.cases_write) and not principal.can(Permission.assist_manage):
        return []
    return service.community_choices(session, principal)


def query_string(values: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in values.items() if v not in ("", None)})
