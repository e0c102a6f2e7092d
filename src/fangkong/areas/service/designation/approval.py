"""The command centre's decision on a proposal: designated (``RiskAreaDesignated``), as proposed or
adjusted within what the protocol in force allows, or rejected.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from fangkong.areas.events import RiskAreaDesignated
from fangkong.areas.models import (
    AreaState,
    RiskArea,
    RiskLevel,
    UnitKind,
)
from fangkong.areas.rules import proposals
from fangkong.areas.service.designation.reads import DESIGNATED, REJECTED, _change, _require, actor, get_area
from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import today, utcnow
from fangkong.core.errors import Conflict, InvalidInput, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.protocol.service import protocol_in_force

# -------------------------------------------------------------------------------------------- approval


def approve(
    session: Session,
    bus: EventBus,
    principal: Principal,
    area_id: int,
    *,
    level: RiskLevel | None = None,
    unit_kind: UnitKind | None = None,
    name: str | None = None,
    on: dt.date | None = None,
    ip: str = "",
) -> RiskArea:
    """The command centre designates a proposed area, as proposed or adjusted after the investigation
    (its level, unit and name, within what the protocol in force allows). Its clock starts ``on``
    (default today; a drill passes its own calendar day)."""
    _require(principal, Permission.areas_approve, Message("designating a risk area"))
    area = get_area(session, principal, area_id)
    if area.state is not AreaState.proposed:
        raise Conflict(
            Message(
                "only a proposed area can be designated; this one is {state}",
                state=Message(area.state.value, ctx="risk area"),
            )
        )
    protocol = protocol_in_force(session, area.jpath)
    rules = protocol.risk_areas
    if not proposals.designates(rules):
        raise Conflict(proposals.no_designation_notice(protocol.id))
    new_level = level or area.level
    new_unit = unit_kind or area.unit_kind
    new_name = (name if name is not None else area.name).strip()
    errors: list[RowError] = []
    rule = proposals.tier_unit_rule(rules, new_level.value)
    if rule is None:
        errors.append(
            RowError(
                1,
                "level",
                Message(
                    "the protocol in force has no {level} tier",
                    level=Message(new_level.value, ctx="risk area"),
                ),
            )
        )
    elif new_unit not in rule.allowed:
        allowed = sorted(rule.allowed, key=lambda k: proposals.UNIT_SIZE[k])
        errors.append(
            RowError(
                1,
                "unit_kind",
                Message(
                    "the protocol in force allows only {units} for a {level} area",
                    units=[Message(k.value, ctx="unit kind") for k in allowed],
                    level=Message(new_level.value, ctx="risk area"),
                ),
            )
        )
    if not new_name or len(new_name) > 120:
        errors.append(RowError(1, "name", Message("a name of 1 to 120 characters is required")))
    if errors:
        raise InvalidInput(errors)
    area.level = new_level
    area.unit_kind = new_unit
    area.name = new_name
    area.state = AreaState.in_force
    area.protocol_id = protocol.id
    area.designated_at = utcnow()
    area.approved_by = principal.username
    area.level_since = on or today()
    area.downgraded_from_high = False
    _change(session, area, DESIGNATED, principal.username, Message.loads(area.reason), to_level=new_level)
    audit.record(
        session,
        actor(principal, ip),
        "areas.designate",
        "risk_area",
        area.id,
        jpath=area.jpath,
        detail={"level": new_level.value, "unit": new_unit.value, "protocol": protocol.id},
    )
    session.flush()
    bus.publish(session, RiskAreaDesignated(area.id, area.jpath, area.level.value))
    return area


def reject(
    session: Session, principal: Principal, area_id: int, *, reason: str = "", ip: str = ""
) -> RiskArea:
    """The command centre turns a proposal down (its cases propose it no more)."""
    _require(principal, Permission.areas_approve, Message("rejecting a proposed risk area"))
    area = get_area(session, principal, area_id)
    if area.state is not AreaState.proposed:
        raise Conflict(
            Message(
                "only a proposed area can be rejected; this one is {state}",
                state=Message(area.state.value, ctx="risk area"),
            )
        )
    area.state = AreaState.rejected
    _change(session, area, REJECTED, principal.username, reason.strip()[:500], from_level=area.level)
    audit.record(
        session,
        actor(principal, ip),
        "areas.reject",
        "risk_area",
        area.id,
        jpath=area.jpath,
        detail={"reason": reason.strip()[:500]},
    )
    return area
