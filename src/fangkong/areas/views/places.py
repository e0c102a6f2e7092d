"""The places the public forms offer (counties and communities), read at most once per
``PLACES_MAX_AGE_SECONDS`` per process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from fangkong.core.db import Database
from fangkong.core.models import Jurisdiction, Level

# Seconds the public forms' lists of places (counties, communities) are kept before being read again.
PLACES_MAX_AGE_SECONDS = 300.0


@dataclass(frozen=True)
class PublicPlaces:
    """What the public forms offer: counties (code, name, city) and communities (code, name, county)."""

    counties: tuple[tuple[str, str, str], ...]
    communities: tuple[tuple[str, str, str], ...]


class _PlacesCache:
    """The public forms' places, read at most once per ``PLACES_MAX_AGE_SECONDS`` per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: PublicPlaces | None = None
        self._loaded_at = float("-inf")

    def get(self, db: Database) -> PublicPlaces:
        with self._lock:
            if self._value is None or time.monotonic() - self._loaded_at >= PLACES_MAX_AGE_SECONDS:
                with db.unit_of_work() as session:
                    self._value = _read_places(session)
                self._loaded_at = time.monotonic()
            return self._value

    def reset(self) -> None:
        with self._lock:
            self._value = None


def _read_places(session: Session) -> PublicPlaces:
    parent = aliased(Jurisdiction)
    rows = session.execute(
        select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.level, parent.name)
        .outerjoin(parent, parent.id == Jurisdiction.parent_id)
        .where(
            Jurisdiction.level.in_([Level.county, Level.community]),
            Jurisdiction.is_sandbox.is_(False),
        )
        .order_by(Jurisdiction.path)
    ).all()
    counties = tuple((c, n, p or "") for c, n, lv, p in rows if lv == Level.county)
    communities = tuple((c, n, p or "") for c, n, lv, p in rows if lv == Level.community)
    return PublicPlaces(counties, communities)


PLACES = _PlacesCache()
