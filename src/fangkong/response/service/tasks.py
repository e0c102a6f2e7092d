"""What people do with tasks: the lists, a task's detail and history, assign, start, complete, cancel,
reopen, and the same actions on many tasks at once (SORMAS users ask for bulk actions).

Scope: a principal sees a task owned in their subtree, or one that happened there (a county keeps
seeing the task it escalated to the city) and may act on what they see. Assigning needs a user whose
role owns the task and who sees it, or a team that works for the task's place (the resources
capability's teams of that place and above, and teams deployed there in support: picked by id, or by
its name); cancelling needs a reason and reopening a
finished task needs ``tasks.manage``. Every write leaves a history row and an audit entry.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, insert, or_, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.errors import DomainError, Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, User
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope, under
from fangkong.resources.service.postings import TeamChoice, teams_for_place
from fangkong.response.models import Task, TaskEvent, TaskState, Trigger

MAX_PAGE_SIZE = 200
MAX_BULK = 500
MAX_TEXT = 1000
UNFINISHED = (TaskState.open, TaskState.in_progress)


class Action(enum.StrEnum):
    assign = "assign"
    start = "start"
    complete = "complete"
    cancel = "cancel"
    reopen = "reopen"


def visible(principal_path: str) -> ColumnElement[bool]:
    """Tasks a principal at ``principal_path`` sees: owned in the subtree, or happened there."""
    return or_(under(Task.jpath, principal_path), under(Task.origin_jpath, principal_path))


def sees(task: Task, principal_path: str) -> bool:
    return path_in_scope(task.jpath, principal_path) or path_in_scope(task.origin_jpath, principal_path)


def actor_of(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "local")


# ------------------------------------------------------------------------------------------ reads


@dataclass
class TaskPage:
    items: list[Task]
    total: int
    page: int
    size: int
    # Tasks per state (and "late") under the same filters but the state's.
    counts: dict[str, int]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class TaskFilter:
    # A state, or "unfinished" (open or in progress); None: every state.
    state: str | None = None
    late: bool | None = None
    trigger: Trigger | None = None
    mine: bool = False
    # A jurisdiction's code: tasks owned in its subtree or happened there (within the caller's scope).
    jurisdiction: str | None = None


def _filtered(session: Session, principal: Principal, filters: TaskFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [visible(principal.jpath)]
    if filters.jurisdiction:
        node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == filters.jurisdiction))
        if node is None or not path_in_scope(node.path, principal.jpath):
            raise NotFound(Message("no jurisdiction {code} in your scope", code=filters.jurisdiction[:12]))
        where.append(visible(node.path))
    if filters.trigger is not None:
        where.append(Task.trigger == filters.trigger)
    if filters.late is not None:
        late = or_(Task.late.is_(True), and_(Task.state.in_(UNFINISHED), Task.due_at < utcnow()))
        where.append(late if filters.late else ~late)
    if filters.mine:
        where.append(
            or_(
                Task.assignee_id == principal.user_id,
                and_(
                    Task.assignee_id.is_(None),
                    Task.owner_role == principal.role.value,
                    Task.jpath == principal.jpath,
                ),
            )
        )
    return where


def _state_condition(state: str | None) -> ColumnElement[bool] | None:
    if not state:
        return None
    if state == "unfinished":
        return Task.state.in_(UNFINISHED)
    try:
        return Task.state == TaskState(state)
    except ValueError:
        raise InvalidInput(
            [RowError(1, "state", Message("“{value}” is not one of the choices", value=state[:20]))]
        ) from None


def list_tasks(
    session: Session,
    principal: Principal,
    filters: TaskFilter | None = None,
    *,
    state: str | None = None,
    late: bool | None = None,
    trigger: Trigger | None = None,
    mine: bool = False,
    jurisdiction: str | None = None,
    page: int = 1,
    size: int = 50,
) -> TaskPage:
    """Tasks the principal sees: unfinished first by deadline, then finished ones, newest first.

    The filters come as keywords or as one :class:`TaskFilter` (which then wins).
    """
    filters = filters or TaskFilter(
        state=state, late=late, trigger=trigger, mine=mine, jurisdiction=jurisdiction
    )
    page, size = max(1, page), max(1, min(size, MAX_PAGE_SIZE))
    where = _filtered(session, principal, filters)
    now = utcnow()
    late_now = or_(Task.late.is_(True), and_(Task.state.in_(UNFINISHED), Task.due_at < now))
    counts = {s.value: 0 for s in TaskState} | {"late": 0}
    for state, late, n in session.execute(
        select(Task.state, late_now, func.count(Task.id)).where(*where).group_by(Task.state, late_now)
    ):
        counts[TaskState(state).value] += n
        if late:
            counts["late"] += n
    state_cond = _state_condition(filters.state)
    if state_cond is not None:
        where.append(state_cond)
    total = session.scalar(select(func.count(Task.id)).where(*where)) or 0
    finished_last = case((Task.state.in_(UNFINISHED), 0), else_=1)
    items = list(
        session.scalars(
            select(Task)
            .where(*where)
            .order_by(finished_last, Task.due_at, Task.id)
            .offset((page - 1) * size)
            .limit(size)
        )
    )
    return TaskPage(items=items, total=total, page=page, size=size, counts=counts)


def task_in_scope(session: Session, principal: Principal, task_id: int) -> Task:
    """The task, if the principal sees it (else "not found", as for a task that does not exist)."""
    task = session.get(Task, task_id)
    if task is None or not sees(task, principal.jpath):
        raise NotFound(Message("task {id} not found", id=task_id))
    return task


@dataclass(frozen=True)
class TaskDetail:
    task: Task
    history: list[TaskEvent]
    assignee: str | None
    depends_on: Task | None
    owner_name: str


def get_task(session: Session, principal: Principal, task_id: int) -> TaskDetail:
    """A task with its history (oldest first), its assignee's name and the task it waits for."""
    task = task_in_scope(session, principal, task_id)
    history = list(
        session.scalars(
            select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.at, TaskEvent.id)
        )
    )
    user = session.get(User, task.assignee_id) if task.assignee_id else None
    depends = session.get(Task, task.depends_on_id) if task.depends_on_id else None
    owner = session.get(Jurisdiction, task.jurisdiction_id)
    return TaskDetail(
        task=task,
        history=history,
        assignee=user.display_name if user else None,
        depends_on=depends,
        owner_name=owner.name if owner else "",
    )


