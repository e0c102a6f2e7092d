"""Loading a lab's checked results: written in chunks, each committed on its own, corrections as versions.

A load writes in chunks so that a load killed mid-file (``kill -9``, a power cut) keeps the chunks it
finished and a re-run picks up where it stopped. What makes that safe is the result's own identity, not
a progress record: every row has a digest of what it says, and a row whose digest a version of that tube
already has is "already loaded". The same file loaded twice therefore writes nothing, and a row that
says something new about a tube is a correction: the next version, never an overwrite (or the version
the file names, in its 版本/version column). A barcode no tube has is reported row by row and the rest
loads.

Each chunk is set-based: its rows are staged (binary COPY on PostgreSQL), one query joins them with the
tubes and the stored versions into the chunk's plan (the tube each row names, the version it is stored
as, none when already loaded), one INSERT ... SELECT stores the new versions and :mod:`.applying` moves
the tubes. No row passes through Python between the file's check and the database.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer, String

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.db import Instant
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus, bus_of
from fangkong.core.i18n import Message
from fangkong.testing.models import Laboratory
from fangkong.testing.service import staging
from fangkong.testing.service.results import applying
from fangkong.testing.service.results.reading import (
    CheckedRows,
    ResultLine,
    StagedRow,
    fhir_lines,
    read_file,
    staged_rows,
)
from fangkong.testing.service.results.report import LoadReport

# Rows written and committed together. A killed load loses at most one chunk's work (a second or two),
# which a re-run does again. Each chunk joins its rows with the tubes (by index or by one pass over the
# table): at 5,000 rows a chunk a million-tube file made 200 such joins; at 20,000 it makes 50.
CHUNK_ROWS = 20_000

# A chunk's rows as the file gives them (``reading.StagedRow``).
ROWS = "testing_results_rows"
ROW_COLUMNS: tuple[staging.Column, ...] = (
    ("line", "integer"), ("barcode", "varchar(40)"), ("result", "varchar(16)"), ("ct_values", "text"),
    ("min_ct", "double precision"), ("tested_at", "timestamptz"), ("version", "integer"),
    ("digest", "varchar(64)"), ("repeat", "integer"),
)  # fmt: skip
# The chunk's plan: each row with its tube (none: unknown barcode), the version it is stored as (none:
# already loaded) and what the tube had when the chunk began.
PLAN = "testing_results_plan"
PLAN_COLUMNS: tuple[staging.Column, ...] = (
    ("line", "integer"), ("tube_id", "integer"), ("barcode", "varchar(40)"), ("result", "varchar(16)"),
    ("ct_values", "text"), ("min_ct", "double precision"), ("tested_at", "timestamptz"),
    ("version", "integer"), ("digest", "varchar(64)"), ("current_version", "integer"),
    ("was_positive", "integer"), ("single", "integer"),
)  # fmt: skip

# A row is already loaded when an earlier row of the load said the same (``repeat``) or a stored version
# of its tube has its digest. A tube that never took a result (result_version 0) has no stored version:
# every version stored is taken by its tube unless the tube already has a newer one, so the version
# look-ups are skipped for a round's fresh tubes (the unique (barcode, version) key would refuse a
# version stored twice, were that ever not so). A row without a version is the tube's next one: a load
# has at most one such row per tube (``reading`` refuses a second, FHIR one result per tube).
_RESOLVE = f"""
INSERT INTO {PLAN} ({", ".join(name for name, _ in PLAN_COLUMNS)})
SELECT s.line, t.id, s.barcode, s.result, s.ct_values, s.min_ct, s.tested_at,
  CASE
    WHEN t.id IS NULL OR s.repeat = 1 THEN NULL
    WHEN t.result_version = 0 THEN COALESCE(s.version, 1)
    WHEN EXISTS (SELECT 1 FROM testing_lab_results r WHERE r.barcode = s.barcode AND r.digest = s.digest)
      THEN NULL
    ELSE COALESCE(
      s.version, (SELECT MAX(r.version) FROM testing_lab_results r WHERE r.barcode = s.barcode) + 1, 1
    )
  END,
  s.digest, t.result_version,
  CASE WHEN t.result = 'positive' THEN 1 ELSE 0 END,
  CASE WHEN t.kind = 'single' OR t.pool_size = 1 THEN 1 ELSE 0 END
FROM {ROWS} s LEFT JOIN testing_tubes t ON t.barcode = s.barcode
"""
_STORE = text(
    "INSERT INTO testing_lab_results (barcode, tube_id, laboratory_id, version, result, ct_values, min_ct,"
    " tested_at, loaded_at, origin, digest)"
    " SELECT barcode, tube_id, CAST(:laboratory AS INTEGER), version, result, ct_values, min_ct, tested_at,"
    f" :stamp, :origin, digest FROM {PLAN} WHERE version IS NOT NULL"
).bindparams(
    bindparam("laboratory", type_=Integer()),
    bindparam("stamp", type_=Instant()),
    bindparam("origin", type_=String()),
)


def _chunk_written(chunk: int) -> None:
    """Call the package's ``on_chunk_written`` hook: set on ``results`` (the package), where callers and
    the crash test see it."""
    from fangkong.testing.service import results

    if results.on_chunk_written is not None:
        results.on_chunk_written(chunk)


def _laboratory(session: Session, principal: Principal, laboratory_id: int | None) -> int | None:
    if laboratory_id is None:
        return None
    lab = session.get(Laboratory, laboratory_id)
    if lab is None:
        raise NotFound(Message("laboratory {id} not found", id=laboratory_id))
    return lab.id


def load_results(
    session: Session,
    principal: Principal,
    path: Path,
    *,
    laboratory_id: int | None = None,
    origin: str = "",
    bus: EventBus | None = None,
    chunk_size: int = CHUNK_ROWS,
) -> LoadReport:
    """Load a lab's results file (CSV or Excel); commits each chunk (see the module doc)."""
    started = time.perf_counter()
    data = path.read_bytes()
    checked = read_file(path, data)
    report = LoadReport(origin=(origin or path.name)[:200])
    report.rows = len(checked.rows)
    _check_versions(session, checked)
    lab = _laboratory(session, principal, laboratory_id)
    _load_rows(session, bus or bus_of(session), checked, report, lab, chunk_size)
    _audit(session, principal, report, hashlib.sha256(data).hexdigest())
    session.commit()
    report.seconds = time.perf_counter() - started
    return report


