"""Writing in a background thread while the caller prepares what comes next.

Bulk imports alternate between work in Python (reading the file, collecting worker results, checking
duplicates) and waiting on the database (an ``executemany`` or a ``COPY``). The database drivers release
the GIL while they wait, so one thread that owns the connection and writes items in order lets both
kinds of work run at once on two cores. While a ``WriteBehind`` is open, only its thread may use the
session it writes with.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


class WriteBehind(Generic[T]):
    """Hands items, in order, to ``handle`` in one background thread; errors come back to the caller."""

    def __init__(self, handle: Callable[[T], None], depth: int = 2) -> None:
        self._handle = handle
        # A short queue: enough to keep the writer busy, little enough that memory stays bounded.
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fangkong-write-behind", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error is not None or self._cancelled.is_set():
                continue  # drain: the caller will hear of the error at its next put or at close
            try:
                self._handle(item)  # type: ignore[arg-type]
            except BaseException as exc:  # handed to the caller's thread, re-raised there
                self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, item: T) -> None:
        """Queue an item (waits while the queue is full); raises what an earlier item raised."""
        self._raise_if_failed()
        self._queue.put(item)

    def close(self) -> None:
        """Wait until every item is handled; raise what any of them raised."""
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()
        self._raise_if_failed()

    def cancel(self) -> None:
        """Drop what is still queued and wait for the item in hand; nothing is raised."""
        self._cancelled.set()
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()
