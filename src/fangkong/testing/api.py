"""JSON routes of the testing capability: thin (parse, call the service, shape the answer).

Every route that touches the database is a plain ``def`` (FastAPI runs it in a worker thread; see
``core.deps``). Reading needs ``testing.read``; campaigns, rounds, sites, laboratories and order syncing
need ``testing.manage`` (the testing coordinator); taking samples, the scanner and recalls need
``testing.sample`` (samplers and community workers); loading lab results needs ``lab.results``.

The scanner's route, ``POST /api/testing/scans``, is built for handhelds: one call takes one scan or a
device's whole offline queue, answers each scan on its own (recorded, already recorded, or refused with
the reason), is idempotent by (device, sequence), and is set-based whatever the batch size
(``service.scanning``). A refused scan never refuses the rest of the queue.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from fangkong.analytics.pooling import PoolingInputError
from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, SessionDep, SettingsDep, VaultDep, client_ip
from fangkong.core.errors import DomainError, InvalidInput, RowError
from fangkong.core.i18n import Message, render_text
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope, under
from fangkong.core.uploads import save_upload
from fangkong.testing import fhir_results, service
from fangkong.testing.models import (
    Campaign,
    RecallState,
    SamplingSite,
    TestPlace,
)
from fangkong.testing.rules import pool_planner as planner
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.schemas import (
    MAX_ID,
    AdvicePublic,
    AreaPublic,
    CampaignCreate,
    CampaignDetail,
    CampaignPublic,
    CampaignStop,
    CommunityCoveragePublic,
    CoveragePublic,
    FrequencyPublic,
    HistoryItemPublic,
    LaboratoryCreate,
    LaboratoryPublic,
    LoadReportPublic,
    LocatedCreate,
    OrderPage,
    OrderPublic,
    PoolOptionPublic,
    PoolPlanPublic,
    ProgressPointPublic,
    ProgressPublic,
    RecallPublic,
    RecallTimingPublic,
    RetestCreate,
    RoundClose,
    RoundOpen,
    RoundPublic,
    RowErrorPublic,
    SampleCreate,
    ScanBatch,
    ScanCreate,
    ScanOutcomePublic,
    ScanReportPublic,
    SiteCreate,
    SitePlanPublic,
    SitePublic,
    StopAdvicePublic,
    SyncPublic,
    TurnaroundPublic,
)

router = APIRouter(prefix="/api/testing", tags=["testing"])

Reader = Annotated[Principal, Depends(Require(Permission.testing_read))]
Manager = Annotated[Principal, Depends(Require(Permission.testing_manage))]
Sampler = Annotated[Principal, Depends(Require(Permission.testing_sample))]
Lab = Annotated[Principal, Depends(Require(Permission.lab_results))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=service.orders.MAX_PAGE_SIZE)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Lang = Literal["zh", "en"]

# A lab's results file for a city's round is a million rows of about 60 bytes; a FHIR bundle is bulkier.
MAX_RESULTS_BYTES = 256 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FHIR_JSON = "application/fhir+json"
# Smallest prevalence the planner is asked about: one in a billion, below any population it plans for. The
# optimum's search runs to about 2/sqrt(p) pool sizes, so a prevalence of 1e-15 would hold a worker for
# seconds and gigabytes of memory (and 5e-324 fails outright).
MIN_PREVALENCE = 1e-9
# Instants a request may name: none before this year, none further ahead than this (a typo, not a plan).
EARLIEST_YEAR = 2000
LATEST_AHEAD = dt.timedelta(days=366)
# A device clock running a little fast is not a refusal; a scan from next week is.
SCAN_CLOCK_SKEW = dt.timedelta(hours=1)


def _out_of_range(field: str, value: dt.datetime) -> RowError:
    return RowError(1, field, Message("{value} is out of range", value=value.isoformat()))


def instant(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A request time as an aware UTC instant: naive times are local wall-clock times."""
    if value is None:
        return None
    try:
        moment = clock.from_local(value)
    except (OverflowError, ValueError):
        raise InvalidInput([_out_of_range(field, value)]) from None
    if moment.year < EARLIEST_YEAR or moment > clock.utcnow() + LATEST_AHEAD:
        raise InvalidInput([_out_of_range(field, value)])
    return moment


def _actor(principal: Principal, request: Request) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, client_ip(request))


# ------------------------------------------------------------------------------------------ orders


def _order_page(result: service.orders.OrderPage) -> OrderPage:
    return OrderPage(
        items=[OrderPublic.model_validate(o) for o in result.items],
        total=result.total,
        page=result.page,
        size=result.size,
    )


