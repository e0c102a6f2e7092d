"""The scanner endpoint under load (issue 13): 200 handhelds scanning at once, with re-sends and an offline
queue, against a real uvicorn serving fangkong in its own process, on each database.

Every five handhelds fill one pooled tube of 10 (each binds two people), so that concurrent calls race
for the same tube. Each handheld sends its first scan alone, then its queue (the first scan again and
the second), then tries to scan a neighbour's person into its own tube (refused: already sampled, or
recorded and the neighbour's own scan refused: either way the person is in the tube once), then sends its
whole queue again. Meanwhile an offline site uploads a queue of 100 scans taken two hours earlier, twice
at once, and once more at the end. A call answered 409 ("send again") is sent again, as a handheld does.

Afterwards the database must hold each binding exactly once, every tube within its pool size with its
count equal to its bindings, no person twice in the round, and exactly the scans answered "recorded";
and no call may have been answered with a 5xx.

The server reads the real clock, so the scan times are taken from its ``Date`` header. Every request
has a timeout and the whole run a deadline, so a stuck server fails this test rather than hanging it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from test_load import GIVEN, SURNAMES, served  # noqa: F401  (served: fangkong under uvicorn in its own process)

from conftest import PASSWORD, World, run_in_own_loop, valid_id
from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.events import EventBus
from fangkong.core.people import register
from fangkong.testing.models import Tube, TubeMember
from fangkong.testing.rules.codes import ScanCodes
from testing_support import HOME_COMMUNITIES, acting_as, home_round

pytestmark = pytest.mark.slow

CLIENTS = 200
POOL = 10
CLIENTS_PER_TUBE = POOL // 2  # each handheld binds two people
OFFLINE = 100  # scans in the offline site's queue
REQUEST_TIMEOUT = 60.0  # seconds a handheld waits for one answer
RUN_DEADLINE = 180.0  # seconds for the whole load
RETRIES = 5  # a call answered 409 "send again" is sent again, at most this often
URL = "/api/testing/scans"


@dataclass
class Outcome:
    # (device, seq, status) of every scan answered, over every call.
    scans: list[tuple[str, int, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _seed(db: Database, settings: Settings, world: World) -> tuple[list[int], int]:
    """Residents for the handhelds and the offline site (each their own household), and an open round
    over the home county's two communities with pools of 10."""
    vault = Vault(settings.encryption_key, settings.hash_key)
    with acting_as(db, "province_admin") as (session, admin):
        people = [
            register(
                session,
                vault,
                EventBus(),
                admin,
                {
                    "id_number": valid_id("330106", f"19{70 + i % 30:02d}0{i % 9 + 1}1{i % 9}", i % 1000),
                    "name": SURNAMES[i % 10] + GIVEN[(i // 10) % 20],
                    "community_code": HOME_COMMUNITIES[i % 2],
                    "address": f"采样路{i + 1}号",
                },
            ).id
            for i in range(2 * CLIENTS + OFFLINE)
        ]
    _campaign, round_id = home_round(db, world, pool_size=POOL)
    return people, round_id


async def _send(
    http: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], label: str, outcome: Outcome
) -> None:
    for _attempt in range(RETRIES):
        try:
            response = await http.post(URL, json=body, headers=headers)
        except httpx.HTTPError as exc:
            outcome.failures.append(f"{label}: {type(exc).__name__}")
            return
        outcome.statuses.append(response.status_code)
        if response.status_code == 409:
            await asyncio.sleep(0.05)
            continue
        if response.status_code != 200:
            outcome.failures.append(f"{label}: {response.status_code} {response.text[:200]}")
            return
        scans = body.get("scans", [body])
        for sent, answer in zip(scans, response.json()["outcomes"], strict=True):
            outcome.scans.append((sent["device_id"], sent["device_seq"], answer["status"]))
        return
    outcome.failures.append(f"{label}: still 409 after {RETRIES} tries")


async def _handheld(
    http: httpx.AsyncClient, headers: dict[str, str], scans: list[dict[str, Any]], outcome: Outcome
) -> None:
    first, second, steal = scans
    label = first["device_id"]
    await _send(http, headers, first, label, outcome)
    await _send(http, headers, {"scans": [first, second]}, label, outcome)
    await _send(http, headers, steal, label, outcome)
    await _send(http, headers, {"scans": scans}, label, outcome)


async def _load(
    base: str, headers: dict[str, str], handhelds: list[list[dict[str, Any]]], offline: list[dict[str, Any]]
) -> Outcome:
    outcome = Outcome()
    limits = httpx.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=0)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=limits) as http:
            await asyncio.wait_for(
                asyncio.gather(
                    _send(http, headers, {"scans": offline}, "offline upload 1", outcome),
                    *(_handheld(http, headers, scans, outcome) for scans in handhelds),
                    _send(http, headers, {"scans": offline}, "offline upload 2", outcome),
                ),
                timeout=RUN_DEADLINE,
            )
            await _send(http, headers, {"scans": offline}, "offline upload 3", outcome)
    except TimeoutError:
        outcome.failures.append(f"the load did not finish within {RUN_DEADLINE:.0f} s")
    return outcome


