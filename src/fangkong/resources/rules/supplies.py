"""Supplies: what a testing round consumes, the consumption rate learned from use, days of stock left,
and when and how much to reorder (no I/O).

Every number is a parameter on its own line with its source. Where no published figure exists the
number is a demo choice, said so; a deployment changes it here.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Final

from fangkong.resources.models import SupplyKind

# What one testing round consumes per tube and per person sampled. One PCR reaction per tube, pooled
# or single (the point of pooling: protocols.md rt.pool); one swab per person sampled (every person is
# swabbed even when ten share a tube, rt.pool).
REAGENTS_PER_TUBE: Final[int] = 1
SWABS_PER_PERSON: Final[int] = 1
TUBES_PER_TUBE: Final[int] = 1
# Protective suit sets per occupied quarantine room-day (staff entering for meals, checks and tests):
# demo choice.
PPE_PER_OCCUPIED_ROOM_DAY: Final[int] = 2

# The consumption rate is learned from the last this many days of consumption and issues: demo choice
# (two weeks spans a campaign's every-other-day rounds several times over).
RATE_WINDOW_DAYS: Final[int] = 14
# Reorder when fewer days than this are left at the learned rate: demo choice (a week is the usual lead
# time for a provincial reserve to deliver). A store may set its own.
DEFAULT_REORDER_DAYS: Final[int] = 7

UNITS: Final[dict[SupplyKind, str]] = {
    SupplyKind.ppe: "set",
    SupplyKind.swab: "swab",
    SupplyKind.tube: "tube",
    SupplyKind.reagent: "reaction",
    SupplyKind.antigen_test: "test",
    SupplyKind.disinfectant: "litre",
    SupplyKind.medicine: "pack",
}


def round_consumption(tubes: int, people: int) -> dict[SupplyKind, int]:
    """What a testing round of ``tubes`` tubes holding ``people`` people's swabs draws from stock."""
    return {
        SupplyKind.tube: tubes * TUBES_PER_TUBE,
        SupplyKind.reagent: tubes * REAGENTS_PER_TUBE,
        SupplyKind.swab: people * SWABS_PER_PERSON,
    }


def daily_rate(used_in_window: int, first_use: dt.date | None, day: dt.date) -> float:
    """Units used a day: what was used in the window, over the days from the first use in it to today
    (so a store that only started being used yesterday is not diluted over two weeks of nothing)."""
    if first_use is None or used_in_window <= 0:
        return 0.0
    days = min(RATE_WINDOW_DAYS, (day - first_use).days + 1)
    return used_in_window / max(1, days)


def days_left(on_hand: int, rate: float) -> float | None:
    """Days the stock lasts at ``rate``; None when nothing is being used."""
    if rate <= 0:
        return None
    return max(0, on_hand) / rate


def needs_reorder(on_hand: int, rate: float, reorder_days: int) -> bool:
    """Reorder when the stock will not last ``reorder_days`` at the learned rate (or is gone)."""
    left = days_left(on_hand, rate)
    return left is not None and left < reorder_days


def reorder_quantity(on_hand: int, rate: float, reorder_days: int) -> int:
    """Units to order so that the stock lasts twice the reorder threshold at the learned rate."""
    target = math.ceil(rate * reorder_days * 2)
    return max(0, target - max(0, on_hand))
