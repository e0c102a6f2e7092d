"""Surveillance use cases for configuration and reading: channels, detector configurations, fusion rules,
neighbours and locations, notifier endpoints, pull sources, signals, the signal board and series charts.

Ingest lives in ``observations``, detector runs in ``runner``, the alert workflow in ``alerts``.

Configuration rows belong to a jurisdiction (``jpath``; "/" for the built-in ones). A user sees those of
their own subtree and those defined above them (which apply to them); they change only those of their
subtree. Everything that is about an area (observations, results, alerts) is limited to the caller's
subtree with ``core.scope.under``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from fangkong.core import audit
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.jurisdictions import same_world_as
from fangkong.core.models import LEVEL_ORDER, Jurisdiction, Level
from fangkong.core.scope import path_in_scope, under
from fangkong.surveillance import channels as catalogue
from fangkong.surveillance.channels import ChannelSpec, RuleSpec
from fangkong.surveillance.daily import alert_figures as alert_figures
from fangkong.surveillance.fusion import Area, prefixes
from fangkong.surveillance.models import (
    Adjacency,
    Aggregation,
    Alert,
    AlertLevel,
    AreaLocation,
    Channel,
    DetectionResult,
    DetectorConfig,
    DetectorRun,
    Frequency,
    FusionRule,
    NotifierEndpoint,
    Observation,
    PullSource,
    RuleKind,
)
from fangkong.surveillance.notify import notifier_kinds
from fangkong.surveillance.pull import source_kinds
from fangkong.surveillance.rules import OPEN_STATUSES, RESPONSE_HOURS_SINGLE_CASE, RESPONSE_HOURS_TEMPORAL
from fangkong.surveillance.rules import period_start as filed_under
from fangkong.surveillance.series import aggregate, period_dates

ROOT = "/"
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
MAX_PAGE_SIZE = 200

BOARD_WINDOW_DAYS = 7
"""days of signals the board counts (the fusion window of issue 5)."""

TRIAL_YEARS = 8
"""years of a quiet trial series a new detector configuration is tried on (more than any default needs)."""

CHART_PERIODS = 365
"""time points shown on a series chart by default (a year of daily data, seven of weekly)."""


# ---------------------------------------- visibility


def visible(column: InstrumentedAttribute[str], path: str) -> ColumnElement[bool]:
    """Rows defined in the caller's subtree, or above it (built-in "/" included): what applies to them."""
    return or_(under(column, path), column.in_([ROOT, *prefixes(path)]))


def can_see(owner: str, path: str) -> bool:
    return path_in_scope(owner, path) or path_in_scope(path, owner)


def _check_owned(owner: str, path: str, what: str) -> None:
    if not path_in_scope(owner, path):
        raise NotFound(f"{what} not found among those you may change")


_Switchable = TypeVar("_Switchable", Channel, DetectorConfig, FusionRule)


# What each switchable row is called: in the "not found" message, as the audit action, as the audit kind.
_SWITCH_NAMES: dict[type[Channel | DetectorConfig | FusionRule], tuple[str, str, str]] = {
    Channel: ("channel", "surveillance.channel.active", "channel"),
    DetectorConfig: ("detector configuration", "surveillance.config.active", "detector_config"),
    FusionRule: ("fusion rule", "surveillance.rule.active", "fusion_rule"),
}


def _get_visible(session: Session, path: str, model: type[_Switchable], item_id: int) -> _Switchable:
    """A channel, detector configuration or fusion rule the caller may see (its own, or one above it)."""
    item = session.get(model, item_id)
    if item is None or not can_see(item.jpath, path):
        raise NotFound(f"{_SWITCH_NAMES[model][0]} {item_id} not found")
    return item


def _set_active(
    session: Session, actor: audit.Actor, path: str, item: _Switchable, active: bool
) -> _Switchable:
    """Switch a channel, detector configuration or fusion rule the caller owns on or off, audited."""
    what, action, kind = _SWITCH_NAMES[type(item)]
    _check_owned(item.jpath, path, f"{what} {item.id}")
    item.active = active
    audit.record(session, actor, action, kind, item.id, jpath=item.jpath, detail={"active": active})
    return item


