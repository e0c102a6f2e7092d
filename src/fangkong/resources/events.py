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


@dataclass(frozen=True)
class StaffPostingsEnded(DomainEvent):
    """A staff member's postings were ended together because they are no longer available (on leave,
    ill): the sites they left. A capability that stores a site's count of staff on duty (quarantine's
    ``staff_on_duty``) brings it back in line with the postings."""

    staff_id: int
    # (site kind, site id) of every site left, each once: ``PostedSiteKind`` values.
    sites: tuple[tuple[str, int], ...]
    ended_at: dt.datetime
