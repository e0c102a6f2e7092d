"""The resources API and CLI on both databases: an exam passed puts a person on the eligible list; a
team, its deployment and check-in move the counts; receipts, issues and thresholds move the stock and
its alert; bad input is named field by field; the CLI prints the same figures as JSON and as tables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core import clock, config
from fangkong.resources.cli import app as cli


def _post(client, path: str, headers: dict[str, str], body: dict[str, Any], status: int = 201) -> Any:  # type: ignore[no-untyped-def]
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == status, answer.text
    return answer.json()


def test_training_to_eligibility_to_deployment_through_the_api(client, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = token_for(client, "home_administrator")
    person = _post(client, "/api/resources/staff", admin, {
        "jurisdiction_code": HOME_COUNTY, "name": "赵采样", "unit": "区疾控中心", "skills": ["sampling"],
    })  # fmt: skip
    assert person["certified"] == [] and not person["deployed_away"]
    assert client.get("/api/resources/eligible?skill=sampling", headers=admin).json() == []
    course = _post(client, "/api/resources/courses", admin, {"title": "采样实操", "skill": "sampling"})
    held = _post(
        client,
        f"/api/resources/courses/{course['id']}/sessions",
        admin,
        {"held_on": clock.today().isoformat()},
    )
    failed = _post(
        client,
        f"/api/resources/sessions/{held['id']}/results",
        admin,
        {"staff_id": person["id"], "exam_score": 79},
    )
    assert failed["passed"] is False
    assert client.get("/api/resources/eligible?skill=sampling", headers=admin).json() == []
    # A second try at a later session passes the exam and certifies the skill for a year.
    again = _post(
        client,
        f"/api/resources/courses/{course['id']}/sessions",
        admin,
        {"held_on": clock.today().isoformat()},
    )
    passed = _post(
        client,
        f"/api/resources/sessions/{again['id']}/results",
        admin,
        {"staff_id": person["id"], "exam_score": 92},
    )
    assert passed["passed"] is True
    eligible = client.get("/api/resources/eligible?skill=sampling", headers=admin).json()
    assert [p["name"] for p in eligible] == ["赵采样"] and eligible[0]["certified"] == ["sampling"]

    team = _post(
        client,
        "/api/resources/teams",
        admin,
        {"jurisdiction_code": HOME_COUNTY, "kind": "sampling", "name": "西湖采样队"},
    )
    team = _post(
        client,
        f"/api/resources/teams/{team['id']}/members",
        admin,
        {"staff_id": person["id"], "leader": True},
        200,
    )
    assert (team["leader"], team["ready"], team["standard"], team["readiness"]) == (
        "赵采样",
        1,
        10,
        "not_ready",
    )
    sent = _post(client, f"/api/resources/teams/{team['id']}/deployments", admin, {
        "to_jurisdiction_code": FOREIGN_COUNTY, "outbreak": "海曙区疫情", "commander": "海曙区现场指挥部",
        "members": [{"staff_id": person["id"], "batch": 1, "working_group": "采样一组"}],
    })  # fmt: skip
    assert sent["to_name"] == "海曙区" and sent["checked_in"] == 0
    moved = _post(client, f"/api/resources/deployments/{sent['id']}/check-in", admin, {}, 200)
    assert moved == {"people": 1}
    counts = client.get("/api/resources/counts", headers=admin).json()
    assert (counts["away"], counts["on_duty"], counts["teams_deployed"]) == (1, 0, 1)
    away = token_for(client, "away_administrator")
    # The receiving side sees the deployment and counts the support.
    assert client.get(f"/api/resources/deployments/{sent['id']}", headers=away).status_code == 200
    assert client.get("/api/resources/counts", headers=away).json()["support"] == 1
    # ...but not the sender's staff list.
    assert client.get(f"/api/resources/staff/{person['id']}", headers=away).status_code == 404


def test_stock_through_the_api_and_bad_input_named(client, world: World) -> None:  # type: ignore[no-untyped-def]
    keeper = token_for(client, "home_testing_coordinator")
    store = _post(
        client,
        "/api/resources/stock/receipts",
        keeper,
        {"jurisdiction_code": HOME_COUNTY, "kind": "antigen_test", "quantity": 100},
    )
    assert (store["on_hand"], store["days_left"], store["reorder"]) == (100, None, False)
    issued = _post(client, f"/api/resources/stock/{store['id']}/issue", keeper, {"quantity": 30}, 200)
    # 30 used today: 70 left lasts 2.3 days, under the 7-day threshold.
    assert issued["on_hand"] == 70 and issued["days_left"] == pytest.approx(2.3) and issued["reorder"]
    relaxed = _post(client, f"/api/resources/stock/{store['id']}/threshold", keeper, {"reorder_days": 2}, 200)
    assert not relaxed["reorder"] and relaxed["alert_since"] is None
    moves = client.get(f"/api/resources/stock/{store['id']}/moves", headers=keeper).json()
    assert [(m["reason"], m["quantity"]) for m in moves] == [("issue", -30), ("receipt", 100)]
    too_much = client.post(f"/api/resources/stock/{store['id']}/issue", json={"quantity": 71}, headers=keeper)
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "quantity"
    foreign = client.post(
        "/api/resources/stock/receipts",
        json={"jurisdiction_code": FOREIGN_COUNTY, "kind": "ppe", "quantity": 1},
        headers=keeper,
    )
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "jurisdiction_code"
    # A testing coordinator keeps supplies but does not manage staff.
    refused = client.post(
        "/api/resources/staff",
        json={"jurisdiction_code": HOME_COUNTY, "name": "x", "unit": "y"},
        headers=keeper,
    )
    assert refused.status_code == 403


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World) -> Iterator[None]:  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_the_cli_adds_certifies_receives_and_prints(cli_env) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    added = runner.invoke(cli, [
        "add-staff", "-u", "home_administrator", "--jurisdiction", HOME_COUNTY, "--name", "钱流调",
        "--unit", "区疾控中心", "--skill", "field_investigation", "--json",
    ])  # fmt: skip
    assert added.exit_code == 0, added.output
    staff_id = json.loads(added.output)["id"]
    certified = runner.invoke(
        cli, ["certify", str(staff_id), "field_investigation", "-u", "home_administrator", "--json"]
    )
    assert certified.exit_code == 0, certified.output
    assert json.loads(certified.output)["passed_on"] == clock.today().isoformat()
    listed = json.loads(runner.invoke(cli, ["staff", "--jurisdiction", HOME_COUNTY, "--json"]).output)
    assert [(s["name"], s["certified"]) for s in listed] == [("钱流调", ["field_investigation"])]
    received = runner.invoke(
        cli,
        ["receive", "tube", "500", "-u", "home_testing_coordinator", "--jurisdiction", HOME_COUNTY, "--json"],
    )
    assert received.exit_code == 0 and json.loads(received.output)["on_hand"] == 500
    table = runner.invoke(cli, ["stock"])
    assert table.exit_code == 0 and "西湖区" in table.output and "500" in table.output
    counts = json.loads(runner.invoke(cli, ["counts", "--json"]).output)
    # On the staff list, but nobody is on today's duty roster.
    assert counts["staff"] == 1 and counts["on_duty"] == 0
    # Bad input: named, as JSON, exit 2, nothing written.
    bad = runner.invoke(
        cli,
        ["receive", "gold", "5", "-u", "home_testing_coordinator", "--jurisdiction", HOME_COUNTY, "--json"],
    )
    assert bad.exit_code == 2 and json.loads(bad.output)["errors"][0]["field"] == "kind"
    refused = runner.invoke(
        cli, ["add-staff", "-u", "home_viewer", "--jurisdiction", HOME_COUNTY, "--name", "x", "--unit", "y"]
    )
    assert refused.exit_code == 2
    for command in ("teams", "deployments", "renewals"):
        shown = runner.invoke(cli, [command, "--json"])
        assert shown.exit_code == 0 and json.loads(shown.output) == []