# ---------------------------------------- defaults


def ensure_defaults(session: Session) -> None:
    """Create the built-in channels and fusion rules the first time surveillance is used."""
    known = set(session.scalars(select(Channel.code).where(Channel.builtin.is_(True))))
    missing = [spec for spec in catalogue.DEFAULT_CHANNELS if spec.code not in known]
    seeded_rules = session.scalar(
        select(func.count()).select_from(FusionRule).where(FusionRule.builtin.is_(True))
    )
    if not missing and seeded_rules:
        return
    try:
        # A savepoint: when another request seeds at the same moment, its rows win and ours go.
        with session.begin_nested():
            for spec in missing:
                session.add(_channel_from(spec, kind=spec.code, disease=None, jpath=ROOT, builtin=True))
            if not seeded_rules:
                for rule in catalogue.DEFAULT_RULES:
                    session.add(_rule_from(rule, jpath=ROOT, builtin=True))
            session.flush()
    except IntegrityError:
        pass


def _channel_from(spec: ChannelSpec, *, kind: str, disease: str | None, jpath: str, builtin: bool) -> Channel:
    return Channel(
        code=spec.code,
        name=spec.name,
        kind=kind,
        disease=disease,
        unit=spec.unit,
        frequency=spec.frequency,
        report_level=spec.report_level,
        aggregation=spec.aggregation,
        builtin=builtin,
        jpath=jpath,
        active=True,
    )


def _rule_from(spec: RuleSpec, *, jpath: str, builtin: bool) -> FusionRule:
    return FusionRule(
        name=spec.name,
        kind=spec.kind,
        level=spec.level,
        params=json.dumps(spec.params()),
        alert_level=spec.alert_level,
        response_hours=spec.response_hours,
        jpath=jpath,
        active=True,
        builtin=builtin,
    )


def rule_spec(rule: FusionRule) -> RuleSpec:
    params = json.loads(rule.params or "{}")
    return RuleSpec(
        name=rule.name,
        kind=rule.kind,
        level=rule.level,
        alert_level=rule.alert_level,
        response_hours=rule.response_hours,
        min_channels=int(params.get("min_channels", 1)),
        window_days=int(params.get("window_days", catalogue.FUSION_WINDOW_DAYS)),
        neighbours=bool(params.get("neighbours", False)),
        channels=tuple(params.get("channels", ())),
        diseases=tuple(params.get("diseases", ())),
    )


# ---------------------------------------- channels


def list_channels(session: Session, path: str, *, include_inactive: bool = True) -> list[Channel]:
    ensure_defaults(session)
    stmt = select(Channel).where(visible(Channel.jpath, path))
    if not include_inactive:
        stmt = stmt.where(Channel.active.is_(True))
    return list(session.scalars(stmt.order_by(Channel.builtin.desc(), Channel.id)))


def get_channel(session: Session, path: str, channel_id: int) -> Channel:
    return _get_visible(session, path, Channel, channel_id)


@dataclass(frozen=True)
class ChannelInput:
    code: str
    name: str
    unit: str
    frequency: str
    report_level: str
    aggregation: str = Aggregation.sum.value
    kind: str = catalogue.CUSTOM_KIND
    disease: str | None = None


E = TypeVar("E", Frequency, Level, Aggregation, AlertLevel, RuleKind)


def _enum_value(kind: type[E], field_name: str, raw: str, errors: list[RowError]) -> E | None:
    try:
        return kind(raw)
    except ValueError:
        errors.append(
            RowError(
                1,
                field_name,
                Message(
                    "“{value}” is not one of {choices}", value=raw, choices=[Message(v.value) for v in kind]
                ),
            )
        )
        return None


