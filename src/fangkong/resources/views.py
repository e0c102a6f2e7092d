"""Web pages of the resources capability, Chinese first: the staff and certification worklist (with
renewals due), teams with readiness, deployments (支援) with who is checked in, and supplies with days of
stock left, reorder alerts and a chart of days left per store and supply (ECharts)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import FormDep, Require, RowId, SessionDep, VaultDep, client_ip
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.resources import rules
from fangkong.resources.models import Skill, SupplyKind, TeamKind
from fangkong.resources.service import deployments, overview, roster, staff, supplies, teams
from fangkong.resources.service.deployments import MemberPlan
from fangkong.web.forms import iso_date, whole_number
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [
    (Permission.resources_read, "/resources/teams", "Teams"),
    (Permission.resources_read, "/resources/staff", "Staff"),
    (Permission.resources_read, "/resources/deployments", "Deployments"),
    (Permission.resources_read, "/resources/supplies", "Supplies"),
    (Permission.resources_read, "/resources/roster", "Duty roster"),
    (Permission.resources_read, "/resources/training", "Training"),
]

Reader = Annotated[Principal, Depends(Require(Permission.resources_read))]
Manager = Annotated[Principal, Depends(Require(Permission.resources_manage))]
Keeper = Annotated[Principal, Depends(Require(Permission.supplies_manage))]
Text = Annotated[str, Form(max_length=200)]

SKILL_LABELS = {
    Skill.field_investigation: "Field investigation",
    Skill.sampling: "Sampling",
    Skill.laboratory_testing: "Laboratory testing",
    Skill.disinfection: "Disinfection",
    Skill.data_entry: "Data entry",
    Skill.transport: "Transport",
    Skill.clinical: "Clinical care",
}
TEAM_LABELS = {
    TeamKind.investigation: "Investigation and tracing",
    TeamKind.sampling: "Sampling",
    TeamKind.testing: "Testing",
    TeamKind.disinfection: "Disinfection",
    TeamKind.transfer: "Transfer",
}
SUPPLY_LABELS = {
    SupplyKind.ppe: "Protective suits",
    SupplyKind.swab: "Swabs",
    SupplyKind.tube: "Sampling tubes",
    SupplyKind.reagent: "PCR reagents",
    SupplyKind.antigen_test: "Antigen tests",
    SupplyKind.disinfectant: "Disinfectant",
    SupplyKind.medicine: "Medicines",
}
READINESS_LABELS = {
    rules.ReadinessState.ready: "Ready",
    rules.ReadinessState.partly_ready: "Partly ready",
    rules.ReadinessState.not_ready: "Not ready",
}
LABELS = {
    "skills": SKILL_LABELS,
    "teams": TEAM_LABELS,
    "supplies": SUPPLY_LABELS,
    "readiness": READINESS_LABELS,
}


def _my_code(session: SessionDep, principal: Principal) -> str:
    node = session.get(Jurisdiction, principal.jurisdiction_id)
    return node.code if node is not None else ""


@router.get("/resources/staff", response_class=HTMLResponse)
def staff_page(request: Request, principal: Reader, session: SessionDep) -> HTMLResponse:
    rows = staff.list_staff(session, principal)
    return render(
        request,
        "resources/staff.html",
        {
            "rows": rows,
            "renewals": staff.renewals_due(session, principal),
            "counts": overview.counts(session, principal.jpath),
            "labels": LABELS,
            "window": rules.RENEWAL_WINDOW_DAYS,
            "can_manage": principal.can(Permission.resources_manage),
            "today": clock.today(),
            "my_code": _my_code(session, principal),
        },
        principal=principal,
    )


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
            "my_code": _my_code(session, principal),
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
            "my_code": _my_code(session, principal),
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
            "my_code": _my_code(session, principal),
        },
        principal=principal,
    )


# ------------------------------------------------------------------------------------------- forms


@router.post("/resources/staff")
def add_staff(
    request: Request, form: FormDep, principal: Manager, session: SessionDep, vault: VaultDep
) -> Response:
    """Put a person on the staff list (the skills ticked are the ones they work in)."""
    staff.add_staff(
        session,
        principal,
        jurisdiction_code=str(form.get("jurisdiction_code", ""))[:12],
        name=str(form.get("name", ""))[:100],
        unit=str(form.get("unit", ""))[:200],
        skills=[str(v)[:40] for v in form.getlist("skills")][:10],
        work_phone=str(form.get("work_phone", ""))[:40],
        vault=vault,
        ip=client_ip(request),
    )
    return RedirectResponse("/resources/staff", status_code=303)


@router.post("/resources/staff/{staff_id}/phone", response_class=HTMLResponse)
def reveal_phone(
    request: Request, staff_id: RowId, principal: Manager, session: SessionDep, vault: VaultDep
) -> HTMLResponse:
    """The full work phone in place of the masked one (recorded in the audit log)."""
    phone = staff.reveal_phone(session, vault, principal, staff_id, client_ip(request))
    return render(request, "resources/_phone.html", {"phone": phone}, principal=principal)


@router.post("/resources/staff/certify")
def certify(
    request: Request,
    principal: Manager,
    session: SessionDep,
    staff_id: Annotated[str, Form(max_length=12)],
    skill: Annotated[str, Form(max_length=40)],
    passed_on: Annotated[str, Form(max_length=20)],
) -> Response:
    """Record a certification passed (an exam taken elsewhere)."""
    day = iso_date(passed_on, "passed_on")
    person = whole_number(staff_id, "staff_id", low=1, high=2_147_483_647)
    staff.certify(session, principal, person, skill, day, ip=client_ip(request))
    return RedirectResponse("/resources/staff", status_code=303)


@router.post("/resources/teams")
def create_team(
    request: Request,
    principal: Manager,
    session: SessionDep,
    jurisdiction_code: Annotated[str, Form(max_length=12)],
    kind: Annotated[str, Form(max_length=40)],
    name: Text,
) -> Response:
    teams.create_team(
        session, principal, jurisdiction_code=jurisdiction_code, kind=kind, name=name, ip=client_ip(request)
    )
    return RedirectResponse("/resources/teams", status_code=303)


@router.post("/resources/teams/members")
def add_member(
    request: Request,
    principal: Manager,
    session: SessionDep,
    team_id: Annotated[str, Form(max_length=12)],
    staff_id: Annotated[str, Form(max_length=12)],
    leader: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    teams.add_member(
        session,
        principal,
        whole_number(team_id, "team_id", low=1, high=2_147_483_647),
        whole_number(staff_id, "staff_id", low=1, high=2_147_483_647),
        leader=leader == "yes",
        ip=client_ip(request),
    )
    return RedirectResponse("/resources/teams", status_code=303)


@router.post("/resources/deployments")
def send(
    request: Request,
    principal: Manager,
    session: SessionDep,
    team_id: Annotated[str, Form(max_length=12)],
    to_jurisdiction_code: Annotated[str, Form(max_length=12)],
    outbreak: Text,
    commander: Text,
    working_group: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Send a whole team in support (支援), one batch, one working group."""
    team = whole_number(team_id, "team_id", low=1, high=2_147_483_647)
    row = teams.team_row(session, principal, team)
    deployments.send(
        session,
        principal,
        team,
        to_jurisdiction_code=to_jurisdiction_code,
        outbreak=outbreak,
        commander=commander,
        members=[MemberPlan(m.staff.id, 1, working_group) for m in row.members],
        ip=client_ip(request),
    )
    return RedirectResponse("/resources/deployments", status_code=303)