def test_two_hundred_handhelds_bind_each_scan_once_within_pool_sizes(  # type: ignore[no-untyped-def]
    served: str,  # noqa: F811
    app,
    settings: Settings,
    world: World,
    frozen_clock: clock.FrozenClock,
) -> None:
    health = httpx.get(f"{served}/healthz", timeout=REQUEST_TIMEOUT)
    server_now = email.utils.parsedate_to_datetime(health.headers["date"]).astimezone(dt.UTC)
    frozen_clock.set(server_now)
    people, round_id = _seed(app.state.db, settings, world)
    codes = ScanCodes(settings.hash_key)
    token = httpx.post(
        f"{served}/api/auth/token",
        json={"username": "home_community_worker", "password": PASSWORD},
        timeout=REQUEST_TIMEOUT,
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['token']}"}

    def scan(device: str, seq: int, person: int, barcode: str, at: dt.datetime) -> dict[str, Any]:
        return {
            "device_id": device,
            "device_seq": seq,
            "round_id": round_id,
            "barcode": barcode,
            "person_code": codes.code_for(person),
            "scanned_at": at.isoformat(),
            "pool_size": POOL,
        }

    taken = server_now - dt.timedelta(minutes=10)
    handhelds = []
    for i in range(CLIENTS):
        device, tube = f"pda-{i:03d}", f"T-{i // CLIENTS_PER_TUBE:03d}"
        group = (i // CLIENTS_PER_TUBE) * POOL
        neighbour = people[group + (2 * (i % CLIENTS_PER_TUBE) + 2) % POOL]
        handhelds.append(
            [
                scan(device, 1, people[2 * i], tube, taken),
                scan(device, 2, people[2 * i + 1], tube, taken),
                scan(device, 3, neighbour, tube, taken),
            ]
        )
    earlier = server_now - dt.timedelta(hours=2)
    offline = [
        scan("pda-offline", 1000 + k, people[2 * CLIENTS + k], f"OFF-{k // POOL:02d}", earlier)
        for k in range(OFFLINE)
    ]

    outcome = run_in_own_loop(_load, served, headers, handhelds, offline)

    assert outcome.failures == [], outcome.failures[:10]
    assert [s for s in outcome.statuses if s >= 500] == []
    recorded = Counter((device, seq) for device, seq, status in outcome.scans if status == "recorded")
    # Nothing answered "recorded" twice: a re-send is "already recorded".
    assert [key for key, n in recorded.items() if n > 1] == []
    # The offline queue: recorded once between the two concurrent uploads, then all "already recorded".
    last_upload = [s for d, _seq, s in outcome.scans[-OFFLINE:] if d == "pda-offline"]
    assert last_upload == ["already_recorded"] * OFFLINE
    # Every handheld's own two people are in, by its scan or a neighbour's.
    assert len(recorded) == 2 * CLIENTS + OFFLINE

    db = Database(settings.resolved_database_url())
    try:
        with db.unit_of_work() as session:
            bindings = session.execute(
                select(TubeMember.device_id, TubeMember.device_seq, TubeMember.person_id).where(
                    TubeMember.round_id == round_id
                )
            ).all()
            counted = dict(
                session.execute(
                    select(TubeMember.tube_id, func.count())
                    .where(TubeMember.round_id == round_id)
                    .group_by(TubeMember.tube_id)
                ).all()
            )
            tubes = session.execute(
                select(Tube.id, Tube.barcode, Tube.members, Tube.pool_size).where(Tube.round_id == round_id)
            ).all()
    finally:
        db.dispose()
    # Each binding exactly once, and exactly the ones answered "recorded".
    assert Counter((d, s) for d, s, _p in bindings) == recorded
    # No person twice in the round, and everyone scanned is in.
    persons = Counter(p for _d, _s, p in bindings)
    assert set(persons.values()) == {1} and set(persons) == set(people)
    # Every tube within its pool size, its count agreeing with its bindings: here, full.
    assert len(tubes) == CLIENTS // CLIENTS_PER_TUBE + OFFLINE // POOL
    assert all(members == counted.get(tid, 0) <= size for tid, _b, members, size in tubes)
    assert {(members, size) for _t, _b, members, size in tubes} == {(POOL, POOL)}
