"""Areas use cases, one module per use case; callers use ``service.<module>.<function>``.

* :mod:`.designation`: proposals from cases, approval, the lifting clock, the timeline.
* :mod:`.public`: the public page's data and feed (cached, refreshed on change), subscriptions.
* :mod:`.arrivals`: arrival registration (报备), matching against areas, worklists, look-back.
* :mod:`.checkpoints`: a checkpoint's look-up of one person (category, measure, valid until), audited.
* :mod:`.doorstep`: vulnerable residents of sealed units, service requests, emergency departments.
"""

from __future__ import annotations

from fangkong.areas.service import arrivals, checkpoints, daily, designation, doorstep, public

__all__ = ["arrivals", "checkpoints", "daily", "designation", "doorstep", "public"]
