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
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from sqlalchemy import Date, Table, bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import utcnow
from fangkong.core.db import Instant, sqlite_instant
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.i18n import Message
from fangkong.core.models import Person
from fangkong.core.scope import path_in_scope
from fangkong.testing.models import (
    Campaign,
    CampaignArea,
    CampaignRound,
    OrderState,
    RoundState,
    SamplingSite,
    TestOrder,
    Tube,
    TubeKind,
    TubeMember,
)
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.rules.rounds import POOL_SIZES

# Longest barcode and device id the tables hold, characters.
MAX_BARCODE = 40
MAX_DEVICE_ID = 40
# Largest device sequence number (the column is a 32-bit integer).
MAX_SEQ = 2**31 - 1
TUBES = cast(Table, Tube.__table__)
MEMBERS = cast(Table, TubeMember.__table__)
# Rows per statement for the IN lists and multi-row inserts (SQLite allows 32,766 bound values).
_CHUNK = 1000


@dataclass(frozen=True)
class Scan:
    """One scan of a handheld: this person's swab went into this tube.

    ``pool_size`` and ``kind`` describe the tube when the scan opens it (later scans may leave them out):
    by default a tube holds the campaign's pool size, is a household tube in a sealed area and a pooled
    one elsewhere, and a pool size of 1 makes a single tube.
    """

    device_id: str
    device_seq: int
    round_id: int
    barcode: str
    person_code: str
    scanned_at: dt.datetime
    pool_size: int | None = None
    kind: TubeKind | None = None
    site_id: int | None = None


class ScanStatus:
    recorded = "recorded"
    already_recorded = "already_recorded"
    refused = "refused"


@dataclass(frozen=True)
class ScanOutcome:
    """What became of one scan (``index`` is its place in the call); ``field`` names the scan's part at
    fault when refused."""

    index: int
    device_id: str
    device_seq: int
    status: str
    message: Message | None = None
    field: str = ""

    @property
    def text(self) -> str:
        return "" if self.message is None else str(self.message)


@dataclass
class BindReport:
    outcomes: list[ScanOutcome] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def recorded(self) -> int:
        return self._count(ScanStatus.recorded)

    @property
    def already_recorded(self) -> int:
        return self._count(ScanStatus.already_recorded)

    @property
    def refused(self) -> int:
        return self._count(ScanStatus.refused)


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


def _insert(session: Session, table: Table) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _shape_problem(scan: Scan) -> tuple[str, Message] | None:
    if not scan.device_id or len(scan.device_id) > MAX_DEVICE_ID:
        return "device_id", Message("the device id must have 1 to {n} characters", n=MAX_DEVICE_ID)
    if not 0 <= scan.device_seq <= MAX_SEQ:
        return "device_seq", Message("the sequence number must be between 0 and {n}", n=MAX_SEQ)
    if not scan.barcode or len(scan.barcode) > MAX_BARCODE:
        return "barcode", Message("the tube barcode must have 1 to {n} characters", n=MAX_BARCODE)
    if scan.scanned_at.tzinfo is None:
        return "scanned_at", Message("the scan time must carry its time zone")
    if scan.pool_size is not None and scan.pool_size not in POOL_SIZES:
        return "pool_size", Message("pool size must be one of {sizes}", sizes=list(POOL_SIZES))
    if scan.kind is TubeKind.single and scan.pool_size not in (None, 1):
        return "pool_size", Message("a single tube holds one person")
    return None


def _lock(session: Session) -> dict[str, Any]:
    return {"with_for_update": True} if session.get_bind().dialect.name == "postgresql" else {}


