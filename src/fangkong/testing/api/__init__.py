"""JSON routes of the testing capability: thin (parse, call the service, shape the answer).

Every route that touches the database is a plain ``def`` (FastAPI runs it in a worker thread; see
``core.deps``). Reading needs ``testing.read``; campaigns, rounds, sites, laboratories and order syncing
need ``testing.manage`` (the testing coordinator); taking samples, the scanner and recalls need
``testing.sample`` (samplers and community workers); loading lab results needs ``lab.results``.

The scanner's route, ``POST /api/testing/scans``, is built for handhelds: one call takes one scan or a
device's whole offline queue, answers each scan on its own (recorded, already recorded, or refused with
the reason), is idempotent by (device, sequence), and is set-based whatever the batch size
(``service.scanning``). A refused scan never refuses the rest of the queue. The calls that arrive together
are bound and committed together (``service.scanning.live``), each answered once its scans are durable.

The package holds one module per use case; this is its public face (``routes`` imports ``router``
from here as before).
"""

from __future__ import annotations

# The routes are registered on the shared router as each module is imported: in this order, the order
# they are matched in.
# isort: off
from fangkong.testing.api import orders  # noqa: F401
from fangkong.testing.api import campaigns  # noqa: F401
from fangkong.testing.api import rounds  # noqa: F401
from fangkong.testing.api import sites  # noqa: F401
from fangkong.testing.api import scanning  # noqa: F401
from fangkong.testing.api import results  # noqa: F401
from fangkong.testing.api import recalls  # noqa: F401
from fangkong.testing.api import pools  # noqa: F401

# isort: on
from fangkong.testing.api.common import router

__all__ = ["router"]
