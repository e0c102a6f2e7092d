"""A drill run beside real data leaves every real figure unchanged (issue 11, item 1), on both databases.

Real cases, contacts, fever-clinic figures, a detector run and its alert are recorded in 西湖区 first; every
figure a real user reads (tracing KPIs through the API and the CLI, the case and contact lists, the
tracing exports, the surveillance board, data, signals, alerts and their statistics, Rt, people search,
the jurisdiction pickers and tree, the user list, the pages themselves and the audit trail) is taken;
then a drill runs on autopilot to its end in a sandbox of the same county, as in the issue
(``fangkong drill start --as <commander> --county 330106 --autopilot`` and ``drill advance``); every
figure is taken again and must be the same. The drill's own records are there, numbered as a drill's,
and every audit entry it wrote names the drill, not the commander.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner, Result

from conftest import HOME_COUNTY, World, token_for, valid_id
from fangkong.core import clock
from fangkong.core.models import AuditEntry, Jurisdiction
from fangkong.modeling.models import Drill

TOWNSHIP = "330106001"
NONCE = re.compile(r'nonce="[^"]*"')
# A weekly cycle of fever-clinic visits, so that only the spike on the last day alarms.
FEVER_CYCLE = [20, 22, 19, 21, 20, 23, 21]
READERS = (
    "home_investigator",
    "home_command_centre",
    "home_surveillance_analyst",
    "home_viewer",
    "province_admin",
)
API = (
    "/api/tracing/kpis",
    "/api/tracing/cases?size=200",
    "/api/tracing/contacts?size=200",
    "/api/tracing/contacts?size=200&status=converted",
    "/api/tracing/clusters",
    "/api/tracing/assist",
    "/api/surveillance/board",
    "/api/surveillance/observations?size=200",
    "/api/surveillance/signals",
    "/api/surveillance/alerts",
    "/api/surveillance/alerts/stats",
    "/api/surveillance/runs",
    "/api/surveillance/rules",
    "/api/surveillance/configs",
    "/api/people?size=200",
    "/api/people?q=张伟",
    "/api/jurisdictions",
    "/api/users",
)
PAGES = (
    "/",
    "/tracing",
    "/tracing/cases",
    "/tracing/contacts",
    "/tracing/clusters",
    "/surveillance",
    "/surveillance/data",
    "/surveillance/alerts",
    "/people",
    "/modeling/rt",
)


@pytest.fixture
def cli(settings, monkeypatch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from fangkong.cli import app as fangkong_app
    from fangkong.core import config

    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(fangkong_app, list(args), env={"COLUMNS": "220"})
        assert result.exit_code == 0, result.output
        return result

    yield invoke
    config.get_settings.cache_clear()


def _seed_real_data(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """Two real cases with contacts, and a fever-clinic spike that a detector run turns into an alert."""
    today = clock.today()
    investigator = token_for(client, "home_investigator")
    first, second, third = world.people[HOME_COUNTY][:3]
    case = client.post(
        "/api/tracing/cases",
        headers=investigator,
        json={
            "classification": "confirmed",
            "onset_date": (today - dt.timedelta(days=3)).isoformat(),
            "diagnosis_date": (today - dt.timedelta(days=1)).isoformat(),
            "person": {"id_number": world.id_numbers[first]},
        },
    )
    assert case.status_code == 201, case.text
    exposures = client.post(
        f"/api/tracing/cases/{case.json()['id']}/exposures",
        headers=investigator,
        json={
            "exposures": [
                {
                    "setting": "household",
                    "start": f"{today - dt.timedelta(days=4)}T19:00:00",
                    "person": {"id_number": world.id_numbers[second]},
                },
                {
                    "setting": "office",
                    "start": f"{today - dt.timedelta(days=4)}T09:00:00",
                    "person": {"id_number": world.id_numbers[third]},
                },
                {
                    "setting": "shared_meal",
                    "start": f"{today - dt.timedelta(days=5)}T18:00:00",
                    "person": {
                        "name": "周九",
                        "id_number": valid_id("330106", "19900517", 77),
                        "phone": "13900000009",
                        "community_code": "330106001002",
                        "address": "宝石社区 幸福路9号",
                    },
                },
            ]
        },
    )
    assert exposures.status_code == 201, exposures.text
    # The household contact tests positive: a second case, linked to the first.
    later = client.post(
        "/api/tracing/cases",
        headers=investigator,
        json={
            "classification": "asymptomatic",
            "sampling_date": today.isoformat(),
            "person": {"id_number": world.id_numbers[second]},
        },
    )
    assert later.status_code == 201, later.text

    analyst = token_for(client, "home_surveillance_analyst")
    days = [today - dt.timedelta(days=20 - i) for i in range(21)]
    records = [
        {
            "channel": "fever_clinic",
            "jurisdiction": TOWNSHIP,
            "date": day.isoformat(),
            "value": 90 if day == today else FEVER_CYCLE[i % 7],
        }
        for i, day in enumerate(days)
    ]
    posted = client.post("/api/surveillance/observations", json={"observations": records}, headers=analyst)
    assert posted.status_code == 200, posted.text
    channels = client.get("/api/surveillance/channels", headers=analyst).json()
    fever = next(c["id"] for c in channels if c["code"] == "fever_clinic")
    config = client.post(
        "/api/surveillance/configs",
        json={"channel_id": fever, "level": "township", "method": "ears_c1", "params": {}},
        headers=analyst,
    )
    assert config.status_code == 201, config.text
    rule = client.post(
        "/api/surveillance/rules",
        json={"name": "街道发热门诊", "kind": "single_channel", "level": "township", "alert_level": "blue"},
        headers=analyst,
    )
    assert rule.status_code == 201, rule.text
    run = client.post(
        "/api/surveillance/runs",
        json={"first_date": today.isoformat(), "as_of": today.isoformat()},
        headers=analyst,
    )
    assert run.status_code == 200, run.text
    assert run.json()["alerts"] >= 1, run.json()


def _steady(value: Any) -> Any:
    """A figure without what moves with the clock itself: the test clock ticks a microsecond per reading."""
    if isinstance(value, dict):
        return {
            k: round(v / 60) if k == "seconds_left" and v is not None else _steady(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def _workbook_rows(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [[str(v) for v in row] for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def _figures(
    client, cli, tokens: dict[str, dict[str, str]], county_id: int, township_id: int
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Every real figure each reader of the home county and the province can see."""
    figures: dict[str, Any] = {}
    urls = (
        *API,
        f"/api/jurisdictions?parent_id={county_id}",
        f"/api/surveillance/neighbours/{township_id}",
        f"/api/modeling/rt?jurisdiction_id={county_id}",
        f"/api/modeling/rt?jurisdiction_id={county_id}&basis=report",
    )
    for reader in READERS:
        headers = tokens[reader]
        for url in urls:
            response = client.get(url, headers=headers)
            figures[f"{reader} {url}"] = (response.status_code, _steady(response.json()))
        for kind in ("cases", "contacts", "exposures"):
            response = client.get(f"/api/tracing/export?kind={kind}&lang=zh", headers=headers)
            body = _workbook_rows(response.content) if response.status_code == 200 else response.json()
            figures[f"{reader} export {kind}"] = (response.status_code, body)
        for url in (*PAGES, f"/jurisdictions?id={county_id}"):
            response = client.get(url, headers=headers)
            assert "【演练】" not in response.text, (reader, url)
            # A page's CSP nonce is new on every answer by design.
            figures[f"{reader} page {url}"] = (response.status_code, NONCE.sub("nonce", response.text))
    for user in ("home_investigator", "province_admin"):
        for command in ("kpis", "clusters"):
            figures[f"cli {command} {user}"] = json.loads(
                cli("tracing", command, "-u", user, "--json").output
            )
    return figures


