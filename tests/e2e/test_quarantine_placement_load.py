"""No double booking under load (issue 12): 200 placement requests at once for 50 free single rooms.

A real uvicorn serves fangkong in its own process; 200 clients each ask, at the same moment, to place
one person in one room, the rooms chosen so that every one of the 50 rooms is asked for by four people
(of four different households, contacts of no common case). Afterwards the database must hold exactly
50 active stays, no room over its beds and no room with people of different groups; every other request
must have been answered 409 with a message saying the room is taken, and none with a 5xx.

The server reads the real clock (a subprocess does not share the test's frozen one), so the plans are
seeded at the server's own time, read from its ``Date`` header. Every request has a timeout and the
whole run a deadline, so a stuck server fails this test rather than hanging it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import func, select
from test_load import GIVEN, SURNAMES, served  # noqa: F401  (served: fangkong under uvicorn in its own process)

from conftest import HOME_COUNTY, PASSWORD, World, run_in_own_loop, valid_id
from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.events import EventBus, PersonPlacedUnderManagement
from fangkong.core.models import Person
from fangkong.core.people import register
from fangkong.protocol.service import place_many
from fangkong.quarantine.models import ACTIVE_STAYS, QuarantineRoom, SiteStatus, Stay
from quarantine_support import acting, new_site

pytestmark = pytest.mark.slow

ROOMS = 50
CLIENTS = 200  # four for each room
REQUEST_TIMEOUT = 60.0  # seconds a client waits for one answer
RUN_DEADLINE = 120.0  # seconds for the whole load
COMMUNITIES = ("330106001001", "330106001002")  # 保俶社区, 宝石社区 (the home county)


@dataclass
class Outcome:
    answers: list[tuple[int, int, int, str]] = field(default_factory=list)  # (person, room, status, body)
    failures: list[str] = field(default_factory=list)


def _seed(app, settings: Settings, world: World) -> tuple[list[int], list[int]]:  # type: ignore[no-untyped-def]
    """An open site of 50 free single rooms, and 200 residents (each their own household) whose close
    contact plans ask for centralized quarantine from today."""
    vault = Vault(settings.encryption_key, settings.hash_key)
    last_exposure = clock.today() - dt.timedelta(days=1)
    with acting(app, "province_admin") as (session, admin):
        people = [
            register(
                session,
                vault,
                EventBus(),
                admin,
                {
                    "id_number": valid_id("330106", f"19{75 + i % 20}0{i % 9 + 1}1{i % 9}", 200 + i),
                    "name": SURNAMES[i % 10] + GIVEN[i // 10],
                    "phone": f"1371234{i:04d}",
                    "community_code": COMMUNITIES[i % 2],
                    "address": f"负荷路{i + 1}号",
                },
            ).id
            for i in range(CLIENTS)
        ]
        paths = dict(session.execute(select(Person.id, Person.jpath).where(Person.id.in_(people))).all())
        place_many(
            session,
            [
                PersonPlacedUnderManagement(pid, paths[pid], "close_contact", last_exposure, f"contact:{pid}")
                for pid in people
            ],
        )
    with acting(app, "home_quarantine_manager") as (session, me):
        site = new_site(
            session, me, "负荷测试隔离点", rooms=ROOMS, status=SiteStatus.open, county=HOME_COUNTY
        )
        rooms = list(
            session.scalars(
                select(QuarantineRoom.id).where(QuarantineRoom.site_id == site.id).order_by(QuarantineRoom.id)
            )
        )
    assert len(rooms) == ROOMS
    return people, rooms


async def _place(
    http: httpx.AsyncClient, headers: dict[str, str], person: int, room: int, outcome: Outcome
) -> None:
    try:
        response = await http.post(
            "/api/quarantine/place-in-room", json={"person_id": person, "room_id": room}, headers=headers
        )
    except httpx.HTTPError as exc:
        outcome.failures.append(f"person {person} -> room {room}: {type(exc).__name__}")
        return
    outcome.answers.append((person, room, response.status_code, response.text[:300]))


async def _load(base: str, headers: dict[str, str], pairs: list[tuple[int, int]]) -> Outcome:
    outcome = Outcome()
    limits = httpx.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=0)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=limits) as http:
            await asyncio.wait_for(
                asyncio.gather(*(_place(http, headers, p, r, outcome) for p, r in pairs)),
                timeout=RUN_DEADLINE,
            )
    except TimeoutError:
        outcome.failures.append(f"the load did not finish within {RUN_DEADLINE:.0f} s")
    return outcome


def test_two_hundred_placements_at_once_for_fifty_single_rooms_never_double_book(  # type: ignore[no-untyped-def]
    served: str,  # noqa: F811
    app,
    settings: Settings,
    world: World,
    frozen_clock: clock.FrozenClock,
) -> None:
    # The server's clock is the real one: seed the plans at its time, so that today is inside the stage.
    health = httpx.get(f"{served}/healthz", timeout=REQUEST_TIMEOUT)
    frozen_clock.set(email.utils.parsedate_to_datetime(health.headers["date"]).astimezone(dt.UTC))
    people, rooms = _seed(app, settings, world)
    token = httpx.post(
        f"{served}/api/auth/token",
        json={"username": "home_quarantine_manager", "password": PASSWORD},
        timeout=REQUEST_TIMEOUT,
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    # Four people for every room, their requests sent one after the other so that they are in the server
    # at the same time (it admits several requests to the database at once): they truly race.
    pairs = [(person, rooms[i // (CLIENTS // ROOMS)]) for i, person in enumerate(people)]

    outcome = run_in_own_loop(_load, served, headers, pairs)

    assert outcome.failures == [], outcome.failures[:10]
    assert len(outcome.answers) == CLIENTS
    statuses = Counter(status for _p, _r, status, _b in outcome.answers)
    assert [a for a in outcome.answers if a[2] >= 500] == []
    assert statuses == {201: ROOMS, 409: CLIENTS - ROOMS}, statuses
    refused = [body for _p, _r, status, body in outcome.answers if status == 409]
    assert all("room" in body for body in refused), refused[:5]
    by_room = Counter(room for _p, room, status, _b in outcome.answers if status == 201)
    assert set(by_room.values()) == {1} and len(by_room) == ROOMS

    db = Database(settings.resolved_database_url())
    try:
        with db.unit_of_work() as session:
            active = session.scalar(
                select(func.count()).select_from(Stay).where(Stay.state.in_(ACTIVE_STAYS))
            )
            groups = session.execute(
                select(Stay.room_id, func.count(), func.count(func.distinct(Stay.group_key)))
                .where(Stay.state.in_(ACTIVE_STAYS))
                .group_by(Stay.room_id)
            ).all()
            room_rows = session.execute(
                select(
                    QuarantineRoom.id, QuarantineRoom.occupants, QuarantineRoom.beds, QuarantineRoom.state
                ).where(QuarantineRoom.id.in_(rooms))
            ).all()
    finally:
        db.dispose()
    assert active == ROOMS
    # No room over its beds, each room's count agrees with its stays, and no unrelated people together.
    assert all(occupants <= beds for _id, occupants, beds, _state in room_rows)
    stays_in = {room: n for room, n, _groups in groups}
    assert {rid: occupants for rid, occupants, _b, _s in room_rows} == {
        rid: stays_in.get(rid, 0) for rid in rooms
    }
    assert all(distinct == 1 for _room, _n, distinct in groups)
    assert {state.value for _id, _o, _b, state in room_rows} == {"occupied"}
