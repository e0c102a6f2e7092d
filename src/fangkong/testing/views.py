"""Web pages of the testing capability, Chinese first, for testing coordinators, laboratories and community
workers.

Regional campaigns with their area, rounds, the stop rule's advice, the next round by the frequency rule
and the sampling sites sized by the rule; a round's dashboard (progress per community, refreshed every few
seconds by htmx, coloured by coverage, with the chart of progress against the deadline); its coverage
(应检未检) with the Excel list of the people not sampled; a sampling site; the laboratory's upload with its
validation report and the templates; worklists of the orders due; a person's test history; the recall of
positive pools; the pool-size planner. The pages shape what ``testing.service`` returns and keep nothing.

Forms are htmx forms (``web/errors.py``): a refused one shows each message beside its field; a refused
results file shows its bad rows after the form, as the other imports do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.analytics.pooling import PoolingInputError
from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, RowId, SessionDep, VaultDep, client_ip
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message, translations
from fangkong.core.models import Jurisdiction, Level, Person
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope, under
from fangkong.core.uploads import save_upload
from fangkong.testing import fhir_results
from fangkong.testing.models import (
    Campaign,
    CampaignRound,
    Laboratory,
    LabResult,
    RecallState,
    RoundState,
    SamplingSite,
    TestPlace,
    Tube,
    TubeMember,
)
from fangkong.testing.rules import pool_planner as planner
from fangkong.testing.rules.rounds import POOL_SIZES, ROUND_DEADLINE_HOURS
from fangkong.testing.service import coverage, orders, recall, results, rounds
from fangkong.web.errors import is_htmx
from fangkong.web.templating import language_of, render

router = APIRouter(include_in_schema=False)
# (permission, url, message id) entries this capability adds to the main navigation: at most two for any
# one role, so that the widest role's top bar stays one line. Rounds, coverage, sites, recalls, the
# planner and a person's history are linked from these pages.
NAV: list[tuple[Permission, str, str]] = [
    (Permission.testing_read, "/testing", "Mass testing"),
    (Permission.testing_sample, "/testing/worklist", "Worklists"),
    (Permission.lab_results, "/testing/lab", "Lab results"),
]

Reader = Annotated[Principal, Depends(Require(Permission.testing_read))]
Manager = Annotated[Principal, Depends(Require(Permission.testing_manage))]
Sampler = Annotated[Principal, Depends(Require(Permission.testing_sample))]
Lab = Annotated[Principal, Depends(Require(Permission.lab_results))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]

WORKLIST_PAGE = 100
# A lab's file of one round can be a million rows (about 60 MB of CSV).
MAX_RESULTS_FILE_BYTES = 200 * 1024 * 1024
# Seconds between two refreshes of an open round's dashboard.
REFRESH_SECONDS = 5
# Coverage colours: sampled share of the expected people at or above which a community is on track.
COVERAGE_GOOD = 0.95
COVERAGE_FAIR = 0.6
# Minutes per point of the progress chart.
PROGRESS_STEP_MINUTES = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _can(principal: Principal) -> dict[str, bool]:
    return {
        "can_manage": principal.can(Permission.testing_manage),
        "can_sample": principal.can(Permission.testing_sample),
        "can_upload": principal.can(Permission.lab_results),
    }


def _number(text: str, field: str, *, low: int, high: int) -> int:
    value = text.strip()
    if not value.lstrip("-").isdigit():
        raise InvalidInput([RowError(1, field, Message("“{value}” is not a whole number", value=text))])
    number = int(value)
    if number < low:
        raise InvalidInput([RowError(1, field, Message("must be at least {limit}", limit=low))])
    if number > high:
        raise InvalidInput([RowError(1, field, Message("must be at most {limit}", limit=high))])
    return number


def _places(session: Session, principal: Principal, levels: Sequence[Level]) -> list[Jurisdiction]:
    """Jurisdictions of these levels in scope (drill sandboxes left out)."""
    return [
        j
        for j in session.scalars(
            select(Jurisdiction)
            .where(under(Jurisdiction.path, principal.jpath), Jurisdiction.level.in_(list(levels)))
            .order_by(Jurisdiction.path)
            .limit(500)
        )
        if not j.is_sandbox
    ]


def coverage_class(share: float, expected: int) -> str:
    """The colour of a community's coverage: on track, behind, far behind (nobody expected: none)."""
    if not expected:
        return "cov-none"
    if share >= COVERAGE_GOOD:
        return "cov-good"
    return "cov-fair" if share >= COVERAGE_FAIR else "cov-poor"


