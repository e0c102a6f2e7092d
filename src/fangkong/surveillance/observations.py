"""Observations: ingest (upload, API, scheduled pull) with revisions kept, and reading them back.

Ingest is set-based: one query for the values already held, one batched insert of new observations
(ids returned in order), one batched update of corrected ones and one batched insert of their revisions.
A value sent again unchanged makes no revision; a changed one bumps the observation's revision and the
old value stays in ``surveillance_observation_revisions``. Detectors read the latest value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.db import Database
from fangkong.core.errors import DomainError, InvalidInput, NotFound
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope, under
from fangkong.surveillance import service
from fangkong.surveillance.ingest import (
    ChannelInfo,
    CleanRecord,
    PlaceInfo,
    RawRecord,
    records_from_json,
    validate,
)
from fangkong.surveillance.models import Channel, IngestBatch, Observation, ObservationRevision, PullSource
from fangkong.surveillance.pull import PULL_OVERLAP_DAYS, PullError, Source, source_for

T = TypeVar("T")

LOOKUP_CHUNK = 2_000
"""keys per query when looking up values already held (well under SQLite's bound-parameter limit)."""

SAME_VALUE_TOLERANCE = 1e-9
"""values closer than this are the same report sent again, not a correction."""


@dataclass(frozen=True)
class IngestReport:
    batch_id: int
    rows: int
    created: int
    revised: int
    unchanged: int


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def ingest(
    session: Session,
    actor: audit.Actor,
    path: str,
    records: Sequence[RawRecord],
    source: str,
    now: dt.datetime,
) -> IngestReport:
    """Check every record, then write all of them (new values and corrections) or none."""
    channels = {
        c.code: ChannelInfo(c.id, c.code, c.frequency, c.report_level)
        for c in service.list_channels(session, path, include_inactive=False)
    }
    codes = sorted({r.jurisdiction for r in records if r.jurisdiction})
    places: dict[str, PlaceInfo] = {}
    for chunk in _chunks(codes, LOOKUP_CHUNK):
        for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(list(chunk)))):
            places[j.code] = PlaceInfo(j.id, j.code, j.path, j.level)
    clean = validate(records, channels, places, path, clock.local_day(now))
    batch = IngestBatch(
        source=source[:200], jpath=path, actor=actor.username, received_at=now, rows=len(clean)
    )
    session.add(batch)
    session.flush()
    held = _held(session, clean)
    new = [r for r in clean if (r.channel_id, r.jurisdiction_id, r.period_start) not in held]
    changed = [
        (r, held[(r.channel_id, r.jurisdiction_id, r.period_start)])
        for r in clean
        if (key := (r.channel_id, r.jurisdiction_id, r.period_start)) in held
        and abs(held[key][1] - r.value) > SAME_VALUE_TOLERANCE
    ]
    revisions: list[dict[str, object]] = []
    if new:
        ids = session.scalars(
            insert(Observation).returning(Observation.id, sort_by_parameter_order=True),
            [
                {
                    "channel_id": r.channel_id,
                    "jurisdiction_id": r.jurisdiction_id,
                    "jpath": r.jpath,
                    "period_start": r.period_start,
                    "value": r.value,
                    "revision": 1,
                    "updated_at": now,
                    "batch_id": batch.id,
                }
                for r in new
            ],
        ).all()
        revisions += [
            {"observation_id": oid, "revision": 1, "value": r.value, "recorded_at": now, "batch_id": batch.id}
            for oid, r in zip(ids, new, strict=True)
        ]
    if changed:
        session.execute(
            update(Observation),
            [
                {"id": oid, "value": r.value, "revision": rev + 1, "updated_at": now, "batch_id": batch.id}
                for r, (oid, _value, rev) in changed
            ],
        )
        revisions += [
            {
                "observation_id": oid,
                "revision": rev + 1,
                "value": r.value,
                "recorded_at": now,
                "batch_id": batch.id,
            }
            for r, (oid, _value, rev) in changed
        ]
    if revisions:
        session.execute(insert(ObservationRevision), revisions)
    batch.created, batch.revised = len(new), len(changed)
    batch.unchanged = len(clean) - len(new) - len(changed)
    audit.record(
        session,
        actor,
        "surveillance.observations.ingest",
        "ingest_batch",
        batch.id,
        jpath=path,
        detail={
            "source": batch.source,
            "rows": batch.rows,
            "created": batch.created,
            "revised": batch.revised,
            "unchanged": batch.unchanged,
        },
    )
    return IngestReport(batch.id, batch.rows, batch.created, batch.revised, batch.unchanged)


def _held(
    session: Session, clean: Sequence[CleanRecord]
) -> dict[tuple[int, int, dt.date], tuple[int, float, int]]:
    """Values already held for the batch's keys: key -> (observation id, value, revision)."""
    keys = sorted({(r.channel_id, r.jurisdiction_id, r.period_start) for r in clean})
    held: dict[tuple[int, int, dt.date], tuple[int, float, int]] = {}
    for chunk in _chunks(keys, LOOKUP_CHUNK):
        rows = session.execute(
            select(
                Observation.id,
                Observation.channel_id,
                Observation.jurisdiction_id,
                Observation.period_start,
                Observation.value,
                Observation.revision,
            ).where(
                tuple_(Observation.channel_id, Observation.jurisdiction_id, Observation.period_start).in_(
                    list(chunk)
                )
            )
        ).all()
        for oid, channel_id, jurisdiction_id, start, value, revision in rows:
            held[(channel_id, jurisdiction_id, start)] = (oid, value, revision)
    return held


