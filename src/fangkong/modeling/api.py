"""JSON routes of the modeling capability (thin: parse, call the use case, shape the answer).

A comparison is queued here and run in the background (``jobs``): the route commits the job row, starts
it and answers 202 with the job's URL to poll. Drills advance outside the request's transaction, one
event per transaction (``drills.advance``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, RowId, SessionDep, SettingsDep, VaultDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.people_rules import Keys
from fangkong.core.permissions import Permission
from fangkong.modeling import drill_score, drill_ticker, drills, jobs, service
from fangkong.modeling.models import CountBasis, Drill, ModelingJob
from fangkong.modeling.schemas import (
    AdvancePublic,
    ArmPublic,
    ComparisonCreate,
    CountBatch,
    CountResult,
    DrillAdvance,
    DrillCreate,
    DrillPublic,
    JobDetail,
    JobPage,
    JobPublic,
    KindCountPublic,
    MeasurePublic,
    PriceLinePublic,
    RtPublic,
    RtSeriesPublic,
    ScorePublic,
)

router = APIRouter(prefix="/api", tags=["modeling"])

Reader = Annotated[Principal, Depends(Require(Permission.modeling_read))]
Runner = Annotated[Principal, Depends(Require(Permission.modeling_run))]
DrillManager = Annotated[Principal, Depends(Require(Permission.drills_manage))]


@router.get("/modeling/arms", response_model=list[ArmPublic])
def list_arms(principal: Reader) -> list[ArmPublic]:
    """The strategies a comparison may include, each read from its protocol file."""
    from fangkong.modeling.strategies import NO_MEASURES, arm
    from fangkong.protocol.loader import builtin_ids

    return [
        ArmPublic(arm=m.arm, label=m.label, notes=list(m.notes))
        for m in (arm(name) for name in [*builtin_ids(), NO_MEASURES])
    ]


@router.get("/modeling/prices", response_model=list[PriceLinePublic])
def list_prices(principal: Reader) -> list[PriceLinePublic]:
    from fangkong.modeling.prices import DEFAULT_PRICES

    return [
        PriceLinePublic(key=p.key, label=p.label, unit=p.unit, value=p.value, source=p.source, basis=p.basis)
        for p in DEFAULT_PRICES.lines
    ]


def job_public(job: ModelingJob) -> dict[str, Any]:
    total = max(job.runs_total, 1)
    return {
        "id": job.id,
        "kind": job.kind.value,
        "status": job.status.value,
        "title": job.title,
        "jurisdiction_id": job.jurisdiction_id,
        "runs_done": job.runs_done,
        "runs_total": job.runs_total,
        "progress": min(1.0, job.runs_done / total),
        "error": job.error,
        "created_by": job.created_by_name,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "url": f"/api/modeling/jobs/{job.id}",
    }


def comparison_request(body: ComparisonCreate) -> service.ComparisonRequest:
    return service.ComparisonRequest(
        arms=tuple(body.arms),
        population=body.population,
        size=body.size,
        jurisdiction_id=body.jurisdiction_id,
        days=body.days,
        seeds=tuple(body.seeds),
        initial_infections=body.initial_infections,
        effect=body.effect,
        price_overrides=dict(body.prices),
        behaviour=dict(body.behaviour),
        workers=body.workers,
    )


@router.post("/modeling/comparisons", response_model=JobPublic, status_code=202)
def create_comparison(
    body: ComparisonCreate, principal: Runner, session: SessionDep, request: Request
) -> JobPublic:
    """Queue a strategy comparison (the account); poll the job's URL for progress and the result."""
    job = service.submit_comparison(session, principal, comparison_request(body), ip=client_ip(request))
    session.commit()
    jobs.start(request.app.state.db, job.id)
    return JobPublic(**job_public(job))


