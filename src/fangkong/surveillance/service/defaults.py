"""The built-in channels and fusion rules, seeded the first time surveillance is used, and the rows
made from a channel or rule specification (the catalogue's and the user's alike).
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.surveillance import channels as catalogue
from fangkong.surveillance.channels import ChannelSpec, RuleSpec
from fangkong.surveillance.models import Channel, FusionRule
from fangkong.surveillance.service.common import ROOT

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
