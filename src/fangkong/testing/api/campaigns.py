"""Regional campaigns: made, listed, shown with the stop rule's advice, stopped."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.deps import SessionDep
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import under
from fangkong.testing import service
from fangkong.testing.api.common import ItemId, Manager, Reader, router
from fangkong.testing.models import Campaign
from fangkong.testing.schemas import (
    AdvicePublic,
    AreaPublic,
    CampaignCreate,
    CampaignDetail,
    CampaignPublic,
    CampaignStop,
    FrequencyPublic,
    RoundPublic,
    StopAdvicePublic,
)


def _area_names(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Jurisdiction.id, Jurisdiction.name).where(Jurisdiction.id.in_(ids)))
    return {int(jid): str(name) for jid, name in rows}


def _advice(found: service.rounds.CampaignAdvice) -> AdvicePublic:
    return AdvicePublic(
        campaign_id=found.campaign_id,
        rounds_closed=found.rounds_closed,
        stop=StopAdvicePublic(
            phase=found.stop.phase.value,
            stop=found.stop.stop,
            clean_streak=found.stop.clean_streak,
            next_round_on=found.stop.next_round_on,
        ),
        frequency=FrequencyPublic(
            interval_days=found.frequency.interval_days,
            reason=found.frequency.reason.value,
            next_round_on=found.frequency.next_round_on,
        ),
        next_round_on=found.next_round_on,
    )


def _detail(session: Session, principal: Principal, campaign: Campaign) -> CampaignDetail:
    areas = service.rounds.areas_of(session, campaign.id)
    names = _area_names(session, [a.jurisdiction_id for a in areas])
    return CampaignDetail(
        **CampaignPublic.model_validate(campaign).model_dump(),
        areas=[
            AreaPublic(
                jurisdiction_id=a.jurisdiction_id,
                jpath=a.jpath,
                name=names.get(a.jurisdiction_id, ""),
                sealed=a.sealed,
            )
            for a in areas
        ],
        rounds=[
            RoundPublic.model_validate(r) for r in service.rounds.rounds_of(session, principal, campaign.id)
        ],
        advice=_advice(service.rounds.advice(session, principal, campaign.id)),
    )


@router.post("/campaigns", response_model=CampaignDetail, status_code=201)
def create_campaign(body: CampaignCreate, principal: Manager, session: SessionDep) -> CampaignDetail:
    """A regional campaign over jurisdictions of yours, the sealed ones (one tube per household) named."""
    campaign = service.rounds.create_campaign(
        session,
        principal,
        name=body.name,
        areas=body.areas,
        sealed=body.sealed,
        pool_size=body.pool_size,
        deadline_hours=body.deadline_hours,
        reason=body.reason,
    )
    return _detail(session, principal, campaign)


@router.get("/campaigns", response_model=list[CampaignPublic])
def list_campaigns(principal: Reader, session: SessionDep) -> list[CampaignPublic]:
    """The campaigns in your jurisdiction, newest first."""
    rows = session.scalars(
        select(Campaign).where(under(Campaign.jpath, principal.jpath)).order_by(Campaign.id.desc())
    )
    return [CampaignPublic.model_validate(c) for c in rows]


@router.get("/campaigns/{campaign_id}", response_model=CampaignDetail)
def campaign_detail(
    campaign_id: ItemId,
    principal: Reader,
    session: SessionDep,
    source_unknown: bool = False,
    last_case_on: dt.date | None = None,
) -> CampaignDetail:
    """A campaign, its areas and rounds, and what the stop and frequency rules say now (the next round).

    ``source_unknown`` (the outbreak's source is not known yet) and ``last_case_on`` (the latest case
    tracing knows of in the area) feed the frequency rule.
    """
    campaign = service.rounds.get_campaign(session, principal, campaign_id)
    detail = _detail(session, principal, campaign)
    if source_unknown or last_case_on is not None:
        detail.advice = _advice(
            service.rounds.advice(
                session, principal, campaign.id, source_unknown=source_unknown, last_case_on=last_case_on
            )
        )
    return detail


@router.post("/campaigns/{campaign_id}/stop", response_model=CampaignPublic)
def stop_campaign(
    campaign_id: ItemId, body: CampaignStop, principal: Manager, session: SessionDep
) -> CampaignPublic:
    """End a campaign (its rounds must be closed)."""
    campaign = service.rounds.stop_campaign(session, principal, campaign_id, body.reason)
    return CampaignPublic.model_validate(campaign)
