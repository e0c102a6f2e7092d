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

A served call waits on the event loop (``bind_async``): it holds no worker thread while its group is
written, so a thousand handhelds waiting cost a thousand small futures, not a thousand threads. On
PostgreSQL the group is written on the event loop itself, through an asynchronous connection
(``Database.async_sessions``; ``bind`` runs as it is, through ``AsyncSession.run_sync``): a worker thread
writing it waited for the GIL after each of its dozen round trips while the loop parsed the next calls,
which made a group several times slower and the groups smaller. On SQLite, whose driver has no
asynchronous connections, a thread started for the group writes it.

A call read with a bearer token from the app's cache of principals carries the token's digest: the
group's transaction confirms every such token in one query (``core.auth.token_holders``) before binding,
and a call whose token was revoked, or whose user was deactivated or given another role or place, is
refused on its own while the rest of the group goes on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import weakref
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from fangkong.core.auth import HolderChanged, Principal, TokenNoLongerValid, token_holders
from fangkong.core.db import Database
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.service.scanning.binding import bind
from fangkong.testing.service.scanning.scans import BindReport, Scan

# Most scans bound in one group: a group is one transaction, and its writer's callers wait for all of it.
MOST_SCANS_PER_GROUP = 500

UnitOfWork = Callable[[], AbstractContextManager[Session]]
AsyncSessions = Callable[[], async_sessionmaker[AsyncSession]]


@dataclass
class _Call:
    principal: Principal
    scans: Sequence[Scan]
    # The digest of the bearer token the principal was read from, to confirm at commit (None: read afresh).
    token_digest: str | None = None
    # Wakes the caller: set a thread's event, or resolve an event loop's future from the writing thread.
    settle: Callable[[], None] = lambda: None
    settled: bool = False
    report: BindReport | None = None
    error: BaseException | None = None

    def finish(self, report: BindReport | None = None, error: BaseException | None = None) -> None:
        self.report, self.error, self.settled = report, error, True
        self.settle()

    def outcome(self) -> BindReport:
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # the caller's task may have been cancelled meanwhile
        future.set_result(None)


