"""The background clock of realtime drills: one daemon thread per database feeds what has come due.

Started when a realtime drill starts or its page is opened; it stops by itself once no realtime drill
is running. Events are claimed one by one (``drills.advance``), so a facilitator's fast-forward and this
clock never feed the same event twice.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

from sqlalchemy import select

from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.events import EventBus
from fangkong.modeling import drills
from fangkong.modeling.models import Drill, DrillStatus

log = logging.getLogger("fangkong.modeling")

# Seconds between two ticks of the clock (a drill day at the default speed lasts 60 s).
TICK_SECONDS: Final[float] = 2.0

_tickers: dict[int, threading.Thread] = {}
_lock = threading.Lock()


def ensure_running(db: Database, vault: Vault, bus: EventBus) -> None:
    """Start the clock for this database unless it runs already."""
    with _lock:
        thread = _tickers.get(id(db))
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=_loop, args=(db, vault, bus), daemon=True, name="drill-clock")
        _tickers[id(db)] = thread
        thread.start()


def _running(db: Database) -> list[int]:
    with db.unit_of_work() as session:
        return list(
            session.scalars(
                select(Drill.id).where(Drill.status == DrillStatus.running, Drill.realtime.is_(True))
            )
        )


def _loop(db: Database, vault: Vault, bus: EventBus) -> None:
    while True:
        try:
            running = _running(db)
        except Exception:  # the database went away (server shutting down): stop quietly
            log.warning("drill clock stopped: the database cannot be read")
            return
        if not running:
            with _lock:
                if not _running(db):
                    _tickers.pop(id(db), None)
                    return
            continue
        for drill_id in running:
            try:
                drills.advance(db, vault, bus, drill_id)
            except Exception:  # one drill's failure must not stop the others
                log.exception("drill clock: drill %s could not be advanced", drill_id)
        time.sleep(TICK_SECONDS)