def create_channel(session: Session, actor: audit.Actor, path: str, data: ChannelInput) -> Channel:
    """A user-defined channel; one of a single-case disease gets a fixed-threshold detector at once."""
    ensure_defaults(session)
    errors: list[RowError] = []
    if not CODE_PATTERN.match(data.code):
        errors.append(
            RowError(
                1, "code", "use 2-64 lower-case letters, digits, '_', '.' or '-', starting with a letter"
            )
        )
    if not data.name.strip():
        errors.append(RowError(1, "name", "is empty"))
    if not data.unit.strip():
        errors.append(RowError(1, "unit", "is empty"))
    if data.kind not in catalogue.KINDS:
        errors.append(
            RowError(
                1,
                "kind",
                Message(
                    "“{value}” is not one of {choices}", value=data.kind, choices=", ".join(catalogue.KINDS)
                ),
            )
        )
    frequency = _enum_value(Frequency, "frequency", data.frequency, errors)
    level = _enum_value(Level, "report_level", data.report_level, errors)
    aggregation = _enum_value(Aggregation, "aggregation", data.aggregation, errors)
    disease = (data.disease or "").strip().lower() or None
    if disease is not None and not CODE_PATTERN.match(disease):
        errors.append(RowError(1, "disease", "use a lower-case disease code such as cholera"))
    if errors or frequency is None or level is None or aggregation is None:
        raise InvalidInput(errors)
    if session.scalar(select(Channel.id).where(Channel.code == data.code)) is not None:
        raise Conflict(Message("a channel with code “{code}” already exists", code=data.code))
    spec = ChannelSpec(data.code, data.name.strip(), data.unit.strip(), frequency, level, aggregation)
    channel = _channel_from(spec, kind=data.kind, disease=disease, jpath=path, builtin=False)
    session.add(channel)
    session.flush()
    if disease in catalogue.SINGLE_CASE_DISEASES:
        # One case of these diseases is a signal by itself (CIDARS fixed threshold); configure it so.
        session.add(
            DetectorConfig(
                channel_id=channel.id,
                level=level,
                method="fixed",
                params="{}",
                jpath=path,
                active=True,
                created_by=actor.username,
            )
        )
    audit.record(
        session,
        actor,
        "surveillance.channel.create",
        "channel",
        channel.id,
        jpath=path,
        detail={"code": channel.code, "disease": disease},
    )
    return channel


def set_channel_active(
    session: Session, actor: audit.Actor, path: str, channel_id: int, active: bool
) -> Channel:
    return _set_active(session, actor, path, get_channel(session, path, channel_id), active)


# ---------------------------------------- detector configurations


def list_configs(session: Session, path: str) -> list[tuple[DetectorConfig, Channel]]:
    stmt = (
        select(DetectorConfig, Channel)
        .join(Channel, Channel.id == DetectorConfig.channel_id)
        .where(visible(DetectorConfig.jpath, path))
        .order_by(DetectorConfig.id)
    )
    return [(c, ch) for c, ch in session.execute(stmt)]


def get_config(session: Session, path: str, config_id: int) -> DetectorConfig:
    return _get_visible(session, path, DetectorConfig, config_id)


def check_detector(method: str, params: Mapping[str, object], weekly: bool) -> list[RowError]:
    """Whether the method exists and takes these parameters (converted as the command line does)."""
    from fangkong.analytics.detection.base import DetectorParameterError
    from fangkong.analytics.detection.registry import DETECTORS, METHOD_NAMES
    from fangkong.surveillance.series import DAILY_FREQ, WEEKLY_FREQ, detector_params

    if method not in METHOD_NAMES:
        return [
            RowError(
                1,
                "method",
                Message(
                    "unknown method “{method}”; known: {known}", method=method, known=", ".join(METHOD_NAMES)
                ),
            )
        ]
    if "range" in params:
        return [RowError(1, "params", "the run decides which dates are judged; leave range out")]
    # Values are checked where they are used, so try the detector on a quiet series long enough for any
    # sensible history setting; an error then is the parameters' fault.
    length = TRIAL_YEARS * (WEEKLY_FREQ if weekly else DAILY_FREQ)
    trial = np.ones(length)
    try:
        converted = detector_params(method, params, weekly, length)
        DETECTORS[method](trial, **converted, range=np.arange(length - 1, length))
    except DetectorParameterError as exc:
        # The detector library words its errors in English; with their template they read in any language.
        reason = (
            Message(exc.template, **{k: str(v) for k, v in exc.values.items()})
            if exc.template
            else Message(str(exc))
        )
        return [RowError(1, "params", reason)]
    return []


