"""``fangkong areas``: propose, approve, list, due, apply, arrivals, lookup, doorstep, escalate, as a named
user, with and without ``--json``; a refusal exits with 2 and names what is wrong."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from areas_support import arrival_input, as_user, register_case
from conftest import World
from fangkong.areas import service
from fangkong.areas.cli import app as cli
from fangkong.core import clock, config
from fangkong.core.crypto import Vault
from fangkong.wiring import build_bus

CENTRE = ("-u", "home_command_centre")
WORKER = ("-u", "home_community_worker")


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World) -> Iterator[None]:  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_areas_from_proposal_to_the_due_list(cli_env, app, settings, world: World) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    vault = Vault(settings.encryption_key, settings.hash_key)
    register_case(app.state.db, vault, build_bus(), world, 0, found_on=clock.today() - dt.timedelta(days=1))
    refused = runner.invoke(cli, ["propose", "-u", "home_viewer", "--json"])
    assert refused.exit_code == 2 and json.loads(refused.output)["ok"] is False
    proposed = runner.invoke(cli, ["propose", *CENTRE, "--json"])
    assert proposed.exit_code == 0, proposed.output
    area_id = json.loads(proposed.output)["created"][0]["id"]
    bad = runner.invoke(cli, ["approve", str(area_id), *CENTRE, "--level", "severe"])
    assert bad.exit_code == 2
    approved = runner.invoke(cli, ["approve", str(area_id), *CENTRE, "--name", "保俶社区1幢", "--json"])
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output)["state"] == "in_force"
    listed = runner.invoke(cli, ["list", *CENTRE, "--state", "in_force", "--json"])
    assert [a["name"] for a in json.loads(listed.output)["areas"]] == ["保俶社区1幢"]
    assert "保俶社区1幢" in runner.invoke(cli, ["list", *CENTRE]).output
    ahead = (clock.today() + dt.timedelta(days=8)).isoformat()
    due = json.loads(runner.invoke(cli, ["due", *CENTRE, "--on", ahead, "--json"]).output)["due"]
    assert due[0]["area_id"] == area_id and due[0]["to_level"] == "medium" and due[0]["blockers"]
    assert "medium" in runner.invoke(cli, ["due", *CENTRE, "--on", ahead]).output
    early = runner.invoke(cli, ["apply", str(area_id), *CENTRE, "--to", "medium", "--json"])
    assert early.exit_code == 2 and "no change is due" in json.loads(early.output)["error"]


def test_arrivals_lookup_doorstep_and_escalate(cli_env, app, settings, world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    vault = Vault(settings.encryption_key, settings.hash_key)
    report = arrival_input()
    with as_user(app, "home_community_worker") as (session, me):
        service.arrivals.register_arrival(
            session, vault, build_bus(), report, channel="staff", reporter=me.username, ip="t"
        )
        service.doorstep.open_request(
            session, app.state.bus, me, kind="medical_emergency", person_id=world.people["330106"][0]
        )
    rows = json.loads(runner.invoke(cli, ["arrivals", *WORKER, "--json"]).output)["arrivals"]
    assert len(rows) == 1 and rows[0]["id_number"] != report.id_number
    assert runner.invoke(cli, ["arrivals", *WORKER]).exit_code == 0
    found = runner.invoke(
        cli, ["lookup", str(report.id_number), *WORKER, "--checkpoint", "杭州东站", "--json"]
    )
    assert found.exit_code == 0, found.output
    assert (
        json.loads(found.output)["found"] is True
        and json.loads(found.output)["category"] == rows[0]["category"]
    )
    bad = runner.invoke(cli, ["lookup", "123", *WORKER, "--checkpoint", "杭州东站", "--json"])
    assert bad.exit_code == 2 and json.loads(bad.output)["errors"][0]["field"] == "id_number"
    board = json.loads(runner.invoke(cli, ["doorstep", *WORKER, "--json"]).output)
    assert board["open"][0]["kind"] == "medical_emergency" and board["open"][0]["late"] is False
    frozen_clock.advance(dt.timedelta(minutes=31))
    escalated = json.loads(runner.invoke(cli, ["escalate", *WORKER, "--json"]).output)["escalated"]
    assert [e["kind"] for e in escalated] == ["medical_emergency"] and escalated[0]["late"] is True
    assert json.loads(runner.invoke(cli, ["escalate", *WORKER, "--json"]).output)["escalated"] == []
    assert "LATE" in runner.invoke(cli, ["doorstep", *WORKER]).output