def load_fhir(
    session: Session,
    principal: Principal,
    data: bytes,
    *,
    laboratory_id: int | None = None,
    origin: str = "",
    bus: EventBus | None = None,
    chunk_size: int = CHUNK_ROWS,
) -> LoadReport:
    """Load a lab's FHIR R4 results bundle; a malformed one is refused naming the element."""
    started = time.perf_counter()
    parsed, lines = fhir_lines(data)
    report = LoadReport(origin=(origin or f"FHIR Bundle {parsed.bundle_id or ''}".strip())[:200])
    report.rows = len(lines)
    lab = _laboratory(session, principal, laboratory_id)
    _load_rows(session, bus or bus_of(session), staged_rows(lines), report, lab, chunk_size)
    _audit(session, principal, report, hashlib.sha256(data).hexdigest())
    session.commit()
    report.seconds = time.perf_counter() - started
    return report


def apply_result(
    session: Session, line: ResultLine, *, origin: str, bus: EventBus | None = None
) -> LoadReport:
    """Load one result entered by hand (a retest read on the spot): the same path a file's rows take.

    Does not commit: the caller's unit of work does.
    """
    report = LoadReport(origin=origin)
    report.rows = 1
    checked = staged_rows([line])
    _check_versions(session, checked)
    _load_chunk(session, bus or bus_of(session), checked.rows, checked, report, None, origin)
    return report


def _audit(session: Session, principal: Principal, report: LoadReport, file_digest: str) -> None:
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, "web"),
        "testing.results.loaded",
        "testing_lab_results",
        report.origin,
        detail={
            "sha256": file_digest,
            "rows": report.rows,
            "loaded": report.loaded,
            "corrections": report.corrections,
            "unchanged": report.unchanged,
            "unknown": len(report.unknown),
        },
        jpath=principal.jpath,
    )


def _check_versions(session: Session, checked: CheckedRows) -> None:
    """A version the file names that is already stored saying something else refuses the file."""
    named = [row for row in checked.rows if row[6] is not None]
    if not named:
        return
    staging.stage(session, ROWS, ROW_COLUMNS, named)
    clashes = session.execute(
        text(
            f"SELECT s.line, s.barcode, s.version FROM {ROWS} s JOIN testing_lab_results r"
            " ON r.barcode = s.barcode AND r.version = s.version WHERE r.digest <> s.digest ORDER BY s.line"
        )
    ).all()
    if clashes:
        raise InvalidInput(
            [
                RowError(
                    line,
                    checked.version_column(line),
                    Message(
                        "version {version} of tube {barcode} is already loaded with another result: "
                        "send a correction as the next version",
                        version=version,
                        barcode=barcode,
                    ),
                )
                for line, barcode, version in clashes
            ],
            file=True,
        )


def _load_rows(
    session: Session,
    bus: EventBus,
    checked: CheckedRows,
    report: LoadReport,
    laboratory_id: int | None,
    chunk_size: int,
) -> None:
    rows = checked.rows
    for start in range(0, len(rows), chunk_size):
        report.chunks += 1
        _load_chunk(session, bus, rows[start : start + chunk_size], checked, report, laboratory_id)
        _chunk_written(report.chunks)
        session.commit()


def _load_chunk(
    session: Session,
    bus: EventBus,
    rows: Sequence[StagedRow],
    checked: CheckedRows,
    report: LoadReport,
    laboratory_id: int | None,
    origin: str | None = None,
) -> None:
    stamp = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # A chunk's statements each do a few tenths of a second of plain row work; their estimated costs
        # (the per-row version look-ups over a table the planner has no statistics of yet) pass the JIT
        # threshold, and compiling them took longer than running them (0.35 s a chunk).
        session.execute(text("SET LOCAL jit = off"))
    staging.stage(session, ROWS, ROW_COLUMNS, rows)
    staging.make(session, PLAN, PLAN_COLUMNS)
    session.execute(text(_RESOLVE))
    loaded, corrections, known = session.execute(
        text(
            "SELECT COUNT(version), COALESCE(SUM(CASE WHEN version > 1 THEN 1 ELSE 0 END), 0), COUNT(tube_id)"
            f" FROM {PLAN}"
        )
    ).one()
    if known < len(rows):
        unknown = session.execute(
            text(f"SELECT line, barcode FROM {PLAN} WHERE tube_id IS NULL ORDER BY line")
        )
        report.unknown.extend(
            RowError(
                line,
                checked.barcode_column(line),
                Message("no tube has barcode {barcode}: reported, not loaded", barcode=barcode),
            )
            for line, barcode in unknown
        )
    report.loaded += loaded
    report.corrections += corrections
    report.unchanged += known - loaded
    if not loaded:
        return
    session.execute(_STORE, {"laboratory": laboratory_id, "stamp": stamp, "origin": origin or report.origin})
    one_per_tube = len({row[1] for row in rows}) == len(rows)
    applying.apply_newest(session, bus, PLAN, report, stamp, one_per_tube=one_per_tube)
