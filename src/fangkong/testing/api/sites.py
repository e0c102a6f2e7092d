"""Sampling sites (sized by the rule, set up, made by hand) and laboratories."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.deps import SessionDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope, under
from fangkong.testing import service
from fangkong.testing.api.common import ItemId, Manager, QueryId, Reader, _actor, router
from fangkong.testing.models import Campaign, SamplingSite
from fangkong.testing.schemas import (
    LaboratoryCreate,
    LaboratoryPublic,
    SiteCreate,
    SitePlanPublic,
    SitePublic,
)

# ------------------------------------------------------------------------------------------ sites


@router.get("/rounds/{round_id}/site-plan", response_model=list[SitePlanPublic])
def site_plan(round_id: ItemId, principal: Reader, session: SessionDep) -> list[SitePlanPublic]:
    """Sites and samplers each community needs for the round, by the rule (rt.sites)."""
    return [
        SitePlanPublic(
            jurisdiction_id=c.jurisdiction_id,
            jpath=c.jpath,
            name=c.name,
            population=c.sizing.population,
            sites=c.sizing.sites,
            samplers=c.sizing.samplers,
            people_per_site=list(c.sizing.people_per_site),
            samplers_per_site=list(c.sizing.samplers_per_site),
        )
        for c in service.rounds.site_plan(session, principal, round_id)
    ]


@router.post("/rounds/{round_id}/sites", response_model=list[SitePublic])
def set_up_sites(round_id: ItemId, principal: Manager, session: SessionDep) -> list[SitePublic]:
    """Make the campaign's sampling sites match the round's plan (again, without doubling)."""
    return [SitePublic.model_validate(s) for s in service.rounds.set_up_sites(session, principal, round_id)]


@router.get("/sites", response_model=list[SitePublic])
def list_sites(
    principal: Reader, session: SessionDep, campaign_id: QueryId = None, active: bool | None = None
) -> list[SitePublic]:
    """Sampling sites in your jurisdiction (of one campaign), by place."""
    query = select(SamplingSite).where(under(SamplingSite.jpath, principal.jpath))
    if campaign_id is not None:
        query = query.where(SamplingSite.campaign_id == campaign_id)
    if active is not None:
        query = query.where(SamplingSite.active == active)
    rows = session.scalars(query.order_by(SamplingSite.jpath, SamplingSite.id))
    return [SitePublic.model_validate(s) for s in rows]


def _place_in_scope(session: Session, principal: Principal, jurisdiction_id: int) -> Jurisdiction:
    place = session.get(Jurisdiction, jurisdiction_id)
    if place is None or not path_in_scope(place.path, principal.jpath):
        raise InvalidInput(
            [RowError(1, "jurisdiction_id", Message("jurisdiction {id} not found", id=jurisdiction_id))]
        )
    return place


@router.post("/sites", response_model=SitePublic, status_code=201)
def create_site(body: SiteCreate, principal: Manager, session: SessionDep, request: Request) -> SitePublic:
    """A sampling site in a place of yours (of a campaign covering it, if given)."""
    place = _place_in_scope(session, principal, body.jurisdiction_id)
    if body.campaign_id is not None:
        campaign = session.get(Campaign, body.campaign_id)
        if campaign is None or not path_in_scope(campaign.jpath, principal.jpath):
            raise InvalidInput(
                [RowError(1, "campaign_id", Message("campaign {id} not found", id=body.campaign_id))]
            )
    site = SamplingSite(
        campaign_id=body.campaign_id,
        jurisdiction_id=place.id,
        jpath=place.path,
        name=body.name.strip() or body.name,
        samplers=body.samplers,
        active=True,
        created_at=clock.utcnow(),
    )
    session.add(site)
    session.flush()
    audit.record(
        session,
        _actor(principal, request),
        "testing.site.create",
        "testing_sampling_site",
        site.id,
        detail={"name": site.name, "campaign": body.campaign_id, "samplers": body.samplers},
        jpath=site.jpath,
    )
    return SitePublic.model_validate(site)


# ------------------------------------------------------------------------------------------ laboratories


@router.get("/laboratories", response_model=list[LaboratoryPublic])
def list_laboratories(principal: Reader, session: SessionDep) -> list[LaboratoryPublic]:
    """Laboratories in your jurisdiction and those above it that serve it (a city's lab for a county)."""
    return [
        LaboratoryPublic.model_validate(lab) for lab in service.labs.list_laboratories(session, principal)
    ]


@router.post("/laboratories", response_model=LaboratoryPublic, status_code=201)
def create_laboratory(
    body: LaboratoryCreate, principal: Manager, session: SessionDep, request: Request
) -> LaboratoryPublic:
    """A laboratory of a place of yours, with its capacity and its turnaround deadline."""
    lab = service.labs.create_laboratory(
        session,
        principal,
        name=body.name,
        jurisdiction_code=body.jurisdiction_code,
        tests_per_hour=body.tests_per_hour,
        turnaround_hours=body.turnaround_hours,
        ip=client_ip(request),
    )
    return LaboratoryPublic.model_validate(lab)
