"""The modelling commands that read the database: the account of the demo region's registry, and a drill
started, advanced and scored from the command line, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from conftest import World
from fangkong.modeling.cli import app as modeling_app


@pytest.fixture
def run(settings, monkeypatch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from fangkong.core import config

    monkeypatch.setenv("FANGKONG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("FANGKONG_ENCRYPTION_KEY", settings.encryption_key)
    monkeypatch.setenv("FANGKONG_HASH_KEY", settings.hash_key)
    monkeypatch.setenv("FANGKONG_SECRET_KEY", settings.secret_key)
    config.get_settings.cache_clear()

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(modeling_app, list(args), env={"COLUMNS": "220"})

    yield invoke
    config.get_settings.cache_clear()


def test_the_account_of_the_demo_region_runs_from_the_registry_and_prints_the_table(
    run, world: World
) -> None:  # type: ignore[no-untyped-def]
    result = run("account", "--region", "demo", "--arms", "cn-9,cn-9-10,none", "--days", "30",
                 "--seeds", "1,2",
                 "--initial-infections", "2", "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    registered = sum(len(p) for p in world.people.values())
    assert (
        f"The account: 浙江省 registry, {registered:,} people" in result.output and "cn-9-10" in result.output
    )
    as_json = run("account", "--region", "demo", "--arms", "cn-9,none", "--days", "30", "--seeds", "1",
                  "--initial-infections", "2", "--workers", "1", "--json")  # fmt: skip
    data = json.loads(as_json.output)
    assert data["population"] == registered


def test_an_unknown_region_is_named(run, world: World) -> None:  # type: ignore[no-untyped-def]
    result = run("simulate", "--region", "999999", "--days", "5")
    assert result.exit_code == 2 and "999999" in result.output


def test_a_drill_from_the_command_line(run, world: World) -> None:  # type: ignore[no-untyped-def]
    started = run("drill", "start", "--as", "home_command_centre", "--people", "1200", "--days", "20",
                  "--autopilot", "--seed", "2", "--json")  # fmt: skip
    assert started.exit_code == 0, started.output
    drill_id = json.loads(started.output)["drill_id"]
    status = run("drill", "status", str(drill_id), "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["status"] == "running"
    advanced = run("drill", "advance", str(drill_id), "--to-end", "--json")
    assert advanced.exit_code == 0, advanced.output
    assert json.loads(advanced.output)["finished"] is True
    score = run("drill", "score", str(drill_id), "--json")
    data = json.loads(score.output)
    measures = {m["key"]: m for m in data["measures"]}
    assert measures["investigation"]["status"] == "ok" and data["score"] is not None
    table = run("drill", "score", str(drill_id))
    # Every capability the score reads is built: no measure says "not available" any more.
    assert all(m["status"] != "not_available" for m in data["measures"]), data["measures"]
    assert "Hours from report to investigation" in table.output and "not available" not in table.output
    missing = run("drill", "status", "9999")
    assert missing.exit_code == 2 and "9999" in missing.output
