"""Web pages of surveillance: the signal board per level, series charts with thresholds and alarms, the
alert inbox with response clocks, an alert's evidence and verification, detector configuration and data.

No GeoJSON of the administrative areas is available offline, so the board shows areas as a tile grid
(ECharts heatmap, one tile per area) beside the table rather than as a map.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, SessionDep, client_ip
from fangkong.core.errors import DomainError, InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import LEVEL_ORDER, Level
from fangkong.core.permissions import Permission
from fangkong.surveillance import alerts, observations, runner, service
from fangkong.surveillance.api import STATS_DEFAULT_DAYS
from fangkong.surveillance.channels import DEFAULT_CHANNELS, KINDS
from fangkong.surveillance.fusion import Area
from fangkong.surveillance.ingest import MAX_UPLOAD_BYTES, read_upload
from fangkong.surveillance.models import Aggregation, AlertLevel, AlertStatus, Frequency, RuleKind
from fangkong.surveillance.rules import clock_state
from fangkong.surveillance.schemas import MAX_ID, Day
from fangkong.web.templating import render as render_page

router = APIRouter(include_in_schema=False)


def render(
    request: Request, template: str, context: dict[str, Any], *, principal: Principal, status_code: int = 200
) -> Response:
    return render_page(
        request, template, {**context, "labels": LABELS}, principal=principal, status_code=status_code
    )


# (permission, url, message id) entries this capability adds to the main navigation.
NAV: list[tuple[Permission, str, str]] = [
    (Permission.surveillance_read, "/surveillance", "Signal board"),
    (Permission.surveillance_read, "/surveillance/alerts", "Alerts"),
    (Permission.surveillance_read, "/surveillance/config", "Detectors"),
]

Reader = Annotated[Principal, Depends(Require(Permission.surveillance_read))]
Writer = Annotated[Principal, Depends(Require(Permission.surveillance_write))]
Configurer = Annotated[Principal, Depends(Require(Permission.surveillance_configure))]
Responder = Annotated[Principal, Depends(Require(Permission.alerts_respond))]

LEVEL_COLOURS = {
    AlertLevel.blue.value: "#1d64c8",
    AlertLevel.yellow.value: "#d4a106",
    AlertLevel.orange.value: "#e8730c",
    AlertLevel.red.value: "#c81e1e",
}
BOARD_LEVELS = [Level.city, Level.county, Level.township, Level.community]
# Message ids for stored values, chosen so that they do not collide with other capabilities' words
# (a "confirmed" case is not a confirmed alert).
LABELS: dict[str, dict[str, str]] = {
    "status": {
        "signal": "New signal",
        "verifying": "Under verification",
        "confirmed": "Confirmed event",
        "dismissed": "Dismissed",
    },
    "level": {"blue": "Blue", "yellow": "Yellow", "orange": "Orange", "red": "Red"},
    "action": {
        "created": "Alert raised",
        "new_evidence": "New signals added",
        "scan_confirmed": "Confirmed by the space-time scan",
        "verify": "Verification started",
        "confirm": "Confirmed as an event",
        "dismiss": "Dismissed",
        "escalated": "Escalated to the jurisdiction above",
    },
    "reason": {"created": "New alert", "escalated": "Escalated"},
    "delivery": {"pending": "Waiting to send", "sent": "Delivered", "failed": "Failed"},
    "notifier": {"inapp": "In-app message", "webhook": "Webhook"},
    # How a batch of observations came in: its source is "api", or "upload:<file>", "file:<file>",
    # "pull:<source>" with the name after the colon.
    "source": {"api": "Data interface", "upload": "Upload", "file": "File", "pull": "Pulled from"},
    "frequency": {"daily": "Daily", "weekly": "Weekly"},
    "aggregation": {"sum": "Add up", "mean": "Average"},
    "kind": {
        "single_channel": "Any one channel",
        "multi_channel": "Several channels",
        "single_case": "Single case of a listed disease",
    },
}
INBOX_PAGE = 50


def actor_of(principal: Principal, request: Request) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, client_ip(request))


def _levels_below(principal: Principal) -> list[Level]:
    """Board levels at or below the caller's own (a county user has no city board)."""
    depth = principal.jpath.count("/") - 2
    own = list(Level)[min(depth, len(Level) - 1)]
    return [lv for lv in BOARD_LEVELS if LEVEL_ORDER[lv] >= LEVEL_ORDER[own]]


