"""A sampling site's page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from fangkong.core.deps import RowId, SessionDep
from fangkong.core.errors import NotFound
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope
from fangkong.testing.models import Campaign, CampaignRound, SamplingSite, Tube, TubeMember
from fangkong.testing.service import rounds
from fangkong.testing.views.common import Reader, _can, router
from fangkong.web.templating import render


@router.get("/testing/sites/{site_id}", response_class=HTMLResponse)
def site_page(request: Request, site_id: RowId, principal: Reader, session: SessionDep) -> Response:
    site = session.get(SamplingSite, site_id)
    if site is None or not path_in_scope(site.jpath, principal.jpath):
        raise NotFound(Message("sampling site {id} not found", id=site_id))
    campaign = session.get(Campaign, site.campaign_id) if site.campaign_id is not None else None
    place = session.get(Jurisdiction, site.jurisdiction_id)
    by_round = session.execute(
        select(
            CampaignRound.id,
            CampaignRound.number,
            CampaignRound.day,
            func.count(func.distinct(Tube.id)),
            func.count(TubeMember.id),
            func.count(func.distinct(Tube.id)).filter(Tube.result.is_not(None)),
        )
        .select_from(Tube)
        .join(CampaignRound, CampaignRound.id == Tube.round_id)
        .outerjoin(TubeMember, TubeMember.tube_id == Tube.id)
        .where(Tube.site_id == site.id)
        .group_by(CampaignRound.id, CampaignRound.number, CampaignRound.day)
        .order_by(CampaignRound.number)
    ).all()
    expected = 0
    if campaign is not None:
        latest = session.scalar(
            select(CampaignRound)
            .where(CampaignRound.campaign_id == campaign.id)
            .order_by(CampaignRound.number.desc())
            .limit(1)
        )
        if latest is not None:
            for community in rounds.site_plan(session, principal, latest.id):
                if community.jurisdiction_id == site.jurisdiction_id and community.sizing.sites:
                    # The site's share of its community, as the rule sized it (its number in the name).
                    siblings = session.scalars(
                        select(SamplingSite.id)
                        .where(
                            SamplingSite.campaign_id == campaign.id,
                            SamplingSite.jurisdiction_id == site.jurisdiction_id,
                        )
                        .order_by(SamplingSite.id)
                    ).all()
                    index = list(siblings).index(site.id)
                    people = community.sizing.people_per_site
                    expected = people[index] if index < len(people) else 0
    return render(
        request,
        "testing/site.html",
        {
            "site": site,
            "campaign": campaign,
            "place": place.name if place is not None else "",
            "by_round": by_round,
            "expected": expected,
            **_can(principal),
        },
        principal=principal,
    )
