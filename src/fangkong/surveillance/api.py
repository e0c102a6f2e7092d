"""JSON routes of the surveillance capability (thin: parse, call the use case, shape the answer).

'Now' is read from ``fangkong.core.clock.utcnow`` at call time, so tests move the clock by replacing it.
Routes that may create or move alerts commit first and then send the notifier outbox in the background.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Path, Query, Request, UploadFile

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.db import Database
from fangkong.core.deps import BusDep, Require, SessionDep, client_ip
from fangkong.core.errors import DomainError
from fangkong.core.models import Level
from fangkong.core.permissions import Permission
from fangkong.surveillance import alerts, observations, runner, service
from fangkong.surveillance.ingest import MAX_UPLOAD_BYTES, read_upload, records_from_json
from fangkong.surveillance.models import AlertStatus, Channel, DetectorConfig, FusionRule
from fangkong.surveillance.rules import ResponseStats, clock_state
from fangkong.surveillance.schemas import (
    MAX_ID,
    ActionPublic,
    AlertActionIn,
    AlertDetailPublic,
    AlertPage,
    AlertPublic,
    BoardRowPublic,
    ChannelCreate,
    ChannelPublic,
    ConfigCreate,
    ConfigPublic,
    Day,
    DeliveryPublic,
    DeliveryResult,
    EndpointCreate,
    EndpointPublic,
    EscalationResult,
    IngestResult,
    LocationsIn,
    NeighboursIn,
    NeighboursPublic,
    ObservationBatch,
    ObservationPage,
    ObservationPublic,
    PullSourceCreate,
    PullSourcePublic,
    ResponseStatsPublic,
    RevisionPublic,
    RuleCreate,
    RulePublic,
    RunPublic,
    RunRequest,
    SeriesPublic,
    SignalPage,
    SignalPublic,
    StatisticsPublic,
)

router = APIRouter(prefix="/api/surveillance", tags=["surveillance"])

ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

Reader = Annotated[Principal, Depends(Require(Permission.surveillance_read))]
Writer = Annotated[Principal, Depends(Require(Permission.surveillance_write))]
Configurer = Annotated[Principal, Depends(Require(Permission.surveillance_configure))]
Responder = Annotated[Principal, Depends(Require(Permission.alerts_respond))]

STATS_DEFAULT_DAYS = 30


def actor_of(principal: Principal, request: Request) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, client_ip(request))


def _deliver_later(background: BackgroundTasks, request: Request, path: str) -> None:
    db: Database = request.app.state.db
    background.add_task(alerts.deliver_pending, db, clock.utcnow(), path)


# ---------------------------------------- channels


@router.get("/channels", response_model=list[ChannelPublic])
def list_channels(principal: Reader, session: SessionDep) -> list[ChannelPublic]:
    """The channels that apply to the caller: built-in ones, those defined in or above their jurisdiction."""
    return [ChannelPublic.model_validate(c) for c in service.list_channels(session, principal.jpath)]


@router.post("/channels", response_model=ChannelPublic, status_code=201)
def create_channel(
    body: ChannelCreate, principal: Configurer, session: SessionDep, request: Request
) -> ChannelPublic:
    data = service.ChannelInput(**body.model_dump())
    return ChannelPublic.model_validate(
        service.create_channel(session, actor_of(principal, request), principal.jpath, data)
    )


@router.get("/channels/{channel_id}", response_model=ChannelPublic)
def get_channel(channel_id: ItemId, principal: Reader, session: SessionDep) -> ChannelPublic:
    return ChannelPublic.model_validate(service.get_channel(session, principal.jpath, channel_id))


@router.post("/channels/{channel_id}/active", response_model=ChannelPublic)
def set_channel_active(
    channel_id: ItemId, principal: Configurer, session: SessionDep, request: Request, active: bool = True
) -> ChannelPublic:
    channel = service.set_channel_active(
        session, actor_of(principal, request), principal.jpath, channel_id, active
    )
    return ChannelPublic.model_validate(channel)


# ---------------------------------------- observations


def _ingest_result(report: observations.IngestReport) -> IngestResult:
    return IngestResult(
        batch_id=report.batch_id,
        rows=report.rows,
        created=report.created,
        revised=report.revised,
        unchanged=report.unchanged,
    )


@router.post("/observations", response_model=IngestResult)
def post_observations(
    body: ObservationBatch, principal: Writer, session: SessionDep, request: Request
) -> IngestResult:
    """Report values; a value sent again for the same channel, place and period is a correction."""
    records = records_from_json([o.model_dump() for o in body.observations])
    report = observations.ingest(
        session, actor_of(principal, request), principal.jpath, records, "api", clock.utcnow()
    )
    return _ingest_result(report)


@router.post("/observations/upload", response_model=IngestResult)
def upload_observations(
    principal: Writer, session: SessionDep, request: Request, file: Annotated[UploadFile, File()]
) -> IngestResult:
    """CSV (UTF-8) or Excel with columns channel, jurisdiction, date, value; a bad row refuses the file."""
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise DomainError("file too large")
    name = file.filename or "upload.csv"
    records = read_upload(name, content)
    report = observations.ingest(
        session, actor_of(principal, request), principal.jpath, records, f"upload:{name}", clock.utcnow()
    )
    return _ingest_result(report)


@router.get("/observations", response_model=ObservationPage)
def list_observations(
    principal: Reader,
    session: SessionDep,
    channel_id: QueryId = None,
    jurisdiction_id: QueryId = None,
    start: Day = None,
    end: Day = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ObservationPage:
    rows, total = observations.list_observations(
        session,
        principal.jpath,
        channel_id=channel_id,
        jurisdiction_id=jurisdiction_id,
        start=start,
        end=end,
        page=page,
        size=size,
    )
    items = [
        ObservationPublic(
            id=r.observation.id,
            channel=r.channel.code,
            jurisdiction_code=r.place.code,
            jurisdiction_name=r.place.name,
            period_start=r.observation.period_start,
            value=r.observation.value,
            revision=r.observation.revision,
            updated_at=r.observation.updated_at,
        )
        for r in rows
    ]
    return ObservationPage(items=items, total=total, page=page, size=size)


@router.get("/observations/{observation_id}/revisions", response_model=list[RevisionPublic])
def observation_revisions(
    observation_id: ItemId, principal: Reader, session: SessionDep
) -> list[RevisionPublic]:
    """Every value the observation has had, the first report first."""
    return [
        RevisionPublic(
            revision=r.revision, value=r.value, recorded_at=r.recorded_at, source=b.source, batch_id=b.id
        )
        for r, b in observations.revisions_of(session, principal.jpath, observation_id)
    ]


# ---------------------------------------- detector configuration and runs


def _config_public(config: DetectorConfig, channel: Channel) -> ConfigPublic:
    return ConfigPublic(
        id=config.id,
        channel_id=channel.id,
        channel=channel.code,
        level=config.level.value,
        method=config.method,
        params=json.loads(config.params or "{}"),
        active=config.active,
        created_by=config.created_by,
    )


@router.get("/configs", response_model=list[ConfigPublic])
def list_configs(principal: Reader, session: SessionDep) -> list[ConfigPublic]:
    return [_config_public(c, ch) for c, ch in service.list_configs(session, principal.jpath)]


@router.post("/configs", response_model=ConfigPublic, status_code=201)
def create_config(
    body: ConfigCreate, principal: Configurer, session: SessionDep, request: Request
) -> ConfigPublic:
    """Run ``method`` (names and parameters as in ``fangkong detect``) on a channel at a level."""
    config = service.create_config(
        session,
        actor_of(principal, request),
        principal.jpath,
        body.channel_id,
        body.level,
        body.method,
        body.params,
    )
    return _config_public(config, service.get_channel(session, principal.jpath, config.channel_id))


@router.post("/configs/{config_id}/active", response_model=ConfigPublic)
def set_config_active(
    config_id: ItemId, principal: Configurer, session: SessionDep, request: Request, active: bool = True
) -> ConfigPublic:
    config = service.set_config_active(
        session, actor_of(principal, request), principal.jpath, config_id, active
    )
    return _config_public(config, service.get_channel(session, principal.jpath, config.channel_id))


def _run_public(report: runner.RunReport) -> RunPublic:
    run = report.run
    return RunPublic(
        id=run.id,
        first_date=run.first_date,
        as_of=run.as_of,
        series=run.series,
        results=run.results,
        signals=run.signals,
        alerts=run.alerts,
        alerts_created=report.created,
        alerts_updated=report.updated,
        notes=report.notes,
    )


@router.post("/runs", response_model=RunPublic)
def run_detectors(
    body: RunRequest,
    principal: Configurer,
    session: SessionDep,
    bus: BusDep,
    request: Request,
    background: BackgroundTasks,
) -> RunPublic:
    """Judge every configured series in the caller's subtree on ``first_date``..``as_of`` and raise alerts."""
    now = clock.utcnow()
    report = runner.run_detection(
        session,
        bus,
        actor_of(principal, request),
        principal.jpath,
        body.as_of or clock.local_day(now),
        now,
        first_date=body.first_date,
    )
    shaped = _run_public(report)
    session.commit()
    _deliver_later(background, request, principal.jpath)
    return shaped


