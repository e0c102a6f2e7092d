"""Raising alerts: the fusion rules turn the run's signals into alerts, day by day.

New alerts are routed to the area's responders and published; an open alert with the same key takes in
the new signals and may rise in colour. Alerts of temporal rules are checked with the space-time
permutation scan (Kulldorff 2005), which confirms them (one colour up) or not. The detection run
(``runner``) calls ``fuse_days`` once its detectors have judged every series.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import zlib
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.events import EventBus
from fangkong.core.jurisdictions import same_world_as
from fangkong.core.models import LEVEL_ORDER, Jurisdiction, Level
from fangkong.core.scope import path_in_scope, under
from fangkong.surveillance import alerts as alert_service
from fangkong.surveillance import service
from fangkong.surveillance.events import AlertRaised
from fangkong.surveillance.fusion import Area, Candidate, Rule, SignalFact, fuse, neighbour_map, prefixes
from fangkong.surveillance.models import (
    Adjacency,
    Aggregation,
    Alert,
    AlertSignal,
    AlertStatus,
    AreaLocation,
    Channel,
    DetectionResult,
    Frequency,
    FusionRule,
    Observation,
    RuleKind,
)
from fangkong.surveillance.rules import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    SCAN_CONFIRM_PVALUE,
    alert_rank,
    higher_level,
    raise_level,
    response_due,
)
from fangkong.surveillance.rules import (
    LEVEL_ORDER as ALERT_ORDER,
)
from fangkong.surveillance.series import aggregate, period_dates

EVIDENCE_PERIODS = 28
"""time points of each signalling series kept with an alert (four weeks of daily data)."""

EVIDENCE_SERIES = 6
"""series at most kept with one alert (the most recent signals first)."""

SCAN_STUDY_PERIODS = 28
"""days (or weeks) of counts the space-time scan reads; SaTScan analyses of daily syndromic data in the
NYC DOHMH use a few weeks of history (Greene et al., EID 2016), so four weeks here."""

SCAN_MAX_DAYS = 7
"""longest cluster window, days: SaTScan sample NYCSpaceTimePermutation.prm (ALGORITHMS.md section 3)."""

SCAN_REPLICATES = 999
"""Monte Carlo replicates of the scan; SaTScan default (ALGORITHMS.md section 3)."""

EARTH_RADIUS_KM = 6371.0
"""mean Earth radius, km, to place centroids on a plane for the scan's circles."""


@dataclass(frozen=True)
class _SignalInfo:
    config_id: int
    channel_name: str
    channel_unit: str
    aggregation: Aggregation
    report_level: Level
    jurisdiction_code: str
    jurisdiction_name: str
    channel_id: int
    expected: float | None
    threshold: float | None


