"""Training pages of the resources capability, Chinese first: courses and their sessions, a session's
attendance and exam results (one form per participant; a pass certifies), exercises (drills count as
exercises, with each participant's part), and the renewal worklist by jurisdiction with its Excel export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import FormDep, RowId, SessionDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.models import Jurisdiction
from fangkong.core.permissions import Permission
from fangkong.resources import rules
from fangkong.resources.models import Course
from fangkong.resources.service import staff, training
from fangkong.resources.service.common import jurisdiction_in_scope
from fangkong.resources.views.common import LABELS, SKILL_LABELS, Manager, PageNo, Reader, my_code
from fangkong.web.forms import iso_date, whole_number
from fangkong.web.templating import language_of, render

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RENEWAL_PAGE = 50
WITHIN_MAX = 365


# -------------------------------------------------------------------------------------------- courses


@router.get("/resources/training", response_class=HTMLResponse)
def courses_page(request: Request, principal: Reader, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "resources/training.html",
        {
            "rows": training.course_rows(session, principal),
            "labels": LABELS,
            "can_manage": principal.can(Permission.resources_manage),
            "defaults": {"valid_days": rules.CERTIFICATION_VALID_DAYS, "pass_score": rules.PASS_SCORE},
        },
        principal=principal,
    )


@router.post("/resources/training/courses")
def create_course(
    request: Request,
    principal: Manager,
    session: SessionDep,
    title: Annotated[str, Form(max_length=200)] = "",
    skill: Annotated[str, Form(max_length=40)] = "",
    valid_days: Annotated[str, Form(max_length=6)] = str(rules.CERTIFICATION_VALID_DAYS),
    pass_score: Annotated[str, Form(max_length=4)] = str(rules.PASS_SCORE),
) -> Response:
    errors: list[RowError] = []
    days = score = 0
    try:
        days = whole_number(valid_days, "valid_days", low=1, high=3650)
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
    try:
        score = whole_number(pass_score, "pass_score", low=0, high=100)
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
    try:
        course = training.create_course(
            session, principal, title=title, skill=skill, valid_days=days or 1, pass_score=score,
            ip=client_ip(request),
        )  # fmt: skip
    except InvalidInput as invalid:
        errors.extend(e for e in invalid.errors if e.field not in {x.field for x in errors})
    if errors:
        raise InvalidInput(errors)
    return RedirectResponse(f"/resources/training/courses/{course.id}", status_code=303)


@router.get("/resources/training/courses/{course_id}", response_class=HTMLResponse)
def course_page(
    request: Request, course_id: RowId, principal: Reader, session: SessionDep, page: PageNo = 1
) -> HTMLResponse:
    course = training.get_course(session, principal, course_id)
    rows, total = training.course_sessions(session, principal, course_id, page)
    return render(
        request,
        "resources/course.html",
        {
            "course": course,
            "rows": rows,
            "page": page,
            "pages": max(1, -(-total // training.PAGE_SIZE)),
            "labels": LABELS,
            "can_manage": principal.can(Permission.resources_manage),
            "today": clock.today(),
            "my_code": my_code(session, principal),
        },
        principal=principal,
    )


@router.post("/resources/training/courses/{course_id}/sessions")
def hold_session(
    request: Request,
    course_id: RowId,
    principal: Manager,
    session: SessionDep,
    held_on: Annotated[str, Form(max_length=20)] = "",
    jurisdiction_code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    day = iso_date(held_on, "held_on")
    held = training.hold_session(
        session, principal, course_id, day, jurisdiction_code=jurisdiction_code, ip=client_ip(request)
    )
    return RedirectResponse(f"/resources/training/sessions/{held.id}", status_code=303)


# ------------------------------------------------------------------------------------------- sessions


@router.get("/resources/training/sessions/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, session_id: RowId, principal: Reader, session: SessionDep) -> HTMLResponse:
    held = training.get_session(session, principal, session_id)
    course = session.get(Course, held.course_id) if held.course_id else None
    can_manage = principal.can(Permission.resources_manage)
    return render(
        request,
        "resources/session.html",
        {
            "held": held,
            "course": course,
            "lines": training.lines(session, principal, session_id),
            "candidates": training.candidates(session, principal, session_id) if can_manage else [],
            "labels": LABELS,
            "can_manage": can_manage,
            "today": clock.today(),
        },
        principal=principal,
    )


@router.post("/resources/training/sessions/{session_id}/participants")
def add_participants(
    request: Request, session_id: RowId, form: FormDep, principal: Manager, session: SessionDep
) -> Response:
    """Put people on the session's list (the results are entered beside each name afterwards)."""
    chosen = [str(v)[:12] for v in form.getlist("staff_ids")][: training.MAX_PARTICIPANTS + 1]
    ids = [whole_number(v, "staff_ids", low=1, high=2_147_483_647) for v in chosen]
    training.add_participants(session, principal, session_id, ids, ip=client_ip(request))
    return RedirectResponse(f"/resources/training/sessions/{session_id}", status_code=303)


