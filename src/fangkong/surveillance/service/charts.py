"""The series chart behind a signal: one area's series of one channel, recomputed from the latest
values with a configured detector (expectation, threshold, alarms) beside the stored signals.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.models import Jurisdiction
from fangkong.core.scope import under
from fangkong.surveillance.models import (
    Aggregation,
    Channel,
    DetectionResult,
    DetectorConfig,
    Frequency,
    Observation,
)
from fangkong.surveillance.rules import period_start as filed_under
from fangkong.surveillance.series import aggregate, period_dates
from fangkong.surveillance.service.channels import get_channel
from fangkong.surveillance.service.common import visible
from fangkong.surveillance.service.detectors import get_config
from fangkong.surveillance.service.neighbours import jurisdiction_in_scope

CHART_PERIODS = 365
"""time points shown on a series chart by default (a year of daily data, seven of weekly)."""


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