def bind(session: Session, principal: Principal, scans: Sequence[Scan], *, codes: ScanCodes) -> BindReport:
    """Bind each scan's person to its tube; one outcome per scan, in the order given.

    Nothing of a refused scan is written; the other scans of the batch are (a device's queue is many
    people, each recorded or refused on their own). ``codes`` reads the person codes (the settings'
    hash key).
    """
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
            for sid, cid, path, active in session.execute(
                select(
                    SamplingSite.id, SamplingSite.campaign_id, SamplingSite.jpath, SamplingSite.active
                ).where(SamplingSite.id.in_(site_ids))
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
        for cid, path, sealed in session.execute(
            select(CampaignArea.campaign_id, CampaignArea.jpath, CampaignArea.sealed).where(
                CampaignArea.campaign_id.in_(campaign_ids)
            )
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


# ------------------------------------------------------------------------------------------------ reads


def _recorded_scans(
    session: Session, by_device: dict[str, list[int]]
) -> dict[tuple[str, int], tuple[str, int]]:
    """(device, seq) → (barcode, person) of the scans among these already stored."""
    stored: dict[tuple[str, int], tuple[int, int]] = {}
    for device, seqs in by_device.items():
        for part in _chunks(sorted(seqs)):
            rows = session.execute(
                select(TubeMember.device_seq, TubeMember.tube_id, TubeMember.person_id).where(
                    TubeMember.device_id == device, TubeMember.device_seq.in_(part)
                )
            )
            stored.update(((device, seq), (tube_id, person)) for seq, tube_id, person in rows)
    barcodes = _barcodes(session, {tube_id for tube_id, _ in stored.values()})
    return {key: (barcodes[tube_id], person) for key, (tube_id, person) in stored.items()}


def _barcodes(session: Session, tube_ids: set[int]) -> dict[int, str]:
    """Barcodes of tubes by id, read apart from the bindings: an index look-up per tube, never a join the
    planner might answer by reading every tube of the round."""
    found: dict[int, str] = {}
    for part in _chunks(sorted(tube_ids)):
        found.update(
            (tube_id, barcode)
            for tube_id, barcode in session.execute(select(Tube.id, Tube.barcode).where(Tube.id.in_(part)))
        )
    return found


def _rounds(session: Session, ids: set[int]) -> dict[int, _Round]:
    if not ids:
        return {}
    rows = session.execute(
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
        .where(CampaignRound.id.in_(ids))
    )
    return {r.id: _Round(*r) for r in rows}


def _people(session: Session, ids: set[int]) -> dict[int, tuple[str, int | None]]:
    found: dict[int, tuple[str, int | None]] = {}
    for part in _chunks(sorted(ids)):
        rows = session.execute(
            select(Person.id, Person.jpath, Person.household_id).where(Person.id.in_(part))
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
            rows = session.execute(
                select(TubeMember.person_id, TubeMember.tube_id).where(
                    TubeMember.round_id == round_id, TubeMember.person_id.in_(part)
                )
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
            session.scalars(
                select(TestOrder.person_id)
                .where(
                    TestOrder.person_id.in_(part),
                    TestOrder.state != OrderState.cancelled,
                    (TestOrder.due_date >= first_day) | (TestOrder.state == OrderState.open),
                )
                .distinct()
            )
        )
    return found


def _tubes(session: Session, barcodes: list[str]) -> dict[str, _TubeState]:
    found: dict[str, _TubeState] = {}
    for part in _chunks(barcodes):
        query = (
            select(Tube)
            .where(Tube.barcode.in_(part))
            .order_by(Tube.id)
            .execution_options(populate_existing=True)
        )
        lock = _lock(session)
        if lock:
            query = query.with_for_update()
        for tube in session.scalars(query):
            found[tube.barcode] = _TubeState(
                tube.barcode,
                tube.round_id,
                tube.kind,
                tube.pool_size,
                tube.members,
                tube.jpath,
                tube.site_id,
                tube.opened_at,
                id=tube.id,
            )
    return found


def _tube_households(session: Session, tubes: dict[str, _TubeState]) -> None:
    """Fill in which household each stored household tube holds."""
    by_id = {t.id: t for t in tubes.values() if t.kind is TubeKind.household and t.members and t.id}
    for part in _chunks(sorted(by_id)):
        rows = session.execute(
            select(TubeMember.tube_id, TubeMember.person_id, Person.household_id)
            .join(Person, Person.id == TubeMember.person_id)
            .where(TubeMember.tube_id.in_(part))
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
            in_households = session.execute(
                select(Person.household_id, Tube.barcode)
                .join(TubeMember, TubeMember.person_id == Person.id)
                .join(Tube, Tube.id == TubeMember.tube_id)
                .where(
                    TubeMember.round_id == round_id,
                    Tube.kind == TubeKind.household,
                    Person.household_id.in_(part),
                )
            )
            found.update(((round_id, h), barcode) for h, barcode in in_households if h is not None)
        for part in _chunks(alone):
            alone_rows = session.execute(
                select(TubeMember.person_id, Tube.barcode)
                .join(Tube, Tube.id == TubeMember.tube_id)
                .where(
                    TubeMember.round_id == round_id,
                    Tube.kind == TubeKind.household,
                    TubeMember.person_id.in_(part),
                )
            )
            found.update(((round_id, -p), barcode) for p, barcode in alone_rows)
    return found


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
    made = _pg_insert_tubes(session, tube_rows) if postgres else _insert_tubes(session, tube_rows)
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
    if postgres:
        return _pg_insert_members(session, member_rows)
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
    """SQLite: multi-row inserts with ON CONFLICT DO NOTHING; barcode → id of the tubes made."""
    made: dict[str, int] = {}
    for part in _chunks(rows):
        statement = (
            _insert(session, TUBES)
            .values([dict(zip(_TUBE_COLUMNS, row, strict=True)) for row in part])
            .on_conflict_do_nothing()
            .returning(TUBES.c.barcode, TUBES.c.id)
        )
        made.update((barcode, tube_id) for barcode, tube_id in session.execute(statement))
    return made


def _insert_members(session: Session, rows: list[tuple[Any, ...]]) -> set[tuple[str, int]]:
    inserted: set[tuple[str, int]] = set()
    for part in _chunks(rows):
        statement = (
            _insert(session, MEMBERS)
            .values([dict(zip(_MEMBER_COLUMNS, row, strict=True)) for row in part])
            .on_conflict_do_nothing()
            .returning(MEMBERS.c.device_id, MEMBERS.c.device_seq)
        )
        inserted.update((device, seq) for device, seq in session.execute(statement))
    return inserted


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


# ------------------------------------------------------------------------------------------ bulk ingest
#
# A site system uploads a whole day of scans (tens or hundreds of thousands) in one call. ``bind`` would
# decide each scan in Python against look-ups by IN lists; here the rows are staged in a temporary table
# (COPY on PostgreSQL, one executemany on SQLite) and checked by joins that bring back only the rows at
# fault, and the tubes and bindings are written by INSERT ... SELECT ... ON CONFLICT DO NOTHING. The
# rules are bind's. Rows whose tube needs bind's finer rules (a sealed area's household tubes, the single
# tubes of people under management, a tube that exists as another kind or in another round) go through
# ``bind`` itself, tube by tube, so the messages are the same.


class SamplingRecord(NamedTuple):
    """One row of a site system's upload (a plain tuple in this order will do)."""

    device_id: str
    device_seq: int
    person_code: str
    barcode: str
    pool_size: int | None
    kind: TubeKind | None
    scanned_at: dt.datetime


@dataclass
class IngestReport:
    """What an upload did: counts, and each refused row by its index in the upload (ascending)."""

    rows: int = 0
    recorded: int = 0
    already_recorded: int = 0
    refusals: list[ScanOutcome] = field(default_factory=list)
    # Rows decided by ``bind`` (sealed areas, single tubes, tubes of another kind or round).
    through_bind: int = 0

    @property
    def refused(self) -> int:
        return len(self.refusals)


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
    stage_rows(session, table, _INGEST_TABLES[table], rows)


def stage_rows(
    session: Session, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Empty the session's temporary ``table`` (made on first use, with ``columns``: name and PostgreSQL
    type) and put ``rows`` in it: COPY on PostgreSQL, one executemany on SQLite."""
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    names = ", ".join(name for name, _ in columns)
    # Made in every transaction that needs it (IF NOT EXISTS): a table made by a transaction that rolled
    # back is gone, so "made once per connection" cannot be remembered.
    if postgres:
        kinds = ", ".join(f"{name} {kind}" for name, kind in columns)
        connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({kinds}) ON COMMIT DELETE ROWS")
    else:
        kinds = ", ".join(f"{name} {'TEXT' if kind.startswith(('var', 'time')) else 'INTEGER'}"
                          for name, kind in columns)  # fmt: skip
        connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({kinds})")
    raw = connection.connection.driver_connection
    assert raw is not None
    if postgres:
        with raw.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
            # Binary COPY: psycopg packs ints, strings and instants in C, with no text to format or parse.
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([_PG_TYPES.get(kind, "varchar") for _, kind in columns])
                for row in rows:
                    copy.write_row(row)
            if len(rows) > 10_000:
                # The planner joins a million staged scans by hash only if it knows there are that many.
                cursor.execute(f"ANALYZE {table}")
        return
    connection.exec_driver_sql(f"DELETE FROM {table}")
    marks = ", ".join("?" for _ in columns)
    instants = [i for i, (_, kind) in enumerate(columns) if kind == "timestamptz"]
    if instants:
        rows = [tuple(sqlite_instant(v) if i in instants else v for i, v in enumerate(row)) for row in rows]
    raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


_PG_TYPES = {"integer": "int4", "timestamptz": "timestamptz"}


def _record_problem(record: SamplingRecord) -> tuple[str, Message] | None:
    device, seq, _code, barcode, pool_size, kind, scanned_at = record
    if not isinstance(device, str) or not device or len(device) > MAX_DEVICE_ID:
        return "device_id", Message("the device id must have 1 to {n} characters", n=MAX_DEVICE_ID)
    if not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        return "device_seq", Message("the sequence number must be between 0 and {n}", n=MAX_SEQ)
    if not isinstance(barcode, str) or not barcode or len(barcode) > MAX_BARCODE:
        return "barcode", Message("the tube barcode must have 1 to {n} characters", n=MAX_BARCODE)
    if not isinstance(scanned_at, dt.datetime) or scanned_at.tzinfo is None:
        return "scanned_at", Message("the scan time must carry its time zone")
    if pool_size is not None and pool_size not in POOL_SIZES:
        return "pool_size", Message("pool size must be one of {sizes}", sizes=list(POOL_SIZES))
    if kind is not None and not isinstance(kind, TubeKind):
        return "kind", Message("“{value}” is not a kind of tube", value=str(kind))
    if kind is TubeKind.single and pool_size not in (None, 1):
        return "pool_size", Message("a single tube holds one person")
    return None


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
    if postgres and len(pending) > 10_000:
        session.execute(text("ANALYZE testing_ingest_scans"))
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
