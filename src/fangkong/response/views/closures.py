"""Web pages of the daily closure (日清日结): the days of a jurisdiction with a drill-down to its children,
one version of a day by section (the onset curve marked provisional, a correction's changes highlighted
against the version before), the command centre's publish, correction and sign-off forms, and the day's
activity log by role. They only shape what ``response.service.closure`` returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.audit_labels import ACTION_LABELS, OBJECT_LABELS
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep, client_ip
from fangkong.core.errors import NotFound
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.response.rules import closure as rules
from fangkong.response.service import closure as service
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)
NAV = [(Permission.response_read, "/closure", "Daily closure")]

Reader = Annotated[Principal, Depends(Require(Permission.response_read))]
Publisher = Annotated[Principal, Depends(Require(Permission.closure_publish))]
Code = Annotated[str, Path(min_length=2, max_length=12, pattern=r"^[0-9]+$")]
Version = Annotated[int, Path(ge=1, le=10_000)]
VersionQuery = Annotated[int, Query(ge=1, le=10_000)]

# Message ids of the sections and figures, in the order the page shows them.
SECTION_LABELS = {
    "tasks": "Tasks",
    "cases": "Cases",
    "contacts": "Contacts",
    "quarantine": "Centralized quarantine",
    "testing": "Tests of people under management",
    "alerts": "Alerts",
    "areas": "Risk areas",
    "series": "Epidemic curve",
}
FIGURE_LABELS = {
    "tasks.due": "Due today",
    "tasks.done": "Done",
    "tasks.done_on_time": "Done on time",
    "tasks.late": "Late",
    "tasks.carried_over": "Carried over to tomorrow",
    "tasks.opened": "Opened",
    "cases.reported": "Reported today",
    "cases.total": "Total reported",
    "cases.confirmed": "Confirmed cases reported today",
    "cases.asymptomatic": "Asymptomatic infections reported today",
    "cases.found_under_management": "Found among people under management",
    "contacts.identified": "Contacts identified today",
    "quarantine.placed": "People placed",
    "quarantine.released": "People released",
    "quarantine.occupied": "People in quarantine at the end of the day",
    "quarantine.capacity": "Beds in open sites",
    "testing.due": "Tests due",
    "testing.done": "Tests taken",
    "testing.overdue": "Tests overdue",
    "testing.positive": "Positive tests",
    "alerts.raised": "Alerts raised",
    "alerts.answered": "Alerts answered",
    "alerts.answered_in_time": "Answered in time",
    "alerts.open": "Alerts not answered at the end of the day",
    "alerts.median_response_hours": "Median hours to answer",
    "areas.high": "High-risk areas in force",
    "areas.medium": "Medium-risk areas in force",
    "areas.designated": "Areas designated today",
    "areas.lifted": "Areas lifted today",
    "series.report": "Cases by report date",
    "series.onset": "Cases by onset date",
}
# Days the list page shows.
DAYS_SHOWN = 60


def _home(session: Session, principal: Principal) -> Jurisdiction:
    place = session.get(Jurisdiction, principal.jurisdiction_id)
    if place is None:
        raise NotFound(Message("No such jurisdiction."))
    return place


def _is_closed_level(place: Jurisdiction) -> bool:
    return place.level in service.CLOSED_LEVELS


def _days_page(request: Request, principal: Principal, session: Session, place: Jurisdiction) -> Response:
    yesterday = clock.today() - dt.timedelta(days=1)
    days = (
        service.closed_days(session, principal, place.id, limit=DAYS_SHOWN) if _is_closed_level(place) else []
    )
    children = service.children_closures(session, principal, place.id, yesterday)
    return render(
        request,
        "response/closure_list.html",
        {
            "place": place,
            "closed_level": _is_closed_level(place),
            "days": days,
            "yesterday": yesterday,
            "yesterday_closed": any(d.day == yesterday for d in days),
            "children": children,
            "can_publish": principal.can(Permission.closure_publish),
        },
        principal=principal,
    )


@router.get("/closure", response_class=HTMLResponse)
def closure_home(request: Request, principal: Reader, session: SessionDep) -> Response:
    """The closed days of the user's own jurisdiction."""
    return _days_page(request, principal, session, _home(session, principal))


@router.get("/closure/{code}", response_class=HTMLResponse)
def closure_days(request: Request, code: Code, principal: Reader, session: SessionDep) -> Response:
    """The closed days of a jurisdiction in the user's subtree, and its children's."""
    return _days_page(request, principal, session, service.place_by_code(session, principal, code))


