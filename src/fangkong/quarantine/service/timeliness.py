"""How fast people reached their rooms: identification → placement → check-in, against the deadline.

Read by the drill's score (placement measure) and by the census page: one row per centralized plan in
scope, placed or not, so that someone never placed counts as late once the deadline has passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.clock import as_utc
from fangkong.core.scope import under
from fangkong.protocol.service import centralized_stages
from fangkong.quarantine.models import Stay


@dataclass(frozen=True)
class TransferTiming:
    person_id: int
    source: str
    category: str
    identified_at: dt.datetime
    deadline_at: dt.datetime
    placed_at: dt.datetime | None
    checked_in_at: dt.datetime | None

    def on_time(self, now: dt.datetime) -> bool | None:
        """True/False once it can be judged (checked in, or the deadline passed); None before."""
        if self.checked_in_at is not None:
            return self.checked_in_at <= self.deadline_at
        return False if now > self.deadline_at else None


def transfer_timings(session: Session, scope_path: str) -> list[TransferTiming]:
    """Every centralized plan in scope with when its person was placed and checked in (if they were).

    The plans are read without a day limit, so people already released still count.
    """
    stages = centralized_stages(session, scope_path)
    stays: dict[tuple[int, str], tuple[dt.datetime, dt.datetime | None]] = {}
    rows = session.execute(
        select(Stay.person_id, Stay.source, Stay.placed_at, Stay.checked_in_at)
        .where(under(Stay.jpath, scope_path))
        .order_by(Stay.id)
    )
    for person_id, source, placed_at, checked_in_at in rows:
        # The first stay from a source is the transfer; later ones are room changes or re-placements.
        stays.setdefault(
            (person_id, source), (as_utc(placed_at), as_utc(checked_in_at) if checked_in_at else None)
        )
    timings = []
    for stage in stages:
        placed, checked_in = stays.get((stage.person_id, stage.source), (None, None))
        timings.append(
            TransferTiming(
                person_id=stage.person_id,
                source=stage.source,
                category=stage.category,
                identified_at=as_utc(stage.identified_at),
                deadline_at=as_utc(stage.deadline_at),
                placed_at=placed,
                checked_in_at=checked_in,
            )
        )
    return timings