def fuse_days(
    session: Session,
    bus: EventBus,
    actor: audit.Actor,
    path: str,
    first: dt.date,
    as_of: dt.date,
    now: dt.datetime,
    created: list[int],
    updated: list[int],
    evidence: dict[tuple[int, int], dict[str, object]],
    scan_replicates: int,
) -> None:
    """Apply the active fusion rules to each day ``first``..``as_of`` in the caller's subtree.

    Ids of alerts raised are appended to ``created``, of open alerts that took in signals to ``updated``;
    ``evidence`` holds the series the run has just judged, keyed by (configuration, area).
    """
    rules = [
        Rule(r.id, service.rule_spec(r))
        for r in session.scalars(
            select(FusionRule)
            .where(FusionRule.active.is_(True), service.visible(FusionRule.jpath, path))
            .order_by(FusionRule.id)
        )
    ]
    if not rules:
        return
    areas = service.areas_of_level(
        session, path, sorted({r.spec.level for r in rules}, key=lambda lv: LEVEL_ORDER[lv])
    )
    area_ids = [a.id for a in areas]
    pairs = [
        (a, b)
        for a, b in session.execute(
            select(Adjacency.jurisdiction_id, Adjacency.neighbour_id).where(under(Adjacency.jpath, path))
        ).all()
        if a in area_ids or b in area_ids
    ]
    neighbours = neighbour_map(areas, pairs)
    places = _owners_above(session, path, areas)
    reach = max(r.spec.window_days for r in rules) + 7
    since = first - dt.timedelta(days=reach)
    signals, info = _load_signals(session, path, since, as_of)
    # Signals of alerts already confirmed or dismissed (wherever those alerts sit) are spent.
    closed = set(
        session.scalars(
            select(AlertSignal.result_id)
            .join(Alert, Alert.id == AlertSignal.alert_id)
            .join(DetectionResult, DetectionResult.id == AlertSignal.result_id)
            .where(
                Alert.status.in_(list(CLOSED_STATUSES)),
                under(DetectionResult.jpath, path),
                DetectionResult.period_start >= since,
            )
        )
    )
    used: dict[str, set[int]] = defaultdict(set)
    for key, result_id in session.execute(
        select(Alert.dedupe_key, AlertSignal.result_id)
        .join(AlertSignal, AlertSignal.alert_id == Alert.id)
        .where(under(Alert.jpath, path), Alert.last_date >= since)
    ).all():
        used[key].add(result_id)
    open_alerts = {
        a.dedupe_key: a
        for a in session.scalars(
            select(Alert)
            .where(under(Alert.jpath, path), Alert.status.in_(list(OPEN_STATUSES)))
            .order_by(Alert.id)
        )
    }
    day = first
    while day <= as_of:
        known = [s for s in signals if s.period_start <= day]
        for candidate in fuse(known, rules, areas, neighbours, day, used, closed=closed, places=places):
            alert = open_alerts.get(candidate.key)
            if alert is None:
                alert = _create(session, bus, actor, candidate, info, evidence, day, now, scan_replicates)
                open_alerts[candidate.key] = alert
                created.append(alert.id)
            else:
                _merge(session, actor, alert, candidate, info, evidence, now)
                if alert.id not in created and alert.id not in updated:
                    updated.append(alert.id)
            used[candidate.key].update(s.result_id for s in candidate.signals)
        day += dt.timedelta(days=1)


def _owners_above(session: Session, path: str, areas: Sequence[Area]) -> list[Area]:
    """The jurisdictions within the run's scope above the rules' areas: those that may own an alert
    spanning neighbouring areas (see ``fusion``)."""
    own = {a.path for a in areas}
    above = sorted({p for a in areas for p in prefixes(a.path) if p not in own and path_in_scope(p, path)})
    found: list[Area] = []
    for start in range(0, len(above), 1000):
        for j in session.scalars(
            select(Jurisdiction).where(Jurisdiction.path.in_(above[start : start + 1000]))
        ):
            found.append(Area(j.id, j.code, j.name, j.path, j.parent_id, j.level))
    return found


def _load_signals(
    session: Session, path: str, since: dt.date, until: dt.date
) -> tuple[list[SignalFact], dict[int, _SignalInfo]]:
    rows = session.execute(
        select(DetectionResult, Channel, Jurisdiction.code, Jurisdiction.name)
        .join(Channel, Channel.id == DetectionResult.channel_id)
        .join(Jurisdiction, Jurisdiction.id == DetectionResult.jurisdiction_id)
        .where(
            DetectionResult.alarm.is_(True),
            under(DetectionResult.jpath, path),
            DetectionResult.period_start >= since,
            DetectionResult.period_start <= until,
        )
        .order_by(DetectionResult.period_start, DetectionResult.id)
    ).all()
    facts: list[SignalFact] = []
    info: dict[int, _SignalInfo] = {}
    for r, ch, code, name in rows:
        facts.append(
            SignalFact(
                r.id,
                ch.code,
                ch.disease,
                ch.frequency is Frequency.weekly,
                r.jurisdiction_id,
                r.jpath,
                r.period_start,
                r.method,
                r.observed,
                r.expected,
                r.threshold,
            )
        )
        info[r.id] = _SignalInfo(
            r.config_id,
            ch.name,
            ch.unit,
            ch.aggregation,
            ch.report_level,
            code,
            name,
            ch.id,
            r.expected,
            r.threshold,
        )
    return facts, info


