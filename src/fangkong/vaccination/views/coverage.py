"""The coverage page (/vaccination/coverage), Chinese first: the counts of a jurisdiction by age band with
numerators, denominators, rates and dropout; the weekly trend of the chosen band (ECharts); the
jurisdictions under it as tiles coloured by the chosen measure for people ≥ 60 (like the signal board:
no boundary files offline) and as a paged ranking, lowest first; a click on either drills down.

Administrators count coverage again from here; everyone else reads the stored counts.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep, client_ip
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.core.scope import ancestor_paths
from fangkong.vaccination.rules.bands import ALL_BANDS, ELDERLY
from fangkong.vaccination.rules.coverage import FAIR_RATE, GOOD_RATE, MEASURES, tile_class
from fangkong.vaccination.service import coverage
from fangkong.web.templating import focus_of, render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [
    (Permission.vaccination_read, "/vaccination/coverage", "Vaccination coverage")
]

Reader = Annotated[Principal, Depends(Require(Permission.vaccination_read))]
Counter = Annotated[Principal, Depends(Require(Permission.doses_import))]
RANKING_PAGE = 20

BAND_LABELS = {
    "3-17": "Aged 3–17",
    "18-59": "Aged 18–59",
    "60-69": "Aged 60–69",
    "70-79": "Aged 70–79",
    "80+": "Aged 80 and over",
    "60+": "Aged 60 and over",
    "all": "Everyone aged 3 and over",
}
MEASURE_LABELS = {
    "at_least_one": "At least one dose",
    "primary_complete": "Primary series complete",
    "booster": "Booster",
    "second_booster": "Second booster",
}


def _code_of(request: Request, principal: Principal, session: SessionDep, jurisdiction: str) -> str:
    """The code asked for, else the jurisdiction picked in the header, else the user's own."""
    if jurisdiction.strip():
        return jurisdiction.strip()
    node = session.get(Jurisdiction, focus_of(request, principal))
    return node.code if node is not None else ""


@router.get("/vaccination/coverage", response_class=HTMLResponse)
def coverage_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    jurisdiction: Annotated[str, Query(max_length=12)] = "",
    band: Annotated[str, Query(max_length=8)] = ELDERLY,
    measure: Annotated[str, Query(max_length=24)] = "primary_complete",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    band = band if band in ALL_BANDS else ELDERLY
    measure = measure if measure in MEASURES else "primary_complete"
    node = coverage.place(session, principal, _code_of(request, principal, session, jurisdiction))
    table = coverage.table_for(session, node)
    trend = {m: coverage.trend(session, principal, node.code, band, m) for m in MEASURES}
    ranking = coverage.ranking(session, principal, node.code, band, measure, page, RANKING_PAGE)
    # Tiles: the children by the chosen measure for people ≥ 60 (at most a page of 200 children).
    tiles = coverage.ranking(session, principal, node.code, ELDERLY, measure, 1, coverage.MAX_PAGE_SIZE)
    crumbs = sorted(
        (
            j
            for j in session.scalars(
                select(Jurisdiction).where(Jurisdiction.path.in_(ancestor_paths(node.path)))
            )
            if j.path.startswith(principal.jpath)
        ),
        key=lambda j: len(j.path),
    )
    days = [p.as_of.isoformat() for p in trend[MEASURES[0]]]
    trend_json = {
        "days": days,
        "series": [
            {
                "measure": m,
                "points": [
                    {
                        "rate": None if p.rate is None else round(p.rate * 100, 2),
                        "n": p.numerator,
                        "d": p.denominator,
                    }
                    for p in trend[m]
                ],
            }
            for m in MEASURES
        ],
    }
    tile_rows = [
        {
            "code": p.code,
            "name": p.name,
            "rate": None if p.rate is None else round(p.rate * 100, 1),
            "n": p.numerator,
            "d": p.denominator,
            "cls": tile_class(p.rate),
        }
        for p in sorted(tiles.items, key=lambda p: p.code)
    ]
    return render(
        request,
        "vaccination/coverage.html",
        {
            "node": node,
            "table": table,
            "band": band,
            "measure": measure,
            "bands": ALL_BANDS,
            "measures": MEASURES,
            "band_labels": BAND_LABELS,
            "measure_labels": MEASURE_LABELS,
            "ranking": ranking,
            "crumbs": crumbs,
            "has_trend": bool(days),
            "trend_json": json.dumps(trend_json),
            "tiles": tile_rows,
            "tiles_json": json.dumps(tile_rows, ensure_ascii=False),
            "good": round(GOOD_RATE * 100),
            "fair": round(FAIR_RATE * 100),
            "tile_class": tile_class,
            "can_refresh": principal.can(Permission.doses_import),
            "today": clock.today(),
        },
        principal=principal,
    )


@router.post("/vaccination/coverage/refresh")
def refresh_page(
    request: Request,
    principal: Counter,
    session: SessionDep,
    jurisdiction: Annotated[str, Form(max_length=12)] = "",
) -> RedirectResponse:
    actor = audit.Actor(principal.user_id, principal.username, client_ip(request))
    coverage.refresh(session, actor=actor)
    target = "/vaccination/coverage" + (f"?jurisdiction={jurisdiction}" if jurisdiction.isdigit() else "")
    return RedirectResponse(target, status_code=303)
