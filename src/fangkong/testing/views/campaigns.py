"""The campaigns page, a campaign's page with its rounds and sites, and their forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, RowId, SessionDep
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.scope import under
from fangkong.testing.models import Campaign, CampaignRound, RoundState, SamplingSite, Tube, TubeMember
from fangkong.testing.rules.rounds import POOL_SIZES, ROUND_DEADLINE_HOURS
from fangkong.testing.service import rounds
from fangkong.testing.views.common import Manager, Reader, _can, _hours_left, _places, router
from fangkong.web.forms import whole_number
from fangkong.web.templating import render


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    place: str
    rounds: int
    latest: CampaignRound | None


def _campaigns(session: Session, principal: Principal) -> list[CampaignRow]:
    """Campaigns whose area lies in the caller's scope, newest first, with their latest round."""
    found = session.execute(
        select(Campaign, Jurisdiction.name)
        .join(Jurisdiction, Jurisdiction.id == Campaign.jurisdiction_id)
        .where(under(Campaign.jpath, principal.jpath))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(200)
    ).all()
    ids = [c.id for c, _name in found]
    latest: dict[int, CampaignRound] = {}
    counts: dict[int, int] = {}
    if ids:
        for row in session.scalars(
            select(CampaignRound)
            .where(CampaignRound.campaign_id.in_(ids))
            .order_by(CampaignRound.campaign_id, CampaignRound.number)
        ):
            latest[row.campaign_id] = row
            counts[row.campaign_id] = counts.get(row.campaign_id, 0) + 1
    return [CampaignRow(c, name, counts.get(c.id, 0), latest.get(c.id)) for c, name in found]


def _campaigns_context(session: Session, principal: Principal) -> dict[str, Any]:
    can = _can(principal)
    return {
        "campaigns": _campaigns(session, principal),
        "areas": _places(session, principal, [Level.township, Level.community]) if can["can_manage"] else [],
        "pool_sizes": POOL_SIZES,
        "default_hours": ROUND_DEADLINE_HOURS,
        **can,
    }


@router.get("/testing", response_class=HTMLResponse)
def campaigns_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    return render(
        request, "testing/campaigns.html", _campaigns_context(session, principal), principal=principal
    )


@router.post("/testing/campaigns")
def create_campaign(
    principal: Manager,
    session: SessionDep,
    name: Annotated[str, Form(max_length=120)] = "",
    areas: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    sealed: Annotated[list[int], Form()] = [],  # noqa: B006
    pool_size: Annotated[str, Form(max_length=4)] = "10",
    deadline_hours: Annotated[str, Form(max_length=6)] = str(ROUND_DEADLINE_HOURS),
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    campaign = rounds.create_campaign(
        session,
        principal,
        name=name,
        areas=areas,
        sealed=sealed,
        pool_size=whole_number(pool_size, "pool_size", low=1, high=20),
        deadline_hours=whole_number(deadline_hours, "deadline_hours", low=1, high=168),
        reason=reason.strip(),
    )
    return RedirectResponse(f"/testing/campaigns/{campaign.id}", status_code=303)


@dataclass(frozen=True)
class SiteRow:
    site: SamplingSite
    place: str
    tubes: int
    people: int


def _sites(session: Session, campaign_id: int) -> list[SiteRow]:
    """The campaign's sampling sites with the tubes and people sampled there (all rounds)."""
    tubes = dict(
        session.execute(
            select(Tube.site_id, func.count())
            .join(SamplingSite, SamplingSite.id == Tube.site_id)
            .where(SamplingSite.campaign_id == campaign_id)
            .group_by(Tube.site_id)
        ).all()
    )
    people = dict(
        session.execute(
            select(Tube.site_id, func.count(TubeMember.id))
            .join(TubeMember, TubeMember.tube_id == Tube.id)
            .join(SamplingSite, SamplingSite.id == Tube.site_id)
            .where(SamplingSite.campaign_id == campaign_id)
            .group_by(Tube.site_id)
        ).all()
    )
    return [
        SiteRow(site, name, int(tubes.get(site.id, 0)), int(people.get(site.id, 0)))
        for site, name in session.execute(
            select(SamplingSite, Jurisdiction.name)
            .join(Jurisdiction, Jurisdiction.id == SamplingSite.jurisdiction_id)
            .where(SamplingSite.campaign_id == campaign_id)
            .order_by(SamplingSite.jpath, SamplingSite.id)
        ).all()
    ]


@router.get("/testing/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign_id: RowId, principal: Reader, session: SessionDep) -> Response:
    campaign = rounds.get_campaign(session, principal, campaign_id)
    areas = rounds.areas_of(session, campaign.id)
    names = dict(
        session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                Jurisdiction.id.in_([a.jurisdiction_id for a in areas] + [campaign.jurisdiction_id])
            )
        ).all()
    )
    its_rounds = rounds.rounds_of(session, principal, campaign.id)
    now = clock.utcnow()
    latest = its_rounds[-1] if its_rounds else None
    return render(
        request,
        "testing/campaign.html",
        {
            "campaign": campaign,
            "place": names.get(campaign.jurisdiction_id, ""),
            "areas": [(a, names.get(a.jurisdiction_id, "")) for a in areas],
            "rounds": its_rounds,
            "latest": latest,
            "open_round": latest if latest is not None and latest.state is RoundState.open else None,
            "advice": rounds.advice(session, principal, campaign.id),
            "plan": rounds.site_plan(session, principal, latest.id) if latest is not None else [],
            "sites": _sites(session, campaign.id),
            "left": lambda moment: _hours_left(moment, now),
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/testing/campaigns/{campaign_id}/rounds")
def open_round(campaign_id: RowId, principal: Manager, session: SessionDep) -> Response:
    opened = rounds.open_round(session, principal, campaign_id)
    return RedirectResponse(f"/testing/rounds/{opened.id}", status_code=303)


@router.post("/testing/campaigns/{campaign_id}/stop")
def stop_campaign(
    campaign_id: RowId,
    principal: Manager,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    # Stopping a campaign ends testing of a whole area: the decision is written down.
    if not reason.strip():
        raise InvalidInput([RowError(1, "reason", Message("is required"))])
    rounds.stop_campaign(session, principal, campaign_id, reason.strip())
    return RedirectResponse(f"/testing/campaigns/{campaign_id}", status_code=303)


@router.post("/testing/rounds/{round_id}/close")
def close_round(
    round_id: RowId,
    principal: Manager,
    session: SessionDep,
    bus: BusDep,
    community_positives: Annotated[str, Form(max_length=9)] = "",
) -> Response:
    positives = (
        whole_number(community_positives, "community_positives", low=0, high=10_000_000)
        if community_positives.strip()
        else None
    )
    closed = rounds.close_round(session, principal, round_id, community_positives=positives, bus=bus)
    return RedirectResponse(f"/testing/campaigns/{closed.campaign_id}", status_code=303)


@router.post("/testing/rounds/{round_id}/sites")
def set_up_sites(round_id: RowId, principal: Manager, session: SessionDep) -> Response:
    found = rounds.get_round(session, principal, round_id)
    rounds.set_up_sites(session, principal, round_id)
    return RedirectResponse(f"/testing/campaigns/{found.campaign_id}#sites", status_code=303)