def _evidence(
    session: Session,
    candidate: Candidate,
    info: Mapping[int, _SignalInfo],
    series: Mapping[tuple[int, int], dict[str, object]],
    previous: Mapping[str, object] | None,
) -> dict[str, object]:
    """Channels, signals and the series around them; signals of an earlier version of the alert are kept."""
    signals = {int(str(s["id"])): s for s in (previous or {}).get("signals", [])}  # type: ignore[attr-defined]
    channels = {str(c["code"]): c for c in (previous or {}).get("channels", [])}  # type: ignore[attr-defined]
    kept = {(str(s["channel"]), str(s["jurisdiction_code"])): s for s in (previous or {}).get("series", [])}  # type: ignore[attr-defined]
    for s in candidate.signals:
        extra = info[s.result_id]
        channels.setdefault(
            s.channel_code,
            {
                "code": s.channel_code,
                "name": extra.channel_name,
                "unit": extra.channel_unit,
                "disease": s.disease,
            },
        )
        signals[s.result_id] = {
            "id": s.result_id,
            "channel": s.channel_code,
            "jurisdiction_code": extra.jurisdiction_code,
            "jurisdiction_name": extra.jurisdiction_name,
            "date": s.period_start.isoformat(),
            "method": s.method,
            "observed": s.observed,
            "expected": s.expected,
            "threshold": s.threshold,
        }
    for s in sorted(candidate.signals, key=lambda f: f.period_start, reverse=True):
        extra = info[s.result_id]
        slot = (s.channel_code, extra.jurisdiction_code)
        if slot in kept and len(kept) >= EVIDENCE_SERIES:
            continue
        data = series.get((extra.config_id, s.jurisdiction_id)) or _stored_series(
            session, extra.config_id, s.jurisdiction_id, s.period_start
        )
        kept[slot] = {
            "channel": s.channel_code,
            "jurisdiction_code": extra.jurisdiction_code,
            "jurisdiction_name": extra.jurisdiction_name,
            "method": s.method,
            **data,
        }
        if len(kept) >= EVIDENCE_SERIES:
            break
    return {
        "rule": candidate.rule.spec.name,
        "rule_kind": candidate.rule.spec.kind.value,
        "area": {
            "code": candidate.area.code,
            "name": candidate.area.name,
            "level": candidate.area.level.value,
        },
        "channels": list(channels.values()),
        "signals": sorted(signals.values(), key=lambda s: (str(s["date"]), str(s["channel"]))),
        "series": list(kept.values()),
        "scan": (previous or {}).get("scan"),
    }


def _stored_series(
    session: Session, config_id: int, jurisdiction_id: int, until: dt.date
) -> dict[str, object]:
    rows = session.execute(
        select(
            DetectionResult.period_start,
            DetectionResult.observed,
            DetectionResult.expected,
            DetectionResult.threshold,
            DetectionResult.alarm,
        )
        .where(
            DetectionResult.config_id == config_id,
            DetectionResult.jurisdiction_id == jurisdiction_id,
            DetectionResult.period_start <= until,
        )
        .order_by(DetectionResult.period_start.desc())
        .limit(EVIDENCE_PERIODS)
    ).all()[::-1]
    return {
        "dates": [r[0].isoformat() for r in rows],
        "observed": [r[1] for r in rows],
        "expected": [r[2] for r in rows],
        "threshold": [r[3] for r in rows],
        "alarm": [bool(r[4]) for r in rows],
    }


def _title(candidate: Candidate, info: Mapping[int, _SignalInfo]) -> str:
    names = sorted({info[s.result_id].channel_name for s in candidate.signals})
    return f"{candidate.area.name}: {' + '.join(names)} ({candidate.rule.spec.name})"[:300]


