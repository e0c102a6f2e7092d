"""Doses through the API and the command line, on SQLite and PostgreSQL: a site records one dose (by
registry id or ID number), readers list them in their scope only, an administrator imports a file (dry
run first), and ``fangkong vaccination import`` does the same with ``--json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core import config
from fangkong.core.models import AuditEntry
from fangkong.vaccination.cli import app as vaccination_cli
from fangkong.vaccination.service.doses import doses_by_lot

DOSE = {
    "product": "克威莎",
    "dose_number": 1,
    "kind": "primary",
    "given_on": "2022-11-20",
    "site": "保俶社区接种点",
    "lot": "CS202211",
}
ZH = "身份证号,疫苗名称,技术路线,剂次,接种类型,接种日期,接种单位,批号\n"


def test_a_site_records_a_dose_and_readers_see_it_in_their_scope_only(client, world: World) -> None:  # type: ignore[no-untyped-def]
    worker = token_for(client, "home_community_worker")
    home = world.people[HOME_COUNTY]
    made = client.post("/api/vaccination/doses", json={**DOSE, "person_id": home[0]}, headers=worker)
    assert made.status_code == 201, made.text
    assert made.json()["platform"] == "vector"  # told by the product name
    by_number = {**DOSE, "id_number": world.id_numbers[home[1]], "platform": "vector"}
    assert client.post("/api/vaccination/doses", json=by_number, headers=worker).status_code == 201
    again = client.post("/api/vaccination/doses", json={**DOSE, "person_id": home[0]}, headers=worker)
    assert again.status_code == 409
    foreign = client.post(
        "/api/vaccination/doses", json={**DOSE, "person_id": world.people[FOREIGN_COUNTY][0]}, headers=worker
    )
    assert foreign.status_code == 404
    wrong = client.post(
        "/api/vaccination/doses",
        json={
            **DOSE,
            "person_id": home[2],
            "platform": "inactivated",
            "dose_number": 2,
            "kind": "second_booster",
        },
        headers=worker,
    )
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.json()["errors"]} == {"platform", "kind"}
    assert (
        client.post(
            "/api/vaccination/doses",
            json={**DOSE, "person_id": home[2]},
            headers=token_for(client, "home_viewer"),
        ).status_code
        == 403
    )

    listed = client.get("/api/vaccination/doses", headers=token_for(client, "home_viewer")).json()
    assert listed["total"] == 2
    assert {d["person_id"] for d in listed["items"]} == {home[0], home[1]}
    assert all("*" in d["person_id_number"] for d in listed["items"])  # masked
    one = client.get(f"/api/vaccination/doses?person_id={home[0]}", headers=worker).json()
    assert [d["dose_number"] for d in one["items"]] == [1]
    away = client.get("/api/vaccination/doses", headers=token_for(client, "away_viewer")).json()
    assert away["total"] == 0
    with client.app.state.db.unit_of_work() as session:
        assert doses_by_lot(session, "/") == {("克威莎", "CS202211"): 2}
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "doses.record")) == (
            "home_community_worker"
        )


def test_an_administrator_imports_a_file_after_a_dry_run(client, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = token_for(client, "home_administrator")
    id_number = world.id_numbers[world.people[HOME_COUNTY][0]]
    body = (
        ZH
        + f"{id_number},科兴,灭活,1,基础,2021-04-01,站A,KX01\n"
        + f"{id_number},科兴,灭活,2,基础,2021-04-25,站A,KX02\n"
    ).encode()
    files = {"file": ("doses.csv", body, "text/csv")}
    dry = client.post("/api/vaccination/doses/import?dry_run=true", files=files, headers=admin)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["dry_run"], dry.json()["doses"]) == (True, 2)
    assert client.get("/api/vaccination/doses", headers=admin).json()["total"] == 0
    done = client.post("/api/vaccination/doses/import", files=files, headers=admin)
    assert done.status_code == 200 and done.json()["by_kind"] == {"primary": 2}
    assert client.get("/api/vaccination/doses", headers=admin).json()["total"] == 2
    refused = client.post("/api/vaccination/doses/import", files=files, headers=admin)
    assert refused.status_code == 422
    assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [(2, "剂次"), (3, "剂次")]
    worker = token_for(client, "home_community_worker")
    assert client.post("/api/vaccination/doses/import", files=files, headers=worker).status_code == 403


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World) -> Iterator[None]:  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_the_import_command(cli_env, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    id_number = world.id_numbers[world.people[HOME_COUNTY][1]]
    path = tmp_path / "接种记录.csv"
    path.write_text(
        ZH
        + f"{id_number},北京生物,,1,基础,2021-05-01,站B,BJ01\n"
        + f"{id_number},北京生物,,1,基础,2021-05-21,站B,BJ02\n",
        encoding="utf-8",
    )
    bad = runner.invoke(vaccination_cli, ["import", str(path), "-u", "home_administrator", "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.output)["errors"] == [
        {"row": 3, "field": "剂次", "message": "same person and dose number as row 2"}
    ]
    path.write_text(ZH + f"{id_number},北京生物,,1,基础,2021-05-01,站B,BJ01\n", encoding="utf-8")
    dry = runner.invoke(
        vaccination_cli, ["import", str(path), "-u", "home_administrator", "--dry-run", "--json"]
    )
    assert dry.exit_code == 0 and json.loads(dry.output)["doses"] == 1 and json.loads(dry.output)["dry_run"]
    done = runner.invoke(vaccination_cli, ["import", str(path), "-u", "home_administrator"])
    assert done.exit_code == 0, done.output
    assert "doses written" in done.output
    refused = runner.invoke(vaccination_cli, ["import", str(path), "-u", "home_community_worker", "--json"])
    assert refused.exit_code == 2 and "doses.import" in json.loads(refused.output)["error"]
    template = tmp_path / "t.csv"
    assert runner.invoke(vaccination_cli, ["doses-template", str(template)]).exit_code == 0
    assert template.read_text(encoding="utf-8-sig").startswith("身份证号,")
