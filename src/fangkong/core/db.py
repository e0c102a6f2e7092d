"""Engine, sessions and the unit of work, for SQLite (embedded default) and PostgreSQL.

One :class:`Database` per application (held in ``app.state``), so tests can run several apps on
different databases side by side. Every use case runs inside :meth:`Database.unit_of_work`: one
transaction, committed when the block ends normally, rolled back on any exception, so that a failed
batch writes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names so that Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Jurisdiction paths are compared byte-wise (prefix ranges, see core.scope). A PostgreSQL database created
# with a linguistic collation would ignore the '/' separators when sorting, so paths use "C" there.
PathString = String(100).with_variant(String(100, collation="C"), "postgresql")
# Keyed hashes (hex) are opaque: byte order is the only order that means anything, and it lets
# PostgreSQL compare with memcmp and abbreviated keys (index builds about 2.5 times faster).
HashString = String(32).with_variant(String(32, collation="C"), "postgresql")


class Instant(TypeDecorator[dt.datetime]):
    """A moment in time: bound as aware UTC, read back as aware UTC on SQLite and PostgreSQL alike.

    PostgreSQL keeps ``timestamptz`` (an instant, whatever the session's zone); SQLite keeps the UTC
    wall time as text. A naive value is refused when bound: it could be local wall time stored as if
    it were UTC, eight hours off in China, and nothing downstream could tell.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} bound to an instant column: pass aware UTC")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def sqlite_instant(value: dt.datetime) -> str:
    """An aware instant as SQLite stores an :class:`Instant` (for raw ``executemany`` bulk paths)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class PoolSize:
    """How many connections an engine lends at once, and how long a caller waits (docs/operator.md).

    ``size`` connections are kept open and up to ``overflow`` more opened when they are all lent;
    a caller that finds every one lent waits ``timeout`` seconds and then gets
    ``sqlalchemy.exc.TimeoutError`` (the app answers 503), never an endless wait. A transaction waits
    up to ``lock_wait_seconds`` for a lock another holds: SQLite's one write lock (its busy timeout,
    then "database is locked"), a PostgreSQL row or table lock (its ``lock_timeout``). None keeps
    each database's behaviour for the CLI and scripts (SQLite waits ``SQLITE_BUSY_SECONDS``,
    PostgreSQL as long as it takes: a second import waits for the first); the app sizes its pool and
    its waits from the settings (:meth:`for_requests`).
    """

    size: int = 5
    overflow: int = 10
    timeout: float = 30.0
    lock_wait_seconds: float | None = None

    @classmethod
    def for_requests(cls, requests: int, *, timeout: float, lock_wait_seconds: float) -> PoolSize:
        """A pool for ``requests`` requests at once: two connections each and a reserve for background work.

        A page holds its request's connection while the page frame opens a second one for the header's
        jurisdiction picker; alert delivery after an answer, modelling jobs and the drill clock run
        outside any request and draw on the overflow.
        """
        return cls(size=2 * requests, overflow=requests, timeout=timeout, lock_wait_seconds=lock_wait_seconds)


# How long SQLite waits for its write lock when the caller does not say (the CLI, scripts), seconds.
SQLITE_BUSY_SECONDS = 30.0


def _sqlite_pragmas(busy_seconds: float) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # First, so that the pragmas below also wait for a writer instead of failing.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        # WAL lets the web server read while an import writes; foreign keys are off by default in SQLite.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 64 MB of page cache a connection (SQLite's default is 2 MB): bulk writes update several indexes
        # on keys in no order, and a small cache turned each into disk reads (the demo's doses and
        # statuses took twice as long).
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    return on_connect


def make_engine(url: str, pool: PoolSize | None = None) -> Engine:
    """Create an engine with the settings each backend needs.

    SQLite keeps the driver's own transaction handling: a transaction begins just before its first
    write, so its write lock is taken by that statement with the busy timeout (a writer queues), and
    no transaction reads first and then finds it cannot upgrade to a write (which fails at once,
    without waiting). In the app, write requests also queue one at a time before they start
    (``core.deps.DatabaseGate``).
    """
    pool = pool or PoolSize()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    sizing: dict[str, Any] = {
        "pool_size": pool.size,
        "max_overflow": pool.overflow,
        "pool_timeout": pool.timeout,
    }
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            sizing = {}  # one in-memory database per connection: SQLAlchemy's own pool, not a queue
        busy = SQLITE_BUSY_SECONDS if pool.lock_wait_seconds is None else pool.lock_wait_seconds
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy}, **sizing)
        event.listen(engine, "connect", _sqlite_pragmas(busy))
        return engine
    if pool.lock_wait_seconds is not None:
        # Past it PostgreSQL raises lock_not_available (55P03), which the app answers 503.
        sizing["connect_args"] = {"options": f"-c lock_timeout={int(pool.lock_wait_seconds * 1000)}"}
    return create_engine(url, pool_pre_ping=True, **sizing)


# Connections of each event loop's asynchronous pool (``Database.async_sessions``), and as many more.
ASYNC_POOL = 2


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, pool: PoolSize | None = None) -> None:
        self.url = url
        self.pool = pool or PoolSize()
        self.engine = make_engine(url, self.pool)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, async_sessionmaker[AsyncSession]]
        self._async = weakref.WeakKeyDictionary()
        self._async_lock = threading.Lock()

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def async_sessions(self) -> async_sessionmaker[AsyncSession]:
        """PostgreSQL sessions for work done on the running event loop itself (psycopg's asynchronous
        connections; the ORM's synchronous code runs through ``AsyncSession.run_sync``), made on first use
        in each event loop: a pooled asynchronous connection belongs to the loop that opened it.

        For the one writer that must not share the interpreter with the loop it serves: the handhelds'
        group commit (``testing.service.scanning.live``). Written by a worker thread, each group's dozen
        round trips waited for the event loop to give the GIL back, several milliseconds each, while the
        loop was busy with the next calls. Its pool is small and apart from the requests' pool.
        """
        if not self.is_postgres:
            raise RuntimeError("asynchronous sessions are for PostgreSQL")
        loop = asyncio.get_running_loop()
        with self._async_lock:
            found = self._async.get(loop)
            if found is None:
                url = self.engine.url.set(drivername="postgresql+psycopg")
                options = {}
                if self.pool.lock_wait_seconds is not None:
                    options["connect_args"] = {
                        "options": f"-c lock_timeout={int(self.pool.lock_wait_seconds * 1000)}"
                    }
                engine = create_async_engine(
                    url, pool_size=ASYNC_POOL, max_overflow=ASYNC_POOL, pool_pre_ping=True, **options
                )
                found = self._async[loop] = async_sessionmaker(engine, expire_on_commit=False)
            return found

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
