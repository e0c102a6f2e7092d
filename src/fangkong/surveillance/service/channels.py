"""Channels: the list a user sees, a user-defined channel (with a fixed-threshold detector at once for
a single-case disease), switching one on or off.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.errors import Conflict, InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Level
from fangkong.surveillance import channels as catalogue
from fangkong.surveillance.channels import ChannelSpec
from fangkong.surveillance.models import Aggregation, Channel, DetectorConfig, Frequency
from fangkong.surveillance.service.common import CODE_PATTERN, _enum_value, _get_visible, _set_active, visible
from fangkong.surveillance.service.defaults import _channel_from, ensure_defaults

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