@router.post("/resources/deployments/{deployment_id}/check-in")
def check_in(
    request: Request,
    deployment_id: RowId,
    principal: Manager,
    session: SessionDep,
    batch: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Check in on arrival: one batch, or everyone not yet checked in."""
    wanted = whole_number(batch, "batch", low=1, high=20) if batch.strip() else None
    deployments.check_in(session, principal, deployment_id, batch=wanted, ip=client_ip(request))
    return RedirectResponse("/resources/deployments", status_code=303)


@router.post("/resources/deployments/{deployment_id}/check-out")
def check_out(request: Request, deployment_id: RowId, principal: Manager, session: SessionDep) -> Response:
    deployments.check_out(session, principal, deployment_id, ip=client_ip(request))
    return RedirectResponse("/resources/deployments", status_code=303)


@router.post("/resources/supplies/receipts")
def receive(
    request: Request,
    principal: Keeper,
    session: SessionDep,
    jurisdiction_code: Annotated[str, Form(max_length=12)],
    kind: Annotated[str, Form(max_length=40)],
    quantity: Annotated[str, Form(max_length=12)],
    site: Text = "",
) -> Response:
    supplies.receive(
        session,
        principal,
        jurisdiction_code=jurisdiction_code,
        kind=kind,
        quantity=whole_number(quantity, "quantity", low=1, high=supplies.QUANTITY_MAX),
        site=site,
        ip=client_ip(request),
    )
    return RedirectResponse("/resources/supplies", status_code=303)


@router.post("/resources/supplies/transfers")
def transfer(
    request: Request,
    principal: Keeper,
    session: SessionDep,
    stock_id: Annotated[str, Form(max_length=12)],
    to_jurisdiction_code: Annotated[str, Form(max_length=12)],
    quantity: Annotated[str, Form(max_length=12)],
) -> Response:
    supplies.transfer(
        session,
        principal,
        whole_number(stock_id, "stock_id", low=1, high=2_147_483_647),
        to_jurisdiction_code,
        whole_number(quantity, "quantity", low=1, high=supplies.QUANTITY_MAX),
        ip=client_ip(request),
    )
    return RedirectResponse("/resources/supplies", status_code=303)


def _include_subpages() -> None:
    """The training and duty-roster pages live in modules of their own; they are served with these."""
    from fangkong.resources import roster_views, training_views

    router.include_router(training_views.router)
    router.include_router(roster_views.router)


_include_subpages()
