"""Fusion rules (several signals or a single case making an alert): the list, a user-defined rule,
switching one on or off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Level
from fangkong.surveillance import channels as catalogue
from fangkong.surveillance.channels import RuleSpec
from fangkong.surveillance.models import AlertLevel, FusionRule, RuleKind
from fangkong.surveillance.rules import RESPONSE_HOURS_SINGLE_CASE, RESPONSE_HOURS_TEMPORAL
from fangkong.surveillance.service.channels import list_channels
from fangkong.surveillance.service.common import _enum_value, _get_visible, _set_active, visible
from fangkong.surveillance.service.defaults import _rule_from, ensure_defaults

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