class LiveScans:
    """Group commit of ``bind`` for the calls of one process (see the module doc)."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        codes: ScanCodes,
        *,
        most: int = MOST_SCANS_PER_GROUP,
        async_sessions: AsyncSessions | None = None,
    ):
        self._unit_of_work = unit_of_work
        self._async_sessions = async_sessions
        self._codes = codes
        self._most = most
        self._lock = threading.Lock()
        self._waiting: list[_Call] = []
        self._writing = False
        # Groups written and calls bound, for the benchmark and the tests.
        # The event loop's writing task while it runs (a task nobody refers to may be collected).
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0
        self.calls = 0

    def bind(
        self, principal: Principal, scans: Sequence[Scan], *, token_digest: str | None = None
    ) -> BindReport:
        """Bind one call's scans from a thread; returns once they are committed (or raises what binding
        them raised). The first caller to find no group being written writes the groups itself."""
        done = threading.Event()
        call = _Call(principal, scans, token_digest, settle=done.set)
        if self._enqueue(call):
            self._write_groups()
        done.wait()
        return call.outcome()

    async def bind_async(
        self, principal: Principal, scans: Sequence[Scan], *, token_digest: str | None = None
    ) -> BindReport:
        """Bind one call's scans from the event loop, holding no thread while the group is written."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            loop.call_soon_threadsafe(_wake, future)

        call = _Call(principal, scans, token_digest, settle=settle)
        if self._enqueue(call):
            if self._async_sessions is None:
                threading.Thread(target=self._write_groups, name="fangkong-live-scans", daemon=True).start()
            else:
                self._writer = loop.create_task(self._write_groups_async(self._async_sessions()))
        await future
        return call.outcome()

    def bind_alone(
        self, principal: Principal, scans: Sequence[Scan], *, token_digest: str | None = None
    ) -> BindReport:
        """Bind a call too large to share a group, in the calling thread and its own unit of work, with
        the same confirmation of its token."""
        call = _Call(principal, scans, token_digest)
        self._write_alone([call])
        return call.outcome()

    def _enqueue(self, call: _Call) -> bool:
        """Queue a call; True when no group is being written, and the caller must start the writing."""
        with self._lock:
            self._waiting.append(call)
            lead = not self._writing
            if lead:
                self._writing = True
        return lead

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
            except BaseException as exc:  # only if writing itself broke: never leave a caller waiting
                for call in group:
                    if not call.settled:
                        call.finish(error=exc)
                if not isinstance(exc, Exception):
                    raise

    async def _write_groups_async(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """``_write_groups`` on the event loop, each group through an asynchronous session."""
        group: list[_Call] = []
        try:
            while True:
                with self._lock:
                    group = self._take()
                    if not group:
                        self._writing = False
                        return
                await self._write_async(sessions, group)
        except BaseException as exc:  # never leave a caller waiting, nor the queue without a writer
            with self._lock:
                self._writing = False
            for call in group:
                if not call.settled:
                    call.finish(error=exc if isinstance(exc, Exception) else RuntimeError("not bound"))
            raise

    async def _write_async(self, sessions: async_sessionmaker[AsyncSession], group: list[_Call]) -> None:
        if len(group) > 1:
            try:
                async with sessions() as session:
                    live, reports = await session.run_sync(self._group_in, group)
                    await session.commit()
            except Exception:  # rolled back: each call is bound again alone below
                for call in group:
                    call.error = None
            else:
                _settle(group, live, reports)
                self._count(group)
                return
        for call in group:
            try:
                async with sessions() as session:
                    report = await session.run_sync(self._alone_in, call)
                    await session.commit()
            except Exception as exc:  # handed to the caller, raised there
                call.finish(error=exc)
            else:
                call.finish(report, call.error)
        self._count(group)

    def _group_in(self, session: Session, group: list[_Call]) -> tuple[list[_Call], list[BindReport]]:
        """The group's calls whose callers still hold their tokens, bound together in ``session``."""
        live = _confirmed(session, group)
        return live, _bind_together(session, live, self._codes) if live else []

    def _alone_in(self, session: Session, call: _Call) -> BindReport | None:
        """One call bound in ``session``, or None if its caller no longer holds the token."""
        return (
            bind(session, call.principal, call.scans, codes=self._codes)
            if _confirmed(session, [call])
            else None
        )

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
        if len(group) > 1:
            try:
                with self._unit_of_work() as session:
                    live, reports = self._group_in(session, group)
            except Exception:  # rolled back: each call is bound again alone below
                for call in group:
                    call.error = None
            else:
                _settle(group, live, reports)
                self._count(group)
                return
        self._write_alone(group)
        self._count(group)

    def _write_alone(self, group: list[_Call]) -> None:
        for call in group:
            try:
                with self._unit_of_work() as session:
                    report = self._alone_in(session, call)
            except Exception as exc:  # handed to the caller, raised there
                call.finish(error=exc)
            else:
                call.finish(report, call.error)

    def _count(self, group: Sequence[_Call]) -> None:
        self.groups += 1
        self.calls += len(group)


def _settle(group: Sequence[_Call], live: Sequence[_Call], reports: Sequence[BindReport]) -> None:
    """Answer a group written together: the bound calls their reports, the refused ones their error."""
    for call, report in zip(live, reports, strict=True):
        call.finish(report)
    for call in group:
        if not call.settled:  # refused by _confirmed
            call.finish(error=call.error)


def _confirmed(session: Session, calls: Sequence[_Call]) -> list[_Call]:
    """The calls whose callers still hold their tokens (one query for all); the others get their error
    (``call.error``) and are left out."""
    digests: Collection[str] = {call.token_digest for call in calls if call.token_digest is not None}
    holders = token_holders(session, digests)
    kept: list[_Call] = []
    for call in calls:
        if call.token_digest is not None:
            holder = holders.get(call.token_digest)
            if holder is None:
                call.error = TokenNoLongerValid()
                continue
            if not holder.holds(call.principal):
                call.error = HolderChanged()
                continue
        kept.append(call)
    return kept


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


_LIVE: weakref.WeakKeyDictionary[Database, dict[str, LiveScans]] = weakref.WeakKeyDictionary()
_LIVE_LOCK = threading.Lock()


def live_scans(db: Database, hash_key: str) -> LiveScans:
    """The process's group commit for this database and this hash key, made on first use."""
    with _LIVE_LOCK:
        by_key = _LIVE.setdefault(db, {})
        found = by_key.get(hash_key)
        if found is None:
            found = by_key[hash_key] = LiveScans(
                db.unit_of_work,
                ScanCodes(hash_key),
                async_sessions=db.async_sessions if db.is_postgres else None,
            )
        return found