def _real_audit(client, tokens: dict[str, dict[str, str]]) -> dict[str, list[dict[str, Any]]]:
    """The audit log as its real readers see it (newest first, the first page of 200)."""
    return {
        reader: client.get("/api/audit?size=200", headers=tokens[reader]).json()
        for reader in ("home_command_centre", "province_admin")
    }


def test_a_drill_beside_real_data_leaves_every_real_figure_unchanged(client, world: World, app, cli) -> None:  # type: ignore[no-untyped-def]
    _seed_real_data(client, world)
    tokens = {reader: token_for(client, reader) for reader in READERS}
    county_id = world.jurisdictions[HOME_COUNTY]
    before = _figures(client, cli, tokens, county_id, world.jurisdictions[TOWNSHIP])
    audit_before = _real_audit(client, tokens)
    with app.state.db.unit_of_work() as session:
        last_entry = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))

    started = cli("drill", "start", "--as", "home_command_centre", "--county", HOME_COUNTY, "--autopilot",
                  "--people", "1500", "--days", "20", "--seed", "1", "--json")  # fmt: skip
    drill_id = json.loads(started.output)["drill_id"]
    advanced = json.loads(cli("drill", "advance", str(drill_id), "--to-end", "--json").output)
    assert advanced["finished"] and advanced["failed"] == 0, advanced["errors"]
    audit_after = _real_audit(client, tokens)
    with app.state.db.unit_of_work() as session:
        drill_entries = session.scalars(select(AuditEntry).where(AuditEntry.id > (last_entry or 0))).all()
        session.expunge_all()

    after = _figures(client, cli, tokens, county_id, world.jurisdictions[TOWNSHIP])
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed, changed

    # The real audit trail gained only the commander starting the drill (an entry about the drill).
    for reader, entries in audit_after.items():
        known = {e["id"] for e in audit_before[reader]}
        added = [e for e in entries if e["id"] not in known]
        assert [(e["action"], e["actor"]) for e in added] == [("drills.start", "home_command_centre")], (
            reader,
            added,
        )

    with app.state.db.unit_of_work() as session:
        drill = session.get(Drill, drill_id)
        assert drill is not None
        sandbox = session.get(Jurisdiction, drill.sandbox_id)
        assert sandbox is not None and sandbox.is_sandbox
        written = drill_entries
        reveals = [e for e in written if e.action == "people.reveal"]
        assert reveals, "the autopilot reads the synthetic residents' ID numbers through the registry"
        # Everything the drill did after its start is the drill's own: its actor, its sandbox.
        own = [e for e in written if e.action not in ("drills.start", "jurisdictions.sandbox")]
        # ... or the platform's own reaction to what the drill did (a quarantined person found to be a
        # case leaves for hospital), recorded as the system, inside the sandbox.
        # The drill acts as itself, or through an account of its own bound to its sandbox (the
        # privacy round's investigator and supervisor: ``drill:<id>:<who>``).
        actors = {e.actor for e in own if e.actor != "system"}
        assert f"drill:{drill_id}" in actors
        assert all(a == f"drill:{drill_id}" or a.startswith(f"drill:{drill_id}:") for a in actors), actors
        assert all((e.jpath or "").startswith(sandbox.path) for e in own)
        assert not [e for e in written if e.actor == "home_command_centre" and e.object_type == "person"]
        summary = json.loads(drill.summary)

    # The drill's cases are there for the drill, numbered as a drill's, not as the county's cases.
    score = json.loads(cli("drill", "score", str(drill_id), "--json").output)
    investigation = next(m for m in score["measures"] if m["key"] == "investigation")
    assert investigation["judged"] == summary["cases"]
    with app.state.db.unit_of_work() as session:
        from fangkong.tracing.models import Case

        refs = session.scalars(select(Case.case_ref).where(Case.jpath.startswith(sandbox.path))).all()
    assert len(refs) == summary["cases"]
    assert all(ref.startswith("演练-") and not ref.startswith(f"{HOME_COUNTY}-") for ref in refs), refs


