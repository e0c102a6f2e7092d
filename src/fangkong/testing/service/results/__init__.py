"""Lab results by tube barcode, from CSV and Excel files and from HL7 FHIR R4 bundles.

A load is three steps, one module each:

* :mod:`.reading` reads and checks every row first: a bad row (a missing barcode, a result that is no
  result, a Ct that is no number, a time in the future) refuses the whole file, every problem named by
  its row and its column as the file wrote it, and nothing is written.
* :mod:`.loading` writes in chunks, each committed on its own, so that a load killed mid-file keeps the
  chunks it finished and a re-run picks up where it stopped: a row whose digest a version of that tube
  already has is "already loaded", the same file twice writes nothing, and a row that says something new
  about a tube is a correction, its next version. The one partial load is a barcode no tube has: that
  row is reported and the rest loads (a lab's file often covers several districts' tubes).
* :mod:`.applying` gives each tube its newest result in the same transaction as its rows: the orders
  sampled into it are resulted, a positive single-person tube publishes ``PersonTestedPositive``, a
  positive pool flags its members for recall, places them under the protocol's temporary measure and
  publishes ``PoolFoundPositive``; an invalid result reopens the orders for a new sample.

Callers use this package's names (``results.load_results``, ``results.ResultLine``, ...).
"""

from __future__ import annotations

from collections.abc import Callable

from fangkong.core.workbooks import Cell
from fangkong.testing.service.results.applying import (
    LOOKUP_BATCH,
    POOL_MEMBER_CATEGORY,
    RECALL_COLUMNS,
    RECALL_DEADLINE_HOURS,
)
from fangkong.testing.service.results.loading import CHUNK_ROWS, apply_result, load_fhir, load_results
from fangkong.testing.service.results.reading import (
    CLOCK_SKEW,
    GENES,
    HEADERS,
    MAX_CT,
    NO_CT,
    REQUIRED,
    RESULT_WORDS,
    CheckedRows,
    ResultLine,
    check_rows,
    fhir_lines,
    parse_rows,
    read_file,
)
from fangkong.testing.service.results.report import LoadReport

# Called with the chunk's number after its rows are written and before they commit: the crash test
# stops the loader there and kills it. ``None`` in normal use.
on_chunk_written: Callable[[int], None] | None = None

__all__ = [
    "CHUNK_ROWS",
    "CLOCK_SKEW",
    "GENES",
    "HEADERS",
    "LOOKUP_BATCH",
    "MAX_CT",
    "NO_CT",
    "POOL_MEMBER_CATEGORY",
    "RECALL_COLUMNS",
    "RECALL_DEADLINE_HOURS",
    "REQUIRED",
    "RESULT_WORDS",
    "Cell",
    "CheckedRows",
    "LoadReport",
    "ResultLine",
    "apply_result",
    "check_rows",
    "fhir_lines",
    "load_fhir",
    "load_results",
    "on_chunk_written",
    "parse_rows",
    "read_file",
]
