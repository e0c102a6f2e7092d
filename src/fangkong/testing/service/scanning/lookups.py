"""The reads both paths build on: rounds, people, the scans and tubes already stored (tubes locked), the
people under management, the households already in a tube of a round, each by IN lists in chunks so a
call costs a fixed number of queries whatever its size; and the deepest of a campaign's areas holding a
person.

On PostgreSQL an IN list is sent as one array (``column = ANY(...)``, ``_among``): the statement's text is
then the same whatever the number of values, so the driver converts it once and the server prepares it
once. With IN lists every group of handheld calls of another size was a new statement, and converting
its text cost more CPU than the rest of the group's work.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, func, select, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from fangkong.core.models import Person
from fangkong.testing.models import (
    Campaign,
    CampaignRound,
    OrderState,
    RoundState,
    TestOrder,
    Tube,
    TubeKind,
    TubeMember,
)

# Rows per statement for the IN lists and multi-row inserts (SQLite allows 32,766 bound values).
_CHUNK = 1000


@dataclass
class _TubeState:
    """A tube as the batch sees it while deciding: stored values, or the first accepted scan's."""

    barcode: str
    round_id: int | None
    kind: TubeKind
    pool_size: int
    members: int
    jpath: str
    site_id: int | None
    opened_at: dt.datetime
    id: int | None = None
    household: int | None = None  # the household a household tube holds (-person id for no household)
    added: int = 0


@dataclass(frozen=True)
class _Round:
    id: int
    number: int
    campaign_id: int
    jpath: str
    day: dt.date
    state: RoundState
    closed_at: dt.datetime | None
    pool_size: int


# A device with fewer scans than this in a batch is read with the other devices' by (device, seq) pairs.
_FEW_SEQS = 8


def _read(session: Session, statement: Any) -> Any:
    """Run a read on the session's connection, past the ORM's session layer (a third of a handheld group's
    CPU went there). The caller flushes first: nothing pending is flushed here."""
    return session.connection().execute(statement)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _array(values: Sequence[Any], column: Any) -> Any:
    return bindparam(None, list(values), type_=postgresql.ARRAY(column.type))