@router.get("/surveillance", response_class=HTMLResponse)
def board_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    level: Level | None = None,
    as_of: Day = None,
) -> Response:
    levels = _levels_below(principal)
    chosen = level if level in levels else (Level.county if Level.county in levels else levels[0])
    day = as_of or clock.today()
    rows = service.board(session, principal.jpath, chosen, day, service.BOARD_WINDOW_DAYS)
    channels = {c.code: c for c in service.list_channels(session, principal.jpath)}
    shown = sorted({code for r in rows for code in r.signals}, key=lambda c: list(channels).index(c))
    ordered = sorted(
        rows,
        key=lambda r: (
            -(list(AlertLevel).index(r.top_level) + 1 if r.top_level else 0),
            -r.total_signals,
            r.area.code,
        ),
    )
    tiles = [
        {
            "name": r.area.name,
            "id": r.area.id,
            "signals": r.total_signals,
            "alerts": r.open_alerts,
            "level": r.top_level.value if r.top_level else "",
        }
        for r in rows
    ]
    return render(
        request,
        "surveillance/board.html",
        {
            "rows": ordered,
            "levels": levels,
            "level": chosen,
            "as_of": day,
            "window": service.BOARD_WINDOW_DAYS,
            "channels": channels,
            "shown": shown,
            "tiles_json": json.dumps(tiles, ensure_ascii=False),
            "colours_json": json.dumps(LEVEL_COLOURS),
            "colours": LEVEL_COLOURS,
            "can_run": principal.can(Permission.surveillance_configure),
        },
        principal=principal,
    )


@router.post("/surveillance/run")
def run_page(
    request: Request,
    principal: Configurer,
    session: SessionDep,
    bus: BusDep,
    as_of: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    now = clock.utcnow()
    try:
        day = dt.date.fromisoformat(as_of) if as_of else clock.local_day(now)
    except ValueError:
        raise InvalidInput(
            [RowError(1, "as_of", Message("“{value}” is not a date (write it as 2022-07-01)", value=as_of))]
        ) from None
    report = runner.run_detection(session, bus, actor_of(principal, request), principal.jpath, day, now)
    session.commit()
    alerts.deliver_pending(request.app.state.db, now, principal.jpath)
    return RedirectResponse(f"/surveillance?as_of={day.isoformat()}&run={report.run.id}", status_code=303)


@router.get("/surveillance/series", response_class=HTMLResponse)
def series_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    channel_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    jurisdiction_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    config_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    end: Day = None,
) -> Response:
    channels = service.list_channels(session, principal.jpath)
    places = service.areas_of_level(session, principal.jpath, list(Level))
    places.sort(key=lambda a: a.path)
    place_paths = _place_paths(places, principal.jpath)
    view = None
    if channel_id is not None and jurisdiction_id is not None:
        view = service.series_view(
            session,
            principal.jpath,
            channel_id,
            jurisdiction_id,
            config_id=config_id,
            end=end or clock.today(),
        )
    chart: dict[str, Any] = {}
    if view is not None:
        chart = {
            "dates": [d.isoformat() for d in view.dates],
            "observed": view.observed,
            "expected": view.expected,
            "threshold": view.threshold,
            "alarm": [
                [d.isoformat(), o] for d, o, a in zip(view.dates, view.observed, view.alarm, strict=True) if a
            ],
        }
    return render(
        request,
        "surveillance/series.html",
        {
            "channels": channels,
            "places": [(p, place_paths[p.id]) for p in places],
            "place_paths": place_paths,
            "channel_id": channel_id,
            "jurisdiction_id": jurisdiction_id,
            "view": view,
            "chart_json": json.dumps(chart, ensure_ascii=False),
        },
        principal=principal,
    )


def _place_paths(places: Sequence[Area], scope: str) -> dict[int, str]:
    """Each place named by its line of descent below the user's own jurisdiction
    ("北山街道 / 幸福社区"): community names repeat across townships, so a name alone is ambiguous."""
    names = {p.path: p.name for p in places}
    found: dict[int, str] = {}
    for place in places:
        codes = [c for c in place.path.split("/") if c]
        line = ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
        below = [names[p] for p in line if p in names and (p != scope or p == place.path)]
        found[place.id] = " / ".join(below) or place.name
    return found


def _clock_text(row: alerts.AlertRow, now: dt.datetime) -> dict[str, Any]:
    a = row.alert
    state = clock_state(a.created_at, a.response_due_at, a.responded_at, now)
    hours = abs(state.seconds) / 3600.0
    return {"responded": state.responded, "overdue": state.overdue, "hours": hours, "due": state.due_at}


