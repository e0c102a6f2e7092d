"""``fangkong vaccination evaluate`` and ``fangkong vaccination coverage``: every registry person gets a
status; coverage is counted and one jurisdiction's table printed, as JSON and as a table; an unknown
jurisdiction exits with 2."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import World
from fangkong.core import config
from fangkong.vaccination.cli import app as cli
from fangkong.vaccination.models import VaccinationStatus


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World) -> Iterator[None]:  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_evaluate_then_coverage(cli_env, app) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    evaluated = runner.invoke(cli, ["evaluate", "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["rows"] == 9
    with app.state.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(VaccinationStatus)) == 9

    counted = runner.invoke(cli, ["coverage", "--jurisdiction", "330106", "--weeks", "2", "--json"])
    assert counted.exit_code == 0, counted.output
    body = json.loads(counted.output)
    assert body["jurisdiction"] == "330106" and body["rows_written"] > 0
    everyone = next(b for b in body["bands"] if b["band"] == "all")
    assert everyone["denominator"] == 6 and everyone["at_least_one"] == {"numerator": 0, "rate": 0.0}

    province = runner.invoke(cli, ["coverage"])
    assert province.exit_code == 0, province.output
    assert "浙江省" in province.output and "60+" in province.output and "counts stored" in province.output

    unknown = runner.invoke(cli, ["coverage", "--jurisdiction", "999999"])
    assert unknown.exit_code == 2