@dataclass(frozen=True)
class ObservationRow:
    observation: Observation
    channel: Channel
    place: Jurisdiction


def list_observations(
    session: Session,
    path: str,
    *,
    channel_id: int | None = None,
    jurisdiction_id: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[list[ObservationRow], int]:
    from sqlalchemy import func

    scope = path
    if jurisdiction_id is not None:
        scope = service.jurisdiction_in_scope(session, path, jurisdiction_id).path
    condition = [under(Observation.jpath, scope)]
    if channel_id is not None:
        condition.append(Observation.channel_id == channel_id)
    if start is not None:
        condition.append(Observation.period_start >= start)
    if end is not None:
        condition.append(Observation.period_start <= end)
    total = session.scalar(select(func.count()).select_from(Observation).where(*condition)) or 0
    size = max(1, min(size, service.MAX_PAGE_SIZE))
    rows = session.execute(
        select(Observation, Channel, Jurisdiction)
        .join(Channel, Channel.id == Observation.channel_id)
        .join(Jurisdiction, Jurisdiction.id == Observation.jurisdiction_id)
        .where(*condition)
        .order_by(Observation.period_start.desc(), Observation.id.desc())
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    return [ObservationRow(o, c, j) for o, c, j in rows], total


def get_observation(session: Session, path: str, observation_id: int) -> Observation:
    observation = session.get(Observation, observation_id)
    if observation is None or not path_in_scope(observation.jpath, path):
        raise NotFound(f"observation {observation_id} not found")
    return observation


def revisions_of(
    session: Session, path: str, observation_id: int
) -> list[tuple[ObservationRevision, IngestBatch]]:
    """Every value the observation has had, first report first."""
    get_observation(session, path, observation_id)
    rows = session.execute(
        select(ObservationRevision, IngestBatch)
        .join(IngestBatch, IngestBatch.id == ObservationRevision.batch_id)
        .where(ObservationRevision.observation_id == observation_id)
        .order_by(ObservationRevision.revision)
    )
    return list(rows)


def list_batches(session: Session, path: str, limit: int = 50) -> list[IngestBatch]:
    return list(
        session.scalars(
            select(IngestBatch)
            .where(under(IngestBatch.jpath, path))
            .order_by(IngestBatch.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------- the scheduled pull


@dataclass(frozen=True)
class PullOutcome:
    source_id: int
    name: str
    ok: bool
    message: str
    report: IngestReport | None


def _since(source: PullSource) -> dt.date | None:
    if source.last_pulled_at is None:
        return None
    return clock.local_day(source.last_pulled_at) - dt.timedelta(days=PULL_OVERLAP_DAYS)


def _with_channel(items: Sequence[dict[str, object]], channel_code: str | None) -> list[dict[str, object]]:
    if not channel_code:
        return list(items)
    return [item if item.get("channel") else {**item, "channel": channel_code} for item in items]


def pull_source(
    session: Session,
    actor: audit.Actor,
    path: str,
    source: PullSource,
    now: dt.datetime,
    fetcher: Source | None = None,
) -> IngestReport:
    """Fetch one source and ingest what it returns (PullError or InvalidInput when it cannot be used)."""
    reader = fetcher or source_for(source.kind, source.url)
    items = reader.fetch(_since(source))
    records = records_from_json(_with_channel([dict(i) for i in items], source.channel_code))
    report = ingest(
        session,
        actor,
        source.jpath if path_in_scope(source.jpath, path) else path,
        records,
        f"pull:{source.name}",
        now,
    )
    source.last_pulled_at = now
    source.last_batch_id = report.batch_id
    source.last_status = f"ok: {report.rows} rows, {report.created} new, {report.revised} revised"
    return report


def pull_all(
    db: Database, actor: audit.Actor, path: str, now: dt.datetime, names: Sequence[str] = ()
) -> list[PullOutcome]:
    """Pull every active source in scope (or those named), each in its own transaction."""
    with db.unit_of_work() as session:
        stmt = select(PullSource.id, PullSource.name).where(
            under(PullSource.jpath, path), PullSource.active.is_(True)
        )
        if names:
            stmt = stmt.where(PullSource.name.in_(list(names)))
        sources = session.execute(stmt.order_by(PullSource.id)).all()
    outcomes: list[PullOutcome] = []
    for source_id, name in sources:
        try:
            with db.unit_of_work() as session:
                source = session.get(PullSource, source_id)
                assert source is not None
                report = pull_source(session, actor, path, source, now)
                outcomes.append(PullOutcome(source_id, name, True, source.last_status, report))
        except (PullError, DomainError) as exc:
            message = str(exc) if isinstance(exc, PullError) else exc.message
            if isinstance(exc, InvalidInput):
                message = "; ".join(str(e) for e in exc.errors[:5])
            with db.unit_of_work() as session:
                source = session.get(PullSource, source_id)
                if source is not None:
                    source.last_status = f"failed: {message}"[:500]
            outcomes.append(PullOutcome(source_id, name, False, message, None))
    if not names:
        from fangkong.surveillance.from_tracing import FEED_SOURCE, feed_confirmed_cases

        with db.unit_of_work() as session:
            fed = feed_confirmed_cases(session, actor, path, now)
        if fed is not None:
            status = f"ok: {fed.rows} rows, {fed.created} new, {fed.revised} revised"
            outcomes.append(PullOutcome(0, FEED_SOURCE, True, status, fed))
    return outcomes
