"""``fangkong quarantine``: the reserve list, a room import (dry run, bad rows, real), bulk placement, the
census and release, as a named user, with and without ``--json``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import HOME_COUNTY, World
from fangkong.core import config
from fangkong.quarantine.cli import app as cli
from fangkong.quarantine.models import SiteStatus
from quarantine_support import acting, new_site, plan_centralized

MANAGER = ("--user", "home_quarantine_manager")


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World):  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_sites_import_place_census_and_release(cli_env, app, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    with acting(app, "home_quarantine_manager") as (session, me):
        site = new_site(session, me, "西溪酒店", status=SiteStatus.open)
        site_id = site.id
        for pid in world.people[HOME_COUNTY][:3]:
            plan_centralized(session, pid, dt.date(2026, 12, 6))

    bad = tmp_path / "bad.csv"
    bad.write_text("房间号,楼层,房型,床位\n101,1,单人间,1\n101,1,单人间,1\n", encoding="utf-8")
    refused = runner.invoke(cli, ["import-rooms", str(bad), "--site", str(site_id), *MANAGER, "--json"])
    assert refused.exit_code == 2, refused.output
    answer = json.loads(refused.output)
    assert answer["ok"] is False and [(e["row"], e["field"]) for e in answer["errors"]] == [(3, "房间号")]
    plain = runner.invoke(cli, ["import-rooms", str(bad), "--site", str(site_id), *MANAGER])
    assert plain.exit_code == 2 and "row 3, 房间号" in plain.output

    rooms = tmp_path / "rooms.csv"
    rooms.write_text("房间号,楼层,房型\n101,1,单人间\n102,1,单人间\n201,2,单人间\n", encoding="utf-8")
    dry = runner.invoke(
        cli, ["import-rooms", str(rooms), "--site", str(site_id), *MANAGER, "--dry-run", "--json"]
    )
    assert dry.exit_code == 0, dry.output
    assert (json.loads(dry.output)["rows"], json.loads(dry.output)["added"]) == (3, 0)
    real = runner.invoke(cli, ["import-rooms", str(rooms), "--site", str(site_id), *MANAGER])
    assert real.exit_code == 0, real.output
    assert "3 rooms added" in real.output

    listed = runner.invoke(cli, ["sites", *MANAGER, "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert [(s["name"], s["rooms"], s["status"]) for s in data["sites"]] == [("西溪酒店", 3, "open")]
    assert data["reserve"][0]["code"] == HOME_COUNTY and data["reserve"][0]["standard"] == 20
    table = runner.invoke(cli, ["sites", *MANAGER])
    assert table.exit_code == 0 and "西溪酒店" in table.output and "reserve standard" in table.output
    away = runner.invoke(cli, ["sites", "--user", "away_quarantine_manager", "--json"])
    assert json.loads(away.output)["sites"] == []

    placed = runner.invoke(cli, ["place", *MANAGER, "--json"])
    assert placed.exit_code == 0, placed.output
    report = json.loads(placed.output)
    assert report["placed"] == 3 and report["unplaced"] == []
    again = runner.invoke(cli, ["place", *MANAGER])
    assert again.exit_code == 0 and "placed 0" in again.output

    census = runner.invoke(cli, ["census", *MANAGER, "--json"])
    assert census.exit_code == 0, census.output
    figures = json.loads(census.output)
    assert (figures["occupied"], figures["capacity_open"], len(figures["projection"])) == (3, 3, 7)
    assert runner.invoke(cli, ["census", *MANAGER]).exit_code == 0

    nothing = runner.invoke(cli, ["release-due", *MANAGER, "--json"])
    assert json.loads(nothing.output) == {"released": 0}
    later = runner.invoke(cli, ["release-due", *MANAGER, "--on", "2026-12-31", "--json"])
    assert json.loads(later.output) == {"released": 3}
    assert runner.invoke(cli, ["release-due", *MANAGER, "--on", "soon"]).exit_code == 2
    assert runner.invoke(cli, ["sites", "--user", "nobody"]).exit_code == 2
    viewer = runner.invoke(cli, ["place", "--user", "home_viewer", "--json"])
    assert viewer.exit_code == 2
    assert "lacks the permission quarantine.manage" in json.loads(viewer.output)["error"]
    reader = runner.invoke(cli, ["place", "--user", "home_investigator"])
    assert reader.exit_code == 2 and "quarantine.manage" in reader.output
