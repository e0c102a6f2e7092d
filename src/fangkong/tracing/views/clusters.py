"""Cluster pages: the cluster list and a cluster's chains."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from fangkong.core.deps import SessionDep
from fangkong.core.errors import RowError
from fangkong.core.i18n import Message
from fangkong.tracing import clusters, service
from fangkong.tracing.views.common import (
    PAGE_SIZE,
    PageNo,
    Reader,
)
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/tracing/clusters", response_class=HTMLResponse)
def clusters_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    min_size: Annotated[str, Query(max_length=12)] = "2",
    page: PageNo = 1,
) -> Response:
    # A bad filter is said in the filter form, which keeps what was typed (not an error page instead).
    errors: list[RowError] = []
    size = int(min_size) if min_size.strip().isdigit() else None
    if size is None:
        errors.append(RowError(1, "min_size", Message("“{value}” is not a whole number", value=min_size)))
    elif not 2 <= size <= 100_000:
        limit = 2 if size < 2 else 100_000
        words = "must be at least {limit}" if size < 2 else "must be at most {limit}"
        errors.append(RowError(1, "min_size", Message(words, limit=limit)))
    rows, total = (
        ([], 0)
        if errors
        else clusters.list_clusters(session, principal, min_size=size or 2, page=page, size=PAGE_SIZE)
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        "tracing/clusters.html",
        {"rows": rows, "total": total, "page": page, "pages": pages, "min_size": min_size, "errors": errors},
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.get("/tracing/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_page(request: Request, cluster_id: int, principal: Reader, session: SessionDep) -> Response:
    view = clusters.chain_view(session, principal, cluster_id)
    # The cluster's links pooled: the serial interval with its fitted distribution (tracing.service.serial).
    chains = service.serial_interval(session, principal, cluster_id=cluster_id)
    return render(
        request,
        "tracing/cluster.html",
        {"cluster_id": cluster_id, "stats": view["stats"], "chains": chains},
        principal=principal,
    )
