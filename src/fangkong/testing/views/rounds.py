"""A round's dashboard (refreshed by htmx), its coverage page and the list of people not sampled."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import RowId, SessionDep, VaultDep, client_ip
from fangkong.core.i18n import translations
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope
from fangkong.testing.models import Campaign, CampaignRound, RoundState
from fangkong.testing.service import coverage
from fangkong.testing.views.common import (
    PROGRESS_STEP_MINUTES,
    REFRESH_SECONDS,
    XLSX,
    Reader,
    _can,
    _hours_left,
    coverage_class,
    router,
)
from fangkong.web.templating import language_of, render


def _progress_option(
    language: str, found: CampaignRound, points: Sequence[coverage.ProgressPoint], now: dt.datetime
) -> dict[str, Any]:
    """The ECharts option of a round's progress: share sampled through time against the deadline line."""
    gettext = translations(language).gettext

    def at(moment: dt.datetime) -> str:
        return clock.as_local(moment).strftime("%Y-%m-%d %H:%M")

    start, deadline = found.starts_at, found.deadline_at
    sampled = [[at(start), 0.0]] + [[at(p.at), round(p.share * 100, 1)] for p in points]
    return {
        "tooltip": {"trigger": "axis", "valueFormatter": None},
        "legend": {"data": [gettext("Sampled (% of expected)"), gettext("Pace to finish by the deadline")]},
        "grid": {"left": 50, "right": 30, "top": 40, "bottom": 40},
        "xAxis": {"type": "time", "min": at(start), "max": at(max(deadline, now) if points else deadline)},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {
                "name": gettext("Sampled (% of expected)"),
                "type": "line",
                "step": False,
                "areaStyle": {"opacity": 0.15},
                "data": sampled,
                "markLine": {
                    "symbol": "none",
                    "data": [{"xAxis": at(deadline), "name": gettext("Deadline")}],
                    "label": {"formatter": gettext("Deadline")},
                    "lineStyle": {"color": "#b42318", "type": "solid"},
                },
            },
            {
                "name": gettext("Pace to finish by the deadline"),
                "type": "line",
                "symbol": "none",
                "lineStyle": {"type": "dashed", "color": "#616e7c"},
                "data": [[at(start), 0], [at(deadline), 100]],
            },
        ],
    }


def _round_context(request: Request, session: Session, principal: Principal, round_id: int) -> dict[str, Any]:
    found, _scope = coverage.visible_round(session, principal, round_id)
    campaign = session.get(Campaign, found.campaign_id)
    assert campaign is not None
    counts = coverage.coverage(session, principal, round_id)
    points = coverage.progress(session, principal, round_id, step_minutes=PROGRESS_STEP_MINUTES)
    now = clock.utcnow()
    option = _progress_option(language_of(request), found, points, now)
    return {
        "round": found,
        "campaign": campaign,
        "counts": counts,
        "rows": [(c, coverage_class(c.share, c.expected)) for c in counts.communities],
        "share": min(counts.sampled / counts.expected, 1.0) if counts.expected else 0.0,
        "time_left": _hours_left(found.deadline_at, now),
        "live": found.state is RoundState.open,
        "refresh": REFRESH_SECONDS,
        "now": now,
        # Inside an attribute and a <script>: no "</" may end the script early (names are users' text).
        "option_json": json.dumps(option, ensure_ascii=False, default=str).replace("</", "<\\/"),
        "can_campaign": path_in_scope(campaign.jpath, principal.jpath),
        **_can(principal),
    }


@router.get("/testing/rounds/{round_id}", response_class=HTMLResponse)
def round_page(request: Request, round_id: RowId, principal: Reader, session: SessionDep) -> Response:
    return render(
        request,
        "testing/round.html",
        _round_context(request, session, principal, round_id),
        principal=principal,
    )


@router.get("/testing/rounds/{round_id}/live", response_class=HTMLResponse)
def round_live(request: Request, round_id: RowId, principal: Reader, session: SessionDep) -> Response:
    """The part of the dashboard that refreshes itself: counts per community and the chart's data."""
    return render(
        request,
        "testing/_round_live.html",
        _round_context(request, session, principal, round_id),
        principal=principal,
    )


@router.get("/testing/rounds/{round_id}/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, round_id: RowId, principal: Reader, session: SessionDep) -> Response:
    found, _scope = coverage.visible_round(session, principal, round_id)
    counts = coverage.coverage(session, principal, round_id)
    return render(
        request,
        "testing/coverage.html",
        {
            "round": found,
            "campaign": session.get(Campaign, found.campaign_id),
            "counts": counts,
            "rows": [(c, coverage_class(c.share, c.expected)) for c in counts.communities],
            "turnaround": coverage.turnaround(session, principal, round_id),
            "can_reveal": principal.can(Permission.people_reveal),
            **_can(principal),
        },
        principal=principal,
    )


@router.get("/testing/rounds/{round_id}/not-sampled.xlsx")
def not_sampled_xlsx(
    request: Request,
    round_id: RowId,
    principal: Reader,
    session: SessionDep,
    vault: VaultDep,
    community_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    """The people of the round not sampled, for the community workers who go and find them."""
    language: coverage.Language = "en" if language_of(request) == "en" else "zh"
    data = coverage.not_sampled_workbook(
        session,
        principal,
        round_id,
        vault=vault,
        community_id=community_id,
        language=language,
        ip=client_ip(request),
    )
    name = f"not-sampled-round-{round_id}" + (f"-{community_id}" if community_id else "") + ".xlsx"
    return Response(
        data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
    )
