"""``fangkong response tasks|sweep|templates`` with --json: the list as a user sees it, the sweeper."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from tasks_support import report_case, wire
from typer.testing import CliRunner

from conftest import World, token_for
from fangkong.core import clock, config
from fangkong.response.cli.tasks import app as cli


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World) -> Iterator[None]:  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    wire(app.state.bus)
    yield
    config.get_settings.cache_clear()


def test_tasks_sweep_and_templates_as_json(cli_env, client, world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    templates = runner.invoke(cli, ["templates", "--json"])
    assert templates.exit_code == 0, templates.output
    assert {"team_on_site", "core_facts"} <= {t["code"] for t in json.loads(templates.output)}
    report_case(client, world, token_for(client, "home_investigator"))
    listed = runner.invoke(cli, ["tasks", "-u", "home_command_centre", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)["total"] == 7
    frozen_clock.advance(dt.timedelta(hours=30))
    swept = runner.invoke(cli, ["sweep", "--json"])
    assert swept.exit_code == 0, swept.output
    report = json.loads(swept.output)
    assert len(report["supervisor_notified"]) == 7 and len(report["escalated"]) == 7
    assert json.loads(runner.invoke(cli, ["sweep", "--json"]).output)["escalated"] == []
    late = json.loads(runner.invoke(cli, ["tasks", "-u", "home_command_centre", "--late", "--json"]).output)
    assert late["counts"]["late"] == 7
    assert clock.utcnow() > dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
