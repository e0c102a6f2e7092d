"""The drill clock: wall time ↔ drill hours, through marks laid down as the drill runs. Pure.

A drill runs at ``speed`` drill hours per real hour from its last mark. A facilitator's fast-forward
lays down a mark per event it feeds (the drill jumps to the event's due time, then feeds it), so a
record written while feeding an event reads as written at that event's drill time. Between two marks
drill time runs at the speed but never passes the next mark.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from fangkong.core.clock import as_utc


@dataclass(frozen=True)
class Mark:
    wall_at: dt.datetime
    drill_hours: float


def drill_hours_at(marks: Sequence[Mark], speed: float, wall: dt.datetime) -> float:
    """Drill hours at wall time ``wall`` (before the first mark: that mark's hours)."""
    if not marks:
        raise ValueError("a drill clock needs at least its starting mark")
    ordered = sorted(marks, key=lambda m: as_utc(m.wall_at))
    walls = [as_utc(m.wall_at) for m in ordered]
    at = as_utc(wall)
    k = bisect.bisect_right(walls, at) - 1
    if k < 0:
        return ordered[0].drill_hours
    mark = ordered[k]
    hours = mark.drill_hours + (at - walls[k]).total_seconds() / 3600.0 * speed
    if k + 1 < len(ordered):
        hours = min(hours, ordered[k + 1].drill_hours)
    return hours
