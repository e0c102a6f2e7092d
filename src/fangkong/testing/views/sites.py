"""A sampling site's page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from fangkong.core import clock
from fangkong.core.deps import RowId, SessionDep, client_ip
from fangkong.core.errors import NotFound
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope
from fangkong.testing.models import Campaign, CampaignRound, SamplingSite, Tube, TubeMember
from fangkong.testing.service import rounds, site_staffing
from fangkong.testing.views.common import Manager, Reader, _can, router
from fangkong.web.forms import optional_iso_date, whole_number
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
            "samplers": site_staffing.samplers(session, principal, site.id),
            "postable": site_staffing.postable(session, principal, site.id),
            "today": clock.today().isoformat(),
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/testing/sites/{site_id}/samplers")
def post_sampler(
    request: Request,
    site_id: RowId,
    principal: Manager,
    session: SessionDep,
    staff_id: Annotated[str, Form(max_length=12)] = "",
    starts_on: Annotated[str, Form(max_length=10)] = "",
    ends_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Post a certified sampler to the site, from a day (today: now) until a day or open-ended."""
    site_staffing.post_sampler(
        session,
        principal,
        site_id,
        whole_number(staff_id, "staff_id", low=1, high=2**31 - 1),
        starts_on=optional_iso_date(starts_on, "starts_on"),
        ends_on=optional_iso_date(ends_on, "ends_on"),
        ip=client_ip(request),
    )
    return RedirectResponse(f"/testing/sites/{site_id}#samplers", status_code=303)


@router.post("/testing/sites/{site_id}/samplers/{posting_id}/end")
def unpost_sampler(
    request: Request, site_id: RowId, posting_id: RowId, principal: Manager, session: SessionDep
) -> Response:
    site_staffing.unpost_sampler(session, principal, site_id, posting_id, ip=client_ip(request))
    return RedirectResponse(f"/testing/sites/{site_id}#samplers", status_code=303)
