"""The handheld's path: ``bind`` takes one scan or a whole offline batch, decides each scan in memory in
the order they were taken against a fixed number of look-ups (``lookups``), then writes the new tubes and
the bindings at once (multi-row inserts on SQLite, COPY through a staging table on PostgreSQL) and moves
the tubes' counts by what was actually inserted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.errors import Conflict
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope
from fangkong.testing.models import (
    CampaignArea,
    RoundState,
    SamplingSite,
    Tube,
    TubeKind,
    TubeMember,
)
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.service.scanning.lookups import (
    _among,
    _deepest_area,
    _household_tubes,
    _people,
    _read,
    _recorded_scans,
    _Round,
    _rounds,
    _sampled_in_rounds,
    _tube_households,
    _tubes,
    _TubeState,
    _under_management,
)
from fangkong.testing.service.scanning.scans import BindReport, Scan, ScanOutcome, ScanStatus, _shape_problem

TUBES = cast(Table, Tube.__table__)
# Bindings in one call from which PostgreSQL writes them through its staging table (COPY) rather than by
# plain inserts.
STAGE_FROM = 1_000
MEMBERS = cast(Table, TubeMember.__table__)


def _insert(session: Session, table: Table) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def bind(session: Session, principal: Principal, scans: Sequence[Scan], *, codes: ScanCodes) -> BindReport:
    """Bind each scan's person to its tube; one outcome per scan, in the order given.

    Nothing of a refused scan is written; the other scans of the batch are (a device's queue is many
    people, each recorded or refused on their own). ``codes`` reads the person codes (the settings'
    hash key).
    """
    # The reads below go past the session's autoflush (lookups._read): whatever the caller added, first.
    session.flush()
    now = utcnow()
    count = len(scans)
    outcomes: list[ScanOutcome | None] = [None] * count

    def refuse(i: int, where: str, message: Message) -> None:
        outcomes[i] = ScanOutcome(
            i, scans[i].device_id, scans[i].device_seq, ScanStatus.refused, message, where
        )

    def already(i: int) -> None:
        outcomes[i] = ScanOutcome(
            i,
            scans[i].device_id,
            scans[i].device_seq,
            ScanStatus.already_recorded,
            Message("already recorded"),
        )

    def pending() -> list[int]:
        return [i for i in range(count) if outcomes[i] is None]

    # 1. The scan itself: its parts, and whom its code names (no database needed for a forgery).
    person_of = [0] * count
    for i, scan in enumerate(scans):
        problem = _shape_problem(scan)
        if problem is not None:
            refuse(i, *problem)
            continue
        person = codes.person_of(scan.person_code)
        if person is None:
            refuse(i, "person_code", Message("unknown or forged person code"))
            continue
        person_of[i] = person

    # 2. Scans already recorded (a re-sent queue), and repeats inside this batch.
    first_in_batch: dict[tuple[str, int], int] = {}
    by_device: dict[str, list[int]] = defaultdict(list)
    for i in pending():
        key = (scans[i].device_id, scans[i].device_seq)
        if key in first_in_batch:
            earlier = first_in_batch[key]
            same = (scans[earlier].barcode, person_of[earlier]) == (scans[i].barcode, person_of[i])
            if same:
                already(i)
            else:
                refuse(i, "device_seq", _reused_seq(scans[i]))
            continue
        first_in_batch[key] = i
        by_device[scans[i].device_id].append(scans[i].device_seq)
    recorded_before = _recorded_scans(session, by_device)
    for i in pending():
        stored = recorded_before.get((scans[i].device_id, scans[i].device_seq))
        if stored is None:
            continue
        if stored == (scans[i].barcode, person_of[i]):
            already(i)
        else:
            refuse(i, "device_seq", _reused_seq(scans[i]))

    # 3. Rounds: in the caller's scope (a sampler inside the area, or a coordinator above it), not closed
    #    before the swab was taken.
    rounds = _rounds(session, {scans[i].round_id for i in pending()})
    for i in pending():
        found = rounds.get(scans[i].round_id)
        if found is None or not (
            path_in_scope(found.jpath, principal.jpath) or path_in_scope(principal.jpath, found.jpath)
        ):
            refuse(i, "round_id", Message("round {id} not found", id=scans[i].round_id))
        elif (
            found.state is RoundState.closed
            and found.closed_at is not None
            and (scans[i].scanned_at > found.closed_at)
        ):
            refuse(i, "round_id", Message("round {number} was closed before this scan", number=found.number))

    # 4. Sites of the rounds' campaigns.
    site_ids = {scans[i].site_id for i in pending() if scans[i].site_id is not None}
    sites: dict[int, tuple[int | None, str, bool]] = {}
    if site_ids:
        sites = {
            sid: (cid, path, active)
            for sid, cid, path, active in _read(
                session,
                select(
                    SamplingSite.id, SamplingSite.campaign_id, SamplingSite.jpath, SamplingSite.active
                ).where(_among(session, SamplingSite.id, sorted(site_ids))),
            )
        }
    for i in pending():
        sid = scans[i].site_id
        if sid is None:
            continue
        site = sites.get(sid)
        if site is None or site[0] != rounds[scans[i].round_id].campaign_id or not site[2]:
            refuse(i, "site_id", Message("sampling site {id} not found", id=sid))

    # 5. People: known, and living in the round's area (sealed or not).
    people = _people(session, {person_of[i] for i in pending()})
    campaign_ids = {rounds[scans[i].round_id].campaign_id for i in pending()}
    areas: dict[int, dict[str, bool]] = defaultdict(dict)
    if campaign_ids:
        for cid, path, sealed in _read(
            session,
            select(CampaignArea.campaign_id, CampaignArea.jpath, CampaignArea.sealed).where(
                _among(session, CampaignArea.campaign_id, sorted(campaign_ids))
            ),
        ):
            areas[cid][path] = bool(sealed)
    sealed_of = [False] * count
    for i in pending():
        resident = people.get(person_of[i])
        if resident is None:
            refuse(i, "person_code", Message("unknown or forged person code"))
            continue
        area = _deepest_area(areas[rounds[scans[i].round_id].campaign_id], resident[0])
        if area is None:
            refuse(i, "person_code", Message("this person does not live in the round's area"))
            continue
        sealed_of[i] = area[1]

    # 6. Already sampled in the round (by an earlier call; this batch is checked as it is walked).
    sampled: dict[tuple[int, int], str] = _sampled_in_rounds(
        session, {(scans[i].round_id, person_of[i]) for i in pending()}
    )
    managed = _under_management(session, {person_of[i] for i in pending()}, rounds)

    # 7. Tubes: those that exist, locked; households already in a tube of the rounds.
    barcodes = sorted({scans[i].barcode for i in pending()})
    tubes = _tubes(session, barcodes)
    households = _household_tubes(
        session,
        {scans[i].round_id for i in pending() if sealed_of[i]},
        {_household(people, person_of[i]) for i in pending() if sealed_of[i]},
    )
    _tube_households(session, tubes)

    # 8. Decide, scan by scan, in the order they were taken.
    accepted: list[int] = []
    for i in pending():
        scan = scans[i]
        found = rounds[scan.round_id]
        person = person_of[i]
        jpath, _household_id = people[person]
        household = _household(people, person)
        if (scan.round_id, person) in sampled:
            refuse(
                i,
                "person_code",
                Message(
                    "this person was already sampled in round {number} (tube {barcode})",
                    number=found.number,
                    barcode=sampled[(scan.round_id, person)],
                ),
            )
            continue
        tube = tubes.get(scan.barcode)
        if tube is None:
            kind = scan.kind or (
                TubeKind.single
                if scan.pool_size == 1
                else TubeKind.household
                if sealed_of[i]
                else TubeKind.pooled
            )
            size = 1 if kind is TubeKind.single else scan.pool_size or found.pool_size
            site_path = sites[scan.site_id][1] if scan.site_id is not None else jpath
            tube = _TubeState(scan.barcode, found.id, kind, size, 0, site_path, scan.site_id, scan.scanned_at)
            problem = _tube_problem(tube, scan, found, sealed_of[i], person in managed, household, households)
            if problem is not None:
                refuse(i, *problem)
                continue
            tubes[scan.barcode] = tube
        else:
            problem = _tube_problem(tube, scan, found, sealed_of[i], person in managed, household, households)
            if problem is not None:
                refuse(i, *problem)
                continue
        tube.members += 1
        tube.added += 1
        tube.opened_at = min(tube.opened_at, scan.scanned_at)
        if tube.kind is TubeKind.household:
            tube.household = household
            households[(found.id, household)] = tube.barcode
        sampled[(scan.round_id, person)] = scan.barcode
        accepted.append(i)

    # 9. Write: new tubes, bindings (skipping any a concurrent call wrote first), tube counts.
    inserted = _write(session, scans, accepted, person_of, people, tubes, now)
    for i in accepted:
        if (scans[i].device_id, scans[i].device_seq) in inserted:
            outcomes[i] = ScanOutcome(i, scans[i].device_id, scans[i].device_seq, ScanStatus.recorded)
        else:
            already(i)
    report = BindReport([o for o in outcomes if o is not None])
    if report.recorded:
        audit.record(
            session,
            audit.Actor(principal.user_id, principal.username, "device"),
            "testing.scan.bind",
            "round",
            ",".join(sorted({str(scans[i].round_id) for i in accepted})),
            jpath=rounds[scans[accepted[0]].round_id].jpath,
            detail={
                "devices": sorted({scans[i].device_id for i in accepted}),
                "recorded": report.recorded,
                "already_recorded": report.already_recorded,
                "refused": report.refused,
            },
        )
    return report


def _reused_seq(scan: Scan) -> Message:
    return Message(
        "sequence {seq} of device {device} was already used for another scan",
        seq=scan.device_seq,
        device=scan.device_id,
    )


def _household(people: dict[int, tuple[str, int | None]], person: int) -> int:
    """A person's household id; someone without one is a household of their own (negative id)."""
    household = people[person][1]
    return household if household is not None else -person


