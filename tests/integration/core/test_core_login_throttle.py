"""Login throttling over HTTP (issue 11, item 16): guessing slows down, nobody is locked out.

Thirty wrong passwords for an administrator used to lock the account for everyone, the right password
included. Now the guessing address is refused (429, Retry-After growing) while the owner, from their
own address, still signs in; a guesser spread over many addresses only makes each attempt on that
account wait a little longer. The holds are recorded instead of slept, so the tests take no time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import PASSWORD, World
from fangkong.core import throttle as throttle_module
from fangkong.core.clock import FrozenClock

GUESSER = ("203.0.113.66", 40000)
OWNER = ("198.51.100.10", 40000)
ADMIN = "province_admin"


@pytest.fixture
def holds(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The holds the throttle asked for, in order (recorded, not slept)."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(throttle_module, "sleep", record)
    return recorded


@pytest.fixture
def guesser(app: FastAPI, world: World) -> Iterator[TestClient]:
    with TestClient(app, client=GUESSER) as client:
        yield client


def _token(client: TestClient, password: str, username: str = ADMIN):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/token", json={"username": username, "password": password})


def test_a_wrong_password_is_a_401(guesser: TestClient, holds: list[float]) -> None:
    response = _token(guesser, "wrong-password-1")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] == "wrong username or password"


def test_thirty_wrong_passwords_slow_the_guessing_address_and_the_owner_still_gets_in(
    app: FastAPI, guesser: TestClient, holds: list[float], frozen_clock: FrozenClock
) -> None:
    answers = [_token(guesser, f"guess-{i}") for i in range(30)]
    assert [a.status_code for a in answers[:10]] == [401] * 10
    assert {a.status_code for a in answers[10:]} == {429}  # refused unheard: its own allowance is spent
    assert answers[10].headers["Retry-After"] == "1"
    assert "too many failed logins" in answers[10].json()["detail"]
    # The guessing address is refused even with the right password...
    assert _token(guesser, PASSWORD).status_code == 429
    # ...while the owner, from their own address, signs in: held back a moment (the account has ten
    # failures), not refused.
    holds.clear()
    with TestClient(app, client=OWNER) as owner:
        assert _token(owner, PASSWORD).status_code == 200
    assert holds == [4]


def test_the_wait_of_an_address_grows_with_each_failure_after_it(
    guesser: TestClient, holds: list[float], frozen_clock: FrozenClock
) -> None:
    for i in range(10):
        assert _token(guesser, f"guess-{i}").status_code == 401
    waits = []
    for i in range(4):
        refused = _token(guesser, "right-or-wrong")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        frozen_clock.advance(seconds=waits[-1])  # wait as told, then guess wrong again
        assert _token(guesser, f"again-{i}").status_code == 401
    assert waits == [1, 2, 4, 8]
    frozen_clock.advance(seconds=16)
    assert _token(guesser, PASSWORD).status_code == 200  # once the wait is over, the right password works


def test_a_guesser_spread_over_many_addresses_makes_each_attempt_on_the_account_wait_longer(
    app: FastAPI, world: World, holds: list[float]
) -> None:
    for i in range(30):
        with TestClient(app, client=(f"192.0.2.{i + 1}", 40000)) as one_try:
            assert _token(one_try, f"guess-{i}").status_code == 401  # one try each: no address is refused
    assert holds[:5] == [0.5, 1, 2, 4, 4]  # after the account's first five failures, doubling to the cap
    assert all(h <= 4 for h in holds)
    holds.clear()
    with TestClient(app, client=OWNER) as owner:
        assert _token(owner, PASSWORD).status_code == 200
        assert holds == [4]
        holds.clear()
        # Another account is not slowed by the guessing at this one.
        assert _token(owner, PASSWORD, username="home_investigator").status_code == 200
        assert holds == []


def _login_form(client: TestClient, password: str):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    return client.post(
        "/login",
        data={"username": ADMIN, "password": password, "csrf_token": csrf.group(1)},
        follow_redirects=False,
    )


def test_the_login_page_says_how_long_to_wait_and_another_address_signs_in(
    app: FastAPI, guesser: TestClient, holds: list[float]
) -> None:
    for i in range(10):
        assert _login_form(guesser, f"guess-{i}").status_code == 401
    refused = _login_form(guesser, PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert "此地址登录失败次数过多，请 1 秒后再试。" in refused.text
    with TestClient(app, client=OWNER) as owner:
        signed_in = _login_form(owner, PASSWORD)
        assert signed_in.status_code == 303
        assert "fk_session" in signed_in.cookies
