"""Hundreds of people saving at once (issue 11, item 0): a real uvicorn serving fangkong, on each database.

An outbreak is when every investigator, sampler and community worker saves at the same moment. Here 200
clients register 200 cases (each a new resident) and read the case list and the registry at once, over
real HTTP against a fangkong served by uvicorn in its own process, while a watcher asks ``/healthz``
every half second. Every request must be answered without a 5xx, the server must stay alive throughout,
and afterwards the database must hold exactly the cases that were acknowledged: none lost, none twice.

The server runs in a subprocess so that a server whose event loop is stuck (the failure this test
guards against) is killed at the end instead of hanging the suite; every request has a timeout and the
whole run a deadline, so a broken server makes this test fail, never hang.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from conftest import PASSWORD, World, run_in_own_loop, valid_id
from fangkong.core.config import Settings
from fangkong.core.db import Database

pytestmark = pytest.mark.slow

CLIENTS = 200
REQUEST_TIMEOUT = 60.0  # seconds a client waits for one answer
HEALTH_TIMEOUT = 5.0  # seconds /healthz may take before the server counts as unresponsive
RUN_DEADLINE = 100.0  # seconds for the whole load, so that a stuck server fails the test
COMMUNITY = "330106001001"  # 保俶社区, in the home county of the seeded world
# 10 surnames x 20 given names: a distinct, plausible name for each of the 200 new residents.
SURNAMES = "张王李赵陈刘杨黄周吴"
GIVEN = ["建国", "秀英", "志强", "桂兰", "海燕", "建华", "玉兰", "国强", "丽娟", "春梅",
         "晓明", "红霞", "立新", "淑珍", "文杰", "雪梅", "振华", "美玲", "德明", "慧敏"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(settings: Settings, world: World, tmp_path: Path) -> Iterator[str]:
    """fangkong under uvicorn in its own process, on the test's database, with the seeded world."""
    port = _free_port()
    env = {
        **os.environ,
        "FANGKONG_ENV": "test",
        "FANGKONG_VAR_DIR": str(settings.var_dir),
        "FANGKONG_DATABASE_URL": settings.resolved_database_url(),
        "FANGKONG_SECRET_KEY": settings.secret_key,
        "FANGKONG_ENCRYPTION_KEY": settings.encryption_key,
        "FANGKONG_HASH_KEY": settings.hash_key,
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "fangkong.app:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited: {(tmp_path / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
        log.close()


@dataclass
class Outcome:
    """What the clients and the watcher saw."""

    created: list[int] = field(default_factory=list)  # case ids acknowledged with 201
    answers: list[tuple[str, int, str]] = field(default_factory=list)  # (request, status, body head)
    failures: list[str] = field(default_factory=list)  # requests that got no answer at all
    health: list[str] = field(default_factory=list)  # "ok" or what went wrong, one per poll
    health_seconds: list[float] = field(default_factory=list)  # how long each poll took


def _case_body(i: int) -> dict[str, object]:
    return {
        "classification": "confirmed",
        "person": {
            "id_number": valid_id("330106", "19850312", 100 + i),
            "name": SURNAMES[i % 10] + GIVEN[i // 10],
            "phone": f"1391234{i:04d}",
            "community_code": COMMUNITY,
            "address": f"保俶路{i + 1}号",
        },
        "notes": f"load test client {i}",
    }


async def _client(http: httpx.AsyncClient, i: int, headers: dict[str, str], outcome: Outcome) -> None:
    requests = [
        ("POST /api/tracing/cases", "POST", "/api/tracing/cases", _case_body(i)),
        ("GET /api/tracing/cases", "GET", "/api/tracing/cases?size=20", None),
        ("GET /api/people", "GET", f"/api/people?size=10&page={i % 3 + 1}", None),
    ]
    for label, method, url, body in requests:
        try:
            response = await http.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            outcome.failures.append(f"{label} (client {i}): {type(exc).__name__}")
            continue
        outcome.answers.append((label, response.status_code, response.text[:200]))
        if method == "POST" and response.status_code == 201:
            outcome.created.append(int(response.json()["id"]))


def _watch_health(base: str, stop: threading.Event, outcome: Outcome) -> None:
    # In its own thread, so that the load's event loop in this process cannot delay the polls.
    while not stop.is_set():
        started = time.monotonic()
        try:
            response = httpx.get(f"{base}/healthz", timeout=HEALTH_TIMEOUT)
            status = response.status_code
            outcome.health.append("ok" if status == 200 else f"status {status}")
        except httpx.HTTPError as exc:
            outcome.health.append(type(exc).__name__)
        outcome.health_seconds.append(round(time.monotonic() - started, 2))
        stop.wait(0.5)


async def _load(base: str, headers: dict[str, str]) -> Outcome:
    outcome = Outcome()
    # A new connection per request: a kept-alive connection that the server closes for idling while
    # this busy client is about to reuse it would fail a request through no fault of the server.
    limits = httpx.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=0)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_health, args=(base, stop, outcome), daemon=True)
    watcher.start()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=limits) as http:
            await asyncio.wait_for(
                asyncio.gather(*(_client(http, i, headers, outcome) for i in range(CLIENTS))),
                timeout=RUN_DEADLINE,
            )
    except TimeoutError:
        outcome.failures.append(f"the load did not finish within {RUN_DEADLINE:.0f} s")
    # The server must still answer after the storm, not only during it.
    await asyncio.sleep(1.0)
    stop.set()
    watcher.join(timeout=HEALTH_TIMEOUT + 5)
    return outcome


def test_two_hundred_writers_and_readers_are_all_answered_and_nothing_is_lost(
    served: str, settings: Settings
) -> None:
    token = httpx.post(
        f"{served}/api/auth/token",
        json={"username": "home_investigator", "password": PASSWORD},
        timeout=REQUEST_TIMEOUT,
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['token']}"}

    outcome = run_in_own_loop(_load, served, headers)

    assert outcome.failures == [], outcome.failures[:10]
    server_errors = [a for a in outcome.answers if a[1] >= 500]
    assert server_errors == [], server_errors[:10]
    refused = [a for a in outcome.answers if a[1] >= 400]
    assert refused == [], refused[:10]
    assert len(outcome.answers) == 3 * CLIENTS
    assert outcome.health, "the watcher never asked /healthz"
    polls = list(zip(outcome.health, outcome.health_seconds, strict=True))
    assert [h for h in outcome.health if h != "ok"] == [], polls

    # Nothing lost, nothing doubled: the database holds exactly the acknowledged cases, once each.
    from fangkong.core.models import AuditEntry
    from fangkong.tracing.models import Case

    assert len(outcome.created) == CLIENTS
    assert len(set(outcome.created)) == CLIENTS
    db = Database(settings.resolved_database_url())
    try:
        with db.unit_of_work() as session:
            stored = set(session.scalars(select(Case.id)))
            registered = session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "cases.register")
            )
            from fangkong.core import audit

            chain = audit.verify(session)
    finally:
        db.dispose()
    assert stored == set(outcome.created)
    assert registered == CLIENTS
    assert chain.ok, chain.reason