def _hours_left(moment: dt.datetime, now: dt.datetime) -> float:
    return (clock.as_utc(moment) - clock.as_utc(now)).total_seconds() / 3600


# ------------------------------------------------------------------------------------------ campaigns


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
        pool_size=_number(pool_size, "pool_size", low=1, high=20),
        deadline_hours=_number(deadline_hours, "deadline_hours", low=1, high=168),
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
        _number(community_positives, "community_positives", low=0, high=10_000_000)
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


# ------------------------------------------------------------------------------------------ a round


def _progress_option(
    language: str, found: CampaignRound, points: Sequence[coverage.ProgressPoint], now: dt.datetime
) -> dict[str, Any]:
    """The ECharts option of a round's progress: share sampled through time against the deadline line."""
    gettext = translations(language).gettext

    def at(moment: dt.datetime) -> str:
        return clock.as_local(moment).strftime("%Y-%m-%d %H:%M")

    start, deadline = found.starts_at, found.deadline_at
    sampled = [[at(start), 0.0]] + [[at(p.at), round(p.share * 100, 1)] for p in points]
    return {
        "tooltip": {"trigger": "axis", "valueFormatter": None},
        "legend": {"data": [gettext("Sampled (% of expected)"), gettext("Pace to finish by the deadline")]},
        "grid": {"left": 50, "right": 30, "top": 40, "bottom": 40},
        "xAxis": {"type": "time", "min": at(start), "max": at(max(deadline, now) if points else deadline)},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {
                "name": gettext("Sampled (% of expected)"),
                "type": "line",
                "step": False,
                "areaStyle": {"opacity": 0.15},
                "data": sampled,
                "markLine": {
                    "symbol": "none",
                    "data": [{"xAxis": at(deadline), "name": gettext("Deadline")}],
                    "label": {"formatter": gettext("Deadline")},
                    "lineStyle": {"color": "#b42318", "type": "solid"},
                },
            },
            {
                "name": gettext("Pace to finish by the deadline"),
                "type": "line",
                "symbol": "none",
                "lineStyle": {"type": "dashed", "color": "#616e7c"},
                "data": [[at(start), 0], [at(deadline), 100]],
            },
        ],
    }


def _round_context(request: Request, session: Session, principal: Principal, round_id: int) -> dict[str, Any]:
    found, _scope = coverage.visible_round(session, principal, round_id)
    campaign = session.get(Campaign, found.campaign_id)
    assert campaign is not None
    counts = coverage.coverage(session, principal, round_id)
    points = coverage.progress(session, principal, round_id, step_minutes=PROGRESS_STEP_MINUTES)
    now = clock.utcnow()
    option = _progress_option(language_of(request), found, points, now)
    return {
        "round": found,
        "campaign": campaign,
        "counts": counts,
        "rows": [(c, coverage_class(c.share, c.expected)) for c in counts.communities],
        "share": min(counts.sampled / counts.expected, 1.0) if counts.expected else 0.0,
        "time_left": _hours_left(found.deadline_at, now),
        "live": found.state is RoundState.open,
        "refresh": REFRESH_SECONDS,
        "now": now,
        # Inside an attribute and a <script>: no "</" may end the script early (names are users' text).
        "option_json": json.dumps(option, ensure_ascii=False, default=str).replace("</", "<\\/"),
        "can_campaign": path_in_scope(campaign.jpath, principal.jpath),
        **_can(principal),
    }


@router.get("/testing/rounds/{round_id}", response_class=HTMLResponse)
def round_page(request: Request, round_id: RowId, principal: Reader, session: SessionDep) -> Response:
    return render(
        request,
        "testing/round.html",
        _round_context(request, session, principal, round_id),
        principal=principal,
    )


@router.get("/testing/rounds/{round_id}/live", response_class=HTMLResponse)
def round_live(request: Request, round_id: RowId, principal: Reader, session: SessionDep) -> Response:
    """The part of the dashboard that refreshes itself: counts per community and the chart's data."""
    return render(
        request,
        "testing/_round_live.html",
        _round_context(request, session, principal, round_id),
        principal=principal,
    )


