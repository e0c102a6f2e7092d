"""``fangkong response close|closure|correct|sign-off``: the cut-off (idempotent), one version read back,
a correction with its changed figures, the sign-off, with and without ``--json``; refusals exit with 2."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from closure_support import build_day, register
from conftest import HOME_COUNTY, World
from fangkong.core import clock, config
from fangkong.response.cli import closures

CENTRE = ("-u", "home_command_centre")


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World) -> Iterator[None]:  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_close_read_correct_and_sign_off_from_the_command_line(  # type: ignore[no-untyped-def]
    cli_env, app: Any, world: World, frozen_clock: clock.FrozenClock
) -> None:
    runner = CliRunner()
    day = clock.today()
    build_day(app.state.db, app.state.vault, world, day)
    frozen_clock.advance(days=1)
    closed = runner.invoke(closures.app, ["close", "--json"])
    assert closed.exit_code == 0, closed.output
    published = json.loads(closed.output)["published"]
    assert {p["code"] for p in published} >= {HOME_COUNTY, "330000"} and {p["day"] for p in published} == {
        str(day)
    }
    again = runner.invoke(closures.app, ["close", "--json"])
    assert json.loads(again.output) == {"published": []}
    assert "0 closures published" in runner.invoke(closures.app, ["close"]).output

    shown = runner.invoke(closures.app, ["closure", HOME_COUNTY, str(day), *CENTRE, "--json"])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert body["version"] == 1 and body["figures"]["tasks"]["late"] == 3
    text = runner.invoke(closures.app, ["closure", HOME_COUNTY, str(day), *CENTRE]).output
    assert "tasks.late" in text and "provisional" in text

    register(app.state.db, app.state.vault, world, 2, reported=dt.datetime.combine(day, dt.time(23)))
    corrected = runner.invoke(
        closures.app, ["correct", HOME_COUNTY, str(day), *CENTRE, "--reason", "迟报", "--json"]
    )
    assert corrected.exit_code == 0, corrected.output
    answer = json.loads(corrected.output)
    assert answer["version"] == 2 and answer["reason"] == "迟报"
    assert {"figure": "cases.reported", "old": 3, "new": 4, "change": 1} in answer["changes"]
    first = json.loads(
        runner.invoke(
            closures.app, ["closure", HOME_COUNTY, str(day), *CENTRE, "--version", "1", "--json"]
        ).output
    )
    assert first["figures"] == body["figures"] and first["latest_version"] == 2

    refused = runner.invoke(
        closures.app, ["correct", HOME_COUNTY, str(day), "-u", "home_investigator", "--reason", "x", "--json"]
    )
    assert refused.exit_code == 2 and json.loads(refused.output)["ok"] is False
    not_ended = runner.invoke(
        closures.app, ["correct", HOME_COUNTY, str(clock.today()), *CENTRE, "--reason", "x"]
    )
    assert not_ended.exit_code == 2
    bad_day = runner.invoke(closures.app, ["closure", HOME_COUNTY, "yesterday", *CENTRE])
    assert bad_day.exit_code == 2

    signed = runner.invoke(
        closures.app, ["sign-off", HOME_COUNTY, str(day), *CENTRE, "--objectives", "清零", "--json"]
    )
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed.output)["objectives"] == "清零" and json.loads(signed.output)["version"] == 2
    twice = runner.invoke(closures.app, ["sign-off", HOME_COUNTY, str(day), *CENTRE, "--objectives", "再签"])
    assert twice.exit_code == 2
