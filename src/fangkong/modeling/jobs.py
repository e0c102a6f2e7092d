"""Background jobs: a comparison runs in a thread of the web process, its runs in worker processes.

The request that submits a job commits the job row and returns at once; :func:`start` then runs it in
a daemon thread, which writes progress to the row (the page polls it) and finally the account or the
error. The simulations themselves run in worker processes (``ensemble``), so the web server's threads
are not held up by the numerical kernels. Each progress report is also a heartbeat: a job whose
heartbeat has been silent for ``STALE_AFTER`` (its server stopped) is marked failed the next time jobs
are listed (:func:`fail_abandoned`), whichever app process lists them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from typing import Final

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from fangkong.core.clock import utcnow
from fangkong.core.db import Database
from fangkong.core.errors import DomainError
from fangkong.modeling import service
from fangkong.modeling.models import JobStatus, ModelingJob

log = logging.getLogger("fangkong.modeling")

# Seconds between two progress writes of one job (the page polls every two seconds).
PROGRESS_INTERVAL_S: Final[float] = 0.5
# Silence after which a running or queued job counts as abandoned; one run of ten million people for
# 120 days takes under a minute on two cores (bench/simulate.py), so this is generous.
STALE_AFTER: Final[dt.timedelta] = dt.timedelta(minutes=30)

_threads: dict[int, threading.Thread] = {}
_lock = threading.Lock()


def start(db: Database, job_id: int, *, scheduler: str | None = None) -> threading.Thread:
    """Run a queued job in a daemon thread; returns the thread (tests join it)."""
    thread = threading.Thread(target=run, args=(db, job_id), kwargs={"scheduler": scheduler}, daemon=True)
    with _lock:
        _threads[job_id] = thread
    thread.start()
    return thread


def wait(job_id: int, timeout: float | None = None) -> bool:
    """Wait for a job started in this process; True if it is no longer running."""
    with _lock:
        thread = _threads.get(job_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def run(db: Database, job_id: int, *, scheduler: str | None = None) -> None:
    """Run one job to its end, writing its status, progress and result."""
    with db.unit_of_work() as session:
        job = session.get(ModelingJob, job_id)
        if job is None or job.status is not JobStatus.queued:
            return
        job.status = JobStatus.running
        job.started_at = job.heartbeat_at = utcnow()
        request = service.ComparisonRequest.from_json(job.request)
        scope_path = job.jpath
    last_write = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last_write[0] < PROGRESS_INTERVAL_S:
            return
        last_write[0] = now
        with db.unit_of_work() as session:
            service.record_progress(session, job_id, done, total)

    try:
        with db.unit_of_work() as session:
            people = service.build_population(session, request, scope_path)
        account = service.run_comparison(request, people, scheduler=scheduler, progress=progress)
    except (DomainError, ValueError, RuntimeError) as exc:
        message = exc.message if isinstance(exc, DomainError) else str(exc)
        _finish(db, job_id, JobStatus.failed, error=message[:2000])
        return
    except Exception:  # a job must always end, whatever went wrong; the trace goes to the log
        log.exception("modeling job %s failed", job_id)
        _finish(db, job_id, JobStatus.failed, error="internal error; it has been logged")
        return
    _finish(db, job_id, JobStatus.done, result=json.dumps(account.to_dict(), ensure_ascii=False))


def _finish(
    db: Database, job_id: int, status: JobStatus, *, result: str | None = None, error: str | None = None
) -> None:
    with db.unit_of_work() as session:
        job = session.get(ModelingJob, job_id)
        if job is None:
            return
        job.status = status
        job.finished_at = utcnow()
        job.result = result
        job.error = error
        if status is JobStatus.done:
            job.runs_done = job.runs_total


def fail_abandoned(session: Session) -> int:
    """Mark failed the jobs whose heartbeat (or, if never started, creation) is older than STALE_AFTER."""
    cutoff = utcnow() - STALE_AFTER
    stale = list(
        session.scalars(
            select(ModelingJob.id).where(
                or_(
                    and_(ModelingJob.status == JobStatus.running, ModelingJob.heartbeat_at < cutoff),
                    and_(ModelingJob.status == JobStatus.queued, ModelingJob.created_at < cutoff),
                )
            )
        )
    )
    if stale:
        session.execute(
            update(ModelingJob)
            .where(ModelingJob.id.in_(stale))
            .values(
                status=JobStatus.failed,
                error="the server stopped before the job finished",
                finished_at=utcnow(),
            )
        )
    return len(stale)
