"""The detection run: every configured detector over every area's series, then fusion into alerts.

For each active detector configuration in scope, the channel's latest observations are aggregated up to
the configuration's level (community -> township -> county -> city -> province, by path prefix), the
detector judges each area's series on the run's dates, and every judged point is stored (a rerun of the
same date replaces it, so late and corrected data are taken in). Then, day by day, the fusion rules turn
signals into alerts: new alerts are routed to the area's responders; an open alert with the same key
takes in the new signals and may rise in colour. Alerts of temporal rules are checked with the
space-time permutation scan (Kulldorff 2005), which confirms them (one colour up) or not. That second
half, raising the alerts, is ``raising``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope, under
from fangkong.surveillance import service
from fangkong.surveillance.models import (
    Aggregation,
    Channel,
    DetectionResult,
    DetectorConfig,
    DetectorRun,
    Frequency,
    Observation,
)

# The alert-raising half of the run lives in ``raising``; its tunables stay readable from here.
from fangkong.surveillance.raising import (
    EARTH_RADIUS_KM,
    EVIDENCE_PERIODS,
    EVIDENCE_SERIES,
    SCAN_MAX_DAYS,
    SCAN_REPLICATES,
    SCAN_STUDY_PERIODS,
    fuse_days,
)
from fangkong.surveillance.rules import period_start
from fangkong.surveillance.series import BatchOutcome, aggregate, detect_many, period_dates

__all__ = [
    "EARTH_RADIUS_KM",
    "EVIDENCE_PERIODS",
    "EVIDENCE_SERIES",
    "HISTORY_YEARS",
    "MAX_RUN_DAYS",
    "SCAN_MAX_DAYS",
    "SCAN_REPLICATES",
    "SCAN_STUDY_PERIODS",
    "WRITE_CHUNK",
    "RunReport",
    "run_detection",
]

MAX_RUN_DAYS = 366
"""dates one run may judge (a year of backfill); longer backfills are split by the caller."""

HISTORY_YEARS = 10
"""years of observations before the first judged date a detector is given; more than any method looks
back (Farrington's default is 5 years), and it bounds the work when old data is present."""

WRITE_CHUNK = 2_000


@dataclass
class RunReport:
    run: DetectorRun
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _root(config_path: str, path: str) -> str | None:
    """The subtree a configuration covers within the caller's scope, or None when they do not meet."""
    if path_in_scope(path, config_path):
        return path
    if path_in_scope(config_path, path):
        return config_path
    return None


def _none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def run_detection(
    session: Session,
    bus: EventBus,
    actor: audit.Actor,
    path: str,
    as_of: dt.date,
    now: dt.datetime,
    *,
    first_date: dt.date | None = None,
    scan_replicates: int = SCAN_REPLICATES,
) -> RunReport:
    """Judge ``first_date``..``as_of`` (default: ``as_of`` only) in the caller's subtree and raise alerts.

    Each alert raised is published as ``AlertRaised`` on ``bus``, in the caller's unit of work.
    """
    service.ensure_defaults(session)
    first = first_date or as_of
    errors = []
    if first > as_of:
        errors.append(
            RowError(1, "first_date", Message("{first} is after {as_of}", first=first, as_of=as_of))
        )
    elif (as_of - first).days >= MAX_RUN_DAYS:
        errors.append(
            RowError(1, "first_date", Message("a run judges at most {days} days", days=MAX_RUN_DAYS))
        )
    if as_of > clock.local_day(now):
        errors.append(RowError(1, "as_of", Message("{value} is in the future", value=as_of)))
    if errors:
        raise InvalidInput(errors)
    run = DetectorRun(
        first_date=first, as_of=as_of, jpath=path, actor=actor.username, started_at=now, notes="[]"
    )
    session.add(run)
    session.flush()
    report = RunReport(run)
    evidence: dict[tuple[int, int], dict[str, object]] = {}
    configs = session.execute(
        select(DetectorConfig, Channel)
        .join(Channel, Channel.id == DetectorConfig.channel_id)
        .where(
            DetectorConfig.active.is_(True),
            Channel.active.is_(True),
            service.visible(DetectorConfig.jpath, path),
        )
        .order_by(DetectorConfig.id)
    ).all()
    for config, channel in configs:
        _run_config(session, run, config, channel, path, first, as_of, report, evidence)
    fuse_days(
        session,
        bus,
        actor,
        path,
        first,
        as_of,
        now,
        report.created,
        report.updated,
        evidence,
        scan_replicates,
    )
    run.finished_at = now
    run.alerts = len(report.created)
    run.notes = json.dumps(report.notes, ensure_ascii=False)
    audit.record(
        session,
        actor,
        "surveillance.run",
        "detector_run",
        run.id,
        jpath=path,
        detail={
            "first_date": first.isoformat(),
            "as_of": as_of.isoformat(),
            "series": run.series,
            "signals": run.signals,
            "alerts": run.alerts,
        },
    )
    return report


# ---------------------------------------- detectors


def _run_config(
    session: Session,
    run: DetectorRun,
    config: DetectorConfig,
    channel: Channel,
    path: str,
    first: dt.date,
    as_of: dt.date,
    report: RunReport,
    evidence: dict[tuple[int, int], dict[str, object]],
) -> None:
    from fangkong.analytics.detection.base import DetectorParameterError

    label = f"{channel.code} / {config.method} / {config.level.value}"
    root = _root(config.jpath, path)
    if root is None:
        return
    areas = list(
        session.scalars(
            select(Jurisdiction)
            .where(under(Jurisdiction.path, root), Jurisdiction.level == config.level)
            .order_by(Jurisdiction.path)
        )
    )
    if not areas:
        return
    weekly = channel.frequency is Frequency.weekly
    last = period_start(as_of, weekly)
    first_judged = period_start(first, weekly)
    rows = session.execute(
        select(Observation.jpath, Observation.period_start, Observation.value).where(
            Observation.channel_id == channel.id,
            under(Observation.jpath, root),
            Observation.period_start <= last,
            Observation.period_start >= first_judged - dt.timedelta(days=HISTORY_YEARS * 366),
        )
    ).all()
    if not rows:
        report.notes.append(f"{label}: no observations yet")
        return
    dates = period_dates(min(min(r[1] for r in rows), first_judged), last, weekly)
    matrix = aggregate(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [a.path for a in areas],
        dates,
        mean=channel.aggregation is Aggregation.mean,
    )
    judged_index = np.flatnonzero(np.asarray([d >= first_judged for d in dates])).astype(np.int64)
    params = json.loads(config.params or "{}")
    try:
        outcome = detect_many(config.method, params, matrix, judged_index, dates, weekly=weekly)
    except DetectorParameterError as exc:
        report.notes.append(f"{label}: {exc}")
        return
    report.notes.extend(f"{label}: {n}" for n in outcome.notes)
    run.series += len(areas)
    _store(session, run, config, channel, areas, [dates[i] for i in judged_index], outcome)
    for a, k in zip(*np.nonzero(outcome.alarm & outcome.judged), strict=True):
        key = (config.id, areas[a].id)
        if key not in evidence:
            evidence[key] = _series_evidence(
                config.method, params, matrix[a], dates, int(judged_index[k]), weekly
            )


def _store(
    session: Session,
    run: DetectorRun,
    config: DetectorConfig,
    channel: Channel,
    areas: Sequence[Jurisdiction],
    judged_dates: Sequence[dt.date],
    outcome: BatchOutcome,
) -> None:
    """Upsert the judged points: one batched insert for new ones, one batched update for rerun dates."""
    held: dict[tuple[int, dt.date], int] = {}
    area_ids = [a.id for a in areas]
    for start in range(0, len(area_ids), WRITE_CHUNK):
        chunk = area_ids[start : start + WRITE_CHUNK]
        for rid, jid, day in session.execute(
            select(DetectionResult.id, DetectionResult.jurisdiction_id, DetectionResult.period_start).where(
                DetectionResult.config_id == config.id,
                DetectionResult.jurisdiction_id.in_(chunk),
                DetectionResult.period_start >= judged_dates[0],
                DetectionResult.period_start <= judged_dates[-1],
            )
        ).all():
            held[(jid, day)] = rid
    new: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for a, k in zip(*np.nonzero(outcome.judged), strict=True):
        area, day = areas[a], judged_dates[k]
        values: dict[str, object] = {
            "run_id": run.id,
            "method": config.method,
            "observed": float(outcome.observed[a, k]),
            "expected": _none(outcome.expected[a, k]),
            "threshold": _none(outcome.threshold[a, k]),
            "score": _none(outcome.score[a, k]),
            "pvalue": _none(outcome.pvalue[a, k]),
            "alarm": bool(outcome.alarm[a, k]),
        }
        held_id = held.get((area.id, day))
        if held_id is None:
            new.append(
                {
                    **values,
                    "config_id": config.id,
                    "channel_id": channel.id,
                    "jurisdiction_id": area.id,
                    "jpath": area.path,
                    "period_start": day,
                }
            )
        else:
            changed.append({**values, "id": held_id})
    for start in range(0, len(new), WRITE_CHUNK):
        session.execute(insert(DetectionResult), new[start : start + WRITE_CHUNK])
    for start in range(0, len(changed), WRITE_CHUNK):
        session.execute(update(DetectionResult), changed[start : start + WRITE_CHUNK])
    run.results += len(new) + len(changed)
    run.signals += int((outcome.alarm & outcome.judged).sum())


def _series_evidence(
    method: str, params: Mapping[str, object], y: np.ndarray, dates: Sequence[dt.date], at: int, weekly: bool
) -> dict[str, object]:
    """The last EVIDENCE_PERIODS points up to the signal, with the detector's expectation and threshold."""
    from fangkong.analytics.detection.base import DetectorParameterError
    from fangkong.analytics.detection.registry import DETECTORS
    from fangkong.surveillance.series import detector_params

    lo = max(0, at + 1 - EVIDENCE_PERIODS)
    shown = slice(lo, at + 1)
    expected: list[float | None] = [None] * (at + 1 - lo)
    threshold: list[float | None] = [None] * (at + 1 - lo)
    alarm: list[bool] = [False] * (at + 1 - lo)
    try:
        converted = detector_params(method, params, weekly, at + 1)
        if method in ("farrington", "farrington_flexible"):
            converted.setdefault("dates", [d.isoformat() for d in dates[: at + 1]])
        result = DETECTORS[method](y[: at + 1], **converted)
    except DetectorParameterError:
        pass
    else:
        expected = [_none(v) for v in result.expected[shown]]
        threshold = [_none(v) for v in result.threshold[shown]]
        alarm = [bool(v) for v in result.alarm[shown]]
    return {
        "dates": [d.isoformat() for d in dates[shown]],
        "observed": [float(v) for v in y[shown]],
        "expected": expected,
        "threshold": threshold,
        "alarm": alarm,
    }
