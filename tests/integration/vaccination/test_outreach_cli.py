"""``fangkong vaccination outreach|aefi`` with --json on real databases: the worklist of one county, the
gaps ranking, the reminders, the Excel export, AEFI rates with lot signals and the cards past due."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock, config
from fangkong.core.events import EventBus
from fangkong.vaccination.cli import app as cli
from fangkong.vaccination.models import AefiOutcome, Severity
from fangkong.vaccination.service import aefi, status
from vaccination_support import HOME_A, add_person, as_user, give_doses


@pytest.fixture
def cli_env(monkeypatch: Any, app: Any, settings: Any, world: World) -> Iterator[None]:
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_outreach_and_aefi_commands(cli_env: None, app: Any, world: World, tmp_path: Path) -> None:
    elder = add_person(app, world, HOME_A, "19380501")
    with app.state.db.unit_of_work() as session:
        dose = give_doses(session, world.people[HOME_COUNTY][0], [clock.today() - dt.timedelta(days=3)])[0]
        status.evaluate(session)
    with as_user(app, "home_community_worker") as (session, me):
        aefi.report(
            session, me, EventBus(), dose, clock.today(), "发热", Severity.death, AefiOutcome.died, False
        )
    runner = CliRunner()
    listed = runner.invoke(cli, ["outreach", "--jurisdiction", HOME_COUNTY, "--json"])
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.output)["items"]
    assert items[0]["person_id"] == elder and items[0]["age"] == 88
    assert world.people[FOREIGN_COUNTY][0] not in {i["person_id"] for i in items}
    everyone = json.loads(runner.invoke(cli, ["outreach", "--json"]).output)
    assert world.people[FOREIGN_COUNTY][0] in {i["person_id"] for i in everyone["items"]}
    gaps = json.loads(runner.invoke(cli, ["outreach", "--gaps", "--json"]).output)
    assert gaps["items"][0]["code"] == HOME_A and gaps["items"][0]["plans"] == ["door_to_door"]
    day = clock.today().isoformat()
    assert runner.invoke(cli, ["outreach", "--reminders", day, "--json"]).exit_code == 0
    out = tmp_path / "list.xlsx"
    exported = runner.invoke(cli, ["outreach", "--jurisdiction", HOME_COUNTY, "--export", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes()[:2] == b"PK"
    assert runner.invoke(cli, ["outreach", "--jurisdiction", "999999"]).exit_code == 2
    rates = json.loads(runner.invoke(cli, ["aefi", "--json"]).output)
    assert rates["lots"] == [
        {
            "product": "北京生物",
            "lot": "L1",
            "doses": 1,
            "events": 1,
            "serious": 1,
            "rate": 100_000.0,
            "serious_rate": 100_000.0,
        }
    ]
    assert json.loads(runner.invoke(cli, ["aefi", "--overdue", "--json"]).output) == []
    with clock.freeze(clock.utcnow() + dt.timedelta(hours=3)):
        late = json.loads(runner.invoke(cli, ["aefi", "--overdue", "--json"]).output)
    assert [e["severity"] for e in late] == ["death"]
    assert runner.invoke(cli, ["aefi"]).exit_code == 0
