"""The login throttle's rules (core/throttle.py), on the frozen platform clock: no database, no HTTP."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core import throttle as throttle_module
from fangkong.core.clock import FrozenClock
from fangkong.core.throttle import LoginThrottle, ThrottlePolicy

POLICY = ThrottlePolicy(
    window=dt.timedelta(minutes=15),
    address_failures=10,
    address_max_wait=900.0,
    account_failures=5,
    account_max_delay=4.0,
)


def fail(throttle: LoginThrottle, times: int, address: str = "203.0.113.7", username: str = "admin") -> None:
    for _ in range(times):
        throttle.failed(address, username)


def test_an_address_within_its_allowance_is_heard_at_once() -> None:
    throttle = LoginThrottle(POLICY)
    fail(throttle, 9)
    assert throttle.address_wait("203.0.113.7") == 0


def test_past_its_allowance_an_address_waits_twice_as_long_after_each_failure_up_to_the_cap() -> None:
    throttle = LoginThrottle(POLICY)
    fail(throttle, 10)
    waits = [throttle.address_wait("203.0.113.7")]
    for _ in range(12):
        fail(throttle, 1)
        waits.append(throttle.address_wait("203.0.113.7"))
    # The platform clock moves a microsecond at each reading in tests: hence the tolerance.
    assert waits[:5] == pytest.approx([1, 2, 4, 8, 16], abs=0.01)
    assert waits[-1] == pytest.approx(900, abs=0.01)  # the cap: 2**12 s would be over an hour


def test_the_wait_runs_from_the_last_failure(frozen_clock: FrozenClock) -> None:
    throttle = LoginThrottle(POLICY)
    fail(throttle, 12)  # 4 s
    frozen_clock.advance(seconds=3)
    assert throttle.address_wait("203.0.113.7") == pytest.approx(1, abs=0.01)
    frozen_clock.advance(seconds=1)
    assert throttle.address_wait("203.0.113.7") == 0


def test_other_addresses_are_not_affected() -> None:
    throttle = LoginThrottle(POLICY)
    fail(throttle, 30)
    assert throttle.address_wait("198.51.100.1") == 0


def test_failures_are_forgotten_a_window_after_the_last_one(frozen_clock: FrozenClock) -> None:
    throttle = LoginThrottle(POLICY)
    fail(throttle, 30)
    frozen_clock.advance(minutes=14)
    assert throttle.address_wait("203.0.113.7") > 0
    assert throttle.account_delay("admin") > 0
    frozen_clock.advance(minutes=2)
    assert throttle.address_wait("203.0.113.7") == 0
    assert throttle.account_delay("admin") == 0


def test_an_account_is_never_locked_its_attempts_are_held_back_a_little_longer_each_time() -> None:
    throttle = LoginThrottle(POLICY)
    delays = []
    for i in range(10):
        delays.append(throttle.account_delay("admin"))
        throttle.failed(f"198.51.100.{i}", "admin")  # a guesser spread over many addresses
    assert delays == [0, 0, 0, 0, 0, 0.5, 1, 2, 4, 4]
    assert throttle.account_delay("operator") == 0


def test_a_successful_login_clears_its_address_and_its_account() -> None:
    throttle = LoginThrottle(POLICY)
    fail(throttle, 12)
    throttle.succeeded("203.0.113.7", "admin")
    assert throttle.address_wait("203.0.113.7") == 0
    assert throttle.account_delay("admin") == 0


def test_memory_is_bounded_the_oldest_entries_are_forgotten_first(
    monkeypatch: pytest.MonkeyPatch, frozen_clock: FrozenClock
) -> None:
    monkeypatch.setattr(throttle_module, "MAX_TRACKED", 3)
    throttle = LoginThrottle(POLICY)
    for i in range(5):
        fail(throttle, 15, address=f"192.0.2.{i}", username=f"user{i}")  # 32 s each
        frozen_clock.advance(seconds=1)
    assert throttle.address_wait("192.0.2.0") == 0  # forgotten
    assert throttle.address_wait("192.0.2.4") > 0  # the newest are kept
