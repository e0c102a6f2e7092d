"""Recall of positive pools: every member of a positive pooled tube is flagged (when the result loads, see
:mod:`.results`), located by community workers and isolated, then retested in a single tube; the
single-tube positive becomes a case. How long it took from the pool's result until every member was
located is measured per tube, against the recall deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import as_utc, utcnow
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.events import EventBus, bus_of
from fangkong.core.i18n import Message
from fangkong.core.models import Person
from fangkong.core.scope import path_in_scope, under
from fangkong.testing.events import PoolRecalled
from fangkong.testing.models import OrderState, Recall, RecallState, TestOrder, TestResult, Tube, TubeMember
from fangkong.testing.service import orders, results

# A retest is "scanned" by the recall itself: device ``recall:<id>``, sequence the retest's number.
RECALL_DEVICE = "recall:{id}"


def _actor(principal: Principal) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, "web")


@dataclass(frozen=True)
class RecallView:
    id: int
    tube_id: int
    pool_barcode: str
    person_id: int
    person_name: str
    jpath: str
    state: RecallState
    flagged_at: dt.datetime
    deadline_at: dt.datetime
    located_at: dt.datetime | None
    retest_barcode: str | None
    result: TestResult | None

    @property
    def late(self) -> bool:
        """Not located by the deadline (still not, or located after it)."""
        return as_utc(self.located_at or utcnow()) > as_utc(self.deadline_at)


def _views(session: Session, query: Select[int]) -> list[RecallView]:
    rows = session.execute(
        select(Recall, Tube.barcode, Person.name_masked)
        .join(Tube, Tube.id == Recall.tube_id)
        .join(Person, Person.id == Recall.person_id)
        .where(Recall.id.in_(query))
        .order_by(Recall.deadline_at, Recall.id)
    ).all()
    return [
        RecallView(
            id=r.id,
            tube_id=r.tube_id,
            pool_barcode=barcode,
            person_id=r.person_id,
            person_name=name,
            jpath=r.jpath,
            state=r.state,
            flagged_at=r.flagged_at,
            deadline_at=r.deadline_at,
            located_at=r.located_at,
            retest_barcode=r.retest_barcode,
            result=r.result,
        )
        for r, barcode, name in rows
    ]


def recall_list(
    session: Session, principal: Principal, *, tube_id: int | None = None, state: RecallState | None = None
) -> list[RecallView]:
    """Members of positive pools in scope, soonest deadline first (one pool's, or in one state)."""
    query = select(Recall.id).where(under(Recall.jpath, principal.jpath))
    if tube_id is not None:
        query = query.where(Recall.tube_id == tube_id)
    if state is not None:
        query = query.where(Recall.state == state)
    return _views(session, query)


def _recall(session: Session, principal: Principal, recall_id: int) -> Recall:
    recall = session.get(Recall, recall_id)
    if recall is None or not path_in_scope(recall.jpath, principal.jpath):
        raise NotFound(Message("recall {id} not found", id=recall_id))
    return recall


def _one(session: Session, recall_id: int) -> RecallView:
    return _views(session, select(Recall.id).where(Recall.id == recall_id))[0]


def _publish_if_recalled(session: Session, bus: EventBus, tube_id: int) -> None:
    """Publish ``PoolRecalled`` when every member of the pool is now located.

    Called only right after a member's locating time was first set, so the pool's last member fires it
    exactly once.
    """
    members, located, last = session.execute(
        select(func.count(Recall.id), func.count(Recall.located_at), func.max(Recall.located_at)).where(
            Recall.tube_id == tube_id
        )
    ).one()
    if not members or located < members or last is None:
        return
    tube = session.get(Tube, tube_id)
    assert tube is not None
    bus.publish(session, PoolRecalled(tube_id=tube_id, jpath=tube.jpath, located_at=as_utc(last)))


def mark_located(
    session: Session, bus: EventBus, principal: Principal, recall_id: int, *, at: dt.datetime | None = None
) -> RecallView:
    """A community worker found the member and isolated them; marking it again changes nothing.

    Locating the pool's last member publishes ``PoolRecalled``.
    """
    recall = _recall(session, principal, recall_id)
    if recall.located_at is None:
        recall.located_at = at or utcnow()
        if recall.state is RecallState.flagged:
            recall.state = RecallState.located
        session.flush()
        audit.record(
            session,
            _actor(principal),
            "testing.recall.located",
            "testing_recall",
            recall.id,
            jpath=recall.jpath,
        )
        _publish_if_recalled(session, bus, recall.tube_id)
    return _one(session, recall.id)


def record_retest(
    session: Session,
    principal: Principal,
    recall_id: int,
    barcode: str,
    *,
    at: dt.datetime | None = None,
    result: TestResult | None = None,
    ct_values: Mapping[str, float] | None = None,
    tested_at: dt.datetime | None = None,
    bus: EventBus | None = None,
) -> RecallView:
    """The member's single-tube retest was sampled (a member being sampled has been located).

    Its result comes with the lab's file like any other tube's; ``result`` records one read on the spot
    through the same path (a positive is ``PersonTestedPositive``: tracing opens a case). A sample that
    locates the pool's last member publishes ``PoolRecalled``.
    """
    recall = _recall(session, principal, recall_id)
    code = orders.barcode_of(barcode)
    when = at or utcnow()
    if recall.retest_barcode is not None and recall.retest_barcode != code:
        raise Conflict(
            Message(
                "recall {id} was already retested in tube {barcode}",
                id=recall_id,
                barcode=recall.retest_barcode,
            )
        )
    if recall.retest_barcode is None:
        tube = orders.single_tube(session, code, recall.jpath, when)
        order = session.scalar(
            select(TestOrder).where(
                TestOrder.person_id == recall.person_id,
                TestOrder.source == f"recall:{recall.id}",
                TestOrder.state == OrderState.open,
            )
        )
        samples = session.scalar(
            select(func.count()).where(TubeMember.device_id == RECALL_DEVICE.format(id=recall.id))
        )
        session.add(
            TubeMember(
                tube_id=tube.id,
                person_id=recall.person_id,
                jpath=recall.jpath,
                order_id=order.id if order is not None else None,
                device_id=RECALL_DEVICE.format(id=recall.id),
                device_seq=(samples or 0) + 1,
                scanned_at=when,
            )
        )
        tube.members += 1
        if order is not None:
            order.state = OrderState.sampled
            order.tube_barcode = code
            order.sampled_at = when
        recall.retest_barcode = code
        newly_located = recall.located_at is None
        if newly_located:
            recall.located_at = when
        if recall.state is RecallState.flagged:
            recall.state = RecallState.located
        session.flush()
        audit.record(
            session,
            _actor(principal),
            "testing.recall.retest_sampled",
            "testing_recall",
            recall.id,
            detail={"barcode": code},
            jpath=recall.jpath,
        )
        if newly_located:
            _publish_if_recalled(session, bus or bus_of(session), recall.tube_id)
    if result is not None:
        line = results.ResultLine(
            row=1,
            barcode=code,
            result=result,
            ct_values=dict(ct_values or {}),
            tested_at=tested_at or utcnow(),
            version=None,
        )
        results.apply_result(session, line, origin=f"recall:{recall.id}", bus=bus)
    session.expire(recall)
    return _one(session, recall.id)


@dataclass(frozen=True)
class RecallTiming:
    """How fast a positive pool's members were found: from the pool's result to the last one located."""

    tube_id: int
    barcode: str
    members: int
    located: int
    pool_resulted_at: dt.datetime | None
    flagged_at: dt.datetime | None
    deadline_at: dt.datetime | None
    all_located_at: dt.datetime | None

    @property
    def hours_to_all_located(self) -> float | None:
        """Hours from the pool's result to every member located; None while someone is still missing."""
        if self.all_located_at is None or self.pool_resulted_at is None:
            return None
        return (as_utc(self.all_located_at) - as_utc(self.pool_resulted_at)).total_seconds() / 3600

    @property
    def within_deadline(self) -> bool | None:
        if self.all_located_at is None or self.deadline_at is None:
            return None
        return as_utc(self.all_located_at) <= as_utc(self.deadline_at)


def recall_timing(session: Session, principal: Principal, tube_id: int) -> RecallTiming:
    """The measured time from a positive pool's result to every member located."""
    tube = session.get(Tube, tube_id)
    if tube is None or not path_in_scope(tube.jpath, principal.jpath):
        raise NotFound(Message("tube {id} not found", id=tube_id))
    row = session.execute(
        select(
            func.count(Recall.id),
            func.count(Recall.located_at),
            func.min(Recall.flagged_at),
            func.max(Recall.deadline_at),
            func.max(Recall.located_at),
        ).where(Recall.tube_id == tube_id)
    ).one()
    members, located, flagged_at, deadline_at, last_located = row
    return RecallTiming(
        tube_id=tube.id,
        barcode=tube.barcode,
        members=members,
        located=located,
        pool_resulted_at=tube.resulted_at,
        flagged_at=as_utc(flagged_at) if flagged_at is not None else None,
        deadline_at=as_utc(deadline_at) if deadline_at is not None else None,
        all_located_at=as_utc(last_located) if members and located == members and last_located else None,
    )
