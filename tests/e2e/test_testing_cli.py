"""``fangkong testing``: campaigns and rounds, lab results (CSV and FHIR), recalls, test orders and the
pool planner, as a named user, with and without ``--json``, on both databases."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import HOME_COUNTY, World
from fangkong.core import config
from fangkong.testing.cli import app as cli
from fangkong.testing.fhir_results import template_bundle
from testing_support import HOME_COMMUNITIES, acting_as, place, pooled_tube, write_results

COORDINATOR = ("--user", "home_testing_coordinator")
LAB = ("--user", "home_laboratory")
SAMPLED = dt.datetime(2026, 12, 6, 0, 30, tzinfo=dt.UTC)


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World):  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def _json(result) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_campaigns_rounds_and_advice(cli_env, world: World) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    areas = [arg for code in HOME_COMMUNITIES for arg in ("--area", code)]
    made = _json(
        runner.invoke(
            cli,
            ["campaign", "create", "西湖区全员核酸", *areas, "--sealed", HOME_COMMUNITIES[1], "--pool", "5",
             *COORDINATOR, "--json"],
        )
    )  # fmt: skip
    assert made["ok"] is True and made["pool_size"] == 5
    refused = runner.invoke(
        cli, ["campaign", "create", "别处", "--area", "330203001001", *COORDINATOR, "--json"]
    )
    assert refused.exit_code == 2
    assert [e["field"] for e in json.loads(refused.output)["errors"]] == ["areas"]
    wrong_pool = runner.invoke(cli, ["campaign", "create", "x", *areas, "--pool", "3", *COORDINATOR])
    assert wrong_pool.exit_code == 2 and "pool_size" in wrong_pool.output
    lacking = runner.invoke(cli, ["campaign", "create", "x", *areas, *LAB])
    assert lacking.exit_code == 2 and "lacks the permission testing.manage" in lacking.output
    nobody = runner.invoke(cli, ["campaign", "list", "--user", "nobody"])
    assert nobody.exit_code == 2

    listed = _json(runner.invoke(cli, ["campaign", "list", *COORDINATOR, "--json"]))
    assert [(c["id"], c["rounds"]) for c in listed["campaigns"]] == [(made["id"], 0)]
    table = runner.invoke(cli, ["campaign", "list", *COORDINATOR])
    assert table.exit_code == 0 and "西湖区全员核酸" in table.output
    away = _json(runner.invoke(cli, ["campaign", "list", "--user", "away_testing_coordinator", "--json"]))
    assert away["campaigns"] == []

    opened = _json(
        runner.invoke(
            cli, ["round", "open", str(made["id"]), "--starts-at", "2026-12-06T08:00", *COORDINATOR, "--json"]
        )
    )
    assert (opened["number"], opened["state"], opened["deadline_at"]) == (1, "open", "2026-12-07 08:00:00")
    twice = runner.invoke(cli, ["round", "open", str(made["id"]), *COORDINATOR])
    assert twice.exit_code == 2 and "still open" in twice.output
    coverage = _json(runner.invoke(cli, ["round", "coverage", str(opened["id"]), *LAB, "--json"]))
    assert (coverage["expected"], coverage["sampled"], coverage["not_sampled"]) == (6, 0, 6)
    assert [c["name"] for c in coverage["communities"]] == ["保俶社区", "宝石社区"]
    shown = runner.invoke(cli, ["round", "coverage", str(opened["id"]), *LAB])
    assert shown.exit_code == 0 and "0 of 6 sampled" in shown.output

    closed = _json(
        runner.invoke(cli, ["round", "close", str(opened["id"]), "--positives", "0", *COORDINATOR, "--json"])
    )
    assert (closed["state"], closed["community_positives"]) == ("closed", 0)
    advice = _json(runner.invoke(cli, ["campaign", "advice", str(made["id"]), *LAB, "--json"]))
    assert (advice["rounds_closed"], advice["clean_streak"], advice["stop"]) == (1, 1, False)
    assert advice["stop_rule_next_round_on"] == "2026-12-07"
    urgent = _json(
        runner.invoke(cli, ["campaign", "advice", str(made["id"]), *LAB, "--source-unknown", "--json"])
    )
    assert (urgent["interval_days"], urgent["frequency_reason"]) == (1, "source_unknown_early")
    words = runner.invoke(cli, ["campaign", "advice", str(made["id"]), *LAB])
    assert words.exit_code == 0 and "next round on" in words.output
    missing = runner.invoke(cli, ["campaign", "advice", "999999", *LAB, "--json"])
    assert missing.exit_code == 2 and json.loads(missing.output)["ok"] is False


def test_results_load_recalls_and_fhir(cli_env, app, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    people = world.people[HOME_COUNTY]
    with acting_as(app.state.db, "home_laboratory") as (session, _me):
        pooled_tube(session, "P-POS", people[:3], scanned_at=SAMPLED)
        pooled_tube(session, "P-NEG", people[3:5], scanned_at=SAMPLED, first_seq=10)
        pooled_tube(session, "F-1", people[5:6], scanned_at=SAMPLED, first_seq=20)
        pooled_tube(session, "F-2", [], scanned_at=SAMPLED)

    bad = write_results(tmp_path / "bad.csv", [("P-POS", "阳性", "x", "", "2026-12-06 14:00")])
    refused = runner.invoke(cli, ["results", "load", str(bad), *LAB, "--json"])
    assert refused.exit_code == 2
    assert [(e["row"], e["field"]) for e in json.loads(refused.output)["errors"]] == [(2, "Ct ORF1ab")]
    plain = runner.invoke(cli, ["results", "load", str(bad), *LAB])
    assert plain.exit_code == 2 and "row 2, Ct ORF1ab" in plain.output
    lacking = runner.invoke(cli, ["results", "load", str(bad), *COORDINATOR])
    assert lacking.exit_code == 2 and "lab.results" in lacking.output

    good = write_results(
        tmp_path / "lab.csv",
        [
            ("P-POS", "阳性", "33.0", "32.1", "2026-12-06 14:00"),
            ("P-NEG", "阴性", "", "", "2026-12-06 14:00"),
            ("P-404", "阴性", "", "", "2026-12-06 14:00"),
        ],
    )
    report = _json(runner.invoke(cli, ["results", "load", str(good), *LAB, "--json"]))
    assert (report["loaded"], report["positive_pools"], report["recalled"]) == (2, 1, 3)
    assert [(u["row"], u["field"]) for u in report["unknown"]] == [(4, "条码")]
    again = runner.invoke(cli, ["results", "load", str(good), *LAB])
    assert again.exit_code == 0 and "0 loaded" in again.output and "2 already loaded" in again.output
    assert "row 4, 条码" in again.output

    recalls = _json(runner.invoke(cli, ["recalls", *COORDINATOR, "--json"]))["recalls"]
    assert sorted(r["person_id"] for r in recalls) == sorted(people[:3])
    assert {(r["pool_barcode"], r["state"]) for r in recalls} == {("P-POS", "flagged")}
    table = runner.invoke(cli, ["recalls", *COORDINATOR, "--state", "flagged"])
    assert table.exit_code == 0 and "3 members of positive pools" in table.output
    assert (
        _json(runner.invoke(cli, ["recalls", *COORDINATOR, "--state", "located", "--json"]))["recalls"] == []
    )
    assert runner.invoke(cli, ["recalls", *COORDINATOR, "--state", "lost"]).exit_code == 2

    text = json.dumps(template_bundle())
    for old, new in zip(("TUBE-20261206-0001", "TUBE-20261206-0002"), ("F-1", "F-2"), strict=True):
        text = text.replace(f'"{old}"', f'"{new}"')
    bundle = tmp_path / "bundle.json"
    bundle.write_text(text, encoding="utf-8")
    fhir = _json(runner.invoke(cli, ["results", "load", str(bundle), "--fhir", *LAB, "--json"]))
    assert fhir["rows"] == 2 and fhir["loaded"] + len(fhir["unknown"]) == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": 3}]}')
    malformed = runner.invoke(cli, ["results", "load", str(broken), "--fhir", *LAB, "--json"])
    assert malformed.exit_code == 2
    assert any("entry" in e["field"] for e in json.loads(malformed.output)["errors"])


def test_orders_sync_worklist_overdue_and_pools(cli_env, app, world: World) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    person = world.people[HOME_COUNTY][0]
    with acting_as(app.state.db, "home_testing_coordinator") as (session, _me):
        place(session, app.state.bus, person, "close_contact", dt.date(2026, 12, 4), "contact:77")

    synced = _json(runner.invoke(cli, ["orders", "sync", *COORDINATOR, "--json"]))
    assert synced["created"] == 0 and synced["unchanged"] == 6
    words = runner.invoke(cli, ["orders", "sync", *COORDINATOR])
    assert words.exit_code == 0 and "0 made" in words.output
    assert runner.invoke(cli, ["orders", "sync", *LAB]).exit_code == 2

    due = _json(runner.invoke(cli, ["orders", "worklist", *LAB, "--json"]))
    assert [(o["person_id"], o["due_date"], o["place"]) for o in due["orders"]] == [
        (person, "2026-12-07", "quarantine_site")
    ]
    other_day = _json(runner.invoke(cli, ["orders", "worklist", *LAB, "--day", "2026-12-08", "--json"]))
    assert other_day["total"] == 0  # plan day 4: no test
    assert runner.invoke(cli, ["orders", "worklist", *LAB, "--place", "moon"]).exit_code == 2
    assert runner.invoke(cli, ["orders", "worklist", *LAB, "--day", "yesterday"]).exit_code == 2
    late = _json(runner.invoke(cli, ["orders", "overdue", *LAB, "--json"]))
    assert [o["due_date"] for o in late["orders"]] == ["2026-12-05", "2026-12-06"]
    shown = runner.invoke(cli, ["orders", "overdue", *LAB])
    assert shown.exit_code == 0 and "overdue tests: 2" in shown.output

    plan = _json(runner.invoke(cli, ["pools", "--prevalence", "0.01", "--json"]))
    assert (plan["optimal_pool_size"], round(plan["tests_per_person"], 6)) == (11, 0.195571)