@router.get("/modeling/jobs", response_model=JobPage)
def list_jobs(
    principal: Reader,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobPage:
    jobs.fail_abandoned(session)
    found = service.list_jobs(session, principal, page, size)
    return JobPage(
        items=[JobPublic(**job_public(j)) for j in found.items],
        total=found.total,
        page=found.page,
        size=found.size,
    )


@router.get("/modeling/jobs/{job_id}", response_model=JobDetail)
def get_job(job_id: RowId, principal: Reader, session: SessionDep) -> JobDetail:
    job = service.get_job(session, principal, job_id)
    return JobDetail(**job_public(job), request=json.loads(job.request), result=service.job_result(job))


@router.post("/modeling/case-counts", response_model=CountResult)
def record_counts(body: CountBatch, principal: Runner, session: SessionDep, request: Request) -> CountResult:
    """Daily cases per jurisdiction by onset or report date, for Rt (a day sent again replaces it)."""
    rows = [
        service.CountInput(i, c.jurisdiction, c.date, c.local, c.imported)
        for i, c in enumerate(body.counts, start=1)
    ]
    stored = service.record_counts(session, principal, CountBasis(body.basis), rows, ip=client_ip(request))
    return CountResult(stored=stored)


@router.post("/modeling/case-counts/upload", response_model=CountResult)
def upload_counts(
    principal: Runner,
    session: SessionDep,
    request: Request,
    file: Annotated[UploadFile, File(description="CSV: date, jurisdiction, local[, imported]")],
    basis: Annotated[str, Form(pattern="^(onset|report)$")] = "onset",
) -> CountResult:
    content = file.file.read(service.MAX_UPLOAD_BYTES + 1)
    if len(content) > service.MAX_UPLOAD_BYTES:
        raise InvalidInput(
            [
                RowError(
                    1,
                    "file",
                    Message("larger than {size} MB", size=service.MAX_UPLOAD_BYTES // (1024 * 1024)),
                )
            ]
        )
    rows = service.read_counts_csv(content)
    stored = service.record_counts(session, principal, CountBasis(basis), rows, ip=client_ip(request))
    return CountResult(stored=stored)


def rt_public(view: service.RtView) -> RtPublic:
    def series(s: service.RtSeries) -> RtSeriesPublic:
        return RtSeriesPublic(
            jurisdiction_id=s.jurisdiction_id, name=s.name, code=s.code, cases=s.cases, dates=s.dates,
            mean=s.mean, lower=s.low, upper=s.high, cv=s.cv, reason=s.reason,
        )  # fmt: skip

    return RtPublic(
        jurisdiction_id=view.node.id,
        name=view.node.name,
        level=view.node.level,
        basis=view.basis.value,
        source=view.source,
        si_mean=view.si_mean,
        si_sd=view.si_sd,
        window=view.window,
        first_day=view.first_day,
        last_day=view.last_day,
        whole=series(view.whole) if view.whole else None,
        areas=[series(a) for a in view.areas],
        message=str(view.message),
        max_posterior_cv=view.max_cv,
        min_cases=view.min_cases,
    )


@router.get("/modeling/rt", response_model=RtPublic)
def rt(
    principal: Reader,
    session: SessionDep,
    jurisdiction_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    basis: Annotated[str, Query(pattern="^(onset|report)$")] = "onset",
    si_mean: Annotated[float, Query(gt=1, le=60)] = service.DEFAULT_SI_MEAN,
    si_sd: Annotated[float, Query(gt=0, le=60)] = service.DEFAULT_SI_SD,
    window: Annotated[int, Query(ge=1, le=60)] = 7,
    counts: Annotated[
        service.CountChoice,
        Query(description="daily counts from our cases (tracing), uploaded, or automatic (ours where any)"),
    ] = "auto",
    si: Annotated[
        Literal["typed", "chains"],
        Query(description="serial interval: the typed gamma (si_mean, si_sd) or measured on our chains"),
    ] = "typed",
) -> RtPublic:
    """Rt with its 95 % credible band for a jurisdiction and each of its children (Cori et al. 2013)."""
    from fangkong.modeling import own_records

    si_distr: list[float] | None = None
    if si == "chains":
        chains = own_records.chains_serial_interval(session, principal)
        if chains is None or not chains.si_distr:
            # Said rather than silently falling back to the typed one: the caller asked for ours.
            none = Message("No transmission links with both onsets yet: type a serial interval.")
            raise InvalidInput([RowError(1, "si", none)])
        si_distr = list(chains.si_distr)
    view = service.rt_by_area(
        session,
        principal,
        jurisdiction_id,
        basis=CountBasis(basis),
        si_mean=si_mean,
        si_sd=si_sd,
        window=window,
        si_distr=si_distr,
        counts=counts,
    )
    return rt_public(view)


def drill_public(session: Session, principal: Principal, drill: Drill) -> DrillPublic:
    view = drills.status(session, principal, drill.id)
    return DrillPublic(
        id=drill.id,
        name=drill.name,
        status=drill.status.value,
        jurisdiction_id=drill.jurisdiction_id,
        sandbox_id=drill.sandbox_id,
        protocol_id=drill.protocol_id,
        people=drill.people,
        days=drill.days,
        speed=drill.speed,
        autopilot=drill.autopilot,
        realtime=drill.realtime,
        started_at=drill.started_at,
        finished_at=drill.finished_at,
        drill_hours=view.hours,
        drill_day=view.day,
        events=[KindCountPublic(kind=k.kind, fed=k.fed, due=k.due, failed=k.failed) for k in view.kinds],
        errors=[f"{kind}: {message}" for kind, message in view.errors],
        summary=view.summary,
        url=f"/api/modeling/drills/{drill.id}",
    )


@router.get("/modeling/drills", response_model=list[DrillPublic])
def list_drills(principal: Reader, session: SessionDep) -> list[DrillPublic]:
    return [drill_public(session, principal, d) for d in drills.list_drills(session, principal)]


@router.post("/modeling/drills", response_model=DrillPublic, status_code=201)
def start_drill(
    body: DrillCreate,
    principal: DrillManager,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    settings: SettingsDep,
    request: Request,
) -> DrillPublic:
    """Start a drill: a sandbox with synthetic residents and an outbreak fed over accelerated time."""
    drill = drills.start_drill(
        session, vault, Keys(settings.encryption_key, settings.hash_key), principal,
        drills.DrillRequest(**body.model_dump()), ip=client_ip(request),
    )  # fmt: skip
    session.commit()
    if drill.realtime:
        drill_ticker.ensure_running(request.app.state.db, vault, bus)
    return drill_public(session, principal, drill)


@router.get("/modeling/drills/{drill_id}", response_model=DrillPublic)
def get_drill(drill_id: RowId, principal: Reader, session: SessionDep) -> DrillPublic:
    return drill_public(session, principal, drills.get_drill(session, principal, drill_id))


@router.post("/modeling/drills/{drill_id}/advance", response_model=AdvancePublic)
def advance_drill(
    drill_id: RowId,
    body: DrillAdvance,
    principal: DrillManager,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    request: Request,
) -> AdvancePublic:
    """Feed what has come due; with ``to_hours``, jump the drill clock ahead and feed everything up to it."""
    drills.get_drill(session, principal, drill_id)
    session.commit()
    report = drills.advance(request.app.state.db, vault, bus, drill_id, to_hours=body.to_hours)
    return AdvancePublic(
        drill_id=report.drill_id,
        drill_hours=report.hours,
        fed=report.fed,
        failed=report.failed,
        alerts_answered=report.alerts_answered,
        finished=report.finished,
        errors=report.errors[:50],
    )


@router.post("/modeling/drills/{drill_id}/stop", response_model=DrillPublic)
def stop_drill(
    drill_id: RowId, principal: DrillManager, session: SessionDep, request: Request
) -> DrillPublic:
    drill = drills.stop_drill(session, principal, drill_id, ip=client_ip(request))
    return drill_public(session, principal, drill)


@router.get("/modeling/drills/{drill_id}/score", response_model=ScorePublic)
def get_score(drill_id: RowId, principal: Reader, session: SessionDep) -> ScorePublic:
    """The drill's score from the records: each measure, or why it is not available yet."""
    result = drill_score.score(session, principal, drill_id)
    return ScorePublic(
        drill_id=result.drill_id,
        drill_hours=result.hours,
        score=result.total,
        measures=[MeasurePublic(**m.__dict__) for m in result.measures],
    )
