"""The deadline sweeper inside the app: every ``sweep_seconds`` it warns, notifies, escalates, closes
the days whose cut-off has passed and recounts the day it closed, in a worker thread so the event loop
never touches the database.

Every process of a deployment runs one; the sweep itself makes sure nothing fires twice (conditional
updates, and on PostgreSQL an advisory lock so only one sweep runs at a time). ``fangkong response
sweep`` does the same from cron when the in-app sweeper is turned off (``sweep_seconds = 0``).
"""

from __future__ import annotations

import asyncio
import logging

import anyio.to_thread

from fangkong.core.db import Database

log = logging.getLogger("fangkong.response")


def sweep_once(db: Database, cutoff_hour: int = 0) -> None:
    """One sweep in its own unit of work: task clocks first, then the daily closures now due."""
    from fangkong.core.clock import utcnow
    from fangkong.response.service import closure, counters, sweeper

    with db.unit_of_work() as session:
        sweeper.sweep(session)
    with db.unit_of_work() as session:
        closed = closure.close_due_days(session, utcnow(), cutoff_hour=cutoff_hour)
    if closed:
        # The process that closed the day also recounts it: the nightly repair of the dashboard's
        # counters (drift from a change that bypassed the events), once a day whatever runs.
        with db.unit_of_work() as session:
            counters.recount(session, closed[0].day)


async def sweep_forever(db: Database, seconds: int, cutoff_hour: int = 0) -> None:
    """Sweep every ``seconds`` until cancelled; a failed sweep is logged and the next one tries again."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await anyio.to_thread.run_sync(sweep_once, db, cutoff_hour)
        except Exception:  # a sweep must never take the app down: log it and try at the next tick
            log.exception("deadline sweep failed")
