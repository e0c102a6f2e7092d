"""The tracing overview: the period's key figures and the latest clusters."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fangkong.core import clock
from fangkong.core.deps import SessionDep
from fangkong.tracing import clusters
from fangkong.tracing.rules import clamp_day
from fangkong.tracing.views.common import (
    Reader,
)
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/tracing", response_class=HTMLResponse)
def tracing_home(
    request: Request,
    principal: Reader,
    session: SessionDep,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Response:
    until = clamp_day(until or clock.today())
    since = clamp_day(since or until - dt.timedelta(days=27))
    kpis = clusters.kpis(session, principal, min(since, until), until)
    rows, total = clusters.list_clusters(session, principal, page=1, size=10)
    return render(
        request,
        "tracing/home.html",
        {"k": kpis, "clusters": rows, "cluster_total": total, "since": since, "until": until},
        principal=principal,
    )