def _tube_problem(
    tube: _TubeState,
    scan: Scan,
    found: _Round,
    sealed: bool,
    managed: bool,
    household: int,
    households: dict[tuple[int, int], str],
) -> tuple[str, Message] | None:
    """Why this scan cannot go into this tube, or None."""
    if tube.round_id != found.id:
        return "barcode", Message("tube {barcode} belongs to another round", barcode=tube.barcode)
    if scan.pool_size is not None and scan.pool_size != tube.pool_size:
        return "pool_size", Message(
            "tube {barcode} holds {size} people, not {asked}",
            barcode=tube.barcode,
            size=tube.pool_size,
            asked=scan.pool_size,
        )
    if scan.kind is not None and scan.kind is not tube.kind:
        return "kind", Message(
            "tube {barcode} is a {kind} tube", barcode=tube.barcode, kind=Message(tube.kind.value)
        )
    if tube.members >= tube.pool_size:
        return "barcode", Message(
            "tube {barcode} is full: it holds {size} people and has {members}",
            barcode=tube.barcode,
            size=tube.pool_size,
            members=tube.members,
        )
    if managed and tube.kind is not TubeKind.single:
        return "kind", Message("this person is under management and must be sampled in a single tube")
    if tube.kind is TubeKind.single:
        return None
    if sealed:
        if tube.kind is not TubeKind.household:
            return "kind", Message("a sealed area takes one tube per household, not a pooled tube")
        if tube.household is not None and tube.household != household:
            return "barcode", Message("tube {barcode} holds another household", barcode=tube.barcode)
        elsewhere = households.get((found.id, household))
        if elsewhere is not None and elsewhere != tube.barcode:
            return "barcode", Message(
                "this household is already in tube {barcode}: one tube per household in a sealed area",
                barcode=elsewhere,
            )
    elif tube.kind is TubeKind.household:
        return "kind", Message("tube {barcode} is a household tube of a sealed area", barcode=tube.barcode)
    return None


