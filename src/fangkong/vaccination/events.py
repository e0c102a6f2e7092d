"""Domain events the vaccination capability publishes: for its own status (re-evaluated from new doses)
and for the response capability (an adverse event's report deadline is a task with a clock)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.core.events import DomainEvent


@dataclass(frozen=True)
class DosesRecorded(DomainEvent):
    """Doses were written for these people (one at a site, or a whole imported file): their status is
    evaluated again in the same transaction."""

    person_ids: tuple[int, ...]


@dataclass(frozen=True)
class AdverseEventReported(DomainEvent):
    """An AEFI card was filled in; the county CDC must have it by ``due_at`` (48 h, or 2 h for a death
    or a cluster)."""

    event_id: int
    jpath: str
    severity: str
    cluster: bool
    due_at: dt.datetime
    # When the reporting unit learnt of it (the task's clock starts there); now when not given.
    found_at: dt.datetime | None = None


@dataclass(frozen=True)
class AdverseEventSentToCounty(DomainEvent):
    """The card reached the county CDC (closes the reporting task)."""

    event_id: int
    jpath: str
