"""The "confirmed cases" channel, fed from the tracing capability's own cases: no upload, no pull source.

Each feed writes, for every jurisdiction at the channel's report level under the scope, the number of
cases (confirmed and asymptomatic, local and imported together) reported on each local day of the last
``FEED_DAYS`` days, zeros included (once tracing has had a case under the scope), through the same
ingest as an upload (so a day whose count changed, a case reclassified or removed, becomes a revision).
It reads tracing only through its service (``tracing.service.area_counts``). The scheduled
``fangkong surveillance pull`` runs it after the pull sources.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import under
from fangkong.surveillance import service
from fangkong.surveillance.ingest import RawRecord
from fangkong.surveillance.pull import PULL_OVERLAP_DAYS

if TYPE_CHECKING:
    from fangkong.surveillance.observations import IngestReport

CONFIRMED_CASES: Final[str] = "confirmed_cases"
# Days fed each time, days: as many as a pull asks for again, so that late changes are picked up.
FEED_DAYS: Final[int] = PULL_OVERLAP_DAYS
# How the feed names itself as the source of its ingest batches.
FEED_SOURCE: Final[str] = "tracing: confirmed cases"


def feed_confirmed_cases(
    session: Session, actor: audit.Actor, path: str, now: dt.datetime, days: int = FEED_DAYS
) -> IngestReport | None:
    """Write the last ``days`` days of case counts under ``path`` to the channel; ``None`` when tracing
    never had a case there or the channel is switched off (the ingest report otherwise)."""
    from fangkong.surveillance.observations import ingest
    from fangkong.tracing.service import area_counts, has_cases

    # A region whose cases are not investigated on the platform (it uploads its counts) gets no zeros.
    if not has_cases(session, path):
        return None
    service.ensure_defaults(session)
    channel = next(
        (
            c
            for c in service.list_channels(session, path, include_inactive=False)
            if c.code == CONFIRMED_CASES
        ),
        None,
    )
    if channel is None:
        return None
    last = clock.local_day(now)
    first = last - dt.timedelta(days=days - 1)
    counts = area_counts(session, path, first, last, by="report")
    places = session.execute(
        select(Jurisdiction.code, Jurisdiction.path).where(
            under(Jurisdiction.path, path), Jurisdiction.level == channel.report_level
        )
    ).all()
    records: list[RawRecord] = []
    for code, place_path in places:
        curve = counts.areas.get(place_path)
        totals = curve.total if curve is not None else [0] * len(counts.days)
        for day, value in zip(counts.days, totals, strict=True):
            records.append(RawRecord(len(records) + 1, CONFIRMED_CASES, code, day.isoformat(), value))
    if not records:
        return None
    return ingest(session, actor, path, records, FEED_SOURCE, now)
