"""The platform's one clock: "now" as an aware UTC instant, "today" as the deployment's local day.

Every instant the platform stores is aware UTC; every calendar fact a user sees or a window a report
covers is in the deployment's time zone (``FANGKONG_TIME_ZONE``, default Asia/Shanghai), because an
investigator's "today" starts at local midnight, not at 08:00 Beijing time when the UTC date changes.
Nothing else in ``src/`` reads the system clock or names a zone (a test enforces it).

Tests freeze the clock with :func:`freeze`; the frozen instant is shared by every thread, so routes
served by a test client's thread pool see the same "now" as the test.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# China Standard Time: the zone of every protocol in protocols.md and of the demo region.
DEFAULT_TIME_ZONE = "Asia/Shanghai"
TIME_ZONE_VARIABLE = "FANGKONG_TIME_ZONE"

_lock = threading.Lock()
_zone: ZoneInfo | None = None
_frozen: FrozenClock | None = None


def parse_zone(name: str) -> ZoneInfo:
    """An IANA zone name → the zone; ValueError naming the setting when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{TIME_ZONE_VARIABLE}={name!r} is not an IANA time zone (for example {DEFAULT_TIME_ZONE})"
        ) from exc


def set_time_zone(name: str) -> None:
    """Use ``name`` as the local zone for this process (done once at start-up from the settings)."""
    global _zone
    _zone = parse_zone(name)


def time_zone() -> ZoneInfo:
    """The deployment's zone: the setting applied at start-up, else the environment, else the default."""
    global _zone
    if _zone is None:
        _zone = parse_zone(os.environ.get(TIME_ZONE_VARIABLE) or DEFAULT_TIME_ZONE)
    return _zone


class FrozenClock:
    """A clock that stands still until moved; what :func:`freeze` hands a test.

    With ``tick`` each reading moves it on by that much (a microsecond, say): the hour and the day
    never change, but two things done one after the other still happen in that order, as they do on
    a real clock (a drill's clock marks, for one, are ordered by the instant they were laid down).
    """

    def __init__(self, at: dt.datetime, tick: dt.timedelta = dt.timedelta(0)) -> None:
        self.at = _aware_utc(at)
        self.tick = tick
        self._lock = threading.Lock()

    def read(self) -> dt.datetime:
        with self._lock:
            moment = self.at
            self.at += self.tick
        return moment

    def set(self, at: dt.datetime) -> None:
        with self._lock:
            self.at = _aware_utc(at)

    def advance(self, delta: dt.timedelta | None = None, **units: float) -> dt.datetime:
        with self._lock:
            self.at += delta if delta is not None else dt.timedelta(**units)
            return self.at


@contextmanager
def freeze(at: dt.datetime, tick: dt.timedelta = dt.timedelta(0)) -> Iterator[FrozenClock]:
    """Stop the platform's clock at ``at`` (aware, or naive local wall time) for the block."""
    global _frozen
    frozen = FrozenClock(at if at.tzinfo is not None else from_local(at), tick)
    with _lock:
        previous, _frozen = _frozen, frozen
    try:
        yield frozen
    finally:
        with _lock:
            _frozen = previous


def utcnow() -> dt.datetime:
    """Now, as an aware UTC instant."""
    frozen = _frozen
    if frozen is not None:
        return frozen.read()
    return dt.datetime.now(dt.UTC)


def local_now() -> dt.datetime:
    """Now as naive local wall-clock time (what an investigator reads off the wall)."""
    return as_local(utcnow())


def today() -> dt.date:
    """The local calendar day it is now."""
    return local_now().date()


def _aware_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone: pass an aware instant")
    return moment.astimezone(dt.UTC)


def as_utc(instant: dt.datetime) -> dt.datetime:
    """An instant as aware UTC; a naive one is read as UTC (what rules and tests may hand in)."""
    return instant.replace(tzinfo=dt.UTC) if instant.tzinfo is None else instant.astimezone(dt.UTC)


def as_local(instant: dt.datetime) -> dt.datetime:
    """A stored instant → naive local wall-clock time (a naive instant is read as UTC)."""
    return as_utc(instant).astimezone(time_zone()).replace(tzinfo=None)


def from_local(local: dt.datetime) -> dt.datetime:
    """A naive local wall-clock time → an aware UTC instant (an aware one is only converted)."""
    aware = local.replace(tzinfo=time_zone()) if local.tzinfo is None else local
    return aware.astimezone(dt.UTC)


def local_day(instant: dt.datetime) -> dt.date:
    """The local calendar day an instant falls on."""
    return as_local(instant).date()


def day_bounds(first: dt.date, last: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants [start, end) covering local days ``first`` .. ``last`` (both included)."""
    start = from_local(dt.datetime.combine(first, dt.time.min))
    end = from_local(dt.datetime.combine(last or first, dt.time.min) + dt.timedelta(days=1))
    return start, end
