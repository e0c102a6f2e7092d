"""Areas use cases, one module per use case; callers use ``service.<module>.<function>``.

* :mod:`.designation`: proposals from cases, approval, the lifting clock, the timeline.
* :mod:`.public`: the public page's data and feed (cached, refreshed on change), subscriptions.
* :mod:`.arrivals`: arrival registration (报备), matching against areas, worklists, look-back.
* :mod:`.checkpoints`: a checkpoint's look-up of one person (category, measure, valid until), audited.
* :mod:`.doorstep`: vulnerable residents of sealed units, service requests, emergency departments.
"""

from __future__ import annotations

# The words of an area other capabilities (the drill) speak: its state and risk level.
from fangkong.areas.models import AreaState, RiskLevel
from fangkong.areas.service import arrivals, checkpoints, daily, designation, doorstep, public

__all__ = [
    "AreaState",
    "RiskLevel",
    "arrivals",
    "checkpoints",
    "daily",
    "designation",
    "doorstep",
    "public",
]
