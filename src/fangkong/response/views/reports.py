"""The daily report page: ``/reports/{code}/{day}`` shows one published closure as the report (headline
figures, the charts, every section, the provisional notice) in the reader's language, with links to
the same report as PDF and Excel workbook. The page and the PDF are one template
(``response/report.html``); only the layout around it differs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep
from fangkong.core.permissions import Permission
from fangkong.response.service import report
from fangkong.web.templating import language_of, render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, Depends(Require(Permission.response_read))]
Code = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_~-]+$")]


@router.get("/reports/{code}/{day}", response_class=HTMLResponse)
def report_page(
    request: Request,
    code: Code,
    day: dt.date,
    principal: Reader,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """The day's report of a jurisdiction, from its published closure (the latest version unless asked)."""
    language = language_of(request)
    jid = report.jurisdiction_id_for(session, principal, code)
    context = report.report_context(session, principal, jid, day, version, language)
    query = urlencode({"lang": language, "version": context["version"]})
    base = f"/api/response/reports/{code}/{day.isoformat()}"
    downloads = {
        "pdf": f"{base}.pdf?{query}",
        "xlsx": f"{base}.xlsx?{query}",
        "version_url": f"/reports/{code}/{day.isoformat()}?version=",
    }
    page = report.template_context(context, layout=report.PAGE_LAYOUT)
    # The page's own words (navigation, the language switch) come from render(); the report's from above.
    for key in ("_", "pgettext", "lang"):
        page.pop(key)
    return render(request, report.TEMPLATE, {**page, "downloads": downloads}, principal=principal)
