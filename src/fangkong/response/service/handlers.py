"""Event handlers of the response capability, listed in ``fangkong.wiring``.

Opening: a confirmed case (or asymptomatic infection), an alert, an assist request, a positive pool, a
site activation and a doorstep request each open their templates' tasks (``opening.open_tasks``).
Fulfilment: when the record that fulfils a task appears (the case's investigation, its contacts all
isolated, a risk area over its place, an alert answered, a pool's members all located) the task closes
itself, ``closed_by`` "system" and the record as its evidence. A case found not to be one cancels its
open tasks with that reason: nothing is dropped without a word.

The other capabilities' events are imported inside each handler, so that this module loads without
them (and the wiring imports it once).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, case, insert, select, update
from sqlalchemy.orm import Session

from fangkong.core.clock import utcnow
from fangkong.core.events import DomainEvent
from fangkong.core.i18n import Message
from fangkong.core.scope import under
from fangkong.response.models import Fulfilment, Task, TaskEvent, TaskState, Trigger
from fangkong.response.service.opening import SYSTEM_ACTOR, open_tasks

if TYPE_CHECKING:
    from fangkong.tracing.events import CaseReported

UNFINISHED = (TaskState.open, TaskState.in_progress)
# Classifications of a case that open the case's tasks (a suspected case waits for its result).
CASE_CLASSIFICATIONS = frozenset({"confirmed", "asymptomatic"})


def case_ref(case_id: int) -> str:
    """The subject ref of a case's tasks (the key of idempotent opening)."""
    return f"case:{case_id}"


# ------------------------------------------------------------------------------------------ closing


def close_fulfilled(
    session: Session, conditions: list[ColumnElement[bool]], evidence: str, *, now: dt.datetime | None = None
) -> list[int]:
    """Close the unfinished tasks matching ``conditions`` as done by the system, with ``evidence``
    (one conditional UPDATE and one batch of history rows); returns the ids closed."""
    at = now or utcnow()
    closed = session.execute(
        update(Task)
        .where(Task.state.in_(UNFINISHED), *conditions)
        .values(
            state=TaskState.done,
            closed_at=at,
            closed_by=SYSTEM_ACTOR,
            evidence=evidence,
            late=case((Task.due_at < at, True), else_=Task.late),
        )
        .returning(Task.id, Task.jpath),
        execution_options={"synchronize_session": "fetch"},
    ).all()
    if closed:
        session.execute(
            insert(TaskEvent),
            [
                {"task_id": i, "at": at, "kind": "done", "actor": SYSTEM_ACTOR, "jpath": p, "note": evidence}
                for i, p in closed
            ],
        )
    return [i for i, _ in closed]


def cancel_by_system(session: Session, conditions: list[ColumnElement[bool]], reason: str) -> list[int]:
    """Cancel the unfinished tasks matching ``conditions`` with ``reason`` (recorded in the history)."""
    at = utcnow()
    cancelled = session.execute(
        update(Task)
        .where(Task.state.in_(UNFINISHED), *conditions)
        .values(state=TaskState.cancelled, closed_at=at, closed_by=SYSTEM_ACTOR, cancel_reason=reason)
        .returning(Task.id, Task.jpath),
        execution_options={"synchronize_session": "fetch"},
    ).all()
    if cancelled:
        session.execute(
            insert(TaskEvent),
            [
                {
                    "task_id": i,
                    "at": at,
                    "kind": "cancelled",
                    "actor": SYSTEM_ACTOR,
                    "jpath": p,
                    "note": reason,
                }
                for i, p in cancelled
            ],
        )
    return [i for i, _ in cancelled]


def _of(kind: str, subject_id: int, fulfilment: Fulfilment) -> list[ColumnElement[bool]]:
    return [Task.subject_kind == kind, Task.subject_id == subject_id, Task.fulfilment == fulfilment]


# ------------------------------------------------------------------------------------------ opening


def case_reported(session: Session, event: DomainEvent) -> None:
    """A confirmed case or asymptomatic infection opens the case's tasks in parallel."""
    from fangkong.tracing.events import CaseReported

    assert isinstance(event, CaseReported)
    _open_for_case(session, event)


