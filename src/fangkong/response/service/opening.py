"""Opening tasks from an event: every active template of its trigger, in parallel ("并联推进").

Opening is idempotent: a task is keyed by (template, subject kind, subject ref), so an event delivered
twice, or a template seeded after some tasks opened, opens only what is missing. The owner is the
jurisdiction ``levels_up`` above a community (:func:`owner_of`), never out of a drill's sandbox.
A burst of cases is opened set-based (:func:`open_many`): one read of the templates, one of the tasks
that already exist, one of the jurisdictions above, one batch of inserts and one of history rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from fangkong.core.models import Jurisdiction, Level
from fangkong.core.scope import ancestor_paths, is_sandbox_path
from fangkong.response.models import Task, TaskEvent, TaskState, TaskTemplate, Trigger
from fangkong.response.rules.deadlines import clocks
from fangkong.response.service.templates import seed_templates

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Subject:
    """What the tasks are about, and where and when the event happened."""

    kind: str
    id: int
    ref: str
    jpath: str
    happened_at: dt.datetime
    # A deadline the event itself sets (an assist request's, a site's hours to open): it wins over the
    # template's minutes when given.
    deadline: dt.datetime | None = None


def open_tasks(
    session: Session,
    trigger: Trigger,
    *,
    subject_kind: str,
    subject_id: int,
    subject_ref: str,
    jpath: str,
    happened_at: dt.datetime,
    deadline: dt.datetime | None = None,
) -> list[Task]:
    """Open the tasks of ``trigger`` for one subject; returns the tasks opened now (none if all exist)."""
    subject = Subject(subject_kind, subject_id, subject_ref, jpath, happened_at, deadline)
    return open_many(session, trigger, [subject])


def _active_templates(session: Session, trigger: Trigger) -> list[TaskTemplate]:
    query = (
        select(TaskTemplate)
        .where(TaskTemplate.trigger == trigger, TaskTemplate.active.is_(True))
        .order_by(TaskTemplate.position, TaskTemplate.id)
    )
    templates = list(session.scalars(query))
    if not templates and session.scalar(select(TaskTemplate.id).limit(1)) is None:
        seed_templates(session)
        templates = list(session.scalars(query))
    return templates


def _chains(session: Session, paths: set[str]) -> dict[str, list[Jurisdiction]]:
    """For each path, the jurisdictions from it up to the top (itself first), within its sandbox."""
    wanted = {p for path in paths for p in ancestor_paths(path)}
    nodes = {j.path: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.path.in_(wanted)))}
    chains: dict[str, list[Jurisdiction]] = {}
    for path in paths:
        chain = [nodes[p] for p in reversed(ancestor_paths(path)) if p in nodes]
        if (chain and chain[0].is_sandbox) or is_sandbox_path(path):
            # A drill's work stays in its sandbox: the real county above is no part of it.
            chain = [j for j in chain if j.is_sandbox]
        chains[path] = chain
    return chains


# How far above a community each level sits: ``levels_up`` is counted from the community.
_HEIGHT = {Level.community: 0, Level.township: 1, Level.county: 2, Level.city: 3, Level.province: 4}


def owner_of(chain: Sequence[Jurisdiction], levels_up: int) -> Jurisdiction:
    """The owner of a task whose template says ``levels_up``, for an event at the first of ``chain``.

    Events usually happen in a community (a case's home, a doorstep request), and the template counts
    the levels from there (2: the county). An event recorded higher up (a case of an unidentified
    person, registered at the county) climbs only what is left, so the county's work stays the county's
    instead of going two levels above it. The top of the chain is the farthest a task goes.
    """
    climb = max(0, levels_up - _HEIGHT.get(chain[0].level, 0))
    return chain[min(climb, len(chain) - 1)]


def open_many(session: Session, trigger: Trigger, subjects: Sequence[Subject]) -> list[Task]:
    """Open the tasks of ``trigger`` for many subjects at once (set-based); returns those opened now."""
    templates = _active_templates(session, trigger)
    if not templates or not subjects:
        return []
    template_ids = [t.id for t in templates]
    keys = {(s.kind, s.ref) for s in subjects}
    existing: dict[tuple[int, str, str], int] = {}
    for row in session.execute(
        select(Task.id, Task.template_id, Task.subject_kind, Task.subject_ref).where(
            Task.template_id.in_(template_ids),
            tuple_(Task.subject_kind, Task.subject_ref).in_(list(keys)),
        )
    ):
        existing[(row.template_id, row.subject_kind, row.subject_ref)] = row.id
    chains = _chains(session, {s.jpath for s in subjects})
    opened: list[Task] = []
    seen: set[tuple[int, str, str]] = set()
    for subject in subjects:
        chain = chains.get(subject.jpath) or []
        if not chain:
            continue  # an event from a place the tree does not hold: nothing to own it
        for template in templates:
            key = (template.id, subject.kind, subject.ref)
            if key in existing or key in seen:
                continue
            seen.add(key)
            owner = owner_of(chain, template.levels_up)
            when = clocks(subject.happened_at, template.minutes, template.warn_minutes)
            due_at, warn_at = when.due_at, when.warn_at
            if subject.deadline is not None and subject.deadline > subject.happened_at:
                due_at = subject.deadline
                warn_at = clocks(
                    subject.happened_at,
                    max(1, int((due_at - subject.happened_at).total_seconds() // 60)),
                    template.warn_minutes,
                ).warn_at
            opened.append(
                Task(
                    template_id=template.id,
                    code=template.code,
                    trigger=trigger,
                    fulfilment=template.fulfilment,
                    title_zh=template.title_zh,
                    title_en=template.title_en,
                    subject_kind=subject.kind,
                    subject_id=subject.id,
                    subject_ref=subject.ref,
                    origin_jpath=chain[0].path,
                    jurisdiction_id=owner.id,
                    jpath=owner.path,
                    owner_role=template.owner_role,
                    state=TaskState.open,
                    opened_at=subject.happened_at,
                    due_at=due_at,
                    warn_at=warn_at,
                    escalations=0,
                    late=False,
                )
            )
    if not opened:
        return []
    session.add_all(opened)
    session.flush()
    _link_dependencies(session, templates, opened, existing)
    session.execute(
        insert(TaskEvent),
        [
            {
                "task_id": t.id,
                "at": t.opened_at,
                "kind": "opened",
                "actor": SYSTEM_ACTOR,
                "jpath": t.jpath,
                "note": None,
            }
            for t in opened
        ],
    )
    return opened


def _link_dependencies(
    session: Session,
    templates: Sequence[TaskTemplate],
    opened: Sequence[Task],
    existing: dict[tuple[int, str, str], int],
) -> None:
    by_code = {t.code: t for t in templates}
    ids = {(t.template_id, t.subject_kind, t.subject_ref): t.id for t in opened}
    ids.update(existing)
    for task in opened:
        template = next(t for t in templates if t.id == task.template_id)
        needed = by_code.get(template.depends_on) if template.depends_on else None
        if needed is not None:
            task.depends_on_id = ids.get((needed.id, task.subject_kind, task.subject_ref))
    session.flush()