def _create(
    session: Session,
    bus: EventBus,
    actor: audit.Actor,
    candidate: Candidate,
    info: Mapping[int, _SignalInfo],
    series: Mapping[tuple[int, int], dict[str, object]],
    day: dt.date,
    now: dt.datetime,
    scan_replicates: int,
) -> Alert:
    spec = candidate.rule.spec
    alert = Alert(
        rule_id=candidate.rule.id,
        kind=spec.kind,
        jurisdiction_id=candidate.area.id,
        jpath=candidate.area.path,
        assigned_jurisdiction_id=candidate.area.id,
        assigned_jpath=candidate.area.path,
        level=candidate.level,
        status=AlertStatus.signal,
        title=_title(candidate, info),
        dedupe_key=candidate.key,
        first_date=candidate.first_date,
        last_date=candidate.last_date,
        created_at=now,
        response_hours=spec.response_hours,
        response_due_at=response_due(now, spec.response_hours),
        outcome_note="",
        escalations=0,
        evidence="{}",
        rank=0.0,
    )
    session.add(alert)
    session.flush()
    document = _evidence(session, candidate, info, series, None)
    confirmed = False
    if spec.kind is not RuleKind.single_case and scan_replicates > 0:
        scan = _scan(session, candidate, info, day, scan_replicates)
        if scan is not None:
            document["scan"] = scan
            alert.scan_pvalue, alert.scan_llr = scan["pvalue"], scan["llr"]  # type: ignore[assignment]
            confirmed = bool(scan["confirmed"])
    if confirmed:
        alert.level = raise_level(alert.level)
    alert.evidence = json.dumps(document, ensure_ascii=False)
    alert.rank = alert_rank(alert.level, len(candidate.channels), confirmed)
    session.add_all([AlertSignal(alert_id=alert.id, result_id=s.result_id) for s in candidate.signals])
    alert_service.record_action(
        session, alert, actor.username, "created", now, to_status=AlertStatus.signal, note=spec.name
    )
    if confirmed:
        alert_service.record_action(
            session,
            alert,
            actor.username,
            "scan_confirmed",
            now,
            note=f"space-time scan p = {alert.scan_pvalue:.3g}",
        )
    session.flush()
    alert_service.route(session, alert, "created", now)
    bus.publish(
        session,
        AlertRaised(
            alert_id=alert.id,
            jurisdiction_id=alert.jurisdiction_id,
            jpath=alert.jpath,
            level=alert.level.value,
            title=alert.title,
            raised_at=now,
        ),
    )
    return alert


def _merge(
    session: Session,
    actor: audit.Actor,
    alert: Alert,
    candidate: Candidate,
    info: Mapping[int, _SignalInfo],
    series: Mapping[tuple[int, int], dict[str, object]],
    now: dt.datetime,
) -> None:
    held = set(session.scalars(select(AlertSignal.result_id).where(AlertSignal.alert_id == alert.id)))
    fresh = [s for s in candidate.signals if s.result_id not in held]
    if not fresh:
        return
    session.add_all([AlertSignal(alert_id=alert.id, result_id=s.result_id) for s in fresh])
    previous = json.loads(alert.evidence or "{}")
    document = _evidence(session, candidate, info, series, previous)
    alert.evidence = json.dumps(document, ensure_ascii=False)
    alert.first_date = min(alert.first_date, candidate.first_date)
    alert.last_date = max(alert.last_date, candidate.last_date)
    before = alert.level
    scan_boost = 1 if alert.scan_pvalue is not None and alert.scan_pvalue <= SCAN_CONFIRM_PVALUE else 0
    target = raise_level(candidate.level, scan_boost) if scan_boost else candidate.level
    alert.level = higher_level(alert.level, target)
    channels = len(document["channels"])  # type: ignore[arg-type]
    alert.rank = alert_rank(alert.level, channels, bool(scan_boost))
    note = f"{len(fresh)} new signal(s)"
    if ALERT_ORDER[alert.level] > ALERT_ORDER[before]:
        note += f"; level {before.value} -> {alert.level.value}"
    alert_service.record_action(session, alert, actor.username, "new_evidence", now, note=note)
    session.flush()


# ---------------------------------------- space-time scan


def _planar(lon_lat: np.ndarray) -> np.ndarray:
    """Equirectangular km around the mean latitude: enough for circles a few counties wide."""
    lat0 = np.radians(lon_lat[:, 1].mean())
    x = np.radians(lon_lat[:, 0]) * math.cos(lat0) * EARTH_RADIUS_KM
    y = np.radians(lon_lat[:, 1]) * EARTH_RADIUS_KM
    return np.column_stack([x, y])