def assignable_users(session: Session, principal: Principal, task: Task) -> list[User]:
    """Active users in the principal's scope whose role owns the task and who see it."""
    users = session.scalars(
        select(User)
        .join(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
        .where(
            User.is_active.is_(True),
            User.role == task.owner_role,
            under(Jurisdiction.path, principal.jpath),
        )
        .order_by(User.username)
        .limit(MAX_PAGE_SIZE)
    ).all()
    paths = dict(session.execute(select(Jurisdiction.id, Jurisdiction.path)).all()) if users else {}
    return [u for u in users if sees(task, paths.get(u.jurisdiction_id, "\x00"))]


# ------------------------------------------------------------------------------------------ writes


@dataclass(frozen=True)
class ActionInput:
    user_id: int | None = None
    team: str | None = None
    team_id: int | None = None
    evidence: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class BulkResult:
    id: int
    ok: bool
    state: str | None = None
    error: str | None = None
    # The error as a message, for pages in the reader's language.
    message: Message | None = None


def _text(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput([RowError(1, field, Message("is required"))])
    if len(text) > MAX_TEXT:
        raise InvalidInput([RowError(1, field, Message("is longer than {limit} characters", limit=MAX_TEXT))])
    return text


def _check_input(session: Session, principal: Principal, action: Action, data: ActionInput) -> ActionInput:
    """Validate what the action needs once, before any task is touched."""
    if action in (Action.cancel, Action.reopen) and not principal.can(Permission.tasks_manage):
        raise Forbidden(f"your role lacks the permission {Permission.tasks_manage.value}")
    if action is Action.assign:
        given = [data.user_id is not None, data.team_id is not None, bool((data.team or "").strip())]
        if sum(given) != 1:
            raise InvalidInput([RowError(1, "user_id", Message("give either a user or a team"))])
        if data.team_id is not None:
            return ActionInput(team_id=data.team_id)
        if data.team is not None and data.user_id is None:
            team = data.team.strip()
            if len(team) > 100:
                raise InvalidInput(
                    [RowError(1, "team", Message("is longer than {limit} characters", limit=100))]
                )
            return ActionInput(team=team)
        return ActionInput(user_id=data.user_id)
    if action is Action.complete:
        return ActionInput(evidence=_text(data.evidence, "evidence"))
    if action is Action.cancel:
        return ActionInput(reason=_text(data.reason, "reason"))
    return ActionInput()


def _apply(
    session: Session, principal: Principal, task: Task, action: Action, data: ActionInput, now: dt.datetime
) -> str | None:
    """Change one task (already in scope); returns the history note, or raises if the action does not
    fit the task's state or the assignee does not fit the task."""
    if action is Action.assign:
        if task.state not in UNFINISHED:
            raise DomainError(Message("a finished task cannot be assigned; reopen it first"))
        if data.user_id is not None:
            user = session.get(User, data.user_id)
            place = session.get(Jurisdiction, user.jurisdiction_id) if user else None
            if (
                user is None
                or place is None
                or not user.is_active
                or not path_in_scope(place.path, principal.jpath)
            ):
                raise NotFound(Message("no user {id} in your scope", id=data.user_id))
            if user.role.value != task.owner_role or not sees(task, place.path):
                raise DomainError(Message("this user's role or jurisdiction does not own this task"))
            task.assignee_id, task.team, task.team_id = user.id, None, None
            return user.display_name
        team = _team_for(session, task, data)
        task.assignee_id, task.team, task.team_id = None, team.name, team.id
        return team.name
    if action is Action.start:
        if task.state is not TaskState.open:
            raise DomainError(Message("only an open task can be started"))
        task.state, task.started_at = TaskState.in_progress, now
        if task.assignee_id is None and not task.team:
            task.assignee_id = principal.user_id
        return None
    if action is Action.complete:
        if task.state not in UNFINISHED:
            raise DomainError(Message("this task is already finished"))
        task.state, task.closed_at, task.closed_by, task.evidence = (
            TaskState.done,
            now,
            principal.username,
            data.evidence,
        )
        task.late = task.late or now > _aware(task.due_at)
        return data.evidence
    if action is Action.cancel:
        if task.state not in UNFINISHED:
            raise DomainError(Message("this task is already finished"))
        task.state, task.closed_at, task.closed_by = TaskState.cancelled, now, principal.username
        task.cancel_reason = data.reason
        return data.reason
    if task.state in UNFINISHED:
        raise DomainError(Message("only a finished task can be reopened"))
    previous = task.state.value
    task.state = TaskState.in_progress if task.started_at else TaskState.open
    task.closed_at = task.closed_by = task.cancel_reason = None
    return Message("it was {state}", state=Message(previous, ctx="task state")).dumps()


def _team_for(session: Session, task: Task, data: ActionInput) -> TeamChoice:
    """The team the input names, if it works for the task's place; else an error naming the field."""
    choices = teams_for_place(session, task.jpath)
    if data.team_id is not None:
        found = next((t for t in choices if t.id == data.team_id), None)
        if found is None:
            problem = Message("team {id} does not work for this task's place", id=data.team_id)
            raise InvalidInput([RowError(1, "team_id", problem)])
        return found
    name = data.team or ""
    named = [t for t in choices if t.name == name]
    if not named:
        raise InvalidInput([RowError(1, "team", Message("no team named {name} works here", name=name))])
    if len(named) > 1:
        problem = Message("several teams are named {name}: choose one by its id", name=name)
        raise InvalidInput([RowError(1, "team", problem)])
    return named[0]


def team_choices(session: Session, task: Task) -> list[TeamChoice]:
    """The teams the task may be given to (the assign form's choices)."""
    return teams_for_place(session, task.jpath)


def open_tasks_of_team(session: Session, principal: Principal, team_id: int) -> list[Task]:
    """Unfinished tasks given to a team that the principal sees, by deadline (the team's page)."""
    return list(
        session.scalars(
            select(Task)
            .where(Task.team_id == team_id, Task.state.in_(UNFINISHED), visible(principal.jpath))
            .order_by(Task.due_at, Task.id)
            .limit(MAX_PAGE_SIZE)
        )
    )


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


_KIND = {
    Action.assign: "assigned",
    Action.start: "started",
    Action.complete: "done",
    Action.cancel: "cancelled",
    Action.reopen: "reopened",
}


def _audit(
    session: Session,
    actor: audit.Actor,
    action: Action,
    object_id: str | int,
    jpath: str,
    detail: dict[str, object],
) -> None:
    # Literal keys, one per action, so that the audit labels' check finds each of them.
    if action is Action.assign:
        audit.record(session, actor, "response.task.assign", "task", object_id, jpath=jpath, detail=detail)
    elif action is Action.start:
        audit.record(session, actor, "response.task.start", "task", object_id, jpath=jpath, detail=detail)
    elif action is Action.complete:
        audit.record(session, actor, "response.task.complete", "task", object_id, jpath=jpath, detail=detail)
    elif action is Action.cancel:
        audit.record(session, actor, "response.task.cancel", "task", object_id, jpath=jpath, detail=detail)
    else:
        audit.record(session, actor, "response.task.reopen", "task", object_id, jpath=jpath, detail=detail)


def bulk(
    session: Session,
    principal: Principal,
    action: Action,
    ids: Sequence[int],
    data: ActionInput | None = None,
    *,
    ip: str = "",
) -> list[BulkResult]:
    """Apply one action to many tasks: each id gets its own result (done, or why not); the tasks that
    could be changed are changed, with one history row each and one audit entry for the batch."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise InvalidInput([RowError(1, "ids", Message("choose at least one task"))])
    if len(wanted) > MAX_BULK:
        raise InvalidInput([RowError(1, "ids", Message("at most {limit} tasks at once", limit=MAX_BULK))])
    checked = _check_input(session, principal, action, data or ActionInput())
    found = {
        t.id: t for t in session.scalars(select(Task).where(Task.id.in_(wanted), visible(principal.jpath)))
    }
    now = utcnow()
    results: list[BulkResult] = []
    events: list[dict[str, object]] = []
    for task_id in wanted:
        task = found.get(task_id)
        if task is None:
            missing = Message("task {id} not found", id=task_id)
            results.append(BulkResult(task_id, False, None, str(missing), missing))
            continue
        try:
            note = _apply(session, principal, task, action, checked, now)
        except DomainError as exc:
            results.append(BulkResult(task_id, False, task.state.value, exc.message, exc.text))
            continue
        events.append(
            {
                "task_id": task.id,
                "at": now,
                "kind": _KIND[action],
                "actor": principal.username,
                "jpath": task.jpath,
                "note": note,
            }
        )
        results.append(BulkResult(task_id, True, task.state.value, None))
    if events:
        session.flush()
        session.execute(insert(TaskEvent), events)
        changed = [r.id for r in results if r.ok]
        _audit(
            session,
            actor_of(principal, ip),
            action,
            ",".join(str(i) for i in changed[:50]) + ("…" if len(changed) > 50 else ""),
            principal.jpath,
            {
                "tasks": changed,
                **{k: v for k, v in vars(checked).items() if v is not None},
            },
        )
    return results


def act(
    session: Session,
    principal: Principal,
    task_id: int,
    action: Action,
    data: ActionInput | None = None,
    *,
    ip: str = "",
) -> Task:
    """One action on one task; raises what stops it (not found, wrong state, wrong assignee)."""
    task = task_in_scope(session, principal, task_id)
    checked = _check_input(session, principal, action, data or ActionInput())
    now = utcnow()
    note = _apply(session, principal, task, action, checked, now)
    session.flush()
    session.add(
        TaskEvent(
            task_id=task.id, at=now, kind=_KIND[action], actor=principal.username, jpath=task.jpath, note=note
        )
    )
    _audit(
        session,
        actor_of(principal, ip),
        action,
        task.id,
        task.jpath,
        {
            "code": task.code,
            "subject": task.subject_ref,
            **{k: v for k, v in vars(checked).items() if v is not None},
        },
    )
    session.flush()
    return task


def assign(
    session: Session,
    principal: Principal,
    task_id: int,
    *,
    user_id: int | None = None,
    team: str | None = None,
    team_id: int | None = None,
    ip: str = "",
) -> Task:
    data = ActionInput(user_id=user_id, team=team, team_id=team_id)
    return act(session, principal, task_id, Action.assign, data, ip=ip)


def start(session: Session, principal: Principal, task_id: int, *, ip: str = "") -> Task:
    return act(session, principal, task_id, Action.start, ip=ip)


def complete(session: Session, principal: Principal, task_id: int, evidence: str, *, ip: str = "") -> Task:
    return act(session, principal, task_id, Action.complete, ActionInput(evidence=evidence), ip=ip)


def cancel(session: Session, principal: Principal, task_id: int, reason: str, *, ip: str = "") -> Task:
    return act(session, principal, task_id, Action.cancel, ActionInput(reason=reason), ip=ip)


def reopen(session: Session, principal: Principal, task_id: int, *, ip: str = "") -> Task:
    return act(session, principal, task_id, Action.reopen, ip=ip)


def complete_subject_task(
    session: Session,
    principal: Principal,
    code: str,
    subject_kind: str,
    subject_id: int,
    *,
    evidence: str,
    ip: str = "",
) -> Task | None:
    """Mark done the unfinished task ``code`` of a subject (e.g. "team_on_site" of a case), if there is
    one the principal sees; None when there is none (already done, or never opened)."""
    task_id = session.scalar(
        select(Task.id).where(
            Task.code == code,
            Task.subject_kind == subject_kind,
            Task.subject_id == subject_id,
            Task.state.in_(UNFINISHED),
            visible(principal.jpath),
        )
    )
    if task_id is None:
        return None
    return complete(session, principal, task_id, evidence, ip=ip)


def counts_under(session: Session, path: str) -> tuple[int, int]:
    """(unfinished tasks, of which late) owned under ``path`` or that happened there (a system read)."""
    now = utcnow()
    late = or_(Task.late.is_(True), Task.due_at < now)
    unfinished, late_count = session.execute(
        select(func.count(Task.id), func.coalesce(func.sum(case((late, 1), else_=0)), 0)).where(
            visible(path), Task.state.in_(UNFINISHED)
        )
    ).one()
    return int(unfinished), int(late_count)