def create_config(
    session: Session,
    actor: audit.Actor,
    path: str,
    channel_id: int,
    level: str,
    method: str,
    params: Mapping[str, object],
) -> DetectorConfig:
    channel = get_channel(session, path, channel_id)
    errors: list[RowError] = []
    parsed_level = _enum_value(Level, "level", level, errors)
    if parsed_level is not None and LEVEL_ORDER[parsed_level] > LEVEL_ORDER[channel.report_level]:
        errors.append(
            RowError(
                1,
                "level",
                Message(
                    "channel {code} is reported by {reported}; it can be judged at that level or above, "
                    "not by {level}",
                    code=channel.code,
                    reported=Message(channel.report_level.value),
                    level=Message(parsed_level.value),
                ),
            )
        )
    errors.extend(check_detector(method, params, channel.frequency is Frequency.weekly))
    if errors or parsed_level is None:
        raise InvalidInput(errors)
    config = DetectorConfig(
        channel_id=channel.id,
        level=parsed_level,
        method=method,
        params=json.dumps(dict(params), sort_keys=True),
        jpath=path,
        active=True,
        created_by=actor.username,
    )
    session.add(config)
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.config.create",
        "detector_config",
        config.id,
        jpath=path,
        detail={
            "channel": channel.code,
            "level": parsed_level.value,
            "method": method,
            "params": dict(params),
        },
    )
    return config


def set_config_active(
    session: Session, actor: audit.Actor, path: str, config_id: int, active: bool
) -> DetectorConfig:
    return _set_active(session, actor, path, get_config(session, path, config_id), active)


# ---------------------------------------- fusion rules


def list_rules(session: Session, path: str) -> list[FusionRule]:
    ensure_defaults(session)
    return list(
        session.scalars(select(FusionRule).where(visible(FusionRule.jpath, path)).order_by(FusionRule.id))
    )


def get_rule(session: Session, path: str, rule_id: int) -> FusionRule:
    return _get_visible(session, path, FusionRule, rule_id)


@dataclass(frozen=True)
class RuleInput:
    name: str
    kind: str
    level: str
    alert_level: str
    response_hours: int | None = None
    min_channels: int = 1
    window_days: int = catalogue.FUSION_WINDOW_DAYS
    neighbours: bool = False
    channels: Sequence[str] = field(default_factory=tuple)
    diseases: Sequence[str] = field(default_factory=tuple)


def create_rule(session: Session, actor: audit.Actor, path: str, data: RuleInput) -> FusionRule:
    ensure_defaults(session)
    errors: list[RowError] = []
    if not data.name.strip():
        errors.append(RowError(1, "name", "is empty"))
    kind = _enum_value(RuleKind, "kind", data.kind, errors)
    level = _enum_value(Level, "level", data.level, errors)
    alert_level = _enum_value(AlertLevel, "alert_level", data.alert_level, errors)
    if not 1 <= data.min_channels <= 20:
        errors.append(RowError(1, "min_channels", "must lie in 1..20"))
    if not 1 <= data.window_days <= 90:
        errors.append(RowError(1, "window_days", "must lie in 1..90 days"))
    if data.response_hours is not None and not 1 <= data.response_hours <= 24 * 30:
        errors.append(RowError(1, "response_hours", "must lie in 1..720 hours"))
    codes = {c.code for c in list_channels(session, path)}
    unknown = [c for c in data.channels if c not in codes]
    if unknown:
        errors.append(
            RowError(1, "channels", Message("unknown channel(s) {codes}", codes=", ".join(unknown)))
        )
    if kind is RuleKind.single_case and not data.diseases:
        errors.append(RowError(1, "diseases", "a single-case rule needs at least one disease"))
    if errors or kind is None or level is None or alert_level is None:
        raise InvalidInput(errors)
    default_hours = RESPONSE_HOURS_SINGLE_CASE if kind is RuleKind.single_case else RESPONSE_HOURS_TEMPORAL
    spec = RuleSpec(
        data.name.strip(),
        kind,
        level,
        alert_level,
        data.response_hours or default_hours,
        min_channels=data.min_channels,
        window_days=data.window_days,
        neighbours=data.neighbours,
        channels=tuple(data.channels),
        diseases=tuple(d.strip().lower() for d in data.diseases),
    )
    rule = _rule_from(spec, jpath=path, builtin=False)
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.rule.create",
        "fusion_rule",
        rule.id,
        jpath=path,
        detail={"name": rule.name, "kind": kind.value, **spec.params()},
    )
    return rule


