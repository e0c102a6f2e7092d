"""Reading signals: the alarmed time points in scope, the signal board by area with open alerts,
signal counts by channel, the detector runs and the areas of a level.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.models import Jurisdiction, Level
from fangkong.core.scope import under
from fangkong.surveillance.fusion import Area, prefixes
from fangkong.surveillance.models import Alert, AlertLevel, Channel, DetectionResult, DetectorRun
from fangkong.surveillance.rules import OPEN_STATUSES
from fangkong.surveillance.service.common import MAX_PAGE_SIZE

BOARD_WINDOW_DAYS = 7
"""days of signals the board counts (the fusion window of issue 5)."""


# ---------------------------------------- reading: signals, board, series


@dataclass(frozen=True)
class SignalRow:
    result: DetectionResult
    channel: Channel
    place: Jurisdiction


def list_signals(
    session: Session,
    path: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    level: Level | None = None,
    channel_id: int | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[list[SignalRow], int]:
    """Alarmed time points in scope, newest first."""
    condition = [DetectionResult.alarm.is_(True), under(DetectionResult.jpath, path)]
    if start is not None:
        condition.append(DetectionResult.period_start >= start)
    if end is not None:
        condition.append(DetectionResult.period_start <= end)
    if channel_id is not None:
        condition.append(DetectionResult.channel_id == channel_id)
    base = (
        select(DetectionResult, Channel, Jurisdiction)
        .join(Channel, Channel.id == DetectionResult.channel_id)
        .join(Jurisdiction, Jurisdiction.id == DetectionResult.jurisdiction_id)
        .where(*condition)
    )
    if level is not None:
        base = base.where(Jurisdiction.level == level)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    size = max(1, min(size, MAX_PAGE_SIZE))
    rows = session.execute(
        base.order_by(DetectionResult.period_start.desc(), DetectionResult.id.desc())
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    return [SignalRow(r, ch, j) for r, ch, j in rows], total


@dataclass
class BoardRow:
    """One area on the signal board: signals by channel in the window and its open alerts."""

    area: Jurisdiction
    signals: dict[str, int] = field(default_factory=dict)
    open_alerts: int = 0
    top_level: AlertLevel | None = None

    @property
    def total_signals(self) -> int:
        return sum(self.signals.values())


def board(session: Session, path: str, level: Level, as_of: dt.date, window_days: int) -> list[BoardRow]:
    """Every area of ``level`` in scope with its signals in the ``window_days`` ending ``as_of``."""
    areas = list(
        session.scalars(
            select(Jurisdiction)
            .where(under(Jurisdiction.path, path), Jurisdiction.level == level)
            .order_by(Jurisdiction.path)
        )
    )
    rows = {a.path: BoardRow(a) for a in areas}
    start = as_of - dt.timedelta(days=window_days - 1)
    hits = session.execute(
        select(DetectionResult.jpath, Channel.code, func.count())
        .join(Channel, Channel.id == DetectionResult.channel_id)
        .where(
            DetectionResult.alarm.is_(True),
            under(DetectionResult.jpath, path),
            DetectionResult.period_start >= start,
            DetectionResult.period_start <= as_of,
        )
        .group_by(DetectionResult.jpath, Channel.code)
    ).all()
    for jpath, code, count in hits:
        row = next((rows[p] for p in prefixes(jpath) if p in rows), None)
        if row is not None:
            row.signals[code] = row.signals.get(code, 0) + int(count)
    alerts = session.execute(
        select(Alert.jpath, Alert.level).where(
            under(Alert.jpath, path), Alert.status.in_(list(OPEN_STATUSES))
        )
    ).all()
    order = list(AlertLevel)
    for jpath, alert_level in alerts:
        row = next((rows[p] for p in prefixes(jpath) if p in rows), None)
        if row is not None:
            row.open_alerts += 1
            if row.top_level is None or order.index(alert_level) > order.index(row.top_level):
                row.top_level = alert_level
    return list(rows.values())


def list_runs(session: Session, path: str, limit: int = 50) -> list[DetectorRun]:
    stmt = (
        select(DetectorRun).where(under(DetectorRun.jpath, path)).order_by(DetectorRun.id.desc()).limit(limit)
    )
    return list(session.scalars(stmt))


def areas_of_level(session: Session, path: str, levels: Sequence[Level]) -> list[Area]:
    rows = session.scalars(
        select(Jurisdiction).where(under(Jurisdiction.path, path), Jurisdiction.level.in_(list(levels)))
    )
    return [Area(j.id, j.code, j.name, j.path, j.parent_id, j.level) for j in rows]


def signal_counts_by_channel(session: Session, path: str, start: dt.date, end: dt.date) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for code, n in session.execute(
        select(Channel.code, func.count())
        .join(DetectionResult, DetectionResult.channel_id == Channel.id)
        .where(
            DetectionResult.alarm.is_(True),
            under(DetectionResult.jpath, path),
            DetectionResult.period_start >= start,
            DetectionResult.period_start <= end,
        )
        .group_by(Channel.code)
    ).all():
        counts[code] += int(n)
    return dict(counts)
