"""JSON routes of coverage: counts by band, the weekly trend, the ranking of child jurisdictions, a
refresh of the stored counts, and a contraindication recorded for a person.

Reading needs ``vaccination.read``; the refresh counts the whole registry again and is an
administrator's (``doses.import``, as the imports that change the counts wholesale); a contraindication
is recorded by the community workers who do the outreach (``outreach.work``). Every route touches the
database and is a plain ``def``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep, client_ip
from fangkong.core.permissions import Permission
from fangkong.vaccination.rules.coverage import MEASURES
from fangkong.vaccination.schemas.coverage import (
    Band,
    BandPublic,
    ContraindicationCreate,
    ContraindicationPublic,
    CoveragePublic,
    Measure,
    MeasurePublic,
    RankedPublic,
    RankingPublic,
    RefreshCreate,
    RefreshPublic,
    TrendPointPublic,
    TrendPublic,
)
from fangkong.vaccination.service import coverage, status

router = APIRouter(prefix="/api/vaccination", tags=["vaccination"])

Reader = Annotated[Principal, Depends(Require(Permission.vaccination_read))]
Counter = Annotated[Principal, Depends(Require(Permission.doses_import))]
Worker = Annotated[Principal, Depends(Require(Permission.outreach_work))]
Code = Annotated[str | None, Query(max_length=12, pattern=r"^\d{6,12}$", description="jurisdiction code")]


def coverage_public(table: coverage.CoverageTable) -> CoveragePublic:
    bands = []
    for row in table.rows:
        c = row.counts
        measures = {
            m: MeasurePublic(numerator=c.numerators[i], denominator=c.denominator, rate=c.rate(m))
            for i, m in enumerate(MEASURES)
        }
        bands.append(BandPublic(band=row.band, denominator=c.denominator, dropout=c.dropout, **measures))
    return CoveragePublic(
        jurisdiction_code=table.code, jurisdiction_name=table.name, as_of=table.as_of, bands=bands
    )


def ranking_public(ranking: coverage.Ranking, band: str, measure: str) -> RankingPublic:
    items = [
        RankedPublic(
            rank=p.rank,
            jurisdiction_code=p.code,
            jurisdiction_name=p.name,
            numerator=p.numerator,
            denominator=p.denominator,
            rate=p.rate,
        )
        for p in ranking.items
    ]
    return RankingPublic(
        as_of=ranking.as_of,
        band=band,
        measure=measure,
        items=items,
        total=ranking.total,
        page=ranking.page,
        size=ranking.size,
        pages=ranking.pages,
    )


@router.get("/coverage", response_model=CoveragePublic)
def coverage_by_band(principal: Reader, session: SessionDep, jurisdiction: Code = None) -> CoveragePublic:
    """Numerators, denominators, rates and dropout by age band (and ≥ 60, everyone) for a jurisdiction
    in your scope (your own by default), on its latest counted day."""
    return coverage_public(coverage.coverage_table(session, principal, jurisdiction))


@router.get("/coverage/trend", response_model=TrendPublic)
def coverage_trend(
    principal: Reader,
    session: SessionDep,
    jurisdiction: Code = None,
    band: Band = "60+",
    measure: Measure = "primary_complete",
) -> TrendPublic:
    """One point per week end counted, and the latest day."""
    node = coverage.place(session, principal, jurisdiction)
    points = coverage.trend(session, principal, node.code, band, measure)
    return TrendPublic(
        jurisdiction_code=node.code,
        band=band,
        measure=measure,
        points=[
            TrendPointPublic(as_of=p.as_of, numerator=p.numerator, denominator=p.denominator, rate=p.rate)
            for p in points
        ],
    )


@router.get("/coverage/ranking", response_model=RankingPublic)
def coverage_ranking(
    principal: Reader,
    session: SessionDep,
    jurisdiction: Code = None,
    band: Band = "60+",
    measure: Measure = "primary_complete",
    lowest_first: bool = True,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=coverage.MAX_PAGE_SIZE)] = 50,
) -> RankingPublic:
    """The jurisdictions directly under one, by their rate (lowest first unless asked)."""
    found = coverage.ranking(
        session, principal, jurisdiction, band, measure, page, size, lowest_first=lowest_first
    )
    return ranking_public(found, band, measure)


@router.post("/coverage/refresh", response_model=RefreshPublic)
def coverage_refresh(
    request: Request, principal: Counter, session: SessionDep, body: RefreshCreate | None = None
) -> RefreshPublic:
    """Count coverage again for every jurisdiction (today and the last week ends)."""
    actor = audit.Actor(principal.user_id, principal.username, client_ip(request))
    today = clock.today()
    rows = coverage.refresh(session, today, (body or RefreshCreate()).weeks, actor=actor)
    return RefreshPublic(as_of=today, rows=rows)


@router.post("/contraindications", response_model=ContraindicationPublic, status_code=201)
def record_contraindication(
    request: Request, body: ContraindicationCreate, principal: Worker, session: SessionDep
) -> ContraindicationPublic:
    """Record why a person may not be vaccinated now; their status is evaluated again."""
    found = status.record_contraindication(
        session, principal, body.person_id, body.reason, body.until, body.note, ip=client_ip(request)
    )
    now = status.status_of(session, principal, body.person_id)
    return ContraindicationPublic(
        id=found.id,
        person_id=found.person_id,
        reason=found.reason,
        recorded_on=found.recorded_on,
        until=found.until,
        state=now.state,
        next_kind=now.next_kind,
        due_on=now.due_on,
        contraindication=now.contraindication,
    )