@router.get("/surveillance/alerts", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    status: Annotated[str, Query(max_length=16)] = "",
    mine: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    # The tabs link an empty status for "any status" (the inbox tab keeps the status tab's choice).
    chosen = _status_choice(status)
    statuses = [chosen] if chosen else []
    rows, total = alerts.list_alerts(
        session,
        principal.jpath,
        statuses=statuses,
        assigned_to=principal.jpath if mine else None,
        page=page,
        size=INBOX_PAGE,
    )
    now = clock.utcnow()
    items = [(r, _clock_text(r, now), json.loads(r.alert.evidence or "{}").get("channels", [])) for r in rows]
    return render(
        request,
        "surveillance/alerts.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // INBOX_PAGE)),
            "status": chosen.value if chosen else "",
            "mine": mine,
            "statuses": [s.value for s in AlertStatus],
            "colours": LEVEL_COLOURS,
        },
        principal=principal,
    )


def _status_choice(text: str) -> AlertStatus | None:
    """An inbox tab's status: empty means any; anything else must be a status, or the field is named."""
    if not text.strip():
        return None
    try:
        return AlertStatus(text.strip())
    except ValueError:
        allowed = [Message(LABELS["status"][s.value]) for s in AlertStatus]
        problem = Message("{value} is not an alert status (one of {allowed})", value=text, allowed=allowed)
        raise InvalidInput([RowError(1, "status", problem)]) from None


STATS_MAX_DAYS = 3_660
"""longest period of the statistics page, days (ten years): one query over every alert in it."""