@router.get("/orders/worklist", response_model=OrderPage)
def worklist(
    principal: Reader,
    session: SessionDep,
    day: dt.date | None = None,
    place: TestPlace | None = None,
    community_id: QueryId = None,
    page: PageNo = 1,
    size: PageSize = 50,
) -> OrderPage:
    """The tests due on ``day`` (default today) in your jurisdiction, a community, or at one kind of place."""
    result = service.orders.worklist(
        session,
        principal,
        day or clock.today(),
        place=place,
        community_id=community_id,
        page=page,
        size=size,
    )
    return _order_page(result)


@router.get("/orders/overdue", response_model=OrderPage)
def overdue(
    principal: Reader,
    session: SessionDep,
    on: dt.date | None = None,
    community_id: QueryId = None,
    page: PageNo = 1,
    size: PageSize = 50,
) -> OrderPage:
    """Tests due before ``on`` (default today) that nobody sampled: they hold their people's release."""
    result = service.orders.overdue(
        session, principal, on=on, community_id=community_id, page=page, size=size
    )
    return _order_page(result)


@router.post("/orders/sync", response_model=SyncPublic)
def sync_orders(principal: Manager, session: SessionDep, request: Request) -> SyncPublic:
    """Make the orders in your jurisdiction agree with the plans as they stand now."""
    report = service.orders.sync_orders(session, principal.jpath)
    audit.record(
        session,
        _actor(principal, request),
        "testing.orders.sync",
        "testing_orders",
        principal.jpath,
        detail=vars(report),
        jpath=principal.jpath,
    )
    return SyncPublic.model_validate(report)


@router.post("/orders/{order_id}/sample", response_model=OrderPublic)
def record_sample(
    order_id: ItemId, body: SampleCreate, principal: Sampler, session: SessionDep
) -> OrderPublic:
    """The ordered test was taken in a single tube (sending the same tube again changes nothing)."""
    view = service.orders.record_sample(session, principal, order_id, body.barcode, at=instant(body.at, "at"))
    return OrderPublic.model_validate(view)


@router.get("/people/{person_id}/tests", response_model=list[HistoryItemPublic])
def history(person_id: ItemId, principal: Reader, session: SessionDep) -> list[HistoryItemPublic]:
    """Every test of a person, ordered by a plan or taken in a round, oldest first."""
    return [
        HistoryItemPublic.model_validate(item)
        for item in service.orders.history_of(session, principal, person_id)
    ]


# ------------------------------------------------------------------------------------------ campaigns


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


# ------------------------------------------------------------------------------------------ rounds


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


# ------------------------------------------------------------------------------------------ scanning


@functools.lru_cache(maxsize=4)
def _codes(hash_key: str) -> ScanCodes:
    return ScanCodes(hash_key)


