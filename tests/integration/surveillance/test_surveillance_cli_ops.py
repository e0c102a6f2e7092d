"""The scheduled surveillance commands (ingest, run, escalate, stats, pull) on both databases."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import HOME_COUNTY, World
from fangkong.core.clock import FrozenClock
from fangkong.surveillance.cli_ops import app

START = dt.datetime(2024, 3, 20, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def cli_env(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frozen_clock: FrozenClock
) -> Iterator[FrozenClock]:
    from fangkong.core.config import get_settings

    monkeypatch.setenv("FANGKONG_DATABASE_URL", database_url)
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("FANGKONG_ENV", "test")
    frozen_clock.set(START)
    get_settings.cache_clear()
    yield frozen_clock
    get_settings.cache_clear()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, list(args))
    return result


def test_ingest_run_escalate_and_report_from_the_command_line(
    app,
    world: World,
    cli_env,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from fangkong.core import audit
    from fangkong.core.models import Jurisdiction
    from fangkong.surveillance import service

    days = [START.date() - dt.timedelta(days=20 - i) for i in range(21)]
    values = [3, 4, 2, 5, 3, 4, 3] * 3
    values[-1] = 40
    lines = ["channel,jurisdiction,date,value"] + [
        f"case_reports,{HOME_COUNTY},{d},{v}" for d, v in zip(days, values, strict=True)
    ]
    data = tmp_path / "cases.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with app.state.db.unit_of_work() as session:
        home = session.get(Jurisdiction, world.jurisdictions[HOME_COUNTY])
        channel = next(c for c in service.list_channels(session, "/") if c.code == "case_reports")
        service.create_config(session, audit.SYSTEM, home.path, channel.id, "county", "ears_c1", {})

    loaded = invoke("ingest", str(data), "--json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.output)["created"] == 21

    ran = invoke("run", "--json")
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.output)
    assert (summary["signals"], len(summary["alerts_created"])) == (1, 1)

    cli_env.set(START + dt.timedelta(hours=25))
    escalated = invoke("escalate", "--json")
    assert json.loads(escalated.output)["escalated"] == summary["alerts_created"]

    stats = json.loads(invoke("stats", "--json", "--start", START.date().isoformat()).output)
    assert stats["overall"]["alerts"] == 1
    assert stats["overall"]["responded"] == 0
    assert stats["overall"]["overdue_open"] == 1

    text = invoke("stats")
    assert text.exit_code == 0
    assert "temporal" in text.output


def test_bad_rows_in_a_file_are_listed_and_nothing_is_loaded(
    app, world: World, cli_env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "bad.csv"
    data.write_text(
        "channel,jurisdiction,date,value\ncase_reports,330106,2024-03-18,x\nnope,330106,2024-03-18,1\n"
    )
    result = invoke("ingest", str(data), "--json")
    assert result.exit_code == 2
    errors = json.loads(result.output)["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "value"), (3, "channel")]
    assert json.loads(invoke("run", "--json").output)["series"] == 0


def test_pull_without_sources_says_so(app, world: World, cli_env) -> None:  # type: ignore[no-untyped-def]
    result = invoke("pull")
    assert result.exit_code == 0
    assert "no active pull source" in result.output