@router.get("/surveillance/alerts/stats", response_class=HTMLResponse)
def alert_stats_page(
    request: Request, principal: Reader, session: SessionDep, start: Day = None, end: Day = None
) -> Response:
    """Response statistics of the alerts raised in a period of local days, as the API computes them."""
    last = end or clock.today()
    first = start or last - dt.timedelta(days=STATS_DEFAULT_DAYS - 1)
    # A bad period is said in the form, which keeps the days as typed (not an error page instead).
    errors: list[RowError] = []
    if first > last:
        errors.append(RowError(1, "start", Message("{start} is after the end {end}", start=first, end=last)))
    elif (last - first).days >= STATS_MAX_DAYS:
        errors.append(RowError(1, "start", Message("a period of at most {days} days", days=STATS_MAX_DAYS)))
    figures = None if errors else alerts.statistics(session, principal.jpath, first, last, clock.utcnow())
    rows = (
        []
        if figures is None
        else [
            ("overall", figures.overall),
            ("single_case", figures.single_case),
            ("temporal", figures.temporal),
        ]
    )
    return render(
        request,
        "surveillance/alerts_stats.html",
        {
            "figures": figures,
            "rows": rows,
            "start": first,
            "end": last,
            "colours": LEVEL_COLOURS,
            "errors": errors,
        },
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.get("/surveillance/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(
    request: Request, alert_id: Annotated[int, Path(ge=1, le=MAX_ID)], principal: Reader, session: SessionDep
) -> Response:
    detail = alerts.alert_detail(session, principal.jpath, alert_id)
    now = clock.utcnow()
    return render(
        request,
        "surveillance/alert.html",
        {
            "d": detail,
            "a": detail.row.alert,
            "clock": _clock_text(detail.row, now),
            "series_json": json.dumps(detail.evidence.get("series", []), ensure_ascii=False),
            "colours": LEVEL_COLOURS,
            "can_respond": principal.can(Permission.alerts_respond),
        },
        principal=principal,
    )


@router.post("/surveillance/alerts/{alert_id}/action")
def alert_action(
    request: Request,
    alert_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: Responder,
    session: SessionDep,
    bus: BusDep,
    action: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    if action not in ("verify", "confirm", "dismiss"):
        raise InvalidInput([RowError(1, "action", Message("unknown action “{value}”", value=action))])
    alerts.act(
        session, bus, actor_of(principal, request), principal.jpath, alert_id, action, note, clock.utcnow()
    )
    return RedirectResponse(f"/surveillance/alerts/{alert_id}", status_code=303)


@router.get("/surveillance/config", response_class=HTMLResponse)
def config_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    from fangkong.analytics.detection.registry import METHOD_NAMES

    return render(
        request,
        "surveillance/config.html",
        {
            "channels": service.list_channels(session, principal.jpath),
            "configs": service.list_configs(session, principal.jpath),
            "rules": service.list_rules(session, principal.jpath),
            "methods": METHOD_NAMES,
            "levels": [lv.value for lv in Level],
            "frequencies": [f.value for f in Frequency],
            "aggregations": [a.value for a in Aggregation],
            # Each kind by the name of its built-in channel (message ids), a channel of one's own last.
            "kinds": [
                (kind, {c.code: c.name for c in DEFAULT_CHANNELS}.get(kind, "Custom channel"))
                for kind in KINDS
            ],
            "rule_kinds": [k.value for k in RuleKind],
            "alert_levels": [lv.value for lv in AlertLevel],
            "can_configure": principal.can(Permission.surveillance_configure),
            "json": json,
        },
        principal=principal,
    )


def _params_from_text(text: str) -> dict[str, object]:
    """``alpha=0.05, b=3`` (as on the command line) into a parameter dict."""
    params: dict[str, object] = {}
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(
                [RowError(1, "params", Message("“{value}”: write name=value", value=part.strip()))]
            )
        params[key.strip()] = value.strip()
    return params


@router.post("/surveillance/config/channels")
def config_add_channel(
    request: Request,
    principal: Configurer,
    session: SessionDep,
    code: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=100)],
    unit: Annotated[str, Form(max_length=32)],
    frequency: Annotated[str, Form(max_length=8)],
    report_level: Annotated[str, Form(max_length=12)],
    aggregation: Annotated[str, Form(max_length=8)] = "sum",
    kind: Annotated[str, Form(max_length=32)] = "custom",
    disease: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    data = service.ChannelInput(code, name, unit, frequency, report_level, aggregation, kind, disease or None)
    service.create_channel(session, actor_of(principal, request), principal.jpath, data)
    return RedirectResponse("/surveillance/config", status_code=303)


@router.post("/surveillance/config/detectors")
def config_add_detector(
    request: Request,
    principal: Configurer,
    session: SessionDep,
    channel_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    level: Annotated[str, Form(max_length=12)],
    method: Annotated[str, Form(max_length=32)],
    params: Annotated[str, Form(max_length=1_000)] = "",
) -> Response:
    service.create_config(
        session,
        actor_of(principal, request),
        principal.jpath,
        channel_id,
        level,
        method,
        _params_from_text(params),
    )
    return RedirectResponse("/surveillance/config", status_code=303)


@router.post("/surveillance/config/detectors/{config_id}/active")
def config_detector_active(
    request: Request,
    config_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: Configurer,
    session: SessionDep,
    active: Annotated[bool, Form()] = False,
) -> Response:
    service.set_config_active(session, actor_of(principal, request), principal.jpath, config_id, active)
    return RedirectResponse("/surveillance/config", status_code=303)


@router.post("/surveillance/config/rules")
def config_add_rule(
    request: Request,
    principal: Configurer,
    session: SessionDep,
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=16)],
    level: Annotated[str, Form(max_length=12)],
    alert_level: Annotated[str, Form(max_length=8)],
    min_channels: Annotated[int, Form(ge=1, le=20)] = 1,
    window_days: Annotated[int, Form(ge=1, le=90)] = 7,
    neighbours: Annotated[bool, Form()] = False,
    diseases: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    data = service.RuleInput(
        name=name,
        kind=kind,
        level=level,
        alert_level=alert_level,
        min_channels=min_channels,
        window_days=window_days,
        neighbours=neighbours,
        diseases=[d.strip() for d in diseases.split(",") if d.strip()],
    )
    service.create_rule(session, actor_of(principal, request), principal.jpath, data)
    return RedirectResponse("/surveillance/config", status_code=303)


@router.get("/surveillance/data", response_class=HTMLResponse)
def data_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    rows, total = observations.list_observations(session, principal.jpath, size=50)
    return render(
        request,
        "surveillance/data.html",
        {
            "rows": rows,
            "total": total,
            "batches": observations.list_batches(session, principal.jpath, limit=20),
            "channels": service.list_channels(session, principal.jpath, include_inactive=False),
            "can_write": principal.can(Permission.surveillance_write),
        },
        principal=principal,
    )


@router.post("/surveillance/data/upload")
def data_upload(
    request: Request,
    principal: Writer,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise DomainError("file too large")
    name = file.filename or "upload.csv"
    records = read_upload(name, content)
    try:
        observations.ingest(
            session, actor_of(principal, request), principal.jpath, records, f"upload:{name}", clock.utcnow()
        )
    except InvalidInput as exc:
        # Rows and columns of the file, each column named as the file's header names it.
        raise InvalidInput(records.named(exc.errors), file=True) from None
    return RedirectResponse("/surveillance/data", status_code=303)
