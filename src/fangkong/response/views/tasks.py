"""Web pages of the response capability's tasks: the task list (filters, the time left or how late,
bulk actions on the ticked rows through htmx, pages), a task's detail with its history and action
forms, and the templates' administration page. They only shape what ``response.service`` returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, RowId, SessionDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Role
from fangkong.core.permissions import Permission
from fangkong.resources.service.postings import teams_for_place
from fangkong.response.models import Task, TaskState, Trigger
from fangkong.response.service import tasks, templates
from fangkong.web.errors import is_htmx
from fangkong.web.templating import language_of, render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [(Permission.tasks_work, "/tasks", "Tasks")]

Worker = Annotated[Principal, Depends(Require(Permission.tasks_work))]
TemplateAdmin = Annotated[Principal, Depends(Require(Permission.templates_manage))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
TASKS_PAGE = 50
STATES = ("unfinished", *[s.value for s in TaskState])


def _clock(task: Task, now: dt.datetime) -> dict[str, Any]:
    """Time left before the deadline, or how late (closed tasks: against when they closed)."""
    end = task.closed_at or now
    left = task.due_at - end
    minutes = int(abs(left).total_seconds() // 60)
    return {
        "late": left.total_seconds() < 0,
        "hours": minutes // 60,
        "minutes": minutes % 60,
        "finished": task.state not in tasks.UNFINISHED,
    }


def _title(task: Task, language: str) -> str:
    return task.title_zh if language == "zh" else task.title_en


def _bool_choice(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@router.get("/tasks", response_class=HTMLResponse)
def tasks_page(
    request: Request,
    principal: Worker,
    session: SessionDep,
    state: Annotated[str, Query(max_length=20)] = "unfinished",
    late: Annotated[str, Query(max_length=3)] = "",
    trigger: Annotated[str, Query(max_length=30)] = "",
    mine: Annotated[str, Query(max_length=3)] = "",
    page: PageNo = 1,
) -> Response:
    """Tasks owned here or that happened here: unfinished first by deadline, with bulk actions."""
    errors: list[RowError] = []
    if state and state not in STATES:
        errors.append(RowError(1, "state", Message("“{value}” is not one of the choices", value=state[:20])))
    chosen_trigger: Trigger | None = None
    if trigger:
        try:
            chosen_trigger = Trigger(trigger)
        except ValueError:
            errors.append(
                RowError(1, "trigger", Message("“{value}” is not one of the choices", value=trigger[:20]))
            )
    if errors:
        raise InvalidInput(errors)
    filters = tasks.TaskFilter(
        state=state or None, late=_bool_choice(late), trigger=chosen_trigger, mine=mine == "yes"
    )
    found = tasks.list_tasks(session, principal, filters, page=page, size=TASKS_PAGE)
    language = language_of(request)
    now = clock.utcnow()
    rows = [{"task": t, "title": _title(t, language), "clock": _clock(t, now)} for t in found.items]
    return render(
        request,
        "response/tasks.html",
        {
            "found": found,
            "rows": rows,
            "state": state,
            "late": late,
            "trigger": trigger,
            "mine": mine,
            "states": STATES,
            "triggers": [t.value for t in Trigger],
            "can_manage": principal.can(Permission.tasks_manage),
            "can_templates": principal.can(Permission.templates_manage),
            # The bulk form's teams: those working for the user's own place (each task checks its own).
            "teams": teams_for_place(session, principal.jpath),
        },
        principal=principal,
    )


@router.post("/tasks/bulk", response_class=HTMLResponse)
def bulk_action(
    request: Request,
    principal: Worker,
    session: SessionDep,
    action: Annotated[str, Form(max_length=20)],
    ids: Annotated[list[int], Form()],
    team: Annotated[str, Form(max_length=100)] = "",
    team_id: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    evidence: Annotated[str, Form(max_length=1000)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """One action on the ticked tasks; htmx gets the per-task results, a plain form the list again."""
    try:
        chosen = tasks.Action(action)
    except ValueError:
        raise InvalidInput(
            [RowError(1, "action", Message("“{value}” is not one of the choices", value=action[:20]))]
        ) from None
    data = tasks.ActionInput(
        team=team or None, team_id=team_id, evidence=evidence or None, reason=reason or None
    )
    results = tasks.bulk(session, principal, chosen, ids, data, ip=client_ip(request))
    if not is_htmx(request):
        return RedirectResponse("/tasks", status_code=303)
    return render(
        request,
        "response/tasks_bulk.html",
        {"results": results, "done": sum(1 for r in results if r.ok)},
        principal=principal,
    )


@router.get("/tasks/templates", response_class=HTMLResponse)
def templates_page(request: Request, principal: TemplateAdmin, session: SessionDep) -> Response:
    """The templates each event opens: deadline, warning, owner and source, editable."""
    language = language_of(request)
    rows = [
        {"template": t, "title": t.title_zh if language == "zh" else t.title_en}
        for t in templates.list_templates(session)
    ]
    return render(
        request,
        "response/tasks_templates.html",
        {"rows": rows, "roles": [r.value for r in Role], "saved": request.query_params.get("saved", "")},
        principal=principal,
    )


@router.post("/tasks/templates/{code}")
def save_template(
    request: Request,
    code: Annotated[str, Path(min_length=1, max_length=60)],
    principal: TemplateAdmin,
    session: SessionDep,
    minutes: Annotated[int, Form(ge=1, le=templates.MAX_MINUTES)],
    warn_minutes: Annotated[int, Form(ge=0, le=templates.MAX_MINUTES)],
    owner_role: Annotated[str, Form(max_length=32)],
    active: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    changes = templates.TemplateUpdate(
        minutes=minutes, warn_minutes=warn_minutes, owner_role=owner_role, active=active == "yes"
    )
    templates.update_template(session, principal, code, changes, ip=client_ip(request))
    return RedirectResponse(f"/tasks/templates?saved={code}", status_code=303)


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, task_id: RowId, principal: Worker, session: SessionDep) -> Response:
    """A task: its clocks, owner, subject, evidence, history and what can be done with it."""
    detail = tasks.get_task(session, principal, task_id)
    language = language_of(request)
    task = detail.task
    return render(
        request,
        "response/tasks_detail.html",
        {
            "detail": detail,
            "task": task,
            "title": _title(task, language),
            "depends_title": _title(detail.depends_on, language) if detail.depends_on else "",
            "clock": _clock(task, clock.utcnow()),
            "users": tasks.assignable_users(session, principal, task)
            if task.state in tasks.UNFINISHED
            else [],
            "teams": tasks.team_choices(session, task) if task.state in tasks.UNFINISHED else [],
            "can_manage": principal.can(Permission.tasks_manage),
        },
        principal=principal,
    )


@router.post("/tasks/{task_id}/act")
def task_action(
    request: Request,
    task_id: RowId,
    principal: Worker,
    session: SessionDep,
    action: Annotated[str, Form(max_length=20)],
    user_id: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    team: Annotated[str, Form(max_length=100)] = "",
    team_id: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    evidence: Annotated[str, Form(max_length=1000)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """An action from the task's page (cancelling and reopening need ``tasks.manage``: the service says)."""
    try:
        chosen = tasks.Action(action)
    except ValueError:
        raise InvalidInput(
            [RowError(1, "action", Message("“{value}” is not one of the choices", value=action[:20]))]
        ) from None
    data = tasks.ActionInput(
        user_id=user_id, team=team or None, team_id=team_id, evidence=evidence or None, reason=reason or None
    )
    tasks.act(session, principal, task_id, chosen, data, ip=client_ip(request))
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)
