"""Testing use cases, one module per use case; callers use ``service.<module>.<function>``.

* :mod:`.orders`: test orders from plans (made, moved and cancelled as plans change), worklists, overdue
  tests, results of ordered tests, what holds a release.
* :mod:`.rounds`: regional campaigns, their rounds, sampling sites sized by the rule, the stop rule.
* :mod:`.scanning`: the scanner's bindings of people to tubes (idempotent, offline batches).
* :mod:`.results`: lab results from CSV, Excel and FHIR (idempotent, crash-safe, versions).
* :mod:`.recall`: members of positive pools flagged, located, retested.
* :mod:`.labs`: laboratories, their capacity and turnaround deadline.
* :mod:`.coverage`: per round and community: expected, sampled, not sampled, without result; turnaround.
"""

from __future__ import annotations

# The word other capabilities (the drill's lab) use when they report a result.
from fangkong.testing.models import TestResult
from fangkong.testing.service import coverage, daily, labs, orders, recall, results, rounds, scanning

__all__ = ["TestResult", "coverage", "daily", "labs", "orders", "recall", "results", "rounds", "scanning"]
