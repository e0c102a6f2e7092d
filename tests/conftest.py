"""Shared fixtures: real databases (SQLite and PostgreSQL), a configured app, seeded jurisdictions and users.

Database-backed tests take the ``database_url`` fixture, which is parametrised over both backends, so
every such test runs on SQLite and on PostgreSQL in the same run. PostgreSQL must be reachable at
``FANGKONG_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``); each run creates its own
database and drops it at the end. Set ``FANGKONG_TEST_BACKENDS=sqlite`` to run only one backend.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime as dt
import os
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import create_engine, text

from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.core.db import Base, Database
from fangkong.models_registry import import_all_models

pytest_plugins = ["browser_fixtures", "sim_fixtures"]

T = TypeVar("T")

PG_ADMIN_URL = os.environ.get("FANGKONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b for b in os.environ.get("FANGKONG_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


# The platform's clock stands still in every test, at an hour that used to break the suite: 20:19 UTC is
# 04:19 the next morning in Beijing, so anything that takes the UTC date for "today" fails here every
# time instead of a third of each day. Tests that move time move this clock (``frozen_clock.advance``).
# It ticks a microsecond per reading so that things done in turn keep their order, as on a real clock.
FROZEN_AT = dt.datetime(2026, 12, 6, 20, 19, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[clock.FrozenClock]:
    clock.set_time_zone(clock.DEFAULT_TIME_ZONE)
    with clock.freeze(FROZEN_AT, tick=TICK) as frozen:
        yield frozen


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    url = PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def _migrated_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from fangkong.core.migrate import upgrade

    urls: dict[str, str] = {}
    created_pg: list[str] = []
    if "sqlite" in BACKENDS:
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        urls["sqlite"] = f"sqlite:///{path}"
        upgrade(urls["sqlite"])
    if "postgresql" in BACKENDS:
        name = f"fangkong_test_{uuid.uuid4().hex[:10]}"
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        created_pg.append(name)
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        urls["postgresql"] = f"{base}/{name}"
        upgrade(urls["postgresql"])
    yield urls
    for name in created_pg:
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wipe(db: Database) -> None:
    import_all_models()
    from sqlalchemy import inspect

    existing = set(inspect(db.engine).get_table_names())
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.execute(
                text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
            )
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, _migrated_urls: dict[str, str]) -> str:
    url = _migrated_urls[request.param]
    db = Database(url)
    _wipe(db)
    db.dispose()
    return url


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        var_dir=tmp_path,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(32),
        encryption_key=_key(),
        hash_key=_key(),
        # Tests move the frozen clock themselves and sweep when they mean to.
        sweep_seconds=0,
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.resolved_database_url())
    yield database
    database.dispose()


# ---------------------------------------------------------------- a small seeded world

PASSWORD = "correct-horse-42"
HOME_COUNTY = "330106"  # 西湖区, 杭州市
FOREIGN_COUNTY = "330203"  # 海曙区, 宁波市

WORLD_TREE = [
    ("330000", "浙江省", "province", ""),
    ("330100", "杭州市", "city", "330000"),
    ("330200", "宁波市", "city", "330000"),
    ("330106", "西湖区", "county", "330100"),
    ("330102", "上城区", "county", "330100"),
    ("330203", "海曙区", "county", "330200"),
    ("330106001", "北山街道", "township", "330106"),
    ("330106001001", "保俶社区", "community", "330106001"),
    ("330106001002", "宝石社区", "community", "330106001"),
    ("330102001", "清波街道", "township", "330102"),
    ("330102001001", "清波门社区", "community", "330102001"),
    ("330203001", "南门街道", "township", "330203"),
    ("330203001001", "南门社区", "community", "330203001"),
]


def valid_id(region: str, birth: str, seq: int) -> str:
    from fangkong.core.idnumber import check_digit

    first17 = f"{region}{birth}{seq:03d}"
    return first17 + check_digit(first17)


class World:
    """What the seeded world holds: jurisdiction ids by code, users by name, people ids by county."""

    def __init__(self) -> None:
        self.jurisdictions: dict[str, int] = {}
        self.users: dict[str, int] = {}
        self.people: dict[str, list[int]] = {}
        self.id_numbers: dict[int, str] = {}


def seed_world(db: Database, vault_keys: tuple[str, str]) -> World:
    from fangkong.core import audit, jurisdictions, people, users
    from fangkong.core.auth import principal_for
    from fangkong.core.crypto import Vault
    from fangkong.core.events import EventBus
    from fangkong.core.jurisdictions import JurisdictionRow
    from fangkong.core.models import Jurisdiction, Role, User

    world = World()
    vault = Vault(*vault_keys)
    with db.unit_of_work() as session:
        jurisdictions.import_tree(session, audit.SYSTEM, [JurisdictionRow(*r) for r in WORLD_TREE])
        for j in session.query(Jurisdiction):
            world.jurisdictions[j.code] = j.id
        for role in Role:
            for code, prefix in ((HOME_COUNTY, "home"), (FOREIGN_COUNTY, "away")):
                user = users.create_user(
                    session,
                    audit.SYSTEM,
                    "/",
                    username=f"{prefix}_{role.value}",
                    display_name=f"{prefix} {role.value}",
                    role=role.value,
                    jurisdiction_code=code,
                    password=PASSWORD,
                )
                world.users[user.username] = user.id
        admin = users.create_user(
            session,
            audit.SYSTEM,
            "/",
            username="province_admin",
            display_name="省管理员",
            role="administrator",
            jurisdiction_code="330000",
            password=PASSWORD,
        )
        world.users[admin.username] = admin.id
        bus = EventBus()
        for county, community, region in (
            (HOME_COUNTY, "330106001001", "330106"),
            (HOME_COUNTY, "330106001002", "330106"),
            (FOREIGN_COUNTY, "330203001001", "330203"),
        ):
            registrar = session.get(User, world.users["province_admin"])
            assert registrar is not None
            principal = principal_for(session, registrar, "token")
            for i in range(3):
                id_number = valid_id(region, f"19{60 + i * 10}0{i + 1}15", 10 + i + len(world.id_numbers))
                view = people.register(
                    session,
                    vault,
                    bus,
                    principal,
                    {
                        "id_number": id_number,
                        "name": ["张伟", "王芳", "李娜"][i],
                        "phone": f"1380013{len(world.id_numbers):04d}",
                        "community_code": community,
                        "address": f"{community} 幸福路{i % 2 + 1}号",
                    },
                )
                world.people.setdefault(county, []).append(view.id)
                world.id_numbers[view.id] = id_number
    return world


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from fangkong.app import create_app

    application = create_app(settings)
    yield application
    application.state.db.dispose()


@pytest.fixture
def world(app, settings: Settings) -> World:  # type: ignore[no-untyped-def]
    return seed_world(app.state.db, (settings.encryption_key, settings.hash_key))


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


def run_in_own_loop(func: Callable[..., Awaitable[T]], *args: object) -> T:
    """``anyio.run(func, *args)`` in a thread of its own.

    The browser tests' Playwright (sync API) keeps an event loop running in the main thread for the
    whole session, so a test that runs its own loop there fails once a browser test has run first.
    """
    import anyio

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, func, *args).result()


def token_for(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2() -> Iterator[None]:
    """Real argon2, with the minimum cost: the suite creates hundreds of accounts."""
    from argon2 import PasswordHasher

    from fangkong.core import auth

    original = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    auth._hasher = original


# ---------------------------------------------------------------- surveillance objects in the foreign county


def seed_surveillance_foreign(db: Database, world: World) -> dict[str, str]:
    """A channel, detector configuration, fusion rule, observation, alert and pull source of 海曙区 (foreign).

    Made through the surveillance use cases with the foreign county's scope, so that every route with one
    of these path parameters can be tried from the home county (the authorization matrix).
    """
    import datetime as dt

    from sqlalchemy import select

    from fangkong.core import audit
    from fangkong.core.models import Jurisdiction
    from fangkong.surveillance import observations, service
    from fangkong.surveillance.ingest import RawRecord
    from fangkong.surveillance.models import Alert, AlertLevel, AlertStatus, Observation, RuleKind

    now = dt.datetime(2024, 3, 20, 8, 0, tzinfo=dt.UTC)
    system = audit.SYSTEM
    with db.unit_of_work() as session:
        county = session.get(Jurisdiction, world.jurisdictions[FOREIGN_COUNTY])
        assert county is not None
        path = county.path
        channel = service.create_channel(
            session,
            system,
            path,
            service.ChannelInput("haishu_custom", "海曙区 custom channel", "cases", "daily", "county"),
        )
        config = service.create_config(session, system, path, channel.id, "county", "ears_c1", {})
        rule = service.create_rule(
            session, system, path, service.RuleInput("海曙区 rule", "single_channel", "county", "blue")
        )
        record = RawRecord(2, "haishu_custom", FOREIGN_COUNTY, "2024-03-19", 3)
        report = observations.ingest(session, system, path, [record], "seed", now)
        observation_id = session.scalar(select(Observation.id).where(Observation.batch_id == report.batch_id))
        alert = Alert(
            rule_id=rule.id,
            kind=RuleKind.single_channel,
            jurisdiction_id=county.id,
            jpath=path,
            assigned_jurisdiction_id=county.id,
            assigned_jpath=path,
            level=AlertLevel.blue,
            status=AlertStatus.signal,
            title="海曙区: seeded alert",
            dedupe_key=f"temporal:{county.id}",
            first_date=now.date(),
            last_date=now.date(),
            created_at=now,
            response_hours=24,
            response_due_at=now + dt.timedelta(hours=24),
            outcome_note="",
            escalations=0,
            evidence="{}",
            rank=0.0,
        )
        session.add(alert)
        source = service.create_pull_source(
            session, system, path, "haishu-feed", "http_json", "http://127.0.0.1:9/feed", "haishu_custom"
        )
        session.flush()
        return {
            "channel_id": str(channel.id),
            "config_id": str(config.id),
            "rule_id": str(rule.id),
            "observation_id": str(observation_id),
            "alert_id": str(alert.id),
            "source_id": str(source.id),
        }


# ---------------------------------------------------------------- modeling objects in the foreign county


def seed_modeling_foreign(db: Database, world: World) -> dict[str, str]:
    """A finished comparison job and a stopped drill of 海曙区 (foreign), for the authorization matrix."""
    import datetime as dt

    from fangkong.core.models import Jurisdiction
    from fangkong.modeling.models import Drill, DrillClockMark, DrillStatus, JobKind, JobStatus, ModelingJob

    now = dt.datetime(2024, 3, 20, 8, 0, tzinfo=dt.UTC)
    with db.unit_of_work() as session:
        county = session.get(Jurisdiction, world.jurisdictions[FOREIGN_COUNTY])
        assert county is not None
        job = ModelingJob(
            kind=JobKind.comparison, status=JobStatus.done, jurisdiction_id=county.id, jpath=county.path,
            title="海曙区 comparison", request='{"arms": ["none"]}', result=None, runs_done=1, runs_total=1,
            created_by=world.users["away_command_centre"],
            created_by_name="away_command_centre",
            created_at=now,
        )  # fmt: skip
        drill = Drill(
            name="海曙区 drill", status=DrillStatus.stopped, jurisdiction_id=county.id, jpath=county.path,
            sandbox_id=county.id, sandbox_path=county.path, protocol_id="cn-9", people=200, days=7, seed=1,
            speed=1440.0, autopilot=False, realtime=False, investigation_delay_hours=6.0,
            alert_response_delay_hours=2.0, calendar_start=now.date(), summary="{}",
            created_by=world.users["away_command_centre"],
            created_by_name="away_command_centre",
            started_at=now,
            finished_at=now,
        )  # fmt: skip
        session.add_all([job, drill])
        session.flush()
        session.add(DrillClockMark(drill_id=drill.id, wall_at=now, drill_hours=0.0))
        return {"job_id": str(job.id), "drill_id": str(drill.id)}