def _open_for_case(session: Session, event: CaseReported) -> None:
    if event.classification not in CASE_CLASSIFICATIONS:
        return
    open_tasks(
        session,
        Trigger.case_confirmed,
        subject_kind="case",
        subject_id=event.case_id,
        subject_ref=case_ref(event.case_id),
        jpath=event.jpath,
        happened_at=utcnow(),
    )


def case_reclassified(session: Session, event: DomainEvent) -> None:
    """A suspected case confirmed opens the case's tasks; a case excluded cancels them, with the reason."""
    from fangkong.tracing.events import CaseReclassified

    assert isinstance(event, CaseReclassified)
    if event.classification in CASE_CLASSIFICATIONS:
        open_tasks(
            session,
            Trigger.case_confirmed,
            subject_kind="case",
            subject_id=event.case_id,
            subject_ref=case_ref(event.case_id),
            jpath=event.jpath,
            happened_at=utcnow(),
        )
    elif event.classification == "excluded":
        cancel_by_system(
            session,
            [Task.subject_kind == "case", Task.subject_id == event.case_id],
            Message("the case was excluded").dumps(),
        )


def alert_raised(session: Session, event: DomainEvent) -> None:
    from fangkong.surveillance.events import AlertRaised

    assert isinstance(event, AlertRaised)
    open_tasks(
        session,
        Trigger.alert_raised,
        subject_kind="alert",
        subject_id=event.alert_id,
        subject_ref=f"A-{event.alert_id}",
        jpath=event.jpath,
        happened_at=event.raised_at,
    )


def assist_requested(session: Session, event: DomainEvent) -> None:
    from fangkong.tracing.events import AssistRequested

    assert isinstance(event, AssistRequested)
    open_tasks(
        session,
        Trigger.assist_request,
        subject_kind="assist",
        subject_id=event.request_id,
        subject_ref=f"R-{event.request_id}",
        jpath=event.receiver_jpath,
        happened_at=event.sent_at,
        deadline=event.due_at,
    )


def pool_found_positive(session: Session, event: DomainEvent) -> None:
    from fangkong.testing.events import PoolFoundPositive

    assert isinstance(event, PoolFoundPositive)
    open_tasks(
        session,
        Trigger.positive_pool,
        subject_kind="pool",
        subject_id=event.tube_id,
        subject_ref=event.barcode[:60],
        jpath=event.jpath,
        happened_at=event.resulted_at,
    )


def site_activated(session: Session, event: DomainEvent) -> None:
    from fangkong.quarantine.events import QuarantineSiteActivated

    assert isinstance(event, QuarantineSiteActivated)
    now = utcnow()
    open_tasks(
        session,
        Trigger.site_activated,
        subject_kind="site",
        subject_id=event.site_id,
        subject_ref=f"S-{event.site_id}",
        jpath=event.jpath,
        happened_at=now,
        deadline=now + dt.timedelta(hours=event.hours_to_open) if event.hours_to_open > 0 else None,
    )


def doorstep_requested(session: Session, event: DomainEvent) -> None:
    from fangkong.areas.events import DoorstepRequested
    from fangkong.areas.service.doorstep import DEADLINES

    assert isinstance(event, DoorstepRequested)
    # The request's own clock by its kind (a medical emergency: 30 minutes) wins over the template's.
    within = DEADLINES.get(event.kind)  # type: ignore[call-overload]
    open_tasks(
        session,
        Trigger.doorstep_request,
        subject_kind="doorstep",
        subject_id=event.request_id,
        subject_ref=f"D-{event.request_id}",
        jpath=event.jpath,
        happened_at=event.requested_at,
        deadline=event.requested_at + within if within is not None else None,
    )


def aefi_reported(session: Session, event: DomainEvent) -> None:
    from fangkong.vaccination.events import AdverseEventReported

    assert isinstance(event, AdverseEventReported)
    # The card's own clock (2 h for a death or a cluster, 48 h otherwise) wins over the template's.
    open_tasks(
        session,
        Trigger.aefi_reported,
        subject_kind="aefi",
        subject_id=event.event_id,
        subject_ref=f"AEFI-{event.event_id}",
        jpath=event.jpath,
        happened_at=event.found_at or utcnow(),
        deadline=event.due_at,
    )


