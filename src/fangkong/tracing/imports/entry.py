"""The entry point: import one file of a kind, for real or as a dry run inside a savepoint that is
rolled back (so it reports exactly what a real import would do).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault
from fangkong.core.events import EventBus
from fangkong.core.people_rules import Keys
from fangkong.tracing.imports.cases import _import_cases
from fangkong.tracing.imports.common import ImportReport
from fangkong.tracing.imports.exposures import _import_exposures
from fangkong.tracing.spreadsheets import Kind

# ------------------------------------------------------------------------------------------ entry point


def import_file(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    keys: Keys,
    kind: Kind,
    path: Path,
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Import one file of ``kind``; raises InvalidInput naming every bad row, and then nothing is written."""
    import time

    started = time.perf_counter()
    report = ImportReport(kind=kind, dry_run=dry_run)
    run = _import_cases if kind == "cases" else None

    def work(target_bus: EventBus) -> None:
        if run is not None:
            run(session, vault, target_bus, principal, keys, path, report)
        else:
            _import_exposures(session, vault, target_bus, principal, keys, path, kind, report)
        session.flush()

    if dry_run:
        nested = session.begin_nested()
        try:
            # Handlers must not see rows that are about to vanish: a dry run publishes to nobody.
            work(EventBus())
        finally:
            nested.rollback()
            session.expire_all()
    else:
        work(bus)
    report.seconds = round(time.perf_counter() - started, 3)
    return report
