"""Domain events the quarantine capability publishes for others (tracing, response tasks).

Handlers are listed in ``fangkong.wiring``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.core.events import DomainEvent


@dataclass(frozen=True)
class PersonCheckedIntoQuarantine(DomainEvent):
    """A person arrived in their room: isolated from now (tracing records it on the contact)."""

    person_id: int
    # The plan's source that asked for the centralized stage, e.g. ``contact:42``.
    source: str
    at: dt.datetime


@dataclass(frozen=True)
class RoommatesExposed(DomainEvent):
    """A person who shared a room turned out positive: their roommates are close contacts of that case.

    ``since`` is when they began sharing the room and ``until`` when the case left it (aware UTC).
    """

    case_id: int
    case_person_id: int
    roommate_person_ids: tuple[int, ...]
    since: dt.datetime
    until: dt.datetime
    site_name: str
    room_number: str


@dataclass(frozen=True)
class QuarantineSiteActivated(DomainEvent):
    """A site of the reserve list was approved for opening (its status is now ``preparing``)."""

    site_id: int
    jpath: str
    tier: int
    hours_to_open: int
