"""Login throttling: guessing is slowed by client address and by account, and no account is ever locked.

Locking an account after N wrong passwords lets anyone who knows a username shut its owner out, the
command centre included, in the middle of an outbreak (issue 11, item 16). Instead:

* **by address**: an address that has failed ``address_failures`` times within the window is refused
  (429 with Retry-After) until a wait has passed, which doubles with each further failure up to
  ``address_max_wait``. Its attempts are refused without checking the password, the right one
  included: it is the address that is guessing. Other addresses are not affected.
* **by account**: once an account has ``account_failures`` failures within the window, from
  whatever addresses, every attempt on it is held back before its password is checked, 0.5 s and
  doubling with each further failure up to ``account_max_delay``. A guesser spread over many
  addresses is slowed; the owner still gets in, a few seconds later, from their own address.

Failures are forgotten ``window`` after the last one; a successful login clears its address and its
account. The state is in process memory (each app process keeps its own; behind several processes an
address gets that many allowances) and bounded (the oldest entries are dropped past
``MAX_TRACKED``). Waits are computed on the platform clock (``core.clock``), so tests move time.
The hold on an account is an ``await`` (``hold``): it keeps neither a worker thread nor a database
connection while it waits.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from anyio import sleep

from fangkong.core.clock import utcnow

# Distinct addresses or accounts remembered at once; past this the oldest are forgotten first.
MAX_TRACKED = 100_000
# The first hold on an account past its allowance, seconds; it doubles with each further failure.
ACCOUNT_FIRST_DELAY = 0.5


@dataclass(frozen=True)
class ThrottlePolicy:
    """The allowances and caps (``Settings.login_*``)."""

    window: dt.timedelta
    address_failures: int
    address_max_wait: float
    account_failures: int
    account_max_delay: float


@dataclass
class _Failures:
    count: int
    last: dt.datetime


class _Tally:
    """Failures per key, oldest first, forgetting those older than the window."""

    def __init__(self, window: dt.timedelta) -> None:
        self.window = window
        self._entries: dict[str, _Failures] = {}

    def get(self, key: str, now: dt.datetime) -> _Failures | None:
        entry = self._entries.get(key)
        if entry is not None and now - entry.last > self.window:
            del self._entries[key]
            return None
        return entry

    def add(self, key: str, now: dt.datetime) -> _Failures:
        entry = self.get(key, now)
        if entry is None:
            entry = _Failures(0, now)
        else:
            del self._entries[key]  # re-inserted below: the dict stays ordered by last failure
        entry.count += 1
        entry.last = now
        self._entries[key] = entry
        self._forget_old(now)
        return entry

    def clear(self, key: str) -> None:
        self._entries.pop(key, None)

    def _forget_old(self, now: dt.datetime) -> None:
        while self._entries:
            key, oldest = next(iter(self._entries.items()))
            if now - oldest.last <= self.window and len(self._entries) <= MAX_TRACKED:
                break
            del self._entries[key]


class LoginThrottle:
    """The login failures one app process has seen; safe to use from several threads."""

    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._addresses = _Tally(policy.window)
        self._accounts = _Tally(policy.window)

    def address_wait(self, address: str) -> float:
        """Seconds this address must still wait before an attempt of its is heard (0: go ahead)."""
        now = utcnow()
        with self._lock:
            entry = self._addresses.get(address, now)
            if entry is None or entry.count < self.policy.address_failures:
                return 0.0
            excess = entry.count - self.policy.address_failures
            wait = min(2.0 ** min(excess, 32), self.policy.address_max_wait)
            return max(0.0, (entry.last + dt.timedelta(seconds=wait) - now).total_seconds())

    def account_delay(self, username: str) -> float:
        """Seconds an attempt on this account is held back before its password is checked."""
        now = utcnow()
        with self._lock:
            entry = self._accounts.get(username, now)
            if entry is None or entry.count < self.policy.account_failures:
                return 0.0
            excess = entry.count - self.policy.account_failures
            return min(ACCOUNT_FIRST_DELAY * 2.0 ** min(excess, 32), self.policy.account_max_delay)

    async def hold(self, username: str) -> None:
        """Wait (without a thread) as long as the account's failures ask, before its password is checked."""
        delay = self.account_delay(username)
        if delay > 0:
            await sleep(delay)

    def failed(self, address: str, username: str) -> None:
        now = utcnow()
        with self._lock:
            self._addresses.add(address, now)
            self._accounts.add(username, now)

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._addresses.clear(address)
            self._accounts.clear(username)
