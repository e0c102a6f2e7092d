"""A site system's upload of sampling records: ``ingest_records``, ``bind``'s rules made set-based.

A site system uploads a whole day of scans (tens or hundreds of thousands) in one call. ``bind`` would
decide each scan in Python against look-ups by IN lists; here the rows are staged in a temporary table
(COPY on PostgreSQL, one executemany on SQLite) and checked by joins that bring back only the rows at
fault, and the tubes and bindings are written by INSERT ... SELECT ... ON CONFLICT DO NOTHING. The
rules are bind's. Rows whose tube needs bind's finer rules (a sealed area's household tubes, the single
tubes of people under management, a tube that exists as another kind or in another round) go through
``bind`` itself, tube by tube, so the messages are the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.db import Instant
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope
from fangkong.testing.models import CampaignArea, RoundState, SamplingSite, TubeKind
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.service import staging
from fangkong.testing.service.scanning.binding import bind
from fangkong.testing.service.scanning.lookups import _chunks, _deepest_area, _Round, _rounds
from fangkong.testing.service.scanning.scans import (
    IngestReport,
    SamplingRecord,
    Scan,
    ScanOutcome,
    ScanStatus,
    _record_problem,
)

_INGEST_RAW = "testing_ingest_raw"
_INGEST_SCANS = "testing_ingest_scans"
_INGEST_TUBES = "testing_ingest_tubes"
_INGEST_IDS = "testing_ingest_ids"
_INGEST_SKIP = "testing_ingest_skip"
_INGEST_COUNTS = "testing_ingest_counts"
_RAW_COLUMNS = (
    ("idx", "integer"),
    ("device_id", "varchar(40)"),
    ("device_seq", "integer"),
    ("person_id", "integer"),
    ("barcode", "varchar(40)"),
    ("scanned_at", "timestamptz"),
)
_INGEST_TABLES = {
    _INGEST_RAW: _RAW_COLUMNS,
    _INGEST_SCANS: (*_RAW_COLUMNS, ("jpath", 'varchar(100) COLLATE "C"')),
    _INGEST_TUBES: (("barcode", "varchar(40)"), ("first_idx", "integer"), ("pool_size", "integer"),
                    ("opened_at", "timestamptz"), ("members", "integer")),
    _INGEST_COUNTS: (("tube_id", "integer"), ("added", "integer")),
    _INGEST_IDS: (("barcode", "varchar(40)"), ("tube_id", "integer")),
    _INGEST_SKIP: (("idx", "integer"),),
}  # fmt: skip


def _stage_rows(session: Session, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    staging.stage(session, table, _INGEST_TABLES[table], rows)


def ingest_records(
    session: Session,
    principal: Principal,
    round_id: int,
    records: Sequence[SamplingRecord],
    *,
    codes: ScanCodes,
    site_id: int | None = None,
) -> IngestReport:
    """Bind a site system's upload of sampling records to round ``round_id``: ``bind``'s rules, set-based.

    Idempotent like ``bind`` (a re-sent row, by device and sequence, is "already recorded"); every refused
    row is reported with its index and the field at fault, and the good rows are recorded (sampling never
    loses the good scans of an upload because one is bad). A person twice in one upload keeps the first
    scan. Does not commit: the caller's unit of work does. ``NotFound`` for a round or site the caller
    does not see.
    """
    now = utcnow()
    report = IngestReport(rows=len(records))
    found = _rounds(session, {round_id}).get(round_id)
    if found is None or not (
        path_in_scope(found.jpath, principal.jpath) or path_in_scope(principal.jpath, found.jpath)
    ):
        raise NotFound(Message("round {id} not found", id=round_id))
    site_path: str | None = None
    if site_id is not None:
        site = session.execute(
            select(SamplingSite.campaign_id, SamplingSite.jpath, SamplingSite.active).where(
                SamplingSite.id == site_id
            )
        ).first()
        if site is None or site[0] != found.campaign_id or not site[2]:
            raise NotFound(Message("sampling site {id} not found", id=site_id))
        site_path = site[1]
    closed_at = found.closed_at if found.state is RoundState.closed else None
    refusals: dict[int, ScanOutcome] = {}

    def refuse(i: int, where: str, message: Message) -> None:
        refusals[i] = ScanOutcome(
            i, records[i].device_id, records[i].device_seq, ScanStatus.refused, message, where
        )

    # 1. The rows themselves and whom their codes name, in one pass; repeats inside the upload.
    person_of = [0] * len(records)
    first_of: dict[tuple[str, int], int] = {}
    already = 0
    pending: list[int] = []
    # The codes' keyed checks, in one pass (no database needed for a forgery).
    named = [codes.person_of(code) if isinstance(code, str) else None for _d, _s, code, *_rest in records]
    for i, record in enumerate(records):
        problem = _record_problem(record)
        if problem is not None:
            refuse(i, *problem)
            continue
        person = named[i]
        if person is None:
            refuse(i, "person_code", Message("unknown or forged person code"))
            continue
        if closed_at is not None and record.scanned_at > closed_at:
            refuse(i, "round_id", Message("round {number} was closed before this scan", number=found.number))
            continue
        person_of[i] = person
        key = (record.device_id, record.device_seq)
        earlier = first_of.setdefault(key, i)
        if earlier != i:
            if (records[earlier].barcode, person_of[earlier]) == (record.barcode, person):
                already += 1
            else:
                refuse(i, "device_seq", _reused_seq_of(record.device_id, record.device_seq))
            continue
        pending.append(i)
    del first_of

    # 2. Stage what is left, with where each person lives (one join with the registry); the queries
    #    below bring back only the rows at fault.
    _stage_rows(
        session,
        _INGEST_RAW,
        [
            (i, records[i].device_id, records[i].device_seq, person_of[i], records[i].barcode,
             records[i].scanned_at)
            for i in pending
        ],
    )  # fmt: skip
    _stage_rows(session, _INGEST_SCANS, [])
    session.execute(
        text(
            "INSERT INTO testing_ingest_scans"
            " (idx, device_id, device_seq, person_id, barcode, scanned_at, jpath)"
            " SELECT r.idx, r.device_id, r.device_seq, r.person_id, r.barcode, r.scanned_at, p.jpath"
            " FROM testing_ingest_raw r LEFT JOIN people p ON p.id = r.person_id"
        )
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    if len(pending) >= staging.ANALYZE_FROM:
        staging.analyze(session, _INGEST_SCANS)
    out: set[int] = set()  # decided: already recorded or refused
    for (i,) in session.execute(text("SELECT idx FROM testing_ingest_scans WHERE jpath IS NULL")):
        out.add(i)
        refuse(i, "person_code", Message("unknown or forged person code"))
    # Where people live: the few distinct paths are matched to the round's areas here, not per row.
    areas = {
        path: bool(sealed)
        for path, sealed in session.execute(
            select(CampaignArea.jpath, CampaignArea.sealed).where(
                CampaignArea.campaign_id == found.campaign_id
            )
        )
    }
    outside: list[str] = []
    sealed_paths: list[str] = []
    for (path,) in session.execute(
        text("SELECT DISTINCT jpath FROM testing_ingest_scans WHERE jpath IS NOT NULL")
    ):
        area = _deepest_area(areas, path)
        if area is None:
            outside.append(path)
        elif area[1]:
            sealed_paths.append(path)
    complex_rows: set[int] = set()
    for paths, refused in ((outside, True), (sealed_paths, False)):
        for part in _chunks(paths):
            rows = session.execute(
                text("SELECT idx FROM testing_ingest_scans WHERE jpath IN :paths").bindparams(
                    bindparam("paths", expanding=True)
                ),
                {"paths": list(part)},
            )
            for (i,) in rows:
                if refused:
                    out.add(i)
                    refuse(i, "person_code", Message("this person does not live in the round's area"))
                else:
                    complex_rows.add(i)
    # People under management (single tubes only): see _under_management.
    complex_rows.update(
        i
        for (i,) in session.execute(
            text(
                "SELECT DISTINCT s.idx FROM testing_ingest_scans s JOIN testing_orders o"
                " ON o.person_id = s.person_id WHERE o.state <> 'cancelled'"
                " AND (o.due_date >= :day OR o.state = 'open')"
            ).bindparams(bindparam("day", type_=Date())),
            {"day": found.day},
        )
        if i not in out
    )
    # Tubes that exist, locked against another upload filling them meanwhile.
    lock = " ORDER BY t.id FOR UPDATE OF t" if postgres else ""
    stored: dict[str, tuple[int, int | None, str, int, int]] = {
        barcode: (tube_id, tube_round, str(kind), size, members)
        for tube_id, barcode, tube_round, kind, size, members in session.execute(
            text(
                "SELECT t.id, t.barcode, t.round_id, t.kind, t.pool_size, t.members FROM testing_tubes t"
                f" WHERE t.barcode IN (SELECT DISTINCT barcode FROM testing_ingest_scans){lock}"
            )
        )
    }

    def resent() -> None:
        """Rows recorded before (a re-sent upload) and people sampled before in the round: looked for
        only when the insert found some (a fresh upload has none, and these are joins with every
        binding of the round)."""
        for i, person, barcode in session.execute(
            text(
                "SELECT s.idx, m.person_id, t.barcode FROM testing_ingest_scans s"
                " JOIN testing_tube_members m ON m.device_id = s.device_id AND m.device_seq = s.device_seq"
                " JOIN testing_tubes t ON t.id = m.tube_id"
            )
        ):
            if i in out:
                continue
            out.add(i)
            if (barcode, person) == (records[i].barcode, person_of[i]):
                recorded_before.add(i)
            else:
                refuse(i, "device_seq", _reused_seq_of(records[i].device_id, records[i].device_seq))
        for i, barcode in session.execute(
            text(
                "SELECT s.idx, t.barcode FROM testing_ingest_scans s JOIN testing_tube_members m"
                " ON m.round_id = :round AND m.person_id = s.person_id"
                " JOIN testing_tubes t ON t.id = m.tube_id"
            ),
            {"round": round_id},
        ):
            if i in out:
                continue
            out.add(i)
            refuse(
                i,
                "person_code",
                Message(
                    "this person was already sampled in round {number} (tube {barcode})",
                    number=found.number,
                    barcode=barcode,
                ),
            )

    recorded_before: set[int] = set()
    before_out, before_refusals = set(out), dict(refusals)
    decision = _decide(records, pending, person_of, out, complex_rows, stored, found, refuse)
    inserted = 0
    # A fresh upload (nothing of it stored yet) is written in one go. Anything stored before makes the
    # insert come up short, and a full tube may be full of this very upload sent before: then the rows are
    # checked against what is stored, decided again and written.
    fresh = decision.accepted > 0 and not decision.refused
    if fresh:
        nested = session.begin_nested()
        try:
            inserted = _write_ingest(session, round_id, site_id, site_path, stored, decision, now, fresh=True)
        except IntegrityError:
            nested.rollback()
            fresh = False
        else:
            nested.commit()
    if not fresh:
        out, refusals = set(before_out), dict(before_refusals)
        resent()
        decision = _decide(records, pending, person_of, out, complex_rows, stored, found, refuse)
        inserted = (
            _write_ingest(session, round_id, site_id, site_path, stored, decision, now)
            if decision.accepted
            else 0
        )
    already += len(recorded_before)
    report.recorded += inserted
    already += decision.accepted - inserted  # a concurrent upload of the same rows wrote them first
    to_bind = decision.to_bind

    # 6. Bind's rows, in the order they were taken (after the rows above, which it then sees as stored).
    if to_bind:
        bound = bind(
            session,
            principal,
            [
                Scan(
                    records[i].device_id, records[i].device_seq, round_id, records[i].barcode,
                    records[i].person_code, records[i].scanned_at, records[i].pool_size, records[i].kind,
                    site_id,
                )
                for i in to_bind
            ],
            codes=codes,
        )  # fmt: skip
        report.through_bind = len(to_bind)
        for outcome in bound.outcomes:
            i = to_bind[outcome.index]
            if outcome.status == ScanStatus.recorded:
                report.recorded += 1
            elif outcome.status == ScanStatus.already_recorded:
                already += 1
            else:
                refusals[i] = ScanOutcome(
                    i, outcome.device_id, outcome.device_seq, outcome.status, outcome.message, outcome.field
                )
    report.already_recorded = already
    report.refusals = [refusals[i] for i in sorted(refusals)]
    if report.recorded:
        audit.record(
            session,
            audit.Actor(principal.user_id, principal.username, "device"),
            "testing.scan.ingest",
            "round",
            round_id,
            jpath=found.jpath,
            detail={
                "rows": report.rows,
                "recorded": report.recorded,
                "already_recorded": report.already_recorded,
                "refused": report.refused,
                "site_id": site_id,
            },
        )
    return report


def _reused_seq_of(device: str, seq: int) -> Message:
    return Message(
        "sequence {seq} of device {device} was already used for another scan", seq=seq, device=device
    )


@dataclass
class _Decision:
    accepted: int = 0
    refused: int = 0
    # (barcode, index of its first row, pool size, opened at, members) of the tubes to make.
    new_tubes: list[tuple[str, int, int, dt.datetime, int]] = field(default_factory=list)
    to_bind: list[int] = field(default_factory=list)
    # Staged rows not to insert (decided otherwise, or bind's).
    skip: list[int] = field(default_factory=list)
    # (tube id, bindings added) of the stored tubes the accepted rows go into.
    added: list[tuple[int, int]] = field(default_factory=list)


def _decide(
    records: Sequence[SamplingRecord],
    pending: list[int],
    person_of: list[int],
    out: set[int],
    complex_rows: set[int],
    stored: dict[str, tuple[int, int | None, str, int, int]],
    found: _Round,
    refuse: Callable[[int, str, Message], None],
) -> _Decision:
    """Row by row in the order given, as bind does: a person's first scan stands; a tube holds its pool
    size, set by its first row (or the campaign's), and no more; a tube of bind's finer rules goes to
    bind with all its rows. Rows refused here are added to ``out``."""
    decision = _Decision()
    finer: set[str] = {
        barcode
        for barcode, (_id, tube_round, kind, _size, _members) in stored.items()
        if tube_round != found.id or kind != TubeKind.pooled.value
    }
    for i in pending:
        if i not in out and (
            i in complex_rows or records[i].pool_size == 1 or records[i].kind not in (None, TubeKind.pooled)
        ):
            finer.add(records[i].barcode)
    tubes: dict[str, list[Any]] = {}  # barcode → [size, members, first index, opened, new]
    first_scan: dict[int, int] = {}

    def no(i: int, where: str, message: Message) -> None:
        out.add(i)
        decision.refused += 1
        refuse(i, where, message)

    for i in pending:
        if i in out:
            continue
        record = records[i]
        barcode = record.barcode
        person = person_of[i]
        if barcode in finer:
            decision.to_bind.append(i)
            first_scan.setdefault(person, i)
            continue
        first = first_scan.get(person)
        if first is not None:
            no(
                i,
                "person_code",
                Message(
                    "this person was already sampled in round {number} (tube {barcode})",
                    number=found.number,
                    barcode=records[first].barcode,
                ),
            )
            continue
        tube = tubes.get(barcode)
        if tube is None:
            known = stored.get(barcode)
            if known is not None:
                tube = [known[3], known[4], i, record.scanned_at, False]
            else:
                tube = [record.pool_size or found.pool_size, 0, i, record.scanned_at, True]
            tubes[barcode] = tube
        size, members = tube[0], tube[1]
        asked = record.pool_size
        if asked is not None and asked != size:
            no(
                i,
                "pool_size",
                Message(
                    "tube {barcode} holds {size} people, not {asked}", barcode=barcode, size=size, asked=asked
                ),
            )
            continue
        if members >= size:
            no(
                i,
                "barcode",
                Message(
                    "tube {barcode} is full: it holds {size} people and has {members}",
                    barcode=barcode,
                    size=size,
                    members=members,
                ),
            )
            continue
        if not members and tube[4]:
            tube[2] = i  # a new tube's place is its first accepted person's
        tube[1] = members + 1
        if record.scanned_at < tube[3]:
            tube[3] = record.scanned_at
        first_scan[person] = i
        decision.accepted += 1
    decision.new_tubes = [
        (barcode, tube[2], tube[0], tube[3], tube[1])
        for barcode, tube in tubes.items()
        if tube[4] and tube[1]
    ]
    decision.added = [
        (stored[barcode][0], tube[1] - stored[barcode][4])
        for barcode, tube in tubes.items()
        if not tube[4] and tube[1] > stored[barcode][4]
    ]
    decision.skip = sorted(out.union(decision.to_bind).intersection(pending))
    return decision


def _write_ingest(
    session: Session,
    round_id: int,
    site_id: int | None,
    site_path: str | None,
    stored: dict[str, tuple[int, int | None, str, int, int]],
    decision: _Decision,
    now: dt.datetime,
    *,
    fresh: bool = False,
) -> int:
    """Insert the decided tubes and bindings; the number of bindings inserted.

    ``fresh``: nothing of the upload is stored yet, so the bindings go in by a plain INSERT (a unique
    key already taken raises ``IntegrityError``: the caller then checks and writes again) and the tubes
    are made with their final counts; otherwise ON CONFLICT DO NOTHING, the counts moved by what was
    inserted.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    ids = {barcode: known[0] for barcode, known in stored.items()}
    if decision.new_tubes:
        _stage_rows(session, _INGEST_TUBES, decision.new_tubes)
        made = session.execute(
            text(
                "INSERT INTO testing_tubes (barcode, round_id, site_id, jpath, kind, pool_size, members,"
                " opened_at, result_version)"
                " SELECT n.barcode, :round, :site, COALESCE(:site_path, s.jpath), 'pooled', n.pool_size,"
                f" {'n.members' if fresh else '0'},"
                " n.opened_at, 0 FROM testing_ingest_tubes n"
                " JOIN testing_ingest_scans s ON s.idx = n.first_idx"
                " WHERE true ON CONFLICT DO NOTHING RETURNING barcode, id"
            ),
            {"round": round_id, "site": site_id, "site_path": site_path},
        ).all()
        if len(made) != len(decision.new_tubes):
            raise Conflict(Message("another upload opened some of these tubes meanwhile: send again"))
        ids.update((barcode, tube_id) for barcode, tube_id in made)
    _stage_rows(session, _INGEST_IDS, list(ids.items()))
    _stage_rows(session, _INGEST_SKIP, [(i,) for i in decision.skip])
    instant = Instant()
    if fresh:
        inserted = cast(
            Any,
            session.execute(
                text(
                    "INSERT INTO testing_tube_members (tube_id, round_id, person_id, jpath, device_id,"
                    " device_seq, scanned_at, received_at)"
                    " SELECT t.tube_id, :round, s.person_id, s.jpath, s.device_id, s.device_seq,"
                    " s.scanned_at, :now FROM testing_ingest_scans s"
                    " JOIN testing_ingest_ids t ON t.barcode = s.barcode"
                    " WHERE NOT EXISTS (SELECT 1 FROM testing_ingest_skip k WHERE k.idx = s.idx)"
                ).bindparams(bindparam("now", type_=instant)),
                {"round": round_id, "now": now},
            ),
        )
        if decision.added:
            _stage_rows(session, _INGEST_COUNTS, decision.added)
            session.execute(
                text(
                    "UPDATE testing_tubes SET members = testing_tubes.members + c.added"
                    " FROM testing_ingest_counts c WHERE testing_tubes.id = c.tube_id"
                )
            )
        return int(inserted.rowcount)
    members = (
        "INSERT INTO testing_tube_members (tube_id, round_id, person_id, jpath, device_id, device_seq,"
        " scanned_at, received_at)"
        " SELECT t.tube_id, :round, s.person_id, s.jpath, s.device_id, s.device_seq, s.scanned_at, :now"
        " FROM testing_ingest_scans s JOIN testing_ingest_ids t ON t.barcode = s.barcode"
        " WHERE NOT EXISTS (SELECT 1 FROM testing_ingest_skip k WHERE k.idx = s.idx)"
        " ON CONFLICT DO NOTHING"
    )
    params = {"round": round_id, "now": now}
    try:
        if postgres:
            counted = session.execute(
                text(
                    f"WITH inserted AS ({members} RETURNING tube_id),"
                    " counted AS (UPDATE testing_tubes AS t SET members = t.members + c.n"
                    " FROM (SELECT tube_id, count(*) AS n FROM inserted GROUP BY tube_id) AS c"
                    " WHERE t.id = c.tube_id RETURNING c.n)"
                    " SELECT COALESCE(sum(n), 0) FROM counted"
                ).bindparams(bindparam("now", type_=instant)),
                params,
            ).scalar_one()
            return int(counted)
        inserted = cast(
            Any, session.execute(text(members).bindparams(bindparam("now", type_=instant)), params)
        )
        # SQLite: the touched tubes' counts taken again from their bindings (an exact recount).
        session.execute(
            text(
                "UPDATE testing_tubes SET members = c.n FROM (SELECT m.tube_id, count(*) AS n"
                " FROM testing_tube_members m WHERE m.tube_id IN (SELECT tube_id FROM testing_ingest_ids)"
                " GROUP BY m.tube_id) AS c"
                " WHERE testing_tubes.id = c.tube_id AND testing_tubes.members <> c.n"
            )
        )
        return int(inserted.rowcount)
    except IntegrityError:
        raise Conflict(Message("another upload filled some of these tubes meanwhile: send again")) from None
