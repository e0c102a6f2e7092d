"""``fangkong privacy``: the rules, a rule set and one below the minimum refused, the dry run that
writes nothing, the nightly job, and the purge of an emergency with its report, as JSON and as tables."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from privacy_rows import make
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import HOME_COUNTY, World
from fangkong.core import audit, clock, config
from fangkong.core.auth import principal_for
from fangkong.core.models import Person, User
from fangkong.privacy.cli import app as cli
from fangkong.privacy.service import emergency


@pytest.fixture
def cli_env(monkeypatch: Any, app: Any, settings: Any, world: World) -> Iterator[None]:
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_rules_dry_run_and_nightly(cli_env: None, app: Any, world: World) -> None:
    runner = CliRunner()
    person = world.people[HOME_COUNTY][0]
    with app.state.db.unit_of_work() as session:
        old = clock.from_local(dt.datetime.combine(clock.today() - dt.timedelta(days=400), dt.time(12)))
        make(session, "tracing_exposures", person_id=person, jpath="/330000/", created_at=old)
    rules = runner.invoke(cli, ["rules", "--json"])
    assert rules.exit_code == 0, rules.output
    assert {r["record_class"] for r in json.loads(rules.output)} >= {"cases", "exposures"}
    refused = runner.invoke(cli, ["set-rule", "exposures", "--period", "7", "--action", "delete"])
    assert refused.exit_code == 1
    dry = runner.invoke(cli, ["dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["classes"]["exposures"]["records"] == 1
    table = runner.invoke(cli, ["dry-run"])
    assert "exposures" in table.output and "dry run" in table.output
    done = runner.invoke(cli, ["nightly", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["classes"]["exposures"]["records"] == 1
    again = runner.invoke(cli, ["dry-run", "--json"])
    assert json.loads(again.output)["classes"]["exposures"]["records"] == 0


def test_purge_an_emergency_now_and_read_its_report(cli_env: None, app: Any, world: World) -> None:
    runner = CliRunner()
    person = world.people[HOME_COUNTY][0]
    with app.state.db.unit_of_work() as session:
        make(session, "tracing_cases", person_id=person, jpath=session.get(Person, person).jpath)
        admin = principal_for(session, session.get(User, world.users["province_admin"]), "token")
        emergency_id = emergency.open_emergency(session, admin, audit.SYSTEM, "疫情", clock.today()).id
    early = runner.invoke(cli, ["purge", str(emergency_id)])
    assert early.exit_code == 1  # not closed
    with app.state.db.unit_of_work() as session:
        admin = principal_for(session, session.get(User, world.users["province_admin"]), "token")
        emergency.close(session, admin, audit.SYSTEM, emergency_id)
    waiting = runner.invoke(cli, ["purge", str(emergency_id)])
    assert waiting.exit_code == 1  # the confirmation period runs
    purged = runner.invoke(cli, ["purge", str(emergency_id), "--now", "--json"])
    assert purged.exit_code == 0, purged.output
    report = json.loads(purged.output)
    assert report["people"] == 1 and report["classes"]["cases"]["records"] == 1
    listed = runner.invoke(cli, ["emergencies", "--json"])
    assert json.loads(listed.output)[0]["report"]["people"] == 1
    with app.state.db.unit_of_work() as session:
        assert session.get(Person, person).id_hash.startswith("~")
        assert session.scalar(select(func.count()).select_from(Person)) == 9
