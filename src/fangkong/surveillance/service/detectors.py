"""Detector configurations: the list, checking a method and its parameters on a quiet trial series,
configuring a detector for a channel at a level, switching one on or off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import LEVEL_ORDER, Level
from fangkong.surveillance.models import Channel, DetectorConfig, Frequency
from fangkong.surveillance.service.channels import get_channel
from fangkong.surveillance.service.common import _enum_value, _get_visible, _set_active, visible

TRIAL_YEARS = 8
"""years of a quiet trial series a new detector configuration is tried on (more than any default needs)."""


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
