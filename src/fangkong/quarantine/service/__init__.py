"""Quarantine use cases, one module per use case; callers use ``service.<module>.<function>``.

* :mod:`.sites`: the reserve list (sites and rooms), the reserve standard per jurisdiction.
* :mod:`.rooms_import`: rooms from Excel or CSV (template, dry run, every bad row named, all or nothing).
* :mod:`.activation`: activation rules, tier-by-tier activation with approval, closing back to reserve.
* :mod:`.census`: occupancy by site, tier and day; the 7-day forecast; days until full.
* :mod:`.placement`: the to-place list from the plans, care needs, bulk and single placement.
* :mod:`.staffing`: staff posted to a site (from resources), the minimum before it opens.
* :mod:`.stays`: check-in, room transfer, release on the plan's day, hospital transfer, cleaning.
* :mod:`.timeliness`: identification → placement → check-in against the transfer deadline.
* :mod:`.transfers`: transfer batches (转运) by pickup area and vehicle, arrival.
"""

from __future__ import annotations

# The room states other capabilities (the drill) read on the room board.
from fangkong.quarantine.models import RoomState
from fangkong.quarantine.service import (
    activation,
    census,
    daily,
    placement,
    rooms_import,
    sites,
    staffing,
    stays,
    timeliness,
    transfers,
)

__all__ = [
    "RoomState",
    "activation",
    "census",
    "daily",
    "placement",
    "rooms_import",
    "sites",
    "staffing",
    "stays",
    "timeliness",
    "transfers",
]