def set_rule_active(
    session: Session, actor: audit.Actor, path: str, rule_id: int, active: bool
) -> FusionRule:
    return _set_active(session, actor, path, get_rule(session, path, rule_id), active)


# ---------------------------------------- neighbours and locations


def jurisdiction_in_scope(session: Session, path: str, jurisdiction_id: int) -> Jurisdiction:
    node = session.get(Jurisdiction, jurisdiction_id)
    if node is None or not path_in_scope(node.path, path):
        raise NotFound(f"jurisdiction {jurisdiction_id} not found")
    return node


def neighbours_of(session: Session, path: str, jurisdiction_id: int) -> tuple[list[Jurisdiction], bool]:
    """The neighbours used by fusion, and whether they are configured (else: siblings)."""
    node = jurisdiction_in_scope(session, path, jurisdiction_id)
    pairs = session.execute(
        select(Adjacency.jurisdiction_id, Adjacency.neighbour_id).where(
            or_(Adjacency.jurisdiction_id == node.id, Adjacency.neighbour_id == node.id)
        )
    ).all()
    ids = {b if a == node.id else a for a, b in pairs}
    if ids:
        rows = session.scalars(
            select(Jurisdiction).where(Jurisdiction.id.in_(ids)).order_by(Jurisdiction.code)
        )
        return list(rows), True
    siblings = session.scalars(
        select(Jurisdiction)
        .where(
            Jurisdiction.parent_id == node.parent_id,
            Jurisdiction.id != node.id,
            Jurisdiction.level == node.level,
            same_world_as(session, node.path, node.parent_id),
        )
        .order_by(Jurisdiction.code)
    )
    return list(siblings), False


def set_neighbours(
    session: Session, actor: audit.Actor, path: str, jurisdiction_id: int, codes: Sequence[str]
) -> list[Jurisdiction]:
    """Replace a jurisdiction's configured neighbours (an empty list goes back to siblings)."""
    node = jurisdiction_in_scope(session, path, jurisdiction_id)
    found = {
        j.code: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(list(codes))))
    }
    errors = [
        RowError(i, "neighbours", Message("jurisdiction “{value}” not found", value=c))
        for i, c in enumerate(codes, start=1)
        if c not in found or not path_in_scope(found[c].path, path)
    ]
    errors += [
        RowError(i, "neighbours", Message("{code} is not a {level}", code=c, level=Message(node.level.value)))
        for i, c in enumerate(codes, start=1)
        if c in found and found[c].level is not node.level
    ]
    errors += [
        RowError(i, "neighbours", "an area is not its own neighbour")
        for i, c in enumerate(codes, start=1)
        if c == node.code
    ]
    if errors:
        raise InvalidInput(errors)
    for pair in session.scalars(
        select(Adjacency).where(or_(Adjacency.jurisdiction_id == node.id, Adjacency.neighbour_id == node.id))
    ):
        session.delete(pair)
    session.flush()
    for code in dict.fromkeys(codes):
        session.add(Adjacency(jurisdiction_id=node.id, neighbour_id=found[code].id, jpath=node.path))
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.neighbours.set",
        "jurisdiction",
        node.id,
        jpath=node.path,
        detail={"neighbours": list(codes)},
    )
    return neighbours_of(session, path, node.id)[0]


@dataclass(frozen=True)
class LocationInput:
    jurisdiction: str
    longitude: float
    latitude: float


