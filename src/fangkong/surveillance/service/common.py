"""What the surveillance use cases share: the limits, which configuration rows a user sees and may
change, switching a channel, detector configuration or fusion rule on and off (audited), and reading
an enum field with an error naming it.
"""

from __future__ import annotations

import re
from typing import TypeVar

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from fangkong.core import audit
from fangkong.core.errors import NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Level
from fangkong.core.scope import path_in_scope, under
from fangkong.surveillance.fusion import prefixes
from fangkong.surveillance.models import (
    Aggregation,
    AlertLevel,
    Channel,
    DetectorConfig,
    Frequency,
    FusionRule,
    RuleKind,
)

ROOT = "/"
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
MAX_PAGE_SIZE = 200

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
