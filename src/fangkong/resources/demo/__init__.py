"""The resources part of the demo region.

- :mod:`.region`: every county's staff, teams, stores and roster, a deployment, training (``seed``);
- :mod:`.postings`: staff posted to the demo's open quarantine sites (called by ``region.seed``).

This module is the public face: ``fangkong.demo`` calls ``seed`` and reads ``DemoResources``.
"""

from __future__ import annotations

from fangkong.resources.demo.region import DemoResources, seed

__all__ = ["DemoResources", "seed"]
