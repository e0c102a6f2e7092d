"""Coverage of a round (应检未检): per community, the people expected, sampled, not sampled and sampled
without a result yet; the turnaround from sampling to result against the laboratory's deadline; the
progress through the round for its chart; and the list of the people not sampled, as an Excel workbook
for community workers (masked unless the reader's role may reveal personal data, and audited).

Counts are grouped queries over the round's bindings (``testing_tube_members`` by round and path), so a
round of ten million people is a handful of scans, not ten million rows brought back.

A round is seen by the coordinators above its area and by the workers inside it; a worker inside sees
only the communities of their own jurisdiction.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sqlalchemy import ColumnElement, Float, and_, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import as_local, utcnow
from fangkong.core.crypto import Vault
from fangkong.core.db import Instant, sqlite_instant
from fangkong.core.errors import NotFound
from fangkong.core.models import Household, Jurisdiction, Person
from fangkong.core.permissions import Permission
from fangkong.core.scope import path_in_scope, under
from fangkong.testing.models import (
    CampaignRound,
    Laboratory,
    LabResult,
    RoundExpected,
    Tube,
    TubeMember,
)

# Hours a laboratory has for a result once it has the samples, when the tube's laboratory is not known
# (rural "乡采样、县检测": results within 12 h of receiving the samples; protocols.md §7
# epi.lab_turnaround, S54).
DEFAULT_LAB_HOURS = 12
# Rows read per batch when the not-sampled list is written.
_BATCH = 5_000

Language = Literal["zh", "en"]


def visible_round(session: Session, principal: Principal, round_id: int) -> tuple[CampaignRound, str]:
    """The round and the subtree the caller sees of it (the deeper of the round's and the caller's)."""
    found = session.get(CampaignRound, round_id)
    if found is None:
        raise NotFound(f"round {round_id} not found")
    if path_in_scope(found.jpath, principal.jpath):
        return found, found.jpath
    if path_in_scope(principal.jpath, found.jpath):
        return found, principal.jpath
    raise NotFound(f"round {round_id} not found")


# ------------------------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class CommunityCoverage:
    jurisdiction_id: int
    jpath: str
    name: str
    expected: int
    sampled: int
    # Expected people with no sample in the round (registry residents of the community).
    not_sampled: int
    # Sampled, but their tube has no result yet.
    without_result: int

    @property
    def share(self) -> float:
        """Share of the expected people sampled (0 when none are expected)."""
        return min(self.sampled / self.expected, 1.0) if self.expected else 0.0


@dataclass(frozen=True)
class RoundCoverage:
    round_id: int
    number: int
    day: dt.date
    deadline_at: dt.datetime
    communities: list[CommunityCoverage]

    @property
    def expected(self) -> int:
        return sum(c.expected for c in self.communities)

    @property
    def sampled(self) -> int:
        return sum(c.sampled for c in self.communities)

    @property
    def not_sampled(self) -> int:
        return sum(c.not_sampled for c in self.communities)

    @property
    def without_result(self) -> int:
        return sum(c.without_result for c in self.communities)


def coverage(session: Session, principal: Principal, round_id: int) -> RoundCoverage:
    """Expected, sampled, not sampled and without result per community of the round (in the caller's view)."""
    found, scope = visible_round(session, principal, round_id)
    expected = {
        jid: (path, name, n)
        for jid, path, name, n in session.execute(
            select(
                RoundExpected.jurisdiction_id, RoundExpected.jpath, Jurisdiction.name, RoundExpected.expected
            )
            .join(Jurisdiction, Jurisdiction.id == RoundExpected.jurisdiction_id)
            .where(RoundExpected.round_id == found.id, under(RoundExpected.jpath, scope))
        )
    }
    in_round = and_(TubeMember.round_id == found.id, under(TubeMember.jpath, scope))
    sampled: dict[str, int] = {
        path: int(n)
        for path, n in session.execute(
            select(TubeMember.jpath, func.count()).where(in_round).group_by(TubeMember.jpath)
        )
    }
    pending: dict[str, int] = {
        path: int(n)
        for path, n in session.execute(
            select(TubeMember.jpath, func.count())
            .join(Tube, Tube.id == TubeMember.tube_id)
            .where(in_round, Tube.result.is_(None))
            .group_by(TubeMember.jpath)
        )
    }
    by_path = {path: (jid, name, n) for jid, (path, name, n) in expected.items()}
    # People registered after the round opened have no expected row: show their community all the same.
    extra = sorted(set(sampled) - set(by_path))
    if extra:
        for jid, path, name in session.execute(
            select(Jurisdiction.id, Jurisdiction.path, Jurisdiction.name).where(Jurisdiction.path.in_(extra))
        ):
            by_path[path] = (jid, name, 0)
    rows = [
        CommunityCoverage(
            jurisdiction_id=jid,
            jpath=path,
            name=name,
            expected=n,
            sampled=sampled.get(path, 0),
            not_sampled=max(n - sampled.get(path, 0), 0),
            without_result=pending.get(path, 0),
        )
        for path, (jid, name, n) in sorted(by_path.items())
    ]
    return RoundCoverage(found.id, found.number, found.day, found.deadline_at, rows)


# ----------------------------------------------------------------------------------------- turnaround


@dataclass(frozen=True)
class Turnaround:
    """Sampling to result for a round's tubes, against each laboratory's deadline.

    A tube is sampled when its last swab went in; its laboratory's clock starts when the laboratory
    received it (or, not knowing that, when it was sampled). ``late`` tubes got their result after the
    deadline; ``overdue`` tubes still have none and are past it.
    """

    tubes: int
    resulted: int
    within_deadline: int
    late: int
    pending: int
    overdue: int
    median_hours: float | None
    p90_hours: float | None
    max_hours: float | None

    @property
    def on_time_share(self) -> float | None:
        return self.within_deadline / self.resulted if self.resulted else None


def _hours(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier) / 3600.0, Float)
    return cast((func.julianday(later) - func.julianday(earlier)) * 24.0, Float)


