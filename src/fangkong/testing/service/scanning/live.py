"""The handhelds' live calls, committed together: group commit of ``bind``.

At the peak of a round thousands of handhelds each send one scan per call. Bound one call at a time,
every scan would pay ``bind``'s dozen look-ups, its own audit record and its own commit (a disk flush),
and the calls would queue on the audit chain's head row, which every writer locks until it commits.
Here the calls that arrive while a group is being written wait for the next group: one thread (the
first caller to find no group being written) takes the waiting calls of one user, binds all their scans
with one ``bind`` in one unit of work, commits, and hands each call its own outcomes. A call is answered
only after the commit that made its scans durable, exactly as when it is bound alone; the outcomes are
those the calls would get one after the other in the order they arrived (``bind`` decides the scans of a
batch in order: repeats of a device's sequence, a person twice in a round, a tube filled up).

If a group fails as a whole (a tube another process opened meanwhile, a database error), it is rolled
back and each of its calls is bound again alone, in its own unit of work, so one call's trouble is
answered to that call only.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.service.scanning.binding import bind
from fangkong.testing.service.scanning.scans import BindReport, Scan

# Most scans bound in one group: a group is one transaction, and its writer's callers wait for all of it.
MOST_SCANS_PER_GROUP = 500

UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass
class _Call:
    principal: Principal
    scans: Sequence[Scan]
    done: threading.Event = field(default_factory=threading.Event)
    report: BindReport | None = None
    error: BaseException | None = None


class LiveScans:
    """Group commit of ``bind`` for the calls of one process (see the module doc)."""

    def __init__(self, unit_of_work: UnitOfWork, codes: ScanCodes, *, most: int = MOST_SCANS_PER_GROUP):
        self._unit_of_work = unit_of_work
        self._codes = codes
        self._most = most
        self._lock = threading.Lock()
        self._waiting: list[_Call] = []
        self._writing = False
        # Groups written and calls bound, for the benchmark and the tests.
        self.groups = 0
        self.calls = 0

    def bind(self, principal: Principal, scans: Sequence[Scan]) -> BindReport:
        """Bind one call's scans; returns once they are committed (or raises what binding them raised)."""
        call = _Call(principal, scans)
        with self._lock:
            self._waiting.append(call)
            lead = not self._writing
            if lead:
                self._writing = True
        if lead:
            self._write_groups()
        call.done.wait()
        if call.error is not None:
            raise call.error
        assert call.report is not None
        return call.report

    def _write_groups(self) -> None:
        """Write groups until no call waits (the calls that arrive meanwhile join the next group)."""
        while True:
            with self._lock:
                group = self._take()
                if not group:
                    self._writing = False
                    return
            try:
                self._write(group)
            finally:
                for call in group:
                    if not call.done.is_set():  # only if writing itself broke: never leave a caller waiting
                        call.error = call.error or RuntimeError("the scan was not bound")
                        call.done.set()

    def _take(self) -> list[_Call]:
        """The waiting calls of the first one's user, in arrival order, up to the most scans per group.

        One user per group: a group is then one ``bind``, which locks its tubes and then the audit chain's
        head like any other writer, so groups in several processes cannot deadlock on each other.
        """
        first = self._waiting[0].principal if self._waiting else None
        taken: list[_Call] = []
        kept: list[_Call] = []
        size = 0
        for call in self._waiting:
            if call.principal == first and (not taken or size + len(call.scans) <= self._most):
                taken.append(call)
                size += len(call.scans)
            else:
                kept.append(call)
        self._waiting = kept
        return taken

    def _write(self, group: list[_Call]) -> None:
        reports: list[BindReport] | None = None
        if len(group) > 1:
            try:
                with self._unit_of_work() as session:
                    reports = _bind_together(session, group, self._codes)
            except Exception:  # rolled back: each call is bound again alone below
                reports = None
        if reports is None:
            for call in group:
                try:
                    with self._unit_of_work() as session:
                        call.report = bind(session, call.principal, call.scans, codes=self._codes)
                except Exception as exc:  # handed to the caller's thread, raised there
                    call.error = exc
                call.done.set()
        else:
            for call, report in zip(group, reports, strict=True):
                call.report = report
                call.done.set()
        self.groups += 1
        self.calls += len(group)


def _bind_together(session: Session, group: Sequence[_Call], codes: ScanCodes) -> list[BindReport]:
    """One ``bind`` over the group's scans (one user's), in arrival order; each call's own report."""
    together = bind(session, group[0].principal, [scan for call in group for scan in call.scans], codes=codes)
    reports: list[BindReport] = []
    offset = 0
    for call in group:
        mine = len(call.scans)
        reports.append(
            BindReport(
                [
                    dataclasses.replace(outcome, index=outcome.index - offset)
                    for outcome in together.outcomes
                    if offset <= outcome.index < offset + mine
                ]
            )
        )
        offset += mine
    return reports


_LIVE: weakref.WeakKeyDictionary[object, dict[str, LiveScans]] = weakref.WeakKeyDictionary()
_LIVE_LOCK = threading.Lock()


def live_scans(db: object, unit_of_work: UnitOfWork, hash_key: str) -> LiveScans:
    """The process's group commit for this database (``db``, whose ``unit_of_work`` it writes with) and
    this hash key, made on first use."""
    with _LIVE_LOCK:
        by_key = _LIVE.setdefault(db, {})
        found = by_key.get(hash_key)
        if found is None:
            found = by_key[hash_key] = LiveScans(unit_of_work, ScanCodes(hash_key))
        return found
