"""Web pages of the testing capability, Chinese first, for testing coordinators, laboratories and community
workers.

Regional campaigns with their area, rounds, the stop rule's advice, the next round by the frequency rule
and the sampling sites sized by the rule; a round's dashboard (progress per community, refreshed every few
seconds by htmx, coloured by coverage, with the chart of progress against the deadline); its coverage
(应检未检) with the Excel list of the people not sampled; a sampling site; the laboratory's upload with its
validation report and the templates; worklists of the orders due; a person's test history; the recall of
positive pools; the pool-size planner. The pages shape what ``testing.service`` returns and keep nothing.

Forms are htmx forms (``web/errors.py``): a refused one shows each message beside its field; a refused
results file shows its bad rows after the form, as the other imports do.

The package holds one module per use case; this is its public face (``routes`` imports ``router``
from here as before).
"""

from __future__ import annotations

# The routes are registered on the shared router as each module is imported: in this order, the order
# they are matched in.
# isort: off
from fangkong.testing.views import campaigns  # noqa: F401
from fangkong.testing.views import rounds  # noqa: F401
from fangkong.testing.views import sites  # noqa: F401
from fangkong.testing.views import laboratory  # noqa: F401
from fangkong.testing.views import worklists  # noqa: F401
from fangkong.testing.views import people  # noqa: F401
from fangkong.testing.views import recalls  # noqa: F401
from fangkong.testing.views import planner  # noqa: F401

# isort: on
from fangkong.testing.views.common import NAV, router

__all__ = ["NAV", "router"]
