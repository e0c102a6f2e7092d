"""The `fangkong` command on real databases: national tree, users, people import with errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fangkong.cli import app as cli_app
from fangkong.core.demo.population import write_people_csv


@pytest.fixture
def run(settings, monkeypatch):  # type: ignore[no-untyped-def]
    from fangkong.core import config

    monkeypatch.setenv("FANGKONG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("FANGKONG_ENCRYPTION_KEY", settings.encryption_key)
    monkeypatch.setenv("FANGKONG_HASH_KEY", settings.hash_key)
    monkeypatch.setenv("FANGKONG_SECRET_KEY", settings.secret_key)
    config.get_settings.cache_clear()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli_app, list(args), input=input)

    yield invoke
    config.get_settings.cache_clear()


def test_national_tree_then_lower_levels_then_people(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run("jurisdictions", "import", "--national")
    assert result.exit_code == 0, result.output
    created = int(result.output.split(":")[1].split()[0])
    assert created > 3_000  # 34 provinces, 333 cities, ~2,850 counties
    again = run("jurisdictions", "import", "--national")
    assert "0 jurisdictions created" in again.output  # idempotent

    lower = tmp_path / "lower.csv"
    lower.write_text(
        "code,name,level,parent_code\n330106001,北山街道,township,330106\n"
        "330106001001,保俶社区,community,330106001\n",
        encoding="utf-8",
    )
    assert run("jurisdictions", "import", str(lower)).exit_code == 0

    people = tmp_path / "people.csv"
    write_people_csv(people, 500, seed=2, community_codes=["330106001001"])
    result = run("people", "import", str(people), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["created"] == 500

    user = run(
        "users",
        "create",
        "xihu_admin",
        "--role",
        "administrator",
        "--jurisdiction",
        "330106",
        "--display-name",
        "西湖管理员",
        "--password",
        "a-long-password-1",
    )
    assert user.exit_code == 0, user.output


def test_bad_rows_exit_2_and_are_all_listed(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run("jurisdictions", "import", "--national")
    lower = tmp_path / "lower.csv"
    lower.write_text(
        "code,name,level,parent_code\n330106001,北山街道,township,330106\n"
        "330106001001,保俶社区,community,330106001\n",
        encoding="utf-8",
    )
    run("jurisdictions", "import", str(lower))
    people = tmp_path / "people.csv"
    write_people_csv(people, 50, seed=2, community_codes=["330106001001"])
    lines = people.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[0], "12345")
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("people", "import", str(people), "--json")
    assert result.exit_code == 2
    errors = json.loads(result.stdout)["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(4, "id_number")]


def test_bad_lower_level_codes_are_named(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run("jurisdictions", "import", "--national")
    lower = tmp_path / "lower.csv"
    lower.write_text(
        "code,name,level,parent_code\n33010600,北山街道,township,330106\n"
        "330106001001,保俶社区,community,330106999\n",
        encoding="utf-8",
    )
    result = run("jurisdictions", "import", str(lower))
    assert result.exit_code == 2
    assert "row 2, code" in result.output and "row 3, parent_code" in result.output
