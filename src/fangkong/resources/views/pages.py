"""The staff, teams, deployments and supplies pages, Chinese first: the staff and certification worklist
(with renewals due), teams with readiness and who is on call, a team with its open tasks, deployments
(支援) with who is checked in, and supplies with days of stock left, reorder alerts and a chart of days
left per store and supply (ECharts). Their forms are in :mod:`.forms`."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import RowId, SessionDep
from fangkong.core.permissions import Permission
from fangkong.resources import rules
from fangkong.resources.service import deployments, overview, roster, staff, supplies, teams
from fangkong.resources.views.common import LABELS, Reader, my_code
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


def staff_context(session: SessionDep, principal: Principal) -> dict[str, object]:
    """What the staff page shows (its forms render it again with what they did)."""
    return {
        "rows": staff.list_staff(session, principal),
        "renewals": staff.renewals_due(session, principal),
        "counts": overview.counts(session, principal.jpath),
        "labels": LABELS,
        "window": rules.RENEWAL_WINDOW_DAYS,
        "can_manage": principal.can(Permission.resources_manage),
        "today": clock.today(),
        "my_code": my_code(session, principal),
        "notice": None,
    }


@router.get("/resources/staff", response_class=HTMLResponse)
def staff_page(request: Request, principal: Reader, session: SessionDep) -> HTMLResponse:
    return render(request, "resources/staff.html", staff_context(session, principal), principal=principal)


@router.get("/resources/teams", response_class=HTMLResponse)
def teams_page(request: Request, principal: Reader, session: SessionDep) -> HTMLResponse:
    rows = teams.list_teams(session, principal)
    return render(
        request,
        "resources/teams.html",
        {
            "rows": rows,
            "counts": overview.counts(session, principal.jpath),
            "labels": LABELS,
            "can_manage": principal.can(Permission.resources_manage),
            "my_code": my_code(session, principal),
            "staff_rows": staff.list_staff(session, principal)
            if principal.can(Permission.resources_manage)
            else [],
            # Each team's contact list: its leader and whoever the roster puts on call today.
            "on_call": roster.on_call_by_team(session, principal.jpath),
        },
        principal=principal,
    )


@router.get("/resources/teams/{team_id}", response_class=HTMLResponse)
def team_page(request: Request, team_id: RowId, principal: Reader, session: SessionDep) -> HTMLResponse:
    """A team: members and readiness, and the open tasks given to it (issue 17's assignment)."""
    from fangkong.response.service.tasks import open_tasks_of_team

    row = teams.team_row(session, principal, team_id)
    return render(
        request,
        "resources/team.html",
        {"r": row, "tasks": open_tasks_of_team(session, principal, team_id), "labels": LABELS},
        principal=principal,
    )


@router.get("/resources/deployments", response_class=HTMLResponse)
def deployments_page(request: Request, principal: Reader, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "resources/deployments.html",
        {
            "rows": deployments.list_deployments(session, principal),
            "labels": LABELS,
            "can_manage": principal.can(Permission.resources_manage),
            "my_code": my_code(session, principal),
            "teams": teams.list_teams(session, principal)
            if principal.can(Permission.resources_manage)
            else [],
        },
        principal=principal,
    )


@router.get("/resources/supplies", response_class=HTMLResponse)
def supplies_page(request: Request, principal: Reader, session: SessionDep) -> HTMLResponse:
    rows = supplies.list_stock(session, principal)
    chart = [
        {
            "store": f"{r.jurisdiction_name} {r.stock.site}".strip(),
            "kind": r.stock.kind.value,
            "days": None if r.days_left is None else round(r.days_left, 1),
            "threshold": r.stock.reorder_days,
        }
        for r in rows
        if r.days_left is not None
    ]
    return render(
        request,
        "resources/supplies.html",
        {
            "rows": rows,
            "alerts": [r for r in rows if r.reorder],
            "labels": LABELS,
            "chart_json": json.dumps(chart, ensure_ascii=False),
            "has_chart": bool(chart),
            "can_keep": principal.can(Permission.supplies_manage),
            "my_code": my_code(session, principal),
        },
        principal=principal,
    )