# ------------------------------------------------------------------------------------------------ write


def _write(
    session: Session,
    scans: Sequence[Scan],
    accepted: list[int],
    person_of: list[int],
    people: dict[int, tuple[str, int | None]],
    tubes: dict[str, _TubeState],
    now: dt.datetime,
) -> set[tuple[str, int]]:
    """Store the accepted scans; the (device, seq) keys actually inserted."""
    if not accepted:
        return set()
    postgres = session.get_bind().dialect.name == "postgresql"
    new = [t for t in tubes.values() if t.id is None and t.added]
    tube_rows = [
        (t.barcode, t.round_id, t.site_id, t.jpath, t.kind.value, t.pool_size, 0, t.opened_at, 0) for t in new
    ]
    # A handheld's call or a group of them is a few hundred rows at most: plain inserts. A site system's
    # upload of thousands goes through PostgreSQL's staging table (whose TRUNCATE and commit-time
    # emptying cost file operations a small group cannot repay).
    staged = postgres and len(accepted) >= STAGE_FROM
    if staged:
        made = _pg_insert_tubes(session, tube_rows)
    elif postgres:
        made = _pg_unnest_tubes(session, tube_rows)
    else:
        made = _insert_tubes(session, tube_rows)
    missing = [t.barcode for t in new if t.barcode not in made]
    # A concurrent call made some of these tubes first: take whatever is stored, locked.
    stored = _tubes(session, missing) if missing else {}
    for tube in new:
        if tube.barcode in made:
            tube.id = made[tube.barcode]
            continue
        mine = stored.get(tube.barcode)
        if mine is None or mine.round_id != tube.round_id or mine.members + tube.added > mine.pool_size:
            raise Conflict(
                Message("tube {barcode} was changed by another device: send again", barcode=tube.barcode)
            )
        tube.id = mine.id
    member_rows = [
        (
            tubes[scans[i].barcode].id,
            scans[i].round_id,
            person_of[i],
            people[person_of[i]][0],
            scans[i].device_id,
            scans[i].device_seq,
            scans[i].scanned_at,
            now,
        )
        for i in accepted
    ]
    if staged:
        return _pg_insert_members(session, member_rows)
    if postgres:
        return _pg_unnest_members(session, member_rows)
    inserted = _insert_members(session, member_rows)
    added: dict[int, int] = defaultdict(int)
    tube_of = {(scans[i].device_id, scans[i].device_seq): tubes[scans[i].barcode].id for i in accepted}
    for key in inserted:
        tube_id = tube_of[key]
        assert tube_id is not None
        added[tube_id] += 1
    if added:
        session.execute(
            update(TUBES)
            .where(TUBES.c.id == bindparam("tube_id"))
            .values(members=TUBES.c.members + bindparam("added")),
            [{"tube_id": tube_id, "added": n} for tube_id, n in sorted(added.items())],
        )
    return inserted


