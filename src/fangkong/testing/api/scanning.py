"""The scanner's route for handhelds: one scan or an offline queue per call (see the package doc)."""

from __future__ import annotations

import datetime as dt
import functools

from fastapi import Request

from fangkong.core import clock
from fangkong.core.deps import SessionDep, SettingsDep, get_db
from fangkong.core.i18n import Message, render_text
from fangkong.testing import service
from fangkong.testing.api.common import EARLIEST_YEAR, SCAN_CLOCK_SKEW, Lang, Sampler, router
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.schemas import ScanBatch, ScanCreate, ScanOutcomePublic, ScanReportPublic
from fangkong.testing.service.scanning import live


@functools.lru_cache(maxsize=4)
def _codes(hash_key: str) -> ScanCodes:
    return ScanCodes(hash_key)


def _scan_time(value: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """A scan's time as aware UTC, or None when no swab can have been taken then."""
    try:
        moment = clock.from_local(value)
    except (OverflowError, ValueError):
        return None
    if moment.year < EARLIEST_YEAR or moment > now + SCAN_CLOCK_SKEW:
        return None
    return moment


@router.post("/scans", response_model=ScanReportPublic, response_model_exclude_none=True)
def scans(
    body: ScanBatch | ScanCreate,
    principal: Sampler,
    session: SessionDep,
    settings: SettingsDep,
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
    if len(batch) <= live.MOST_SCANS_PER_GROUP:
        # The handhelds' calls arriving together are bound and committed together (group commit); each
        # is answered with its own outcomes once they are durable (service.scanning.live).
        db = get_db(request)
        report = live.live_scans(db, db.unit_of_work, settings.hash_key).bind(principal, batch)
    else:
        report = service.scanning.bind(session, principal, batch, codes=_codes(settings.hash_key))
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