@router.post("/resources/training/sessions/{session_id}/results", response_class=HTMLResponse)
def record_result(
    request: Request,
    session_id: RowId,
    principal: Manager,
    session: SessionDep,
    staff_id: Annotated[str, Form(max_length=12)] = "",
    exam_score: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    """One participant's exam result; htmx swaps the participant's row (a pass shows the certificate)."""
    person = whole_number(staff_id, "staff_id", low=1, high=2_147_483_647)
    score = whole_number(exam_score, "exam_score", low=0, high=100)
    training.record_result(session, principal, session_id, person, score, ip=client_ip(request))
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(f"/resources/training/sessions/{session_id}", status_code=303)
    held = training.get_session(session, principal, session_id)
    return render(
        request,
        "resources/_session_line.html",
        {
            "held": held,
            "course": session.get(Course, held.course_id) if held.course_id else None,
            "line": training.line_of(session, principal, session_id, person),
            "can_manage": True,
            "today": clock.today(),
        },
        principal=principal,
    )


@router.get("/resources/training/exercises", response_class=HTMLResponse)
def exercises_page(
    request: Request, principal: Reader, session: SessionDep, page: PageNo = 1
) -> HTMLResponse:
    rows, total = training.exercises(session, principal, page)
    return render(
        request,
        "resources/exercises.html",
        {"rows": rows, "page": page, "pages": max(1, -(-total // training.PAGE_SIZE))},
        principal=principal,
    )


# ------------------------------------------------------------------------------------------- renewals


def _renewals(
    session: SessionDep, principal: Principal, jurisdiction: str, within: int
) -> tuple[list[staff.RenewalRow], str, dict[str, str]]:
    path = principal.jpath
    if jurisdiction.strip():
        path = jurisdiction_in_scope(session, principal, jurisdiction, "jurisdiction").path
    rows = staff.renewals_due(session, principal, within, jpath=path)
    # The names of the places the rows belong to (the worklist's jurisdiction column).
    wanted = list({r.staff.jpath for r in rows})
    places: dict[str, str] = {}
    for i in range(0, len(wanted), 500):
        places.update(
            session.execute(
                select(Jurisdiction.path, Jurisdiction.name).where(Jurisdiction.path.in_(wanted[i : i + 500]))
            ).all()
        )
    return rows, path, places


@router.get("/resources/training/renewals", response_class=HTMLResponse)
def renewals_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    jurisdiction: Annotated[str, Query(max_length=12)] = "",
    within: Annotated[int, Query(ge=0, le=WITHIN_MAX)] = rules.RENEWAL_WINDOW_DAYS,
    page: PageNo = 1,
) -> HTMLResponse:
    errors: list[RowError] = []
    try:
        rows, _, places = _renewals(session, principal, jurisdiction, within)
    except InvalidInput as invalid:
        # A code outside one's area: the whole scope's worklist, what was typed kept, the problem shown.
        errors = invalid.errors
        rows, _, places = _renewals(session, principal, "", within)
    pages = max(1, -(-len(rows) // RENEWAL_PAGE))
    page = min(page, pages)
    return render(
        request,
        "resources/renewals.html",
        {
            "rows": rows[(page - 1) * RENEWAL_PAGE : page * RENEWAL_PAGE],
            "total": len(rows),
            "expired": sum(1 for r in rows if r.expired),
            "places": places,
            "page": page,
            "pages": pages,
            "within": within,
            "jurisdiction": jurisdiction.strip(),
            "labels": LABELS,
            "filter_errors": errors,
        },
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.get("/resources/training/renewals.xlsx")
def renewals_export(
    request: Request,
    principal: Reader,
    session: SessionDep,
    jurisdiction: Annotated[str, Query(max_length=12)] = "",
    within: Annotated[int, Query(ge=0, le=WITHIN_MAX)] = rules.RENEWAL_WINDOW_DAYS,
) -> Response:
    """The whole renewal worklist as an Excel workbook (recorded in the audit log)."""
    rows, path, places = _renewals(session, principal, jurisdiction, within)
    data = training.renewals_xlsx(
        session, principal, rows, skill_labels=SKILL_LABELS, places=places,
        language=language_of(request), jpath=path,
    )  # fmt: skip
    name = f"renewals-{clock.today().isoformat()}.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})