_TUBE_COLUMNS = (
    "barcode", "round_id", "site_id", "jpath", "kind", "pool_size", "members", "opened_at", "result_version",
)  # fmt: skip
_MEMBER_COLUMNS = (
    "tube_id", "round_id", "person_id", "jpath", "device_id", "device_seq", "scanned_at", "received_at",
)  # fmt: skip


def _insert_tubes(session: Session, rows: list[tuple[Any, ...]]) -> dict[str, int]:
    """Plain inserts (SQLAlchemy's "insert many values": one statement per thousand rows, compiled once),
    skipping tubes a concurrent call made first; barcode → id of the tubes made."""
    if not rows:
        return {}
    statement = _insert(session, TUBES).on_conflict_do_nothing().returning(TUBES.c.barcode, TUBES.c.id)
    found = session.execute(statement, [dict(zip(_TUBE_COLUMNS, row, strict=True)) for row in rows])
    return {str(barcode): int(tube_id) for barcode, tube_id in found}


def _insert_members(session: Session, rows: list[tuple[Any, ...]]) -> set[tuple[str, int]]:
    """Plain inserts as ``_insert_tubes``; the (device, seq) keys inserted (a concurrent call's are not)."""
    if not rows:
        return set()
    statement = (
        _insert(session, MEMBERS)
        .on_conflict_do_nothing()
        .returning(MEMBERS.c.device_id, MEMBERS.c.device_seq)
    )
    found = session.execute(statement, [dict(zip(_MEMBER_COLUMNS, row, strict=True)) for row in rows])
    return {(device, seq) for device, seq in found}


# PostgreSQL: the rows go by COPY into a session-private staging table (emptied at commit), and one
# INSERT ... SELECT ... ON CONFLICT DO NOTHING moves them: a batch of 20,000 scans costs what its bytes
# cost, not the compiling and parsing of a 20,000-row VALUES list.
_STAGING = {
    "testing_scan_tubes": (
        'barcode varchar(40), round_id integer, site_id integer, jpath varchar(100) COLLATE "C",'
        " kind varchar(16), pool_size integer, members integer, opened_at timestamptz, result_version integer"
    ),
    "testing_scan_members": (
        'tube_id integer, round_id integer, person_id integer, jpath varchar(100) COLLATE "C",'
        " device_id varchar(40), device_seq integer, scanned_at timestamptz, received_at timestamptz"
    ),
}