@router.get("/runs", response_model=list[RunPublic])
def list_runs(principal: Reader, session: SessionDep) -> list[RunPublic]:
    runs = service.list_runs(session, principal.jpath)
    return [
        RunPublic(
            id=r.id,
            first_date=r.first_date,
            as_of=r.as_of,
            series=r.series,
            results=r.results,
            signals=r.signals,
            alerts=r.alerts,
            alerts_created=[],
            alerts_updated=[],
            notes=json.loads(r.notes or "[]"),
        )
        for r in runs
    ]


@router.get("/signals", response_model=SignalPage)
def list_signals(
    principal: Reader,
    session: SessionDep,
    start: Day = None,
    end: Day = None,
    level: Level | None = None,
    channel_id: QueryId = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SignalPage:
    """Time points a detector alarmed on, newest first."""
    rows, total = service.list_signals(
        session,
        principal.jpath,
        start=start,
        end=end,
        level=level,
        channel_id=channel_id,
        page=page,
        size=size,
    )
    items = [
        SignalPublic(
            id=r.result.id,
            channel=r.channel.code,
            channel_name=r.channel.name,
            jurisdiction_id=r.place.id,
            jurisdiction_code=r.place.code,
            jurisdiction_name=r.place.name,
            level=r.place.level.value,
            period_start=r.result.period_start,
            method=r.result.method,
            observed=r.result.observed,
            expected=r.result.expected,
            threshold=r.result.threshold,
            score=r.result.score,
            pvalue=r.result.pvalue,
            config_id=r.result.config_id,
        )
        for r in rows
    ]
    return SignalPage(items=items, total=total, page=page, size=size)


@router.get("/board", response_model=list[BoardRowPublic])
def signal_board(
    principal: Reader, session: SessionDep, level: Level = Level.county, as_of: Day = None
) -> list[BoardRowPublic]:
    """Each area of ``level`` with its signals of the last 7 days by channel and its open alerts."""
    rows = service.board(session, principal.jpath, level, as_of or clock.today(), service.BOARD_WINDOW_DAYS)
    return [
        BoardRowPublic(
            jurisdiction_id=r.area.id,
            code=r.area.code,
            name=r.area.name,
            signals=r.signals,
            total_signals=r.total_signals,
            open_alerts=r.open_alerts,
            top_level=r.top_level.value if r.top_level else None,
        )
        for r in rows
    ]


@router.get("/series", response_model=SeriesPublic)
def series(
    principal: Reader,
    session: SessionDep,
    channel_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    jurisdiction_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    config_id: QueryId = None,
    end: Day = None,
    periods: Annotated[int, Query(ge=7, le=3_650)] = service.CHART_PERIODS,
) -> SeriesPublic:
    """An area's series with the detector's expectation, threshold and alarms, from the latest values."""
    view = service.series_view(
        session,
        principal.jpath,
        channel_id,
        jurisdiction_id,
        config_id=config_id,
        end=end or clock.today(),
        periods=periods,
    )
    return SeriesPublic(
        channel=view.channel.code,
        jurisdiction_code=view.place.code,
        jurisdiction_name=view.place.name,
        method=view.method,
        params=view.params,
        dates=view.dates,
        observed=view.observed,
        expected=view.expected,
        threshold=view.threshold,
        alarm=view.alarm,
        stored_signals=view.stored_signals,
        note=view.note,
    )


# ---------------------------------------- fusion rules, neighbours, locations


def _rule_public(rule: FusionRule) -> RulePublic:
    return RulePublic(
        id=rule.id,
        name=rule.name,
        kind=rule.kind.value,
        level=rule.level.value,
        alert_level=rule.alert_level.value,
        response_hours=rule.response_hours,
        params=json.loads(rule.params or "{}"),
        builtin=rule.builtin,
        active=rule.active,
    )


@router.get("/rules", response_model=list[RulePublic])
def list_rules(principal: Reader, session: SessionDep) -> list[RulePublic]:
    return [_rule_public(r) for r in service.list_rules(session, principal.jpath)]


@router.post("/rules", response_model=RulePublic, status_code=201)
def create_rule(body: RuleCreate, principal: Configurer, session: SessionDep, request: Request) -> RulePublic:
    rule = service.create_rule(
        session, actor_of(principal, request), principal.jpath, service.RuleInput(**body.model_dump())
    )
    return _rule_public(rule)


@router.post("/rules/{rule_id}/active", response_model=RulePublic)
def set_rule_active(
    rule_id: ItemId, principal: Configurer, session: SessionDep, request: Request, active: bool = True
) -> RulePublic:
    return _rule_public(
        service.set_rule_active(session, actor_of(principal, request), principal.jpath, rule_id, active)
    )


@router.get("/neighbours/{jurisdiction_id}", response_model=NeighboursPublic)
def get_neighbours(jurisdiction_id: ItemId, principal: Reader, session: SessionDep) -> NeighboursPublic:
    """The neighbours fusion uses: configured ones, or else the siblings under the same parent."""
    found, configured = service.neighbours_of(session, principal.jpath, jurisdiction_id)
    return NeighboursPublic(
        jurisdiction_id=jurisdiction_id, configured=configured, neighbours=[j.code for j in found]
    )


@router.put("/neighbours/{jurisdiction_id}", response_model=NeighboursPublic)
def set_neighbours(
    jurisdiction_id: ItemId, body: NeighboursIn, principal: Configurer, session: SessionDep, request: Request
) -> NeighboursPublic:
    found = service.set_neighbours(
        session, actor_of(principal, request), principal.jpath, jurisdiction_id, body.neighbours
    )
    return NeighboursPublic(
        jurisdiction_id=jurisdiction_id, configured=bool(body.neighbours), neighbours=[j.code for j in found]
    )


@router.put("/locations", response_model=dict[str, int])
def set_locations(
    body: LocationsIn, principal: Configurer, session: SessionDep, request: Request
) -> dict[str, int]:
    """Centroids (longitude, latitude) for the space-time scan's circles."""
    items = [service.LocationInput(**i.model_dump()) for i in body.locations]
    return {"updated": service.set_locations(session, actor_of(principal, request), principal.jpath, items)}


# ---------------------------------------- alerts


def alert_public(row: alerts.AlertRow, now: dt.datetime) -> AlertPublic:
    a = row.alert
    state = clock_state(a.created_at, a.response_due_at, a.responded_at, now)
    evidence = json.loads(a.evidence or "{}")
    return AlertPublic(
        id=a.id,
        level=a.level.value,
        status=a.status.value,
        kind=a.kind.value,
        title=a.title,
        jurisdiction_id=row.place.id,
        jurisdiction_code=row.place.code,
        jurisdiction_name=row.place.name,
        assigned_code=row.assigned.code,
        assigned_name=row.assigned.name,
        first_date=a.first_date,
        last_date=a.last_date,
        created_at=a.created_at,
        response_hours=a.response_hours,
        response_due_at=a.response_due_at,
        responded_at=a.responded_at,
        responded_by=a.responded_by,
        closed_at=a.closed_at,
        outcome_note=a.outcome_note,
        escalations=a.escalations,
        overdue=state.overdue,
        seconds_left=None if state.responded else state.seconds,
        response_seconds=state.seconds if state.responded else None,
        channels=[str(c.get("code")) for c in evidence.get("channels", [])],
        scan_pvalue=a.scan_pvalue,
        rank=a.rank,
    )


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    principal: Reader,
    session: SessionDep,
    status: Annotated[list[AlertStatus] | None, Query()] = None,
    mine: Annotated[bool, Query(description="only alerts in the caller's jurisdiction's inbox")] = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertPage:
    rows, total = alerts.list_alerts(
        session,
        principal.jpath,
        statuses=status or (),
        assigned_to=principal.jpath if mine else None,
        page=page,
        size=size,
    )
    now = clock.utcnow()
    return AlertPage(items=[alert_public(r, now) for r in rows], total=total, page=page, size=size)


def _stats_public(stats: ResponseStats) -> ResponseStatsPublic:
    return ResponseStatsPublic.model_validate(stats, from_attributes=True)


@router.get("/alerts/stats", response_model=StatisticsPublic)
def alert_statistics(
    principal: Reader, session: SessionDep, start: Day = None, end: Day = None
) -> StatisticsPublic:
    """Response rate, median (P25-P75) response time, shares answered within 2 h and 24 h (as CIDARS)."""
    now = clock.utcnow()
    last = end or clock.local_day(now)
    first = start or last - dt.timedelta(days=STATS_DEFAULT_DAYS - 1)
    stats = alerts.statistics(session, principal.jpath, first, last, now)
    return StatisticsPublic(
        start=stats.start,
        end=stats.end,
        overall=_stats_public(stats.overall),
        single_case=_stats_public(stats.single_case),
        temporal=_stats_public(stats.temporal),
    )


@router.post("/alerts/escalate", response_model=EscalationResult)
def escalate_overdue(
    principal: Configurer, session: SessionDep, request: Request, background: BackgroundTasks
) -> EscalationResult:
    """Move unanswered alerts past their deadline to the parent jurisdiction (normally run on a schedule)."""
    moved = alerts.escalate_overdue(session, actor_of(principal, request), principal.jpath, clock.utcnow())
    result = EscalationResult(escalated=[a.id for a in moved])
    session.commit()
    _deliver_later(background, request, "/")
    return result


@router.get("/alerts/{alert_id}", response_model=AlertDetailPublic)
def get_alert(alert_id: ItemId, principal: Reader, session: SessionDep) -> AlertDetailPublic:
    detail = alerts.alert_detail(session, principal.jpath, alert_id)
    base = alert_public(detail.row, clock.utcnow())
    return AlertDetailPublic(
        **base.model_dump(),
        evidence=detail.evidence,
        actions=[
            ActionPublic(
                at=a.at,
                actor=a.actor,
                action=a.action,
                from_status=a.from_status,
                to_status=a.to_status,
                note=a.note,
            )
            for a in detail.actions
        ],
        deliveries=[
            DeliveryPublic(
                notifier=d.notifier,
                target=t,
                reason=d.reason,
                status=d.status.value,
                attempts=d.attempts,
                sent_at=d.sent_at,
                last_error=d.last_error,
            )
            for d, t in detail.deliveries
        ],
    )


def _act(
    action: str,
    alert_id: ItemId,
    body: AlertActionIn,
    principal: Principal,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> AlertPublic:
    now = clock.utcnow()
    alerts.act(session, bus, actor_of(principal, request), principal.jpath, alert_id, action, body.note, now)
    detail = alerts.alert_detail(session, principal.jpath, alert_id)
    return alert_public(detail.row, now)


@router.post("/alerts/{alert_id}/verify", response_model=AlertPublic)
def verify_alert(
    alert_id: ItemId,
    body: AlertActionIn,
    principal: Responder,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> AlertPublic:
    """Start verification: the response clock stops here."""
    return _act("verify", alert_id, body, principal, session, bus, request)


@router.post("/alerts/{alert_id}/confirm", response_model=AlertPublic)
def confirm_alert(
    alert_id: ItemId,
    body: AlertActionIn,
    principal: Responder,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> AlertPublic:
    """Confirm the alert as a public-health event (publishes ``AlertConfirmedAsEvent``)."""
    return _act("confirm", alert_id, body, principal, session, bus, request)


@router.post("/alerts/{alert_id}/dismiss", response_model=AlertPublic)
def dismiss_alert(
    alert_id: ItemId,
    body: AlertActionIn,
    principal: Responder,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> AlertPublic:
    """Dismiss with a reason (``note``)."""
    return _act("dismiss", alert_id, body, principal, session, bus, request)


# ---------------------------------------- notifiers and pull sources


@router.get("/endpoints", response_model=list[EndpointPublic])
def list_endpoints(principal: Configurer, session: SessionDep) -> list[EndpointPublic]:
    return [EndpointPublic.model_validate(e) for e in service.list_endpoints(session, principal.jpath)]


@router.post("/endpoints", response_model=EndpointPublic, status_code=201)
def create_endpoint(
    body: EndpointCreate, principal: Configurer, session: SessionDep, request: Request
) -> EndpointPublic:
    """Push the alerts of a jurisdiction (default: the caller's) to a webhook as JSON."""
    endpoint = service.create_endpoint(
        session,
        actor_of(principal, request),
        principal.jpath,
        body.name,
        body.kind,
        body.url,
        body.jurisdiction,
    )
    return EndpointPublic.model_validate(endpoint)


@router.post("/deliveries/send", response_model=DeliveryResult)
def send_deliveries(principal: Configurer, request: Request) -> DeliveryResult:
    """Send the notifier outbox now (it is also sent after each run and escalation)."""
    report = alerts.deliver_pending(request.app.state.db, clock.utcnow(), principal.jpath)
    return DeliveryResult(sent=report.sent, failed=report.failed, retrying=report.retrying)


@router.get("/pull-sources", response_model=list[PullSourcePublic])
def list_pull_sources(principal: Configurer, session: SessionDep) -> list[PullSourcePublic]:
    return [PullSourcePublic.model_validate(s) for s in service.list_pull_sources(session, principal.jpath)]


@router.post("/pull-sources", response_model=PullSourcePublic, status_code=201)
def create_pull_source(
    body: PullSourceCreate, principal: Configurer, session: SessionDep, request: Request
) -> PullSourcePublic:
    source = service.create_pull_source(
        session,
        actor_of(principal, request),
        principal.jpath,
        body.name,
        body.kind,
        body.url,
        body.channel_code,
    )
    return PullSourcePublic.model_validate(source)


@router.post("/pull-sources/{source_id}/pull", response_model=IngestResult)
def pull_now(source_id: ItemId, principal: Writer, session: SessionDep, request: Request) -> IngestResult:
    """Read the source now (the scheduled ``fangkong surveillance pull`` does the same for every source)."""
    from fangkong.surveillance.pull import PullError

    source = service.get_pull_source(session, principal.jpath, source_id)
    try:
        report = observations.pull_source(
            session, actor_of(principal, request), principal.jpath, source, clock.utcnow()
        )
    except PullError as exc:
        raise DomainError(str(exc)) from None
    return _ingest_result(report)
