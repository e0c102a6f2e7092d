"""The forms of the staff, teams, deployments and supplies pages: a staff member added, a work phone
shown (audited), a certification recorded, a person marked available or not (leaving the sites they
were posted to), a team made and its members, a team sent in support (支援) and checked in and out,
supplies received and transferred."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core.deps import BusDep, FormDep, RowId, SessionDep, VaultDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.resources.service import deployments, staff, supplies, teams
from fangkong.resources.service.deployments import MemberPlan
from fangkong.resources.views.common import Keeper, Manager, Text
from fangkong.resources.views.pages import staff_context
from fangkong.web.forms import iso_date, whole_number
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


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


@router.post("/resources/staff/{staff_id}/availability", response_class=HTMLResponse)
def set_availability(
    request: Request,
    staff_id: RowId,
    principal: Manager,
    session: SessionDep,
    bus: BusDep,
    available: Annotated[str, Form(max_length=3)] = "",
) -> HTMLResponse:
    """Mark a person available or not; the staff page comes back saying so, and naming the sites a person
    marked not available has left (their postings there end at once)."""
    if available not in {"yes", "no"}:
        raise InvalidInput([RowError(1, "available", Message("choose available or not available"))])
    change = staff.set_availability(
        session, principal, staff_id, available=available == "yes", ip=client_ip(request), bus=bus
    )
    context = {**staff_context(session, principal), "notice": change.message}
    return render(request, "resources/staff.html", context, principal=principal)


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