def _scan_time(value: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """A scan's time as aware UTC, or None when no swab can have been taken then."""
    try:
        moment = clock.from_local(value)
    except (OverflowError, ValueError):
        return None
    if moment.year < EARLIEST_YEAR or moment > now + SCAN_CLOCK_SKEW:
        return None
    return moment


@router.post("/scans", response_model=ScanReportPublic, response_model_exclude_none=True)
def scans(
    body: ScanBatch | ScanCreate,
    principal: Sampler,
    session: SessionDep,
    settings: SettingsDep,
    lang: Lang = "en",
) -> ScanReportPublic:
    """Bind people's codes to tubes: one scan, or a device's queue as ``{"scans": [...]}``.

    Each scan is answered on its own, in the order sent: ``recorded``; ``already_recorded`` (this device
    sent this sequence before: nothing is counted twice); or ``refused`` with the reason (a tube over its
    pool size, a person already sampled in the round, an unknown or forged code...). Safe to send again.
    """
    sent = body.scans if isinstance(body, ScanBatch) else [body]
    now = clock.utcnow()
    outcomes: list[ScanOutcomePublic | None] = [None] * len(sent)
    kept: list[int] = []
    batch: list[service.scanning.Scan] = []
    for i, scan in enumerate(sent):
        moment = _scan_time(scan.scanned_at, now)
        if moment is None:
            message = Message(
                "the scan time {value} is not a time a swab was taken", value=str(scan.scanned_at)
            )
            outcomes[i] = ScanOutcomePublic(
                i=i,
                seq=scan.device_seq,
                status="refused",
                message=render_text(message, lang),
                field="scanned_at",
            )
            continue
        kept.append(i)
        batch.append(
            service.scanning.Scan(
                device_id=scan.device_id.strip(),
                device_seq=scan.device_seq,
                round_id=scan.round_id,
                barcode=scan.barcode.strip(),
                person_code=scan.person_code,
                scanned_at=moment,
                pool_size=scan.pool_size,
                kind=scan.kind,
                site_id=scan.site_id,
            )
        )
    report = service.scanning.bind(session, principal, batch, codes=_codes(settings.hash_key))
    for outcome in report.outcomes:
        i = kept[outcome.index]
        outcomes[i] = ScanOutcomePublic(
            i=i,
            seq=outcome.device_seq,
            status=outcome.status,
            message=render_text(outcome.message, lang) if outcome.status == "refused" else None,
            field=outcome.field or None,
        )
    answered = [o for o in outcomes if o is not None]
    return ScanReportPublic(
        recorded=sum(1 for o in answered if o.status == "recorded"),
        already_recorded=sum(1 for o in answered if o.status == "already_recorded"),
        refused=sum(1 for o in answered if o.status == "refused"),
        outcomes=answered,
    )


# ------------------------------------------------------------------------------------------ results


def _load_report(report: service.results.LoadReport) -> LoadReportPublic:
    return LoadReportPublic(
        origin=report.origin,
        rows=report.rows,
        loaded=report.loaded,
        corrections=report.corrections,
        unchanged=report.unchanged,
        unknown=[RowErrorPublic(row=e.row, field=e.field, message=e.message) for e in report.unknown],
        tubes_resulted=report.tubes_resulted,
        positive_people=report.positive_people,
        positive_pools=report.positive_pools,
        recalled=report.recalled,
        chunks=report.chunks,
        seconds=round(report.seconds, 3),
    )


@router.post("/results", response_model=LoadReportPublic)
def load_results(
    principal: Lab,
    session: SessionDep,
    bus: BusDep,
    file: Annotated[UploadFile, File(description="the lab's results, CSV or Excel (.xlsx)")],
    laboratory_id: QueryId = None,
) -> LoadReportPublic:
    """Results by tube barcode from a CSV or Excel file. A bad row refuses the whole file (422, every
    problem named by row and column); a barcode no tube has is reported and the rest loads; the same
    file loaded twice changes nothing; a changed result is a correction (a new version)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp, default_name="results.csv", limit=MAX_RESULTS_BYTES)
        report = service.results.load_results(
            session, principal, path, laboratory_id=laboratory_id, origin=path.name, bus=bus
        )
    return _load_report(report)


async def fhir_payload(request: Request) -> bytes:
    """The FHIR bundle sent: the body itself (application/fhir+json), or a file field of a form.

    Async because it only awaits the request body (no database, see ``core.deps``).
    """
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, StarletteUpload):
            raise InvalidInput([RowError(1, "file", Message("send the bundle as the form's file field"))])
        data = await upload.read(MAX_RESULTS_BYTES + 1)
    else:
        data = await request.body()
    if len(data) > MAX_RESULTS_BYTES:
        raise DomainError(
            Message("file too large: more than {size} MB", size=MAX_RESULTS_BYTES // (1024 * 1024))
        )
    if not data.strip():
        raise InvalidInput([RowError(1, "Bundle", Message("the bundle is empty"))], file=True)
    return data


FHIR_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FHIR_JSON: {"schema": {"type": "object", "description": "a FHIR R4 Bundle of results"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post("/results/fhir", response_model=LoadReportPublic, openapi_extra=FHIR_BODY)
def load_fhir(
    data: Annotated[bytes, Depends(fhir_payload)],
    principal: Lab,
    session: SessionDep,
    bus: BusDep,
    laboratory_id: QueryId = None,
) -> LoadReportPublic:
    """Results as an HL7 FHIR R4 Bundle (Specimen, Observation, DiagnosticReport; the tube barcode in
    ``Specimen.container.identifier``). A malformed bundle is refused naming the element."""
    report = service.results.load_fhir(session, principal, data, laboratory_id=laboratory_id, bus=bus)
    return _load_report(report)


@router.get("/results/template")
def results_template(principal: Reader, format: Literal["fhir", "csv"] = "fhir") -> Response:
    """A filled-in example for labs: a FHIR R4 Bundle (two tubes), or the CSV header and one row."""
    if format == "csv":
        content = "条码,结果,Ct ORF1ab,Ct N,检测时间\nT0000001,阴性,,,2026-12-06 14:05\n".encode("utf-8-sig")
        return Response(
            content,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="results-template.csv"'},
        )
    content = json.dumps(fhir_results.template_bundle(), ensure_ascii=False, indent=2).encode()
    return Response(
        content,
        media_type=FHIR_JSON,
        headers={"Content-Disposition": 'attachment; filename="results-template.fhir.json"'},
    )


# ------------------------------------------------------------------------------------------ recalls


def _recall(view: service.recall.RecallView) -> RecallPublic:
    return RecallPublic.model_validate({**vars(view), "late": view.late})


@router.get("/recalls", response_model=list[RecallPublic])
def recalls(
    principal: Reader, session: SessionDep, tube_id: QueryId = None, state: RecallState | None = None
) -> list[RecallPublic]:
    """Members of positive pools to locate and retest, soonest deadline first."""
    return [_recall(v) for v in service.recall.recall_list(session, principal, tube_id=tube_id, state=state)]


@router.post("/recalls/{recall_id}/located", response_model=RecallPublic)
def mark_located(
    recall_id: ItemId, body: LocatedCreate, principal: Sampler, session: SessionDep, bus: BusDep
) -> RecallPublic:
    """A community worker found the member and isolated them (marking it again changes nothing)."""
    view = service.recall.mark_located(session, bus, principal, recall_id, at=instant(body.at, "at"))
    return _recall(view)


@router.post("/recalls/{recall_id}/retest", response_model=RecallPublic)
def record_retest(
    recall_id: ItemId, body: RetestCreate, principal: Sampler, session: SessionDep, bus: BusDep
) -> RecallPublic:
    """The member's single-tube retest was taken; a result read on the spot may come with it (a
    positive opens a case in tracing)."""
    for gene, value in body.ct_values.items():
        if not 0 < value <= service.results.MAX_CT:
            raise InvalidInput(
                [
                    RowError(
                        1,
                        "ct_values",
                        Message("Ct {value} of {gene} is out of range", value=value, gene=gene),
                    )
                ]
            )
    view = service.recall.record_retest(
        session,
        principal,
        recall_id,
        body.barcode,
        at=instant(body.at, "at"),
        result=body.result,
        ct_values=body.ct_values,
        tested_at=instant(body.tested_at, "tested_at"),
        bus=bus,
    )
    return _recall(view)


@router.get("/tubes/{tube_id}/recall-timing", response_model=RecallTimingPublic)
def recall_timing(tube_id: ItemId, principal: Reader, session: SessionDep) -> RecallTimingPublic:
    """How long from the pool's positive result until every member was located."""
    timing = service.recall.recall_timing(session, principal, tube_id)
    return RecallTimingPublic.model_validate(
        {
            **vars(timing),
            "hours_to_all_located": timing.hours_to_all_located,
            "within_deadline": timing.within_deadline,
        }
    )


