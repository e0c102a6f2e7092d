"""Import cases, exposures and contact lists from CSV or Excel: every row checked, all or nothing, set-based.

The pipeline: read and validate every row (every problem is collected, each naming its row and field);
if any, raise before writing. Then find the people (registry by keyed ID hash in bulk, new residents
registered through ``core.people_import``, everyone else as unidentified people), write the rows with
the backend's fast path (``COPY`` on PostgreSQL, one executemany on SQLite), classify every exposed
person with the protocol's classifier in one pass per index case, keep the cluster labels, publish the
management events, and audit the import once. It runs in the caller's transaction, so a failure anywhere
leaves nothing behind. A dry run does all of it inside a savepoint that is rolled back, so it reports
exactly what a real import would do.

The package holds one module per use case; this module is its public face (callers import from
``fangkong.tracing.imports`` as before):

- :mod:`.entry`: :func:`import_file`, one file of a kind, for real or as a dry run;
- :mod:`.cases`: a case list, with who infected whom;
- :mod:`.exposures`: exposures and contact lists, with second-ring contacts and transmission links;
- :mod:`.classify`: the exposed people classified, contacts written and announced for management;
- :mod:`.people`: the people the rows name, found, registered or kept as unidentified, in bulk;
- :mod:`.common`: the report, row errors, typed cells, shared row types and set-based writing.
"""

from __future__ import annotations

from fangkong.tracing.imports.common import (
    CASE_COLUMNS,
    CHAIN_LINK_COLUMNS,
    CONTACT_COLUMNS,
    EXPOSURE_COLUMNS,
    MAX_ERRORS,
    ImportReport,
)
from fangkong.tracing.imports.entry import import_file

__all__ = [
    "CASE_COLUMNS",
    "CHAIN_LINK_COLUMNS",
    "CONTACT_COLUMNS",
    "EXPOSURE_COLUMNS",
    "MAX_ERRORS",
    "ImportReport",
    "import_file",
]
