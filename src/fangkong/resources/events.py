"""Domain events the resources capability publishes for others (listed in ``fangkong.wiring``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.core.events import DomainEvent


@dataclass(frozen=True)
class ReorderAlertRaised(DomainEvent):
    """A store's stock of one supply will not last its reorder threshold at the learned rate."""

    stock_id: int
    jpath: str
    kind: str
    on_hand: int
    days_left: float | None
    raised_on: dt.date
