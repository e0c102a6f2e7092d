"""``fangkong tracing``: a dry run and an import from a file, the cluster list and KPIs as JSON, exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from tracing_datasets import tianjin_cases
from typer.testing import CliRunner

from conftest import World
from fangkong.core import config
from fangkong.tracing.cli import app


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World):  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_import_then_clusters_kpis_and_export(cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    path = tianjin_cases(tmp_path / "tianjin.csv")
    dry = runner.invoke(
        app, ["import", "cases", str(path), "--user", "home_investigator", "--dry-run", "--json"]
    )
    assert dry.exit_code == 0, dry.output
    assert (json.loads(dry.output)["cases"], json.loads(dry.output)["dry_run"]) == (135, True)
    real = runner.invoke(app, ["import", "cases", str(path), "--user", "home_investigator"])
    assert real.exit_code == 0, real.output
    again = runner.invoke(app, ["import", "cases", str(path), "--user", "home_investigator"])
    assert again.exit_code == 2
    assert "row 2, case_ref: case TJ1 is already registered" in again.output

    listed = runner.invoke(app, ["clusters", "--user", "home_investigator", "--json"])
    assert json.loads(listed.output)["total"] == 24
    assert json.loads(listed.output)["clusters"][0]["size"] == 10
    kpis = runner.invoke(app, ["kpis", "--user", "home_investigator", "--json"])
    assert json.loads(kpis.output)["clusters"] == 24
    assert (
        runner.invoke(app, ["clusters", "--user", "away_investigator", "--json"]).output.count('"cluster_id"')
        == 0
    )

    out = tmp_path / "line_list.xlsx"
    exported = runner.invoke(
        app, ["export", "cases", str(out), "--user", "home_investigator", "--lang", "en"]
    )
    assert exported.exit_code == 0, exported.output
    sheet = load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("case_ref", "name", "classification")
    assert len(rows) == 136
    assert json.loads(runner.invoke(app, ["recompute-clusters", "--json"]).output) == {"changed": 0}