def _among(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(array)`` (see the module doc)."""
    if _postgres(session):
        return column == any_(_array(values, column))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def _pairs_among(
    session: Session, first: Any, second: Any, pairs: Sequence[tuple[Any, Any]]
) -> ColumnElement[bool]:
    """``(first, second) IN pairs``; on PostgreSQL against two arrays unnested side by side."""
    if not _postgres(session):
        return tuple_(first, second).in_(pairs)
    firsts, seconds = [a for a, _ in pairs], [b for _, b in pairs]
    return tuple_(first, second).in_(
        select(func.unnest(_array(firsts, first)), func.unnest(_array(seconds, second)))
    )


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _lock(session: Session) -> dict[str, Any]:
    return {"with_for_update": True} if session.get_bind().dialect.name == "postgresql" else {}


def _deepest_area(areas: dict[str, bool], path: str) -> tuple[str, bool] | None:
    """The deepest area holding ``path``: its ancestors looked up, not every area tried (a city has
    thousands of communities)."""
    end = len(path)
    while end > 0:
        prefix = path[:end]
        if prefix in areas:
            return prefix, areas[prefix]
        end = path.rfind("/", 0, end - 1) + 1
    return None


# ------------------------------------------------------------------------------------------------ reads


def _recorded_scans(
    session: Session, by_device: dict[str, list[int]]
) -> dict[tuple[str, int], tuple[str, int]]:
    """(device, seq) → (barcode, person) of the scans among these already stored.

    A device's queue is read by its sequence numbers; the handhelds' single scans, grouped from many
    devices (``live``), are read together by (device, sequence) pairs: one query a group, not one a device.
    """
    stored: dict[tuple[str, int], tuple[int, int]] = {}
    columns = (TubeMember.device_id, TubeMember.device_seq, TubeMember.tube_id, TubeMember.person_id)
    pairs: list[tuple[str, int]] = []
    for device, seqs in by_device.items():
        if len(seqs) < _FEW_SEQS:
            pairs.extend((device, seq) for seq in seqs)
            continue
        for part in _chunks(sorted(seqs)):
            rows = _read(
                session,
                select(*columns).where(
                    TubeMember.device_id == device, _among(session, TubeMember.device_seq, part)
                ),
            )
            stored.update(((device, seq), (tube_id, person)) for device, seq, tube_id, person in rows)
    for part in _chunks(sorted(pairs)):
        rows = _read(
            session,
            select(*columns).where(_pairs_among(session, TubeMember.device_id, TubeMember.device_seq, part)),
        )
        stored.update(((device, seq), (tube_id, person)) for device, seq, tube_id, person in rows)
    barcodes = _barcodes(session, {tube_id for tube_id, _ in stored.values()})
    return {key: (barcodes[tube_id], person) for key, (tube_id, person) in stored.items()}


def _barcodes(session: Session, tube_ids: set[int]) -> dict[int, str]:
    """Barcodes of tubes by id, read apart from the bindings: an index look-up per tube, never a join the
    planner might answer by reading every tube of the round."""
    found: dict[int, str] = {}
    for part in _chunks(sorted(tube_ids)):
        found.update(
            (tube_id, barcode)
            for tube_id, barcode in _read(
                session, select(Tube.id, Tube.barcode).where(_among(session, Tube.id, part))
            )
        )
    return found


def _rounds(session: Session, ids: set[int]) -> dict[int, _Round]:
    if not ids:
        return {}
    rows = _read(
        session,
        select(
            CampaignRound.id,
            CampaignRound.number,
            CampaignRound.campaign_id,
            CampaignRound.jpath,
            CampaignRound.day,
            CampaignRound.state,
            CampaignRound.closed_at,
            Campaign.pool_size,
        )
        .join(Campaign, Campaign.id == CampaignRound.campaign_id)
        .where(_among(session, CampaignRound.id, sorted(ids))),
    )
    return {r.id: _Round(*r) for r in rows}


def _people(session: Session, ids: set[int]) -> dict[int, tuple[str, int | None]]:
    found: dict[int, tuple[str, int | None]] = {}
    for part in _chunks(sorted(ids)):
        rows = _read(
            session,
            select(Person.id, Person.jpath, Person.household_id).where(_among(session, Person.id, part)),
        )
        found.update((pid, (path, household)) for pid, path, household in rows)
    return found


def _sampled_in_rounds(session: Session, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """(round, person) → barcode for the pairs already bound."""
    by_round: dict[int, list[int]] = defaultdict(list)
    for round_id, person in pairs:
        by_round[round_id].append(person)
    stored: dict[tuple[int, int], int] = {}
    for round_id, persons in by_round.items():
        for part in _chunks(sorted(persons)):
            rows = _read(
                session,
                # By (person, round) pairs, so that each is one probe of the unique key: given the round
                # and a list of people, the planner may read the whole round by its (round, place) index
                # and test every binding against the list (a quarter of a second per call of 500 scans in
                # a round of 30,000, growing with the round).
                select(TubeMember.person_id, TubeMember.tube_id).where(
                    _pairs_among(
                        session, TubeMember.person_id, TubeMember.round_id, [(p, round_id) for p in part]
                    )
                ),
            )
            stored.update(((round_id, person), tube_id) for person, tube_id in rows)
    barcodes = _barcodes(session, set(stored.values()))
    return {key: barcodes[tube_id] for key, tube_id in stored.items()}


def _under_management(session: Session, persons: set[int], rounds: dict[int, _Round]) -> set[int]:
    """People under a management plan: a test order still to come or still open.

    Plans' tests become orders (``service.orders``), so an order not cancelled and due on or after the
    earliest round day in the batch, or open and overdue, means the person is in a high-risk group whose
    samples go in single tubes (rt.pool: "single tubes for key groups").
    """
    if not persons or not rounds:
        return set()
    first_day = min(r.day for r in rounds.values())
    found: set[int] = set()
    for part in _chunks(sorted(persons)):
        found.update(
            _read(
                session,
                select(TestOrder.person_id)
                .where(
                    _among(session, TestOrder.person_id, part),
                    TestOrder.state != OrderState.cancelled,
                    (TestOrder.due_date >= first_day) | (TestOrder.state == OrderState.open),
                )
                .distinct(),
            ).scalars()
        )
    return found


def _tubes(session: Session, barcodes: list[str]) -> dict[str, _TubeState]:
    """The stored tubes among these barcodes; on PostgreSQL locked (in id order) until the commit."""
    found: dict[str, _TubeState] = {}
    for part in _chunks(barcodes):
        query = (
            select(
                Tube.barcode, Tube.round_id, Tube.kind, Tube.pool_size, Tube.members, Tube.jpath,
                Tube.site_id, Tube.opened_at, Tube.id,
            )
            .where(_among(session, Tube.barcode, part))
            .order_by(Tube.id)
        )  # fmt: skip
        if _lock(session):
            query = query.with_for_update()
        for barcode, round_id, kind, pool_size, members, jpath, site_id, opened_at, tube_id in _read(
            session, query
        ):
            found[barcode] = _TubeState(
                barcode, round_id, kind, pool_size, members, jpath, site_id, opened_at, id=tube_id
            )
    return found


def _tube_households(session: Session, tubes: dict[str, _TubeState]) -> None:
    """Fill in which household each stored household tube holds."""
    by_id = {t.id: t for t in tubes.values() if t.kind is TubeKind.household and t.members and t.id}
    for part in _chunks(sorted(by_id)):
        rows = _read(
            session,
            select(TubeMember.tube_id, TubeMember.person_id, Person.household_id)
            .join(Person, Person.id == TubeMember.person_id)
            .where(_among(session, TubeMember.tube_id, part)),
        )
        for tube_id, person, household in rows:
            by_id[tube_id].household = household if household is not None else -person


def _household_tubes(
    session: Session, round_ids: set[int], households: set[int]
) -> dict[tuple[int, int], str]:
    """(round, household) → barcode of the household tubes these households already have."""
    found: dict[tuple[int, int], str] = {}
    real = sorted(h for h in households if h > 0)
    alone = sorted(-h for h in households if h < 0)
    for round_id in round_ids:
        for part in _chunks(real):
            in_households = _read(
                session,
                select(Person.household_id, Tube.barcode)
                .join(TubeMember, TubeMember.person_id == Person.id)
                .join(Tube, Tube.id == TubeMember.tube_id)
                .where(
                    TubeMember.round_id == round_id,
                    Tube.kind == TubeKind.household,
                    _among(session, Person.household_id, part),
                ),
            )
            found.update(((round_id, h), barcode) for h, barcode in in_households if h is not None)
        for part in _chunks(alone):
            alone_rows = _read(
                session,
                select(TubeMember.person_id, Tube.barcode)
                .join(Tube, Tube.id == TubeMember.tube_id)
                .where(
                    Tube.kind == TubeKind.household,
                    # By (person, round) pairs: probes of the unique key (see _sampled_in_rounds).
                    _pairs_among(
                        session, TubeMember.person_id, TubeMember.round_id, [(p, round_id) for p in part]
                    ),
                ),
            )
            found.update(((round_id, -p), barcode) for p, barcode in alone_rows)
    return found
