"""Rounds of a campaign: opened, closed, their coverage, the list of people not sampled and the progress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from fangkong.core.deps import BusDep, SessionDep, VaultDep, client_ip
from fangkong.testing import service
from fangkong.testing.api.common import XLSX, ItemId, Lang, Manager, QueryId, Reader, instant, router
from fangkong.testing.schemas import (
    CommunityCoveragePublic,
    CoveragePublic,
    ProgressPointPublic,
    ProgressPublic,
    RoundClose,
    RoundOpen,
    RoundPublic,
    TurnaroundPublic,
)


@router.post("/campaigns/{campaign_id}/rounds", response_model=RoundPublic, status_code=201)
def open_round(campaign_id: ItemId, body: RoundOpen, principal: Manager, session: SessionDep) -> RoundPublic:
    """Open the campaign's next round: its deadline, and the people it expects per community."""
    found = service.rounds.open_round(
        session, principal, campaign_id, starts_at=instant(body.starts_at, "starts_at")
    )
    return RoundPublic.model_validate(found)


@router.get("/campaigns/{campaign_id}/rounds", response_model=list[RoundPublic])
def list_rounds(campaign_id: ItemId, principal: Reader, session: SessionDep) -> list[RoundPublic]:
    return [RoundPublic.model_validate(r) for r in service.rounds.rounds_of(session, principal, campaign_id)]


@router.get("/rounds/{round_id}", response_model=RoundPublic)
def get_round(round_id: ItemId, principal: Reader, session: SessionDep) -> RoundPublic:
    found, _scope = service.coverage.visible_round(session, principal, round_id)
    return RoundPublic.model_validate(found)


@router.post("/rounds/{round_id}/close", response_model=RoundPublic)
def close_round(
    round_id: ItemId, body: RoundClose, principal: Manager, session: SessionDep, bus: BusDep
) -> RoundPublic:
    """Close a round with the community infections it found (counted from its results when not given)."""
    found = service.rounds.close_round(
        session, principal, round_id, community_positives=body.community_positives, bus=bus
    )
    return RoundPublic.model_validate(found)


@router.get("/rounds/{round_id}/coverage", response_model=CoveragePublic)
def round_coverage(round_id: ItemId, principal: Reader, session: SessionDep) -> CoveragePublic:
    """应检未检 per community: expected, sampled, not sampled, without result; and the turnaround."""
    found = service.coverage.coverage(session, principal, round_id)
    times = service.coverage.turnaround(session, principal, round_id)
    return CoveragePublic(
        round_id=found.round_id,
        number=found.number,
        day=found.day,
        deadline_at=found.deadline_at,
        expected=found.expected,
        sampled=found.sampled,
        not_sampled=found.not_sampled,
        without_result=found.without_result,
        communities=[CommunityCoveragePublic.model_validate(c) for c in found.communities],
        turnaround=TurnaroundPublic.model_validate(times),
    )


@router.get("/rounds/{round_id}/not-sampled.xlsx")
def not_sampled_list(
    round_id: ItemId,
    principal: Reader,
    session: SessionDep,
    vault: VaultDep,
    request: Request,
    community_id: QueryId = None,
    reveal: bool = False,
    lang: Lang = "zh",
) -> Response:
    """The people not sampled in the round, for community workers (Excel); ``reveal`` shows names and
    numbers in full to a role that may see them (the export is audited), else they are masked."""
    content = service.coverage.not_sampled_workbook(
        session,
        principal,
        round_id,
        vault=vault if reveal else None,
        community_id=community_id,
        language=lang,
        ip=client_ip(request),
    )
    name = f"not-sampled-round-{round_id}.xlsx"
    return Response(
        content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _progress_chart(points: list[ProgressPointPublic], language: str) -> dict[str, Any]:
    """An ECharts line of the share of the expected people sampled through the round."""
    title = "Share sampled" if language == "en" else "已采样比例"
    return {
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [p.at.strftime("%m-%d %H:%M") for p in points]},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {
                "name": title,
                "type": "line",
                "areaStyle": {},
                "data": [round(p.share * 100, 1) for p in points],
            }
        ],
    }


@router.get("/rounds/{round_id}/progress", response_model=ProgressPublic)
def round_progress(
    round_id: ItemId,
    principal: Reader,
    session: SessionDep,
    step_minutes: Annotated[int, Query(ge=5, le=24 * 60)] = 60,
    chart: bool = False,
    lang: Lang = "zh",
) -> ProgressPublic:
    """People sampled by the end of each step of the round, for its progress chart."""
    points = [
        ProgressPointPublic.model_validate(p)
        for p in service.coverage.progress(session, principal, round_id, step_minutes=step_minutes)
    ]
    return ProgressPublic(
        round_id=round_id,
        step_minutes=step_minutes,
        points=points,
        chart=_progress_chart(points, lang) if chart else None,
    )
