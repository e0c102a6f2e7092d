"""The duty roster pages of the resources capability, Chinese first: a jurisdiction's week as a grid (on
duty 值, on call 备), one line typed in at a time, the week imported from a spreadsheet (all or nothing,
each problem naming its row and column) or downloaded as one, and who is on duty or on call today by
team."""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import SessionDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.core.uploads import save_upload
from fangkong.resources.models import ShiftKind
from fangkong.resources.service import roster, teams
from fangkong.resources.views.common import Manager, PageNo, Reader, my_code
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)

Code = Annotated[str, Query(max_length=12)]
WeekText = Annotated[str, Query(max_length=20)]
MAX_ROSTER_FILE_BYTES = 4 * 1024 * 1024
KIND_LABELS = {ShiftKind.on_duty: "On duty", ShiftKind.on_call: "On call"}


def _day(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            [RowError(1, field, Message("“{value}” is not a date (write it as 2022-07-01)", value=text[:20]))]
        ) from None


def _week_of(text: str) -> dt.date:
    return roster.week_start(_day(text, "week") if text.strip() else clock.today())


def _context(
    session: SessionDep, principal: Principal, code: str, monday: dt.date, page: int
) -> dict[str, object]:
    code = code.strip() or my_code(session, principal)
    grid = roster.week(session, principal, code, monday, page)
    today = clock.today()
    can_manage = principal.can(Permission.resources_manage)
    return {
        "grid": grid,
        "today": today,
        "today_lines": roster.today_lines(session, principal.jpath, today),
        "kinds": KIND_LABELS,
        "previous": (grid.monday - dt.timedelta(days=7)).isoformat(),
        "next": (grid.monday + dt.timedelta(days=7)).isoformat(),
        "can_manage": can_manage,
        "teams": teams.list_teams(session, principal) if can_manage else [],
        "report": None,
        "errors": [],
    }


@router.get("/resources/roster", response_class=HTMLResponse)
def roster_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    jurisdiction: Code = "",
    week: WeekText = "",
    page: PageNo = 1,
) -> HTMLResponse:
    try:
        context = _context(session, principal, jurisdiction, _week_of(week), page)
    except InvalidInput as invalid:
        # A bad filter: this week of one's own jurisdiction, what was typed kept, the problem in the form.
        context = _context(session, principal, "", clock.today(), 1)
        context.update(filter_errors=invalid.errors, typed={"jurisdiction": jurisdiction, "week": week})
        return render(request, "resources/roster.html", context, principal=principal, status_code=422)
    return render(request, "resources/roster.html", context, principal=principal)


@router.post("/resources/roster/shifts")
def set_shift(
    request: Request,
    principal: Manager,
    session: SessionDep,
    staff_id: Annotated[str, Form(max_length=12)] = "",
    day: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=10)] = "",
    team_id: Annotated[str, Form(max_length=12)] = "",
    jurisdiction: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """One line of the roster (a person, a day, on duty or on call or off)."""
    errors: list[RowError] = []
    if not staff_id.strip().isdigit():
        errors.append(RowError(1, "staff_id", Message("choose a staff member")))
    if team_id.strip() and not team_id.strip().isdigit():
        errors.append(RowError(1, "team_id", Message("choose a team")))
    try:
        wanted = _day(day, "day")
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
    if errors:
        raise InvalidInput(errors)
    roster.set_shift(
        session, principal, int(staff_id), wanted, kind,
        team_id=int(team_id) if team_id.strip() else None, ip=client_ip(request),
    )  # fmt: skip
    target = f"/resources/roster?jurisdiction={jurisdiction.strip()}&week={roster.week_start(wanted)}"
    return RedirectResponse(target, status_code=303)


@router.post("/resources/roster/import", response_class=HTMLResponse)
def import_roster(
    request: Request,
    principal: Manager,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[bool, Form()] = False,
    jurisdiction: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """The roster from a spreadsheet: every row checked, nothing written unless all pass."""
    errors: list[RowError] = []
    report = None
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp, default_name="roster.csv", limit=MAX_ROSTER_FILE_BYTES)
        try:
            report = roster.import_roster(session, principal, path, dry_run=dry_run, ip=client_ip(request))
        except InvalidInput as exc:
            session.rollback()
            errors = exc.errors
    monday = report.days[0] if report and report.days else clock.today()
    context = _context(session, principal, jurisdiction, roster.week_start(monday), 1)
    context.update(report=report, errors=errors)
    return render(
        request, "resources/roster.html", context, principal=principal, status_code=422 if errors else 200
    )


@router.get("/resources/roster.csv")
def roster_csv(
    principal: Reader,
    session: SessionDep,
    jurisdiction: Code = "",
    week: WeekText = "",
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> Response:
    """The week as a file the import reads back (an empty week: the template)."""
    code = jurisdiction.strip() or my_code(session, principal)
    monday = _week_of(week)
    data = roster.week_csv(session, principal, code, monday, lang)
    name = f"roster-{code}-{monday.isoformat()}.csv"
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