def _sections(view: service.ClosureView, changed: set[str]) -> list[dict[str, Any]]:
    """The figures by section as rows for the page: label, value, whether a correction changed it."""
    figures = view.figures
    sections: list[dict[str, Any]] = []
    for section in rules.SECTIONS:
        rows: list[dict[str, Any]] = []
        for figure, value in figures[section].items():
            key = f"{section}.{figure}"
            if key == "contacts.under_measure":
                continue
            rows.append(
                {"key": key, "label": FIGURE_LABELS.get(key, key), "value": value, "changed": key in changed}
            )
        sections.append({"key": section, "label": SECTION_LABELS[section], "rows": rows})
    return sections


def _series(view: service.ClosureView, changed: set[str]) -> list[dict[str, Any]]:
    """The two curves day by day (newest first), each day marked when a correction changed it."""
    report = view.figures["series"]["report"]
    onset = view.figures["series"]["onset"]
    return [
        {
            "day": day,
            "report": report.get(day, 0),
            "onset": onset.get(day, 0),
            "report_changed": f"series.report.{day}" in changed,
            "onset_changed": f"series.onset.{day}" in changed,
        }
        for day in sorted(report, reverse=True)
    ]


def _closure_page(
    request: Request, principal: Principal, session: Session, code: str, day: dt.date, version: int | None
) -> Response:
    place = service.place_by_code(session, principal, code)
    view = service.get_closure(session, principal, place.id, day, version)
    changes: list[rules.Change] = []
    if view.version > 1:
        changes = service.diff(session, principal, place.id, day, view.version - 1, view.version).changes
    changed = {c.key for c in changes}
    under_measure = [
        {"category": k, "value": v, "changed": f"contacts.under_measure.{k}" in changed}
        for k, v in view.figures["contacts"]["under_measure"].items()
    ]
    return render(
        request,
        "response/closure.html",
        {
            "place": place,
            "view": view,
            "exact": version is not None,
            "versions": service.versions(session, principal, place.id, day),
            "sections": _sections(view, changed),
            "under_measure": under_measure,
            "series": _series(view, changed),
            "changes": changes,
            "labels": FIGURE_LABELS,
            "children": service.children_closures(session, principal, place.id, day),
            "activity": service.activity_log(session, principal, place.path, day),
            "actions": ACTION_LABELS,
            "objects": OBJECT_LABELS,
            "can_publish": principal.can(Permission.closure_publish),
        },
        principal=principal,
    )


@router.get("/closure/{code}/{day}", response_class=HTMLResponse)
def closure_latest(
    request: Request, code: Code, day: dt.date, principal: Reader, session: SessionDep
) -> Response:
    """The newest version of the day."""
    return _closure_page(request, principal, session, code, day, None)


@router.get("/closure/{code}/{day}/v{version}", response_class=HTMLResponse)
def closure_version(
    request: Request, code: Code, day: dt.date, version: Version, principal: Reader, session: SessionDep
) -> Response:
    """One version exactly as published."""
    return _closure_page(request, principal, session, code, day, version)


@router.get("/closure/{code}/{day}/diff", response_class=HTMLResponse)
def closure_diff(
    request: Request,
    code: Code,
    day: dt.date,
    principal: Reader,
    session: SessionDep,
    a: VersionQuery = 1,
    b: VersionQuery = 2,
) -> Response:
    """Two versions of the day, figure by figure."""
    place = service.place_by_code(session, principal, code)
    found = service.diff(session, principal, place.id, day, a, b)
    return render(
        request,
        "response/closure_diff.html",
        {"place": place, "day": day, "diff": found, "changes": found.changes, "labels": FIGURE_LABELS},
        principal=principal,
    )


@router.post("/closure/{code}/{day}/publish")
def closure_publish(
    request: Request,
    code: Code,
    day: dt.date,
    principal: Publisher,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=service.MAX_REASON)] = "",
) -> Response:
    """Publish the day (version 1), or a correction with its reason; then to the new version."""
    place = service.place_by_code(session, principal, code)
    view = service.publish(session, principal, place.id, day, reason=reason or None, ip=client_ip(request))
    return RedirectResponse(f"/closure/{place.code}/{day}/v{view.version}", status_code=303)


@router.post("/closure/{code}/{day}/v{version}/sign-off")
def closure_sign_off(
    request: Request,
    code: Code,
    day: dt.date,
    version: Version,
    principal: Publisher,
    session: SessionDep,
    objectives: Annotated[str, Form(max_length=service.MAX_OBJECTIVES)] = "",
) -> Response:
    """Sign the version off with the next operational period's objectives."""
    place = service.place_by_code(session, principal, code)
    view = service.get_closure(session, principal, place.id, day, version)
    service.sign_off(session, principal, view.id, objectives, ip=client_ip(request))
    return RedirectResponse(f"/closure/{place.code}/{day}/v{version}", status_code=303)