@router.get("/testing/rounds/{round_id}/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, round_id: RowId, principal: Reader, session: SessionDep) -> Response:
    found, _scope = coverage.visible_round(session, principal, round_id)
    counts = coverage.coverage(session, principal, round_id)
    return render(
        request,
        "testing/coverage.html",
        {
            "round": found,
            "campaign": session.get(Campaign, found.campaign_id),
            "counts": counts,
            "rows": [(c, coverage_class(c.share, c.expected)) for c in counts.communities],
            "turnaround": coverage.turnaround(session, principal, round_id),
            "can_reveal": principal.can(Permission.people_reveal),
            **_can(principal),
        },
        principal=principal,
    )


@router.get("/testing/rounds/{round_id}/not-sampled.xlsx")
def not_sampled_xlsx(
    request: Request,
    round_id: RowId,
    principal: Reader,
    session: SessionDep,
    vault: VaultDep,
    community_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    """The people of the round not sampled, for the community workers who go and find them."""
    language: coverage.Language = "en" if language_of(request) == "en" else "zh"
    data = coverage.not_sampled_workbook(
        session,
        principal,
        round_id,
        vault=vault,
        community_id=community_id,
        language=language,
        ip=client_ip(request),
    )
    name = f"not-sampled-round-{round_id}" + (f"-{community_id}" if community_id else "") + ".xlsx"
    return Response(
        data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
    )


# ------------------------------------------------------------------------------------------ a site


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


# ------------------------------------------------------------------------------------------ the laboratory


def _laboratories(session: Session, principal: Principal) -> list[Laboratory]:
    """Laboratories serving the caller's area: in it, or above it."""
    return [
        lab
        for lab in session.scalars(select(Laboratory).order_by(Laboratory.name).limit(500))
        if path_in_scope(lab.jpath, principal.jpath) or path_in_scope(principal.jpath, lab.jpath)
    ]


def _lab_context(session: Session, principal: Principal) -> dict[str, Any]:
    return {
        "laboratories": _laboratories(session, principal),
        "laboratory_id": None,
        "report": None,
        "unknown": [],
        "errors": [],
        "max_mb": MAX_RESULTS_FILE_BYTES // (1024 * 1024),
    }


@router.get("/testing/lab", response_class=HTMLResponse)
def lab_page(request: Request, principal: Lab, session: SessionDep) -> Response:
    return render(request, "testing/lab.html", _lab_context(session, principal), principal=principal)


@router.post("/testing/lab", response_class=HTMLResponse)
def upload_results(
    request: Request,
    principal: Lab,
    session: SessionDep,
    bus: BusDep,
    file: Annotated[UploadFile, File()],
    laboratory_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """A results file: CSV or Excel by its name, a FHIR bundle (.json); the report or every bad row."""
    context = _lab_context(session, principal)
    lab = None
    if laboratory_id.strip():
        lab = _number(laboratory_id, "laboratory_id", low=1, high=2_147_483_647)
    context["laboratory_id"] = lab
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp, default_name="results.csv", limit=MAX_RESULTS_FILE_BYTES)
        try:
            if path.suffix.lower() in (".json", ".fhir"):
                report = results.load_fhir(
                    session, principal, path.read_bytes(), laboratory_id=lab, origin=path.name, bus=bus
                )
            else:
                report = results.load_results(session, principal, path, laboratory_id=lab, bus=bus)
        except InvalidInput as exc:
            if is_htmx(request):
                raise  # the error handler answers htmx: the file's bad rows beside the file field
            session.rollback()
            context["errors"] = exc.errors
            return render(request, "testing/lab.html", context, principal=principal, status_code=422)
    context["report"] = report
    # Each unknown barcode on its own (data), beside the platform's words for the problem.
    context["unknown"] = [
        (e.row, e.field, str(dict(e.text.params).get("barcode", ""))) for e in report.unknown
    ]
    # htmx gets the report alone (a whole page swapped in would bring styles the page's policy refuses).
    template = "testing/_lab_report.html" if is_htmx(request) else "testing/lab.html"
    return render(request, template, context, principal=principal)


TEMPLATE_ROWS = (
    ("TUBE-20261206-0001", "阳性", "28.4", "26.9", "2026-12-06 14:05"),
    ("TUBE-20261206-0002", "阴性", "", "", "2026-12-06 14:05"),
)


@router.get("/testing/lab/template.csv")
def csv_template(request: Request, principal: Reader) -> Response:
    """The results file's columns with two example rows (UTF-8 with a BOM, as Excel opens it)."""
    zh = language_of(request) != "en"
    header = ("条码", "结果", "Ct ORF1ab", "Ct N", "检测时间") if zh else (
        "barcode", "result", "Ct ORF1ab", "Ct N", "tested_at"
    )  # fmt: skip
    words = {"阳性": "positive", "阴性": "negative"}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for barcode, result, orf, n, at in TEMPLATE_ROWS:
        writer.writerow((barcode, result if zh else words[result], orf, n, at))
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''lab-results-template.csv"},
    )


@router.get("/testing/lab/template.fhir.json")
def fhir_template(principal: Reader) -> Response:
    """An HL7 FHIR R4 bundle as the platform reads it: the tube barcode in Specimen.container.identifier."""
    return Response(
        json.dumps(fhir_results.template_bundle(), ensure_ascii=False, indent=2),
        media_type="application/fhir+json",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''lab-results-template.fhir.json"},
    )


# ------------------------------------------------------------------------------------------ worklists


def _day(text: str) -> dt.date:
    if not text.strip():
        return clock.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            [RowError(1, "day", Message("“{value}” is not a date (write it as 2022-07-01)", value=text))]
        ) from None


