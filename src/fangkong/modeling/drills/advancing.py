"""Advancing a drill (:func:`advance`) and stopping it (:func:`stop_drill`).

Every event that has come due is claimed and fed one by one, each in its own transaction, so one
refused record does not undo the others (the refusal is kept on the event); a facilitator's jump ahead
marks the drill clock at each event's own drill time. The clock stops at the drill's end, and the drill
is then finished.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.events import EventBus
from fangkong.modeling.drills.acting import _actor
from fangkong.modeling.drills.feeding import _feed
from fangkong.modeling.drills.reads import drill_hours, end_hours, get_drill, marks_of
from fangkong.modeling.models import Drill, DrillClockMark, DrillEvent, DrillStatus

log = logging.getLogger("fangkong.modeling")


@dataclass
class AdvanceReport:
    drill_id: int
    hours: float
    fed: int = 0
    failed: int = 0
    alerts_answered: int = 0
    finished: bool = False
    errors: list[str] = field(default_factory=list)


def stop_drill(session: Session, principal: Principal, drill_id: int, *, ip: str = "") -> Drill:
    drill = get_drill(session, principal, drill_id)
    if drill.status is DrillStatus.running:
        now = utcnow()
        session.add(
            DrillClockMark(drill_id=drill.id, wall_at=now, drill_hours=drill_hours(session, drill, now))
        )
        drill.status = DrillStatus.stopped
        drill.finished_at = now
        audit.record(session, _actor(principal, ip), "drills.stop", "drill", drill.id, jpath=drill.jpath)
    return drill


def advance(
    db: Database,
    vault: Vault,
    bus: EventBus,
    drill_id: int,
    *,
    to_hours: float | None = None,
    now: dt.datetime | None = None,
) -> AdvanceReport:
    """Feed every event due now (or, jumping ahead, by drill hour ``to_hours``), each in its own transaction.

    The caller has checked that the drill lies in its scope; events are fed by the drill itself
    (:func:`drill_principal`), never by a person.
    """
    wall = now or utcnow()
    with db.unit_of_work() as session:
        drill = session.get(Drill, drill_id)
        if drill is None:
            raise NotFound(f"drill {drill_id} not found")
        report = AdvanceReport(drill_id, drill_hours(session, drill, wall))
        if drill.status is not DrillStatus.running:
            report.finished = drill.status is DrillStatus.finished
            return report
        # Nothing runs past the drill's end: events due after it (an investigation or an alert
        # response the last day's records would have called for) are left unfed.
        target = report.hours if to_hours is None else max(report.hours, float(to_hours))
        target = min(target, end_hours(drill))
        jump = target > report.hours
    while True:
        # One event at a time: feeding may schedule new events (the autopilot's alert responses).
        with db.unit_of_work() as session:
            event_id = session.scalar(
                select(DrillEvent.id)
                .where(
                    DrillEvent.drill_id == drill_id,
                    DrillEvent.fed_at.is_(None),
                    DrillEvent.due_hours <= target,
                )
                .order_by(DrillEvent.due_hours, DrillEvent.id)
                .limit(1)
            )
        if event_id is None:
            break
        moment = utcnow()
        with db.unit_of_work() as session:
            claimed = cast(
                CursorResult[Any],
                session.execute(
                    update(DrillEvent)
                    .where(DrillEvent.id == event_id, DrillEvent.fed_at.is_(None))
                    .values(fed_at=moment)
                    .execution_options(synchronize_session=False)
                ),
            ).rowcount
            if not claimed:
                continue  # another clock fed it meanwhile
            event = session.get(DrillEvent, event_id)
            assert event is not None
            if jump:
                last = max((m.drill_hours for m in marks_of(session, drill_id)), default=0.0)
                session.add(
                    DrillClockMark(drill_id=drill_id, wall_at=moment, drill_hours=max(last, event.due_hours))
                )
            kind, due_hours, payload = event.kind, event.due_hours, json.loads(event.payload)
        try:
            with db.unit_of_work() as session:
                drill = session.get(Drill, drill_id)
                assert drill is not None
                ref = _feed(session, vault, bus, drill, kind, payload, due_hours, moment)
                session.execute(update(DrillEvent).where(DrillEvent.id == event_id).values(record_ref=ref))
            report.fed += 1
            if kind == "alert_response":
                report.alerts_answered += int(ref.split(":")[1])
        except DomainError as exc:
            _fail_event(db, event_id, exc.message, report)
        except Exception:  # one bad event must not stop the drill; the trace goes to the log
            log.exception("drill %s: feeding event %s failed", drill_id, event_id)
            _fail_event(db, event_id, "internal error; it has been logged", report)
    with db.unit_of_work() as session:
        drill = session.get(Drill, drill_id)
        assert drill is not None
        end = utcnow()
        if jump:
            session.add(DrillClockMark(drill_id=drill_id, wall_at=end, drill_hours=target))
        report.hours = target if jump else drill_hours(session, drill, end)
        left = session.scalar(
            select(func.count())
            .select_from(DrillEvent)
            .where(
                DrillEvent.drill_id == drill_id,
                DrillEvent.fed_at.is_(None),
                DrillEvent.due_hours <= report.hours,
            )
        )
        if not left and report.hours >= end_hours(drill) and drill.status is DrillStatus.running:
            drill.status = DrillStatus.finished
            drill.finished_at = end
            report.finished = True
    return report


def _fail_event(db: Database, event_id: int, message: str, report: AdvanceReport) -> None:
    report.failed += 1
    report.errors.append(message)
    with db.unit_of_work() as session:
        session.execute(update(DrillEvent).where(DrillEvent.id == event_id).values(error=message[:2000]))