def test_a_drills_overdue_alert_stays_in_its_sandbox(client, world: World, app, cli, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    """Nobody answers an alert about the drill's sandbox: overdue, it never escalates to the real county."""
    from fangkong.core import audit
    from fangkong.surveillance import alerts
    from fangkong.surveillance.models import Alert, AlertLevel, AlertStatus, FusionRule, RuleKind

    started = cli("drill", "start", "--as", "home_command_centre", "--county", HOME_COUNTY,
                  "--people", "1200", "--days", "14", "--seed", "1", "--json")  # fmt: skip
    drill_id = json.loads(started.output)["drill_id"]
    now = clock.utcnow()
    with app.state.db.unit_of_work() as session:
        drill = session.get(Drill, drill_id)
        assert drill is not None
        sandbox = session.get(Jurisdiction, drill.sandbox_id)
        assert sandbox is not None
        # The township rule the drill set up for its sandbox's fever-clinic figure.
        rule = session.scalar(select(FusionRule).where(FusionRule.jpath == sandbox.path))
        assert rule is not None
        session.add(
            Alert(
                rule_id=rule.id, kind=RuleKind.single_channel, jurisdiction_id=sandbox.id, jpath=sandbox.path,
                assigned_jurisdiction_id=sandbox.id, assigned_jpath=sandbox.path, level=AlertLevel.blue,
                status=AlertStatus.signal, title="【演练】fever clinic", dedupe_key=f"temporal:{sandbox.id}",
                first_date=now.date(), last_date=now.date(), created_at=now, response_hours=24,
                response_due_at=now + dt.timedelta(hours=24), outcome_note="", escalations=0, evidence="{}",
                rank=0.0,
            )
        )  # fmt: skip
        sandbox_path = sandbox.path
    frozen_clock.advance(days=3)
    with app.state.db.unit_of_work() as session:
        alerts.escalate_overdue(session, audit.SYSTEM, sandbox_path, clock.utcnow())
    with app.state.db.unit_of_work() as session:
        assigned = session.scalars(select(Alert.assigned_jpath).where(Alert.jpath == sandbox_path)).all()
    assert assigned == [sandbox_path]
    analyst = token_for(client, "home_surveillance_analyst")
    mine = client.get("/api/surveillance/alerts?mine=true", headers=analyst)
    assert mine.status_code == 200 and mine.json()["total"] == 0
