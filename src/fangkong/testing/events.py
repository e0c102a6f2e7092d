"""Domain events the testing capability publishes for others (tracing, response tasks).

Handlers are listed in ``fangkong.wiring``. Placing pool members under the temporary measure uses the
core event ``PeoplePlacedUnderManagement`` (category ``pool_positive_member``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.core.events import DomainEvent


@dataclass(frozen=True)
class PersonTestedPositive(DomainEvent):
    """A single-person test (a plan's test, a recall retest, a single tube) came back positive.

    Tracing opens a case for the person unless they already are one. ``origin`` says which test
    (``order:12``, ``recall:7``, ``tube:AB123``).
    """

    person_id: int
    jpath: str
    sampled_on: dt.date
    resulted_at: dt.datetime
    barcode: str
    origin: str
    min_ct: float | None = None


@dataclass(frozen=True)
class PoolFoundPositive(DomainEvent):
    """A pooled tube came back positive: its members are recalled (response tasks may follow)."""

    tube_id: int
    barcode: str
    jpath: str
    members: int
    resulted_at: dt.datetime


@dataclass(frozen=True)
class RoundClosed(DomainEvent):
    """A campaign round was closed: ``tubes`` tubes holding ``people`` people's swabs were used (resources
    draws its supplies down from the stock that served it)."""

    round_id: int
    jpath: str
    day: dt.date
    tubes: int
    people: int


@dataclass(frozen=True)
class PoolRecalled(DomainEvent):
    """Every member of a positive pool has been located: published by the recall service when the last
    member is marked located (by hand or by their retest being sampled). ``located_at`` is the latest
    member's locating time."""

    tube_id: int
    jpath: str
    located_at: dt.datetime