# ------------------------------------------------------------------------------------------ fulfilment


def case_investigated(session: Session, event: DomainEvent) -> None:
    """The investigation recorded an exposure or a visit: core facts are in; with contacts named, the
    contacts are identified."""
    from fangkong.tracing.events import CaseInvestigated

    assert isinstance(event, CaseInvestigated)
    evidence = Message(
        "case {case}: investigation recorded, {contacts} contacts",
        case=event.case_id,
        contacts=event.contacts,
    ).dumps()
    close_fulfilled(session, _of("case", event.case_id, Fulfilment.investigation), evidence)
    if event.contacts > 0:
        close_fulfilled(session, _of("case", event.case_id, Fulfilment.contacts_identified), evidence)


def contacts_isolated(session: Session, case_ids: set[int]) -> list[int]:
    """Close the open "contacts transferred" tasks of these cases whose close contacts are all isolated."""
    from fangkong.tracing.service import close_contacts_isolated

    waiting = session.scalars(
        select(Task.subject_id).where(
            Task.state.in_(UNFINISHED),
            Task.fulfilment == Fulfilment.contacts_transferred,
            Task.subject_kind == "case",
            Task.subject_id.in_(sorted(case_ids)),
        )
    ).all()
    closed: list[int] = []
    for case_id in sorted(set(waiting)):
        contacts, isolated = close_contacts_isolated(session, case_id)
        if contacts > 0 and isolated >= contacts:
            evidence = Message(
                "case {case}: all {contacts} close contacts isolated", case=case_id, contacts=contacts
            ).dumps()
            closed += close_fulfilled(
                session, _of("case", case_id, Fulfilment.contacts_transferred), evidence
            )
    return closed


def person_checked_into_quarantine(session: Session, event: DomainEvent) -> None:
    """A contact arrived in a room: the case behind it may now have every close contact isolated."""
    from fangkong.quarantine.events import PersonCheckedIntoQuarantine
    from fangkong.tracing.service import index_cases_of_sources

    assert isinstance(event, PersonCheckedIntoQuarantine)
    cases = index_cases_of_sources(session, [event.source]).get(event.source, frozenset())
    if cases:
        contacts_isolated(session, set(cases))


def risk_area_designated(session: Session, event: DomainEvent) -> None:
    """An area designated closes the "risk area" tasks of the cases whose place lies within it."""
    from fangkong.areas.events import RiskAreaDesignated

    assert isinstance(event, RiskAreaDesignated)
    close_fulfilled(
        session,
        [Task.fulfilment == Fulfilment.risk_area, under(Task.origin_jpath, event.jpath)],
        Message("risk area {area} designated", area=event.area_id).dumps(),
    )


def alert_answered(session: Session, event: DomainEvent) -> None:
    from fangkong.surveillance.events import AlertAnswered

    assert isinstance(event, AlertAnswered)
    close_fulfilled(
        session,
        _of("alert", event.alert_id, Fulfilment.alert_answered),
        Message("alert {alert} answered: {status}", alert=event.alert_id, status=event.status).dumps(),
        now=event.answered_at,
    )


def pool_recalled(session: Session, event: DomainEvent) -> None:
    from fangkong.testing.events import PoolRecalled

    assert isinstance(event, PoolRecalled)
    close_fulfilled(
        session,
        _of("pool", event.tube_id, Fulfilment.pool_recalled),
        Message("pooled tube {tube}: every member located", tube=event.tube_id).dumps(),
        now=event.located_at,
    )


def aefi_sent_to_county(session: Session, event: DomainEvent) -> None:
    from fangkong.vaccination.events import AdverseEventSentToCounty

    assert isinstance(event, AdverseEventSentToCounty)
    close_fulfilled(
        session,
        _of("aefi", event.event_id, Fulfilment.aefi_sent),
        Message("AEFI card {event} sent to the county CDC", event=event.event_id).dumps(),
        now=utcnow(),
    )