@router.get("/testing/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    principal: Sampler,
    session: SessionDep,
    day: Annotated[str, Query(max_length=10)] = "",
    place: Annotated[str, Query(max_length=20)] = "",
    community_id: Annotated[str, Query(max_length=12)] = "",
    page: PageNo = 1,
) -> Response:
    errors: list[RowError] = []
    on = clock.today()
    where = TestPlace(place) if place in {p.value for p in TestPlace} else None
    community = int(community_id) if community_id.isdigit() else None
    try:
        on = _day(day)
    except InvalidInput as exc:
        errors = exc.errors
    due = orders.worklist(
        session, principal, on, place=where, community_id=community, page=page, size=WORKLIST_PAGE
    )
    late = orders.overdue(session, principal, community_id=community, page=1, size=WORKLIST_PAGE)
    return render(
        request,
        "testing/worklist.html",
        {
            "due": due,
            "late": late,
            "day": day or on.isoformat(),
            "on": on,
            "place": where.value if where else "",
            "places": [p.value for p in TestPlace],
            "community_id": community,
            "communities": _places(session, principal, [Level.community]),
            "errors": errors,
            "pages": max(1, math.ceil(due.total / due.size)),
            **_can(principal),
        },
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.post("/testing/orders/{order_id}/sample")
def record_sample(
    order_id: RowId,
    principal: Sampler,
    session: SessionDep,
    barcode: Annotated[str, Form(max_length=60)] = "",
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    orders.record_sample(session, principal, order_id, barcode)
    # Back to the worklist as it was filtered (only a worklist address: never another site's).
    target = back if back.startswith("/testing/worklist") else "/testing/worklist"
    return RedirectResponse(target, status_code=303)


# ------------------------------------------------------------------------------------------ a person


@router.get("/testing/people/{person_id}", response_class=HTMLResponse)
def history_page(request: Request, person_id: RowId, principal: Reader, session: SessionDep) -> Response:
    items = orders.history_of(session, principal, person_id)
    person = session.get(Person, person_id)
    if person is None:  # history_of has checked it exists in scope
        raise NotFound(Message("person {id} not found", id=person_id))
    ct = _ct_by_barcode(session, [i.barcode for i in items if i.barcode])
    return render(
        request,
        "testing/history.html",
        {
            "person": person,
            "items": items,
            "ct": ct,
            "recalls": [r for r in recall.recall_list(session, principal) if r.person_id == person_id],
            "now": clock.utcnow(),
            **_can(principal),
        },
        principal=principal,
    )


def _ct_by_barcode(session: Session, barcodes: Sequence[str]) -> dict[str, dict[str, float]]:
    """The Ct values of each tube's latest result version."""
    if not barcodes:
        return {}
    found: dict[str, tuple[int, dict[str, float]]] = {}
    for barcode, version, values in session.execute(
        select(LabResult.barcode, LabResult.version, LabResult.ct_values).where(
            LabResult.barcode.in_(list(barcodes))
        )
    ):
        if barcode not in found or version > found[barcode][0]:
            try:
                parsed = {str(k): float(v) for k, v in json.loads(values or "{}").items()}
            except (ValueError, AttributeError):
                parsed = {}
            found[barcode] = (version, parsed)
    return {barcode: values for barcode, (_v, values) in found.items()}


# ------------------------------------------------------------------------------------------ recalls


@dataclass(frozen=True)
class PoolRecall:
    """A positive pool and its members to find, with the measured time to find them all."""

    timing: recall.RecallTiming
    members: list[recall.RecallView]
    hours_left: float


@router.get("/testing/recalls", response_class=HTMLResponse)
def recalls_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    state: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    wanted = RecallState(state) if state in {s.value for s in RecallState} else None
    members = recall.recall_list(session, principal, state=wanted)
    by_tube: dict[int, list[recall.RecallView]] = {}
    for member in members:
        by_tube.setdefault(member.tube_id, []).append(member)
    now = clock.utcnow()
    pools = [
        PoolRecall(
            recall.recall_timing(session, principal, tube_id),
            people,
            _hours_left(min(p.deadline_at for p in people), now),
        )
        for tube_id, people in by_tube.items()
    ]
    return render(
        request,
        "testing/recalls.html",
        {
            "pools": pools,
            "state": wanted.value if wanted else "",
            "states": [s.value for s in RecallState],
            "now": now,
            **_can(principal),
        },
        principal=principal,
    )


@router.post("/testing/recalls/{recall_id}/located")
def mark_located(recall_id: RowId, principal: Sampler, session: SessionDep, bus: BusDep) -> Response:
    recall.mark_located(session, bus, principal, recall_id)
    return RedirectResponse(f"/testing/recalls#recall-{recall_id}", status_code=303)


@router.post("/testing/recalls/{recall_id}/retest")
def record_retest(
    recall_id: RowId,
    principal: Sampler,
    session: SessionDep,
    bus: BusDep,
    barcode: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    recall.record_retest(session, principal, recall_id, barcode, bus=bus)
    return RedirectResponse(f"/testing/recalls#recall-{recall_id}", status_code=303)


# ------------------------------------------------------------------------------------------ the planner


def _float(text: str, field: str) -> float:
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise InvalidInput([RowError(1, field, Message("“{value}” is not a number", value=text))]) from None
    if not math.isfinite(value):
        raise InvalidInput([RowError(1, field, Message("“{value}” is not a number", value=text))])
    return value


@router.get("/testing/planner", response_class=HTMLResponse)
def planner_page(
    request: Request,
    principal: Reader,
    prevalence: Annotated[str, Query(max_length=20)] = "",
    population: Annotated[str, Query(max_length=12)] = str(planner.DEFAULT_POPULATION),
    lab_capacity: Annotated[str, Query(max_length=12)] = str(int(planner.DEFAULT_LAB_TESTS_PER_HOUR)),
    collection: Annotated[str, Query(max_length=8)] = "lab",
) -> Response:
    """Prevalence in (per cent), the pool sizes side by side out: tests, lab hours, missed positives."""
    errors: list[RowError] = []
    plan = None
    if prevalence.strip():
        try:
            share = _float(prevalence, "prevalence") / 100
            if not 0 < share < 1:
                raise InvalidInput(
                    [RowError(1, "prevalence", Message("must lie between 0 and 100 per cent, both excluded"))]
                )
            people = _number(population, "population", low=1, high=2_000_000_000)
            capacity = _float(lab_capacity, "lab_capacity")
            if capacity <= 0:
                raise InvalidInput(
                    [RowError(1, "lab_capacity", Message("must be more than {limit}", limit=0))]
                )
            plan = planner.plan_pools(
                share,
                population=people,
                lab_tests_per_hour=capacity,
                collection="swab" if collection == "swab" else "lab",
            )
        except InvalidInput as exc:
            errors = exc.errors
        except PoolingInputError:
            errors = [RowError(1, "prevalence", Message("is not valid"))]
    return render(
        request,
        "testing/planner.html",
        {
            "plan": plan,
            "errors": errors,
            "form": {
                "prevalence": prevalence,
                "population": population,
                "lab_capacity": lab_capacity,
                "collection": "swab" if collection == "swab" else "lab",
            },
            "sources": planner.SOURCES,
        },
        principal=principal,
        status_code=422 if errors else 200,
    )
