"""JSON routes of the response capability's tasks: lists, detail, actions, bulk actions, templates and
the sweeper. Thin: parse, call ``response.service``, shape the answer.

Reading needs ``response.read``; working a task (assign, start, complete, bulk) ``tasks.work``;
cancelling and reopening, and running the sweeper, ``tasks.manage``; editing templates
``templates.manage``. Every route touches the database, so each is a plain ``def``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, RowId, SessionDep, client_ip
from fangkong.core.permissions import Permission
from fangkong.response.models import Trigger
from fangkong.response.schemas import (
    AssignCreate,
    BulkCreate,
    BulkPublic,
    BulkResultPublic,
    CancelCreate,
    CompleteCreate,
    SweepPublic,
    TaskCounts,
    TaskDetailPublic,
    TaskEventPublic,
    TaskPage,
    TaskPublic,
    TemplatePublic,
    TemplateUpdate,
)
from fangkong.response.service import sweeper, tasks, templates

router = APIRouter(prefix="/api/response", tags=["response"])

Reader = Annotated[Principal, Depends(Require(Permission.response_read))]
Worker = Annotated[Principal, Depends(Require(Permission.tasks_work))]
Manager = Annotated[Principal, Depends(Require(Permission.tasks_manage))]
TemplateAdmin = Annotated[Principal, Depends(Require(Permission.templates_manage))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
TemplateCode = Annotated[str, Path(min_length=1, max_length=60)]


def _public(task: object) -> TaskPublic:
    return TaskPublic.model_validate(task)


@router.get("/tasks", response_model=TaskPage)
def list_tasks(
    principal: Reader,
    session: SessionDep,
    state: Annotated[str | None, Query(pattern="^(open|in_progress|done|cancelled|unfinished)$")] = None,
    late: bool | None = None,
    trigger: Trigger | None = None,
    mine: bool = False,
    jurisdiction: Annotated[str | None, Query(min_length=1, max_length=12)] = None,
    page: PageNo = 1,
    size: Annotated[int, Query(ge=1, le=tasks.MAX_PAGE_SIZE)] = 50,
) -> TaskPage:
    """Tasks owned in your jurisdiction or that happened there: unfinished first by deadline."""
    filters = tasks.TaskFilter(state=state, late=late, trigger=trigger, mine=mine, jurisdiction=jurisdiction)
    found = tasks.list_tasks(session, principal, filters, page=page, size=size)
    return TaskPage(
        items=[_public(t) for t in found.items],
        total=found.total,
        page=found.page,
        size=found.size,
        pages=found.pages,
        counts=TaskCounts(**found.counts),
    )


@router.post("/tasks/bulk", response_model=BulkPublic)
def bulk_action(body: BulkCreate, principal: Worker, session: SessionDep, request: Request) -> BulkPublic:
    """One action on many tasks; each id answers for itself (done, or why not)."""
    data = tasks.ActionInput(
        user_id=body.user_id, team=body.team, team_id=body.team_id, evidence=body.evidence, reason=body.reason
    )
    results = tasks.bulk(session, principal, tasks.Action(body.action), body.ids, data, ip=client_ip(request))
    done = sum(1 for r in results if r.ok)
    return BulkPublic(
        results=[BulkResultPublic.model_validate(r) for r in results], done=done, failed=len(results) - done
    )


@router.get("/tasks/{task_id}", response_model=TaskDetailPublic)
def get_task(task_id: RowId, principal: Reader, session: SessionDep) -> TaskDetailPublic:
    """A task with its history, oldest first."""
    detail = tasks.get_task(session, principal, task_id)
    return TaskDetailPublic(
        task=_public(detail.task),
        history=[TaskEventPublic.model_validate(e) for e in detail.history],
        assignee=detail.assignee,
        owner=detail.owner_name,
        depends_on=_public(detail.depends_on) if detail.depends_on is not None else None,
    )


@router.post("/tasks/{task_id}/assign", response_model=TaskPublic)
def assign(
    task_id: RowId, body: AssignCreate, principal: Worker, session: SessionDep, request: Request
) -> TaskPublic:
    task = tasks.assign(
        session,
        principal,
        task_id,
        user_id=body.user_id,
        team=body.team,
        team_id=body.team_id,
        ip=client_ip(request),
    )
    return _public(task)


@router.post("/tasks/{task_id}/start", response_model=TaskPublic)
def start(task_id: RowId, principal: Worker, session: SessionDep, request: Request) -> TaskPublic:
    return _public(tasks.start(session, principal, task_id, ip=client_ip(request)))


@router.post("/tasks/{task_id}/complete", response_model=TaskPublic)
def complete(
    task_id: RowId, body: CompleteCreate, principal: Worker, session: SessionDep, request: Request
) -> TaskPublic:
    return _public(tasks.complete(session, principal, task_id, body.evidence, ip=client_ip(request)))


@router.post("/tasks/{task_id}/cancel", response_model=TaskPublic)
def cancel(
    task_id: RowId, body: CancelCreate, principal: Manager, session: SessionDep, request: Request
) -> TaskPublic:
    """Cancel a task, saying why (nothing is dropped without a reason)."""
    return _public(tasks.cancel(session, principal, task_id, body.reason, ip=client_ip(request)))


@router.post("/tasks/{task_id}/reopen", response_model=TaskPublic)
def reopen(task_id: RowId, principal: Manager, session: SessionDep, request: Request) -> TaskPublic:
    return _public(tasks.reopen(session, principal, task_id, ip=client_ip(request)))


@router.get("/templates", response_model=list[TemplatePublic])
def list_templates(principal: Reader, session: SessionDep) -> list[TemplatePublic]:
    """The templates each event opens, with deadline, warning, owner and source."""
    return [TemplatePublic.model_validate(t) for t in templates.list_templates(session)]


@router.patch("/templates/{code}", response_model=TemplatePublic)
def update_template(
    code: TemplateCode, body: TemplateUpdate, principal: TemplateAdmin, session: SessionDep, request: Request
) -> TemplatePublic:
    """Change a template (tasks already open keep their clocks)."""
    changes = templates.TemplateUpdate(**body.model_dump())
    template = templates.update_template(session, principal, code, changes, ip=client_ip(request))
    return TemplatePublic.model_validate(template)


@router.post("/sweep", response_model=SweepPublic)
def sweep(principal: Manager, session: SessionDep, request: Request) -> SweepPublic:
    """Fire the deadline clocks now (warn, notify the supervisor, escalate): what a scheduler also does."""
    actor = audit.Actor(principal.user_id, principal.username, client_ip(request))
    report = sweeper.sweep(session, actor=actor)
    return SweepPublic.model_validate(report.as_dict())
