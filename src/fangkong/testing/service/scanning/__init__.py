"""The scanner's bindings: a person's code bound to a tube, one scan or a whole offline batch per call.

Sampling sites must keep working when the central service is slow or down, so the handheld numbers its
scans (``device_id``, ``device_seq``), queues them, and sends the queue when it can: now, or hours later.
Sending the same queue again, or part of it, changes nothing, because a binding is unique by device and
sequence (``testing_tube_members``): the scans already recorded answer "already recorded" and count
nothing twice; the others are recorded. A person is unique per round, so the same person scanned on two
devices is refused on the second with the tube they are already in.

Each call is set-based whatever its size: a fixed number of queries for the batch (people, rounds, areas,
tubes, what is already recorded), the decisions made in memory in the order the scans were taken, then
one multi-row insert of the new tubes and one of the bindings with ``ON CONFLICT DO NOTHING`` (both
databases, through SQLAlchemy's dialect inserts), and the tubes' counts moved by what was actually
inserted. The tubes a batch touches are locked (``FOR UPDATE`` on PostgreSQL; SQLite has one writer) so
two devices filling one tube cannot overfill it, and the check constraint ``members <= pool_size``
stands behind that.

Refusals, each with a message naming what is wrong: an unknown or forged person code, a person outside
the round's area, a person already sampled in the round, a tube over its pool size or of another round,
a pool size other than 1/5/10/20, a second tube for a household (or a second household in a tube) in a
sealed area, and a person under management (a high-risk group: single tubes, rt.pool) in a shared tube.

The package holds one module per use case; this module is its public face (callers import from
``fangkong.testing.service.scanning`` as before):

- :mod:`.scans`: what a scan is (a handheld's ``Scan``, a site system's ``SamplingRecord``), what became
  of it, the reports of a call, and the checks of a scan's own shape;
- :mod:`.binding`: the handheld's path, ``bind``, and its writes;
- :mod:`.live`: the handhelds' calls arriving together, bound and committed together (group commit),
  each answered with its own outcomes once they are durable;
- :mod:`.bulk`: a site system's upload, ``ingest_records``, checked and written set-based by joins;
- :mod:`.staging`: the session's temporary staging tables (shared with the results upload);
- :mod:`.lookups`: the reads both paths build on.
"""

from __future__ import annotations

from fangkong.testing.service.scanning.binding import MEMBERS, TUBES, bind
from fangkong.testing.service.scanning.bulk import ingest_records
from fangkong.testing.service.scanning.scans import (
    MAX_BARCODE,
    MAX_DEVICE_ID,
    MAX_SEQ,
    BindReport,
    IngestReport,
    SamplingRecord,
    Scan,
    ScanOutcome,
    ScanStatus,
)

__all__ = [
    "MAX_BARCODE",
    "MAX_DEVICE_ID",
    "MAX_SEQ",
    "MEMBERS",
    "TUBES",
    "BindReport",
    "IngestReport",
    "SamplingRecord",
    "Scan",
    "ScanOutcome",
    "ScanStatus",
    "bind",
    "ingest_records",
]
