"""Applying a chunk's results: each tube takes its newest result, and what follows a positive follows.

In the same transaction as the chunk's rows: the tube takes the result; the orders sampled into it are
resulted; a positive single-person tube publishes ``PersonTestedPositive`` (tracing opens a case); a
positive pool flags its members for recall, places them under the protocol's temporary measure
(``pool_positive_member``, through ``PeoplePlacedUnderManagement``) and publishes ``PoolFoundPositive``;
an invalid result reopens the orders for a new sample.

Set-based whatever the chunk's size: the tubes that take a result are read from the chunk's plan (or,
when a tube has several new versions in the chunk, its newest picked into a temporary table), and the
tubes, their members' orders and the recalls they retest are each moved by one UPDATE ... FROM; only the
newly positive tubes' members (few) are read back, for the recalls and the events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import Float, Integer, String

from fangkong.core.bulk import write_rows
from fangkong.core.clock import local_day
from fangkong.core.db import Instant
from fangkong.core.events import EventBus, PeoplePlacedUnderManagement, PersonPlacedUnderManagement
from fangkong.protocol.service import get_protocol, protocol_ids_in_force
from fangkong.testing.events import PersonTestedPositive, PoolFoundPositive
from fangkong.testing.models import Recall, RecallState, TestOrder, Tube
from fangkong.testing.service import staging
from fangkong.testing.service.results.report import LoadReport

# Hours members of a positive pool have to be located and isolated, h. protocols.md §5 rt.pool.positive
# (S, S18) gives the measure, single-tube retests after temporary isolation, but no deadline, and the
# regional-testing guide's positive-pool deadlines are U (protocols.md open question 3). 6 h is a local
# practice (L): it fits inside the 12 h lab turnaround (§7 epi.lab_turnaround, C, S54) so the retests of
# a morning's positive pools are back the same day.
RECALL_DEADLINE_HOURS = 6

# The protocol category members of a positive pool are placed under (protocol files cn-8, cn-9, cn-9-20).
POOL_MEMBER_CATEGORY = "pool_positive_member"

# Ids per look-up query (well under SQLite's 32,766 bound parameters).
LOOKUP_BATCH = 2_000

_RECALLS = cast(Table, Recall.__table__)
RECALL_COLUMNS = (
    "tube_id", "person_id", "jpath", "state", "flagged_at", "deadline_at", "located_at", "retest_barcode",
    "result",
)  # fmt: skip

# The tubes a chunk results, each with its newest new version.
NEWEST = "testing_results_newest"
NEWEST_COLUMNS: tuple[staging.Column, ...] = (
    ("line", "integer"), ("tube_id", "integer"), ("barcode", "varchar(40)"), ("result", "varchar(16)"),
    ("version", "integer"), ("resulted_at", "timestamptz"), ("min_ct", "double precision"),
    ("pooled", "integer"), ("was_positive", "integer"),
)  # fmt: skip


@dataclass(frozen=True)
class _Positive:
    """A tube newly positive, with one of its members (none for a tube without members)."""

    tube_id: int
    barcode: str
    pooled: bool
    resulted_at: dt.datetime
    min_ct: float | None
    tube_jpath: str
    person_id: int | None
    jpath: str | None
    order_id: int | None
    scanned_at: dt.datetime | None


@dataclass(frozen=True)
class _Member:
    tube_id: int
    person_id: int
    jpath: str
    order_id: int | None
    scanned_at: dt.datetime


def apply_newest(
    session: Session, bus: EventBus, plan: str, report: LoadReport, stamp: dt.datetime, *, one_per_tube: bool
) -> None:
    """Each tube of the chunk's ``plan`` takes its newest new version when it is newer than the one it has.

    ``plan`` holds the chunk's rows with the tube each names, the version each was stored as (none for a
    row already loaded) and what the tube had when the chunk began. When no tube has two rows in the
    chunk (``one_per_tube``, a round's file) the plan's new versions are the newest ones as they stand;
    otherwise the newest of each tube is picked into a table of its own first.
    """
    newer = "version, tested_at AS resulted_at, min_ct, 1 - single AS pooled, was_positive"
    if one_per_tube:
        source = (
            f"(SELECT line, tube_id, barcode, result, {newer} FROM {plan} WHERE version > current_version)"
        )
    else:
        staging.make(session, NEWEST, NEWEST_COLUMNS)
        session.execute(
            text(
                f"INSERT INTO {NEWEST} ({', '.join(name for name, _ in NEWEST_COLUMNS)})"
                f" SELECT line, tube_id, barcode, result, {newer}"
                " FROM (SELECT p.*, ROW_NUMBER() OVER (PARTITION BY p.tube_id ORDER BY p.version DESC) AS k"
                f" FROM {plan} p WHERE p.version > p.current_version) AS ranked WHERE ranked.k = 1"
            )
        )
        source = NEWEST
    updated = session.execute(
        text(
            "UPDATE testing_tubes SET result = n.result, result_version = n.version,"
            f" resulted_at = n.resulted_at FROM {source} AS n WHERE testing_tubes.id = n.tube_id"
        )
    )
    applied = cast(CursorResult[Any], updated).rowcount
    if not applied:
        return
    report.tubes_resulted += applied
    # The orders sampled into these tubes: resulted; open again for a new sample when the tube could not
    # be read. Orders are sampled into single tubes only (orders.record_sample and recall.record_retest
    # take orders.single_tube; the scanner links no order), so only single tubes are joined with their
    # members: a pooled tube's members are never read here (a round's million tubes would read all its
    # ten million bindings to find none). A positive pool would say nothing yet of each member anyway.
    session.execute(
        text(
            "UPDATE testing_orders"
            " SET state = CASE WHEN x.result = 'invalid' THEN 'open' ELSE 'resulted' END,"
            " result = x.result, resulted_at = x.resulted_at, updated_at = :stamp"
            " FROM (SELECT m.order_id, n.result, n.resulted_at FROM testing_tube_members m"
            f" JOIN {source} AS n ON n.tube_id = m.tube_id"
            " WHERE n.pooled = 0 AND m.order_id IS NOT NULL) AS x"
            " WHERE testing_orders.id = x.order_id"
        ).bindparams(bindparam("stamp", type_=Instant())),
        {"stamp": stamp},
    )
    # Single-tube retests of recalled members.
    session.execute(
        text(
            f"UPDATE testing_recalls SET state = 'retested', result = n.result FROM {source} AS n"
            " WHERE testing_recalls.retest_barcode = n.barcode AND n.result <> 'invalid'"
        )
    )
    positives = _newly_positive(session, source)
    # Objects this session holds show what the rows say now.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Tube | TestOrder | Recall):
            session.expire(obj)
    if not positives:
        return
    members: dict[int, list[_Member]] = {}
    tubes: dict[int, _Positive] = {}
    for p in positives:
        tubes.setdefault(p.tube_id, p)
        if p.person_id is not None and p.jpath is not None and p.scanned_at is not None:
            members.setdefault(p.tube_id, []).append(
                _Member(p.tube_id, p.person_id, p.jpath, p.order_id, p.scanned_at)
            )
    singles = [t for t in tubes.values() if not t.pooled]
    retests = _retests(session, [t.barcode for t in singles])
    events: list[PersonTestedPositive] = []
    for tube in singles:
        recall = retests.get(tube.barcode)
        for member in members.get(tube.tube_id, [])[:1]:
            origin = (
                f"recall:{recall}"
                if recall is not None
                else f"order:{member.order_id}"
                if member.order_id is not None
                else f"tube:{tube.barcode}"
            )
            events.append(
                PersonTestedPositive(
                    person_id=member.person_id,
                    jpath=member.jpath,
                    sampled_on=local_day(member.scanned_at),
                    resulted_at=tube.resulted_at,
                    barcode=tube.barcode,
                    origin=origin,
                    min_ct=tube.min_ct,
                )
            )
    pools = [t for t in tubes.values() if t.pooled]
    if pools:
        _recall_members(session, bus, pools, members, report, stamp)
    report.positive_people += len(events)
    for event in events:
        bus.publish(session, event)


def _newly_positive(session: Session, source: str) -> list[_Positive]:
    """The tubes of this chunk that turned positive, one row per member, in the file's order."""
    rows = session.execute(
        text(
            "SELECT n.tube_id, n.barcode, n.pooled, n.resulted_at, n.min_ct, t.jpath,"
            " m.person_id, m.jpath AS member_jpath, m.order_id, m.scanned_at"
            f" FROM {source} AS n JOIN testing_tubes t ON t.id = n.tube_id"
            " LEFT JOIN testing_tube_members m ON m.tube_id = n.tube_id"
            " WHERE n.result = 'positive' AND n.was_positive = 0 ORDER BY n.line, m.id"
        ).columns(
            tube_id=Integer(),
            barcode=String(),
            pooled=Integer(),
            resulted_at=Instant(),
            min_ct=Float(),
            jpath=String(),
            person_id=Integer(),
            member_jpath=String(),
            order_id=Integer(),
            scanned_at=Instant(),
        )
    )
    return [
        _Positive(
            r.tube_id, r.barcode, bool(r.pooled), r.resulted_at, r.min_ct, r.jpath, r.person_id,
            r.member_jpath, r.order_id, r.scanned_at,
        )
        for r in rows
    ]  # fmt: skip


def _retests(session: Session, barcodes: Sequence[str]) -> dict[str, int]:
    """The recall each of these barcodes is the single-tube retest of."""
    found: dict[str, int] = {}
    for start in range(0, len(barcodes), LOOKUP_BATCH):
        rows = session.execute(
            select(Recall.retest_barcode, Recall.id).where(
                Recall.retest_barcode.in_(barcodes[start : start + LOOKUP_BATCH])
            )
        )
        for barcode, recall_id in rows:
            if barcode is not None:
                found[barcode] = recall_id
    return found


def _recall_members(
    session: Session,
    bus: EventBus,
    pools: Sequence[_Positive],
    members: Mapping[int, Sequence[_Member]],
    report: LoadReport,
    stamp: dt.datetime,
) -> None:
    """Flag every member of each positive pool, place them under the temporary measure, tell others."""
    tube_ids = [tube.tube_id for tube in pools]
    already = {
        (row.tube_id, row.person_id)
        for start in range(0, len(tube_ids), LOOKUP_BATCH)
        for row in session.execute(
            select(Recall.tube_id, Recall.person_id).where(
                Recall.tube_id.in_(tube_ids[start : start + LOOKUP_BATCH])
            )
        )
    }
    deadline = stamp + dt.timedelta(hours=RECALL_DEADLINE_HOURS)
    new = [
        (m.tube_id, m.person_id, m.jpath, RecallState.flagged.value, stamp, deadline, None, None, None)
        for tube in pools
        for m in members.get(tube.tube_id, [])
        if (m.tube_id, m.person_id) not in already
    ]
    write_rows(session, _RECALLS, RECALL_COLUMNS, new)
    report.recalled += len(new)
    report.positive_pools += len(pools)
    flagged: list[tuple[int, int, int, str]] = []
    for start in range(0, len(tube_ids), LOOKUP_BATCH):
        rows = session.execute(
            select(Recall.id, Recall.tube_id, Recall.person_id, Recall.jpath).where(
                Recall.tube_id.in_(tube_ids[start : start + LOOKUP_BATCH])
            )
        )
        flagged.extend((r.id, r.tube_id, r.person_id, r.jpath) for r in rows)
    sampled_on = {(m.tube_id, m.person_id): local_day(m.scanned_at) for ms in members.values() for m in ms}
    fresh = [r for r in flagged if (r[1], r[2]) not in already]
    protocols = protocol_ids_in_force(session, {jpath for *_rest, jpath in fresh})
    defines = {
        pid: POOL_MEMBER_CATEGORY in get_protocol(session, pid).categories for pid in set(protocols.values())
    }
    placements = tuple(
        PersonPlacedUnderManagement(
            person_id=person_id,
            jpath=jpath,
            category=POOL_MEMBER_CATEGORY,
            # The pooled sampling day is the last day they could have been exposed (to the positive
            # person, in the queue or in the tube's household).
            clock_date=sampled_on[(tube_id, person_id)],
            source=f"recall:{recall_id}",
            clock_event="last_exposure",
        )
        for recall_id, tube_id, person_id, jpath in sorted(fresh)
        # A protocol in force without the temporary measure (no regional testing) only flags them.
        if defines[protocols[jpath]]
    )
    if placements:
        bus.publish(session, PeoplePlacedUnderManagement(placements))
    for tube in pools:
        bus.publish(
            session,
            PoolFoundPositive(
                tube_id=tube.tube_id,
                barcode=tube.barcode,
                jpath=tube.tube_jpath,
                members=len(members.get(tube.tube_id, [])),
                resulted_at=tube.resulted_at,
            ),
        )