def set_locations(session: Session, actor: audit.Actor, path: str, items: Sequence[LocationInput]) -> int:
    """Centroids (WGS84 degrees) for the space-time scan's circles; replaces those given."""
    codes = [i.jurisdiction for i in items]
    found = {j.code: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(codes)))}
    errors: list[RowError] = []
    for row, item in enumerate(items, start=1):
        node = found.get(item.jurisdiction)
        if node is None or not path_in_scope(node.path, path):
            errors.append(
                RowError(
                    row, "jurisdiction", Message("jurisdiction “{value}” not found", value=item.jurisdiction)
                )
            )
        if not -180.0 <= item.longitude <= 180.0:
            errors.append(RowError(row, "longitude", "must lie in -180..180 degrees"))
        if not -90.0 <= item.latitude <= 90.0:
            errors.append(RowError(row, "latitude", "must lie in -90..90 degrees"))
    if errors:
        raise InvalidInput(errors)
    existing = {
        loc.jurisdiction_id: loc
        for loc in session.scalars(
            select(AreaLocation).where(AreaLocation.jurisdiction_id.in_([found[c].id for c in codes]))
        )
    }
    for item in items:
        node = found[item.jurisdiction]
        loc = existing.get(node.id)
        if loc is None:
            loc = AreaLocation(jurisdiction_id=node.id, jpath=node.path, longitude=0.0, latitude=0.0)
            session.add(loc)
            existing[node.id] = loc
        loc.longitude, loc.latitude = item.longitude, item.latitude
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.locations.set",
        "jurisdiction",
        "*",
        jpath=path,
        detail={"count": len(items)},
    )
    return len(items)


# ---------------------------------------- notifier endpoints and pull sources


def list_endpoints(session: Session, path: str) -> list[NotifierEndpoint]:
    return list(
        session.scalars(
            select(NotifierEndpoint).where(under(NotifierEndpoint.jpath, path)).order_by(NotifierEndpoint.id)
        )
    )


def create_endpoint(
    session: Session,
    actor: audit.Actor,
    path: str,
    name: str,
    kind: str,
    url: str,
    jurisdiction_code: str | None,
) -> NotifierEndpoint:
    errors: list[RowError] = []
    if not name.strip():
        errors.append(RowError(1, "name", "is empty"))
    if kind not in notifier_kinds():
        errors.append(
            RowError(
                1,
                "kind",
                Message("“{value}” is not one of {choices}", value=kind, choices=", ".join(notifier_kinds())),
            )
        )
    if not url.startswith(("http://", "https://")):
        errors.append(RowError(1, "url", "must start with http:// or https://"))
    node = (
        session.scalar(select(Jurisdiction).where(Jurisdiction.path == path))
        if not jurisdiction_code
        else (session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction_code)))
    )
    if node is None or not path_in_scope(node.path, path):
        errors.append(
            RowError(1, "jurisdiction", Message("jurisdiction “{value}” not found", value=jurisdiction_code))
        )
    if errors or node is None:
        raise InvalidInput(errors)
    endpoint = NotifierEndpoint(
        name=name.strip(), kind=kind, url=url, jurisdiction_id=node.id, jpath=node.path, active=True
    )
    session.add(endpoint)
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.endpoint.create",
        "notifier_endpoint",
        endpoint.id,
        jpath=node.path,
        detail={"name": endpoint.name, "kind": kind},
    )
    return endpoint


def list_pull_sources(session: Session, path: str) -> list[PullSource]:
    return list(
        session.scalars(select(PullSource).where(under(PullSource.jpath, path)).order_by(PullSource.id))
    )


def get_pull_source(session: Session, path: str, source_id: int) -> PullSource:
    source = session.get(PullSource, source_id)
    if source is None or not path_in_scope(source.jpath, path):
        raise NotFound(f"pull source {source_id} not found")
    return source


def create_pull_source(
    session: Session, actor: audit.Actor, path: str, name: str, kind: str, url: str, channel_code: str | None
) -> PullSource:
    errors: list[RowError] = []
    if not name.strip():
        errors.append(RowError(1, "name", "is empty"))
    if kind not in source_kinds():
        errors.append(
            RowError(
                1,
                "kind",
                Message("“{value}” is not one of {choices}", value=kind, choices=", ".join(source_kinds())),
            )
        )
    if not url.startswith(("http://", "https://")):
        errors.append(RowError(1, "url", "must start with http:// or https://"))
    if channel_code and channel_code not in {c.code for c in list_channels(session, path)}:
        errors.append(RowError(1, "channel_code", Message("unknown channel “{value}”", value=channel_code)))
    if errors:
        raise InvalidInput(errors)
    if session.scalar(select(PullSource.id).where(PullSource.name == name.strip())) is not None:
        raise Conflict(Message("a pull source named “{name}” already exists", name=name.strip()))
    source = PullSource(
        name=name.strip(),
        kind=kind,
        url=url,
        channel_code=channel_code or None,
        jpath=path,
        active=True,
        last_status="",
    )
    session.add(source)
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.pull_source.create",
        "pull_source",
        source.id,
        jpath=path,
        detail={"name": source.name, "kind": kind},
    )
    return source


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