def _staged(session: Session, staging: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> Any:
    """Copy ``rows`` into the staging table; the raw cursor to go on with."""
    connection = session.connection()
    # Made in every transaction that needs it (IF NOT EXISTS): a table made by a transaction that rolled
    # back is gone, so "made once per connection" cannot be remembered.
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} ({_STAGING[staging]}) ON COMMIT DELETE ROWS"
    )
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    cursor.execute(f"TRUNCATE {staging}")
    with cursor.copy(f"COPY {staging} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return cursor


# PostgreSQL, a handheld's call or a group of them: each column sent as one array and unnested, so the
# statement's text is the same whatever the number of rows (converted once by the driver, prepared once
# by the server) and the whole write is one round trip.
_TUBE_ARRAYS = (
    "text[]", "integer[]", "integer[]", "text[]", "text[]", "integer[]", "integer[]", "timestamptz[]",
    "integer[]",
)  # fmt: skip
_MEMBER_ARRAYS = (
    "integer[]", "integer[]", "integer[]", "text[]", "text[]", "integer[]", "timestamptz[]", "timestamptz[]",
)  # fmt: skip


def _unnested(columns: Sequence[str], types: Sequence[str]) -> str:
    return ", ".join(f"%({c})s::{t}" for c, t in zip(columns, types, strict=True))


def _arrays(columns: Sequence[str], rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    return {column: [row[k] for row in rows] for k, column in enumerate(columns)}


_UNNEST_TUBES = (
    f"INSERT INTO testing_tubes ({', '.join(_TUBE_COLUMNS)})"
    f" SELECT * FROM unnest({_unnested(_TUBE_COLUMNS, _TUBE_ARRAYS)})"
    " ON CONFLICT DO NOTHING RETURNING barcode, id"
)
_UNNEST_MEMBERS = (
    f"WITH inserted AS (INSERT INTO testing_tube_members ({', '.join(_MEMBER_COLUMNS)})"
    f" SELECT * FROM unnest({_unnested(_MEMBER_COLUMNS, _MEMBER_ARRAYS)}) ON CONFLICT DO NOTHING"
    " RETURNING device_id, device_seq, tube_id),"
    " counted AS (UPDATE testing_tubes AS t SET members = t.members + c.n"
    " FROM (SELECT tube_id, count(*) AS n FROM inserted GROUP BY tube_id) AS c"
    " WHERE t.id = c.tube_id)"
    " SELECT device_id, device_seq FROM inserted"
)


def _pg_unnest_tubes(session: Session, rows: list[tuple[Any, ...]]) -> dict[str, int]:
    if not rows:
        return {}
    found = session.connection().exec_driver_sql(_UNNEST_TUBES, _arrays(_TUBE_COLUMNS, rows))
    return {str(barcode): int(tube_id) for barcode, tube_id in found}


def _pg_unnest_members(session: Session, rows: list[tuple[Any, ...]]) -> set[tuple[str, int]]:
    """Insert the bindings and move their tubes' counts by what was inserted, in one statement."""
    if not rows:
        return set()
    found = session.connection().exec_driver_sql(_UNNEST_MEMBERS, _arrays(_MEMBER_COLUMNS, rows))
    return {(str(device), int(seq)) for device, seq in found}


def _pg_insert_tubes(session: Session, rows: list[tuple[Any, ...]]) -> dict[str, int]:
    if not rows:
        return {}
    columns = ", ".join(_TUBE_COLUMNS)
    with _staged(session, "testing_scan_tubes", _TUBE_COLUMNS, rows) as cursor:
        cursor.execute(
            f"INSERT INTO testing_tubes ({columns}) SELECT {columns} FROM testing_scan_tubes"
            " ON CONFLICT DO NOTHING RETURNING barcode, id"
        )
        return dict(cursor.fetchall())


def _pg_insert_members(session: Session, rows: list[tuple[Any, ...]]) -> set[tuple[str, int]]:
    """Insert the bindings and move their tubes' counts by what was inserted, in one statement."""
    if not rows:
        return set()
    columns = ", ".join(_MEMBER_COLUMNS)
    with _staged(session, "testing_scan_members", _MEMBER_COLUMNS, rows) as cursor:
        cursor.execute(
            f"WITH inserted AS (INSERT INTO testing_tube_members ({columns})"
            f" SELECT {columns} FROM testing_scan_members ON CONFLICT DO NOTHING"
            " RETURNING device_id, device_seq, tube_id),"
            " counted AS (UPDATE testing_tubes AS t SET members = t.members + c.n"
            " FROM (SELECT tube_id, count(*) AS n FROM inserted GROUP BY tube_id) AS c"
            " WHERE t.id = c.tube_id)"
            " SELECT device_id, device_seq FROM inserted"
        )
        return {(device, seq) for device, seq in cursor.fetchall()}
