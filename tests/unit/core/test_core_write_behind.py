"""The write-behind thread handles items in order, reports its first error and can be cancelled."""

from __future__ import annotations

import threading

import pytest

from fangkong.core.write_behind import WriteBehind


def test_items_are_handled_in_order_in_another_thread() -> None:
    seen: list[tuple[int, str]] = []
    behind: WriteBehind[int] = WriteBehind(lambda n: seen.append((n, threading.current_thread().name)))
    for n in range(50):
        behind.put(n)
    behind.close()
    assert [n for n, _ in seen] == list(range(50))
    assert {name for _, name in seen} == {"fangkong-write-behind"}


def test_an_error_reaches_the_caller_and_later_items_are_skipped() -> None:
    handled: list[int] = []

    def handle(n: int) -> None:
        if n == 3:
            raise ValueError("row 3 broke")
        handled.append(n)

    behind: WriteBehind[int] = WriteBehind(handle)

    def feed() -> None:
        for n in range(10):
            behind.put(n)
        behind.close()

    with pytest.raises(ValueError, match="row 3 broke"):
        feed()
    behind.cancel()
    assert handled == [0, 1, 2]


def test_cancel_drops_what_is_queued() -> None:
    started, release = threading.Event(), threading.Event()
    handled: list[int] = []

    def handle(n: int) -> None:
        started.set()
        release.wait(5)
        handled.append(n)

    behind: WriteBehind[int] = WriteBehind(handle, depth=3)
    for n in range(3):  # 0 is in hand (waiting for the release), 1 and 2 are queued
        behind.put(n)
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()  # lets item 0 finish after cancel() has begun
    behind.cancel()
    assert handled == [0]