def _instant(session: Session, moment: dt.datetime) -> Any:
    """An instant as a SQL literal compared with stored instants (SQLite keeps them as UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return literal(moment, Instant)
    return literal(sqlite_instant(moment))


def turnaround(session: Session, principal: Principal, round_id: int) -> Turnaround:
    """Turnaround of a round's tubes in the caller's view; hours, from the last swab of each tube."""
    found, scope = visible_round(session, principal, round_id)
    sampled = (
        select(TubeMember.tube_id, func.max(TubeMember.scanned_at).label("sampled_at"))
        .where(TubeMember.round_id == found.id)
        .group_by(TubeMember.tube_id)
        .subquery()
    )
    now = _instant(session, utcnow())
    rows = session.execute(
        select(
            _hours(session, Tube.resulted_at, sampled.c.sampled_at),
            func.coalesce(_hours(session, Tube.received_at, sampled.c.sampled_at), 0.0),
            _hours(session, now, sampled.c.sampled_at),
            func.coalesce(Laboratory.turnaround_hours, DEFAULT_LAB_HOURS),
        )
        .select_from(Tube)
        .join(sampled, sampled.c.tube_id == Tube.id)
        .outerjoin(
            LabResult, and_(LabResult.barcode == Tube.barcode, LabResult.version == Tube.result_version)
        )
        .outerjoin(Laboratory, Laboratory.id == LabResult.laboratory_id)
        .where(Tube.round_id == found.id, under(Tube.jpath, scope))
    ).all()
    if not rows:
        return Turnaround(0, 0, 0, 0, 0, 0, None, None, None)
    to_result = np.array([np.nan if r[0] is None else float(r[0]) for r in rows])
    allowed = np.array([float(r[1]) + float(r[3]) for r in rows])
    elapsed = np.array([float(r[2]) for r in rows])
    resulted = ~np.isnan(to_result)
    late = resulted & (to_result > allowed)
    overdue = ~resulted & (elapsed > allowed)
    done = to_result[resulted]
    return Turnaround(
        tubes=len(rows),
        resulted=int(resulted.sum()),
        within_deadline=int((resulted & ~late).sum()),
        late=int(late.sum()),
        pending=int((~resulted).sum()),
        overdue=int(overdue.sum()),
        median_hours=round(float(np.median(done)), 2) if done.size else None,
        p90_hours=round(float(np.percentile(done, 90)), 2) if done.size else None,
        max_hours=round(float(done.max()), 2) if done.size else None,
    )


# ------------------------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class ProgressPoint:
    """People sampled by the end of a step of the round (local wall time), and the share of expected."""

    at: dt.datetime
    sampled: int
    share: float


def progress(
    session: Session, principal: Principal, round_id: int, *, step_minutes: int = 60
) -> list[ProgressPoint]:
    """Cumulative samples through the round, one point per step from its start to its last scan."""
    found, scope = visible_round(session, principal, round_id)
    step = max(1, step_minutes)
    start = _instant(session, found.starts_at)
    minutes = _hours(session, TubeMember.scanned_at, start) * 60.0
    bucket = (
        func.floor(minutes / step)
        if session.get_bind().dialect.name == "postgresql"
        else cast(minutes / step, Float)
    )
    counts: dict[int, int] = {}
    for value, n in session.execute(
        select(bucket.label("bucket"), func.count())
        .where(TubeMember.round_id == found.id, under(TubeMember.jpath, scope))
        .group_by("bucket")
    ):
        index = max(int(value // 1), 0)  # swabs taken before the start count in the first step
        counts[index] = counts.get(index, 0) + int(n)
    expected = int(
        session.scalar(
            select(func.coalesce(func.sum(RoundExpected.expected), 0)).where(
                RoundExpected.round_id == found.id, under(RoundExpected.jpath, scope)
            )
        )
        or 0
    )
    points: list[ProgressPoint] = []
    total = 0
    for index in range(max(counts, default=-1) + 1):
        total += counts.get(index, 0)
        at = as_local(found.starts_at + dt.timedelta(minutes=step * (index + 1)))
        points.append(ProgressPoint(at, total, total / expected if expected else 0.0))
    return points


# ------------------------------------------------------------------------------------------ not sampled


@dataclass(frozen=True)
class NotSampledPerson:
    person_id: int
    community: str
    name: str
    id_number: str
    phone: str
    address: str


_HEADERS: list[tuple[str, str]] = [
    ("Community", "社区"),
    ("Name", "姓名"),
    ("ID number", "身份证号"),
    ("Phone", "手机号"),
    ("Address", "住址"),
]


def _not_sampled_rows(session: Session, found: CampaignRound, scope: str, community_id: int | None) -> Any:
    # The round's communities as it counted them when it opened (testing_round_expected), one id each: a
    # condition of one path range per campaign area would make the database test each resident against
    # every area, the shape that took the expected population minutes for a city's 2,000 communities.
    expected = select(RoundExpected.jurisdiction_id).where(RoundExpected.round_id == found.id)
    conditions: list[ColumnElement[bool]] = [
        Person.jurisdiction_id.in_(expected.scalar_subquery()),
        under(Person.jpath, scope),
    ]
    if community_id is not None:
        conditions.append(Person.jurisdiction_id == community_id)
    sampled = exists().where(TubeMember.round_id == found.id, TubeMember.person_id == Person.id)
    return (
        select(
            Person.id,
            Jurisdiction.name,
            Person.name_masked,
            Person.id_masked,
            Person.phone_masked,
            Household.address_masked,
            Person.pii,
        )
        .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
        .outerjoin(Household, Household.id == Person.household_id)
        .where(*conditions, ~sampled)
        .order_by(Person.jpath, Person.id)
    )


def not_sampled(
    session: Session,
    principal: Principal,
    round_id: int,
    *,
    community_id: int | None = None,
    vault: Vault | None = None,
) -> list[NotSampledPerson]:
    """The expected people with no sample in the round, masked unless ``vault`` is given and the role may
    reveal (the reveal is audited by the caller: :func:`not_sampled_workbook`)."""
    found, scope = visible_round(session, principal, round_id)
    reveal = vault is not None and principal.can(Permission.people_reveal)
    people: list[NotSampledPerson] = []
    query = _not_sampled_rows(session, found, scope, community_id).execution_options(yield_per=_BATCH)
    for pid, community, name, id_masked, phone_masked, address_masked, pii in session.execute(query):
        if reveal and vault is not None:
            data = vault.decrypt_person(pii)
            people.append(
                NotSampledPerson(pid, community, data.name, data.id_number, data.phone, data.address)
            )
        else:
            people.append(
                NotSampledPerson(pid, community, name, id_masked, phone_masked or "", address_masked or "")
            )
    return people


def not_sampled_workbook(
    session: Session,
    principal: Principal,
    round_id: int,
    *,
    vault: Vault | None = None,
    community_id: int | None = None,
    language: Language = "zh",
    ip: str = "",
) -> bytes:
    """The not-sampled list as an .xlsx for community workers; the export (and any reveal) is audited."""
    from openpyxl import Workbook

    found, _scope = visible_round(session, principal, round_id)
    people = not_sampled(session, principal, round_id, community_id=community_id, vault=vault)
    revealed = vault is not None and principal.can(Permission.people_reveal)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("应检未检" if language == "zh" else "Not sampled")
    sheet.append([zh if language == "zh" else en for en, zh in _HEADERS])
    for p in people:
        sheet.append([p.community, p.name, p.id_number, p.phone, p.address])
    buffer = io.BytesIO()
    book.save(buffer)
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, ip or "web"),
        "testing.not_sampled.export",
        "round",
        found.id,
        jpath=found.jpath,
        detail={
            "people": len(people),
            "revealed": revealed,
            "community": community_id,
            # An unmasked read names whose data was read.
            **({"person_ids": [p.person_id for p in people]} if revealed else {}),
        },
    )
    return buffer.getvalue()
