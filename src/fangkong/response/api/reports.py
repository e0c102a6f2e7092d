"""JSON routes of the daily report: ``/api/response/reports/{code}/{day}`` (the report as JSON),
``.pdf`` and ``.xlsx`` (the same report as files, named in ASCII for any browser or proxy).

Thin: the jurisdiction is found by its code in the caller's scope and ``service.report`` does the rest
from the published closure; a day without one is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep
from fangkong.core.permissions import Permission
from fangkong.response.service import report

router = APIRouter(prefix="/api/response", tags=["response"])

Reader = Annotated[Principal, Depends(Require(Permission.response_read))]
Code = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_~-]+$")]
Version = Annotated[int | None, Query(ge=1, le=10_000)]
Lang = Literal["zh", "en"]

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


# The file routes come first: "/{day}" alone would take "2026-12-06.pdf" as a (malformed) day.
@router.get("/reports/{code}/{day}.pdf", response_class=Response, responses={200: {"content": {PDF: {}}}})
def report_pdf(
    code: Code,
    day: dt.date,
    principal: Reader,
    session: SessionDep,
    version: Version = None,
    lang: Lang = "zh",
) -> Response:
    """The day's report as a PDF (summary pages with the charts), from the published closure."""
    jid = report.jurisdiction_id_for(session, principal, code)
    context = report.report_context(session, principal, jid, day, version, lang)
    content = report.context_pdf(context)
    return attachment(content, PDF, context["files"]["pdf"])


@router.get("/reports/{code}/{day}.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def report_xlsx(
    code: Code,
    day: dt.date,
    principal: Reader,
    session: SessionDep,
    version: Version = None,
    lang: Lang = "zh",
) -> Response:
    """The day's report as an Excel workbook: a summary, one sheet per section, the daily series."""
    jid = report.jurisdiction_id_for(session, principal, code)
    context = report.report_context(session, principal, jid, day, version, lang)
    return attachment(report.context_xlsx(context), XLSX, context["files"]["xlsx"])


@router.get("/reports/{code}/{day}")
def report_json(
    code: Code,
    day: dt.date,
    principal: Reader,
    session: SessionDep,
    version: Version = None,
    lang: Lang = "zh",
) -> dict[str, Any]:
    """The day's report as JSON: labelled sections, headline figures, the series and the frozen figures."""
    jid = report.jurisdiction_id_for(session, principal, code)
    return report.report_context(session, principal, jid, day, version, lang)