@dataclass
class SeriesView:
    """One area's series of one channel, with a detector's expectation, threshold and alarms."""

    channel: Channel
    place: Jurisdiction
    method: str | None
    params: dict[str, object]
    dates: list[dt.date]
    observed: list[float]
    expected: list[float | None]
    threshold: list[float | None]
    alarm: list[bool | None]
    stored_signals: list[dt.date]
    note: str = ""


def _none_if_nan(values: Sequence[float]) -> list[float | None]:
    return [None if v != v else float(v) for v in values]


def series_view(
    session: Session,
    path: str,
    channel_id: int,
    jurisdiction_id: int,
    *,
    config_id: int | None = None,
    end: dt.date,
    periods: int = CHART_PERIODS,
) -> SeriesView:
    """The series behind a signal, recomputed from the latest values with a configured detector."""
    from fangkong.analytics.detection.base import DetectorParameterError
    from fangkong.analytics.detection.registry import DETECTORS
    from fangkong.surveillance.series import detector_params

    channel = get_channel(session, path, channel_id)
    place = jurisdiction_in_scope(session, path, jurisdiction_id)
    config = (
        get_config(session, path, config_id)
        if config_id is not None
        else session.scalar(
            select(DetectorConfig)
            .where(
                DetectorConfig.channel_id == channel.id,
                DetectorConfig.level == place.level,
                DetectorConfig.active.is_(True),
                visible(DetectorConfig.jpath, path),
            )
            .order_by(DetectorConfig.id)
        )
    )
    weekly = channel.frequency is Frequency.weekly
    rows = session.execute(
        select(Observation.jpath, Observation.period_start, Observation.value).where(
            Observation.channel_id == channel.id,
            under(Observation.jpath, place.path),
            Observation.period_start <= end,
            # The shown periods and ten years before them: more history than any detector reads.
            Observation.period_start >= end - dt.timedelta(days=7 * periods + 3660),
        )
    ).all()
    last = filed_under(end, weekly)
    first = min((r[1] for r in rows), default=last)
    dates = period_dates(first, last, weekly)
    matrix = aggregate(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [place.path],
        dates,
        mean=channel.aggregation is Aggregation.mean,
    )
    y = matrix[0]
    shown = slice(max(0, len(dates) - periods), len(dates))
    nan: list[float | None] = [None] * len(dates)
    view = SeriesView(
        channel,
        place,
        None,
        {},
        dates[shown],
        [float(v) for v in y[shown]],
        nan[shown],
        nan[shown],
        [None] * len(dates[shown]),
        [],
    )
    if config is not None:
        params = json.loads(config.params or "{}")
        view.method, view.params = config.method, params
        try:
            converted = detector_params(config.method, params, weekly, len(dates))
            if config.method in ("farrington", "farrington_flexible"):
                converted.setdefault("dates", [d.isoformat() for d in dates])
            result = DETECTORS[config.method](y, **converted)
        except DetectorParameterError as exc:
            view.note = str(exc)
        else:
            view.expected = _none_if_nan(list(result.expected[shown]))
            view.threshold = _none_if_nan(list(result.threshold[shown]))
            judged = result.judged[shown]
            view.alarm = [bool(a) if j else None for a, j in zip(result.alarm[shown], judged, strict=True)]
        view.stored_signals = list(
            session.scalars(
                select(DetectionResult.period_start).where(
                    DetectionResult.config_id == config.id,
                    DetectionResult.jurisdiction_id == place.id,
                    DetectionResult.alarm.is_(True),
                )
            )
        )
    else:
        view.note = "no detector is configured for this channel at this level"
    return view


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
