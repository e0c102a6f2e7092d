"""Domain events surveillance publishes for other capabilities (handlers: ``fangkong.wiring``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.core.events import DomainEvent


@dataclass(frozen=True)
class AlertConfirmedAsEvent(DomainEvent):
    """Responders verified an alert and confirmed it as a public-health event: investigation starts.

    ``channels`` are the codes of the channels whose signals the alert rests on; ``diseases`` the
    diseases of disease-specific channels among them (empty when none is disease-specific).
    """

    alert_id: int
    jurisdiction_id: int
    jpath: str
    level: str
    channels: tuple[str, ...]
    diseases: tuple[str, ...]
    first_date: dt.date
    last_date: dt.date
    confirmed_by: str
    note: str


@dataclass(frozen=True)
class AlertRaised(DomainEvent):
    """The detector raised a new alert (published by the detector run when it creates the alert)."""

    alert_id: int
    jurisdiction_id: int
    jpath: str
    level: str
    title: str
    raised_at: dt.datetime


@dataclass(frozen=True)
class AlertAnswered(DomainEvent):
    """Responders closed an alert: confirmed it as an event or dismissed it (``status`` says which).

    Published by ``surveillance.alerts.act`` in the same unit of work as the status change.
    """

    alert_id: int
    jpath: str
    status: str
    answered_at: dt.datetime
