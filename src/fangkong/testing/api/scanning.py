"""The scanner's route for handhelds: one scan or an offline queue per call (see the package doc).

At a round's peak thousands of handhelds each send one scan per call, so this is the platform's hottest
route and is built to cost as little as a call can: it has a router of its own, matched before every
other (FastAPI tries the routers in order, a regular expression per route, about 0.7 ms of CPU for all
the routes before this one); it is ``async`` and touches no database itself: the caller comes from the
process's cache of token principals (``RequireAtCommit``), confirmed by the group's transaction, and
the call waits for its group's commit on the event loop (``live.LiveScans.bind_async``), holding no
worker thread. A queue too large to share a group is bound alone in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import functools
from contextlib import AsyncExitStack
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request

from fangkong.core import clock
from fangkong.core.auth import HolderChanged, Principal, TokenNoLongerValid
from fangkong.core.config import Settings
from fangkong.core.deps import (
    TOKEN_DIGEST,
    DatabaseGate,
    RequireAtCommit,
    TokenPrincipals,
    get_db,
)
from fangkong.core.i18n import Message, render_text
from fangkong.core.permissions import Permission
from fangkong.testing import service
from fangkong.testing.api.common import EARLIEST_YEAR, SCAN_CLOCK_SKEW, Lang
from fangkong.testing.schemas import ScanBatch, ScanCreate, ScanOutcomePublic, ScanReportPublic
from fangkong.testing.service.scanning import live

handheld_router = APIRouter(prefix="/api/testing", tags=["testing"])

LiveSampler = Annotated[Principal, Depends(RequireAtCommit(Permission.testing_sample))]


def _scan_time(value: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """A scan's time as aware UTC, or None when no swab can have been taken then."""
    try:
        moment = clock.from_local(value)
    except (OverflowError, ValueError):
        return None
    if moment.year < EARLIEST_YEAR or moment > now + SCAN_CLOCK_SKEW:
        return None
    return moment


@handheld_router.post("/scans", response_model=ScanReportPublic, response_model_exclude_none=True)
async def scans(
    body: ScanBatch | ScanCreate,
    principal: LiveSampler,
    request: Request,
    lang: Lang = "en",
) -> ScanReportPublic:
    """Bind people's codes to tubes: one scan, or a device's queue as ``{"scans": [...]}``.

    Each scan is answered on its own, in the order sent: ``recorded``; ``already_recorded`` (this device
    sent this sequence before: nothing is counted twice); or ``refused`` with the reason (a tube over its
    pool size, a person already sampled in the round, an unknown or forged code...). Safe to send again.
    """
    sent = body.scans if isinstance(body, ScanBatch) else [body]
    now = clock.utcnow()
    outcomes: list[ScanOutcomePublic | None] = [None] * len(sent)
    kept: list[int] = []
    batch: list[service.scanning.Scan] = []
    for i, scan in enumerate(sent):
        moment = _scan_time(scan.scanned_at, now)
        if moment is None:
            message = Message(
                "the scan time {value} is not a time a swab was taken", value=str(scan.scanned_at)
            )
            outcomes[i] = ScanOutcomePublic(
                i=i,
                seq=scan.device_seq,
                status="refused",
                message=render_text(message, lang),
                field="scanned_at",
            )
            continue
        kept.append(i)
        batch.append(
            service.scanning.Scan(
                device_id=scan.device_id.strip(),
                device_seq=scan.device_seq,
                round_id=scan.round_id,
                barcode=scan.barcode.strip(),
                person_code=scan.person_code,
                scanned_at=moment,
                pool_size=scan.pool_size,
                kind=scan.kind,
                site_id=scan.site_id,
            )
        )
    settings: Settings = request.app.state.settings
    report = await _bind(request, principal, batch, settings.hash_key)
    for outcome in report.outcomes:
        i = kept[outcome.index]
        outcomes[i] = ScanOutcomePublic(
            i=i,
            seq=outcome.device_seq,
            status=outcome.status,
            message=render_text(outcome.message, lang) if outcome.status == "refused" else None,
            field=outcome.field or None,
        )
    answered = [o for o in outcomes if o is not None]
    return ScanReportPublic(
        recorded=sum(1 for o in answered if o.status == "recorded"),
        already_recorded=sum(1 for o in answered if o.status == "already_recorded"),
        refused=sum(1 for o in answered if o.status == "refused"),
        outcomes=answered,
    )


async def _bind(
    request: Request, principal: Principal, batch: list[service.scanning.Scan], hash_key: str
) -> service.scanning.BindReport:
    """The scans bound and committed: with the calls waiting together (group commit), or alone if large.

    On SQLite the call first waits for the database's one write turn (``DatabaseGate``), as every write
    request does, so that writers queue here rather than in SQLite's busy handler; on PostgreSQL the
    group's one writing thread is the only database work of the calls waiting for it.
    """
    db = get_db(request)
    gate: DatabaseGate = request.app.state.db_gate
    digest: str | None = getattr(request.state, TOKEN_DIGEST, None)
    scanner = live.live_scans(db, hash_key)
    alone = len(batch) > live.MOST_SCANS_PER_GROUP
    try:
        async with AsyncExitStack() as turn:
            if alone or gate.one_writer:
                await turn.enter_async_context(gate.turn(write=True))
            if alone:
                return await anyio.to_thread.run_sync(
                    functools.partial(scanner.bind_alone, principal, batch, token_digest=digest)
                )
            return await scanner.bind_async(principal, batch, token_digest=digest)
    except (TokenNoLongerValid, HolderChanged):
        if digest is not None:
            principals: TokenPrincipals = request.app.state.token_principals
            principals.drop(digest)  # read afresh on the next call
        raise
