"""Reading drills: one drill (:func:`get_drill`), the list, the drill clock and the status of a drill.

The drill clock (:func:`drill_hours`) is read off the drill's clock marks (:func:`marks_of`); the
status (:func:`status`) counts, per kind, the events due and fed, and shows the refusals.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.clock import as_utc, utcnow
from fangkong.core.errors import NotFound
from fangkong.core.scope import path_in_scope, under
from fangkong.modeling.drill_clock import Mark, drill_hours_at
from fangkong.modeling.models import Drill, DrillClockMark, DrillEvent, DrillStatus


def get_drill(session: Session, principal: Principal, drill_id: int) -> Drill:
    """A drill of the caller's county or above, or the drill the caller has entered."""
    drill = session.get(Drill, drill_id)
    if drill is None or not (
        path_in_scope(drill.jpath, principal.jpath) or path_in_scope(drill.sandbox_path, principal.jpath)
    ):
        raise NotFound(f"drill {drill_id} not found")
    return drill


def list_drills(session: Session, principal: Principal, limit: int = 100) -> list[Drill]:
    return list(
        session.scalars(
            select(Drill)
            .where(or_(under(Drill.jpath, principal.jpath), under(Drill.sandbox_path, principal.jpath)))
            .order_by(Drill.id.desc())
            .limit(limit)
        )
    )


def marks_of(session: Session, drill_id: int) -> list[Mark]:
    rows = session.execute(
        select(DrillClockMark.wall_at, DrillClockMark.drill_hours)
        .where(DrillClockMark.drill_id == drill_id)
        .order_by(DrillClockMark.id)
    ).all()
    return [Mark(w, h) for w, h in rows]


def drill_hours(session: Session, drill: Drill, wall: dt.datetime | None = None) -> float:
    """Where the drill's clock stands at ``wall`` (default now).

    The clock stops at the drill's end (its days, in hours) and stands still once the drill is
    stopped or finished.
    """
    at = as_utc(wall or utcnow())
    if drill.finished_at is not None and drill.status is not DrillStatus.running:
        at = min(at, as_utc(drill.finished_at))
    return min(drill_hours_at(marks_of(session, drill.id), drill.speed, at), end_hours(drill))


def end_hours(drill: Drill) -> float:
    return drill.days * 24.0


@dataclass(frozen=True)
class KindCount:
    kind: str
    fed: int
    due: int
    failed: int


@dataclass(frozen=True)
class DrillStatusView:
    drill: Drill
    hours: float
    day: int
    end_hours: float
    kinds: list[KindCount]
    errors: list[tuple[str, str]]
    summary: dict[str, Any]

    @property
    def fed(self) -> int:
        return sum(k.fed for k in self.kinds)

    @property
    def total(self) -> int:
        return sum(k.due for k in self.kinds)

    @property
    def share(self) -> float:
        return self.fed / self.total if self.total else 1.0

    def of(self, kind: str) -> KindCount:
        return next((k for k in self.kinds if k.kind == kind), KindCount(kind, 0, 0, 0))

    @property
    def cases_to_report(self) -> int:
        """Case reports the drill has yet to feed (a refused one was fed: it shows among the refusals)."""
        reports = self.of("case_report")
        return reports.due - reports.fed


def status(
    session: Session, principal: Principal, drill_id: int, now: dt.datetime | None = None
) -> DrillStatusView:
    drill = get_drill(session, principal, drill_id)
    hours = drill_hours(session, drill, now)
    rows = session.execute(
        select(
            DrillEvent.kind,
            func.count(),
            func.count(DrillEvent.fed_at),
            func.count(DrillEvent.error),
        )
        .where(DrillEvent.drill_id == drill.id)
        .group_by(DrillEvent.kind)
        .order_by(DrillEvent.kind)
    ).all()
    errors = session.execute(
        select(DrillEvent.kind, DrillEvent.error)
        .where(DrillEvent.drill_id == drill.id, DrillEvent.error.is_not(None))
        .order_by(DrillEvent.id)
        .limit(20)
    ).all()
    return DrillStatusView(
        drill=drill,
        hours=hours,
        day=min(int(hours // 24), max(drill.days - 1, 0)),
        end_hours=end_hours(drill),
        kinds=[KindCount(kind, fed, total, failed) for kind, total, fed, failed in rows],
        errors=[(k, e or "") for k, e in errors],
        summary=json.loads(drill.summary or "{}"),
    )