def _scan(
    session: Session, candidate: Candidate, info: Mapping[int, _SignalInfo], day: dt.date, replicates: int
) -> dict[str, object] | None:
    """Space-time permutation scan over the alert's area and the areas around it, ending on ``day``.

    Counts of the candidate's most frequent counting channel. When the channel is reported below the
    alert's level, the scan reads the area's children (as CIDARS scans townships inside a county) and
    any significant cluster confirms; otherwise it reads the area and its siblings and the cluster must
    hold the area. Without configured centroids every area is its own zone (a per-area space-time test).
    """
    from fangkong.analytics.detection.base import DetectorParameterError
    from fangkong.analytics.detection.stscan import space_time_permutation_scan

    counting = [
        s for s in candidate.signals if info[s.result_id].aggregation is Aggregation.sum and not s.weekly
    ]
    if not counting:
        return None
    channel_code, _ = Counter(s.channel_code for s in counting).most_common(1)[0]
    sample = next(s for s in counting if s.channel_code == channel_code)
    extra = info[sample.result_id]
    area = candidate.area
    children_mode = LEVEL_ORDER[extra.report_level] > LEVEL_ORDER[area.level]
    stmt = select(Jurisdiction)
    if children_mode:
        stmt = stmt.where(Jurisdiction.parent_id == area.id)
    else:
        stmt = stmt.where(
            Jurisdiction.parent_id == area.parent_id,
            Jurisdiction.level == area.level,
            same_world_as(session, area.path, area.parent_id),
        )
    zones = list(session.scalars(stmt.order_by(Jurisdiction.path)))
    if len(zones) < 2:
        return None
    start = day - dt.timedelta(days=SCAN_STUDY_PERIODS - 1)
    dates = period_dates(start, day, weekly=False)
    rows = session.execute(
        select(Observation.jpath, Observation.period_start, Observation.value).where(
            Observation.channel_id == extra.channel_id,
            under(Observation.jpath, area.path if children_mode else zones[0].path.rsplit("/", 2)[0] + "/"),
            Observation.period_start >= start,
            Observation.period_start <= day,
        )
    ).all()
    counts = np.round(
        aggregate(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [z.path for z in zones],
            dates,
            mean=False,
        )
    )
    if counts.sum() == 0:
        return None
    located = {
        loc.jurisdiction_id: (loc.longitude, loc.latitude)
        for loc in session.scalars(
            select(AreaLocation).where(AreaLocation.jurisdiction_id.in_([z.id for z in zones]))
        )
    }
    options: dict[str, object] = {}
    if all(z.id in located for z in zones):
        centroids = _planar(np.asarray([located[z.id] for z in zones]))
    else:
        centroids = np.column_stack([np.arange(len(zones), dtype=float), np.zeros(len(zones))])
        options["max_neighbours"] = 1
    seed = zlib.crc32(f"{candidate.key}:{day.isoformat()}".encode())
    try:
        result = space_time_permutation_scan(
            counts,
            centroids,
            rng=np.random.default_rng(seed),
            replicates=replicates,
            max_days=min(SCAN_MAX_DAYS, len(dates)),
            **options,  # type: ignore[arg-type]
        )
    except DetectorParameterError:
        return None
    index = next((i for i, z in enumerate(zones) if z.id == area.id), None)
    cluster = next(
        (
            c
            for c in result.clusters
            if children_mode or (index is not None and index in set(c.areas.tolist()))
        ),
        None,
    )
    if cluster is None:
        return {
            "channel": channel_code,
            "pvalue": None,
            "llr": None,
            "confirmed": False,
            "areas": [],
            "mode": "children" if children_mode else "siblings",
            "replicates": replicates,
        }
    return {
        "channel": channel_code,
        "mode": "children" if children_mode else "siblings",
        "pvalue": cluster.pvalue,
        "llr": cluster.llr,
        "confirmed": cluster.pvalue <= SCAN_CONFIRM_PVALUE,
        "areas": [zones[i].code for i in cluster.areas.tolist()],
        "area_names": [zones[i].name for i in cluster.areas.tolist()],
        "start": dates[cluster.start_day].isoformat(),
        "end": dates[cluster.end_day].isoformat(),
        "observed": cluster.observed,
        "expected": cluster.expected,
        "replicates": replicates,
    }
