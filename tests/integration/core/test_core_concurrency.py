"""The concurrency model (issue 11, item 0): nothing blocking on the event loop, and a busy database is a 503.

The load itself (200 writers and readers over real HTTP) is tests/e2e/test_load.py; these tests hold
each piece to its rule on a real database: no ``async def`` route or dependency reaches the database,
a pool with every connection lent answers 503 with Retry-After after the wait instead of hanging or
answering 500, and a lock held elsewhere (SQLite's write lock, a PostgreSQL row lock) for longer
than the lock wait is a 503 too.
"""

from __future__ import annotations

import inspect
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from conftest import PASSWORD, World, token_for, valid_id
from fangkong.core import deps
from fangkong.core.config import Settings

# Async dependencies that do no I/O at all: they wait for a turn, parse the body FastAPI has already
# read, or hand over what the app holds. Anything else async would run on the event loop: if it
# touched the database or a file, every other request would stop while it waited.
NO_IO_ASYNC = {
    deps._database_turn,
    deps.sent_csrf,
    deps.read_form,
    deps.login_attempt,
    deps.current_principal,
    deps.get_vault,
    deps.get_settings_dep,
    deps.get_bus,
}


def _is_async(call: Callable[..., Any]) -> bool:
    if inspect.isroutine(call):
        return inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)
    return inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004


def _async_callables(app: FastAPI) -> set[str]:
    found: set[str] = set()

    def walk(dependant: Any, where: str) -> None:
        call = dependant.call
        if call is not None and _is_async(call):
            known = call in NO_IO_ASYNC or isinstance(call, deps.Require)
            if not known:
                found.add(f"{where}: {getattr(call, '__qualname__', repr(call))}")
        for sub in dependant.dependencies:
            walk(sub, where)

    for route in app.routes:
        if isinstance(route, APIRoute) and route.path != "/healthz":
            walk(route.dependant, f"{sorted(route.methods)} {route.path}")
    return found


def test_no_route_or_dependency_that_may_block_runs_on_the_event_loop(app: FastAPI) -> None:
    # A route or dependency that reads the database or a file is a plain def (FastAPI runs it in a
    # worker thread); the only async ones are those known to do no I/O.
    assert _async_callables(app) == set()


def test_healthz_is_answered_from_the_event_loop(app: FastAPI) -> None:
    healthz = next(r for r in app.routes if isinstance(r, APIRoute) and r.path == "/healthz")
    assert inspect.iscoroutinefunction(healthz.endpoint)  # no worker thread needed to say "alive"


@pytest.fixture
def small_app(settings: Settings, world: World) -> Iterator[FastAPI]:
    """A second app on the seeded database with one turn at the database and a short wait."""
    from fangkong.app import create_app

    application = create_app(
        settings.model_copy(update={"db_requests": 1, "db_wait_seconds": 0.5, "db_lock_wait_seconds": 0.3})
    )
    yield application
    application.state.db.dispose()


def test_a_saturated_pool_answers_503_with_retry_after_and_recovers(small_app: FastAPI) -> None:
    with TestClient(small_app) as client:
        headers = token_for(client, "home_investigator")
        db = small_app.state.db
        lent = [db.engine.connect() for _ in range(db.pool.size + db.pool.overflow)]
        try:
            busy = client.get("/api/me", headers=headers)
        finally:
            for connection in lent:
                connection.close()
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert "busy" in busy.json()["detail"]
        assert client.get("/api/me", headers=headers).status_code == 200


def test_a_busy_page_says_so_in_the_readers_language_without_the_database(small_app: FastAPI) -> None:
    with TestClient(small_app) as client:
        login = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf is not None
        signed_in = client.post(
            "/login",
            data={"username": "home_investigator", "password": PASSWORD, "csrf_token": csrf.group(1)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        db = small_app.state.db
        lent = [db.engine.connect() for _ in range(db.pool.size + db.pool.overflow)]
        try:
            page = client.get("/people", headers={"Accept": "text/html"})
        finally:
            for connection in lent:
                connection.close()
        assert page.status_code == 503
        assert page.headers["Retry-After"] == "5"
        assert "服务器繁忙" in page.text


@contextmanager
def _lock_held_elsewhere(database_url: str) -> Iterator[None]:
    """Another process holds what a write needs: SQLite's write lock, or the audit head row (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection, connection.begin():
            # Every audited write updates this one row first (core.audit): hold it, as a long import does.
            connection.execute(text("SELECT last_hash FROM audit_head WHERE id = 1 FOR UPDATE"))
            yield
    finally:
        engine.dispose()


def test_a_lock_held_elsewhere_past_the_wait_is_a_503_then_the_write_goes_through(
    small_app: FastAPI, database_url: str
) -> None:
    person = {
        "id_number": valid_id("330106", "19900101", 401),
        "name": "周明",
        "community_code": "330106001001",
        "address": "保俶路9号",
    }
    with TestClient(small_app) as client:
        headers = token_for(client, "home_investigator")
        with _lock_held_elsewhere(database_url):
            locked = client.post("/api/people", json=person, headers=headers)
        assert locked.status_code == 503
        assert locked.headers["Retry-After"] == "5"
        assert "busy" in locked.json()["detail"]
        assert client.post("/api/people", json=person, headers=headers).status_code == 201