# ------------------------------------------------------------------------------------------ pools


@router.get("/pools", response_model=PoolPlanPublic)
def pools(
    principal: Reader,
    prevalence: Annotated[float, Query(ge=MIN_PREVALENCE, lt=1)],
    population: Annotated[int, Query(ge=1, le=2_000_000_000)] = planner.DEFAULT_POPULATION,
    lab_capacity: Annotated[float, Query(gt=0, le=1e9)] = planner.DEFAULT_LAB_TESTS_PER_HOUR,
    collection: Literal["lab", "swab"] = "lab",
    ct_cutoff: Annotated[float, Query(gt=0, le=60)] = planner.DEFAULT_CT_CUTOFF,
) -> PoolPlanPublic:
    """Dorfman's optimal pool size at a prevalence, with tests, lab hours and missed positives per size."""
    try:
        plan = planner.plan_pools(
            prevalence,
            population=population,
            lab_tests_per_hour=lab_capacity,
            collection=collection,
            ct_cutoff=ct_cutoff,
        )
    except PoolingInputError as exc:
        raise InvalidInput([RowError(1, "prevalence", str(exc))]) from None
    return PoolPlanPublic(
        prevalence=plan.prevalence,
        optimal_pool_size=plan.optimal_pool_size,
        tests_per_person=plan.tests_per_person,
        pooling_pays=plan.pooling_pays,
        population=plan.population,
        expected_positives=plan.expected_positives,
        lab_tests_per_hour=plan.lab_tests_per_hour,
        collection=plan.collection,
        ct_cutoff=plan.ct_cutoff,
        positive_ct=plan.positive_ct.describe(),
        pool_sizes=[
            PoolOptionPublic(
                pool_size=o.pool_size,
                optimal=o.is_optimal,
                tests_per_person=o.tests_per_person,
                tests=o.tests,
                lab_hours=o.lab_hours,
                ct_shift=o.ct_shift,
                miss_probability=o.miss_probability,
                missed_positives=o.missed_positives,
            )
            for o in plan.options
        ],
        sources=dict(planner.SOURCES),
    )
