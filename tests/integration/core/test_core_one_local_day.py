"""Every page, command and clock agrees on "today": the local day, at any hour of the UTC day.

A case reported at 00:30 Beijing time is reported on the 7th even though the UTC date is still the
6th. The tracing KPIs (command line and API), the tracing overview page, the surveillance board and
the alert clocks must all count it on the same local day, and so at 15:59, 16:00 and 23:59 UTC too.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import HOME_COUNTY, World, token_for
from fangkong.core import clock, config
from fangkong.core.clock import FrozenClock
from fangkong.tracing.cli import app as tracing_cli
from surveillance_support import add_cholera_channel

# (UTC instant, the local day it falls on in Beijing)
INSTANTS = [
    pytest.param(dt.datetime(2026, 12, 6, 15, 59, tzinfo=dt.UTC), dt.date(2026, 12, 6), id="15:59Z=23:59"),
    pytest.param(dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.UTC), dt.date(2026, 12, 7), id="16:00Z=midnight"),
    pytest.param(dt.datetime(2026, 12, 6, 16, 30, tzinfo=dt.UTC), dt.date(2026, 12, 7), id="16:30Z=00:30"),
    pytest.param(dt.datetime(2026, 12, 6, 23, 59, tzinfo=dt.UTC), dt.date(2026, 12, 7), id="23:59Z=07:59"),
]


@pytest.fixture
def cli_env(monkeypatch, settings, world: World):  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def _report_case(client, world: World, headers: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][0]
    response = client.post(
        "/api/tracing/cases",
        headers=headers,
        json={"classification": "confirmed", "person": {"id_number": world.id_numbers[person]}},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _raise_single_case_alert(client, headers: dict[str, str], day: dt.date) -> dict[str, object]:  # type: ignore[no-untyped-def]
    add_cholera_channel(client, headers)
    # Filed for the local day: a record dated "today" must not be refused as being in the future.
    posted = client.post(
        "/api/surveillance/observations",
        headers=headers,
        json={
            "observations": [
                {"channel": "cases.cholera", "jurisdiction": HOME_COUNTY, "date": day.isoformat(), "value": 1}
            ]
        },
    )
    assert posted.status_code == 200, posted.text
    run = client.post("/api/surveillance/runs", json={}, headers=headers)
    assert run.status_code == 200, run.text
    assert run.json()["as_of"] == day.isoformat()
    alerts = [
        client.get(f"/api/surveillance/alerts/{alert_id}", headers=headers).json()
        for alert_id in run.json()["alerts_created"]
    ]
    single: dict[str, object] = next(a for a in alerts if a["kind"] == "single_case")
    return single


@pytest.mark.parametrize(("at", "local_day"), INSTANTS)
def test_the_kpis_the_overview_the_board_and_the_alert_clock_agree_on_the_day(
    client, world: World, cli_env, frozen_clock: FrozenClock, at: dt.datetime, local_day: dt.date
) -> None:  # type: ignore[no-untyped-def]
    frozen_clock.set(at)
    assert clock.today() == local_day
    investigator = token_for(client, "home_investigator")
    analyst = token_for(client, "home_surveillance_analyst")
    case_id = _report_case(client, world, investigator)
    case = client.get(f"/api/tracing/cases/{case_id}", headers=investigator).json()
    assert case["case"]["case_ref"] == f"{HOME_COUNTY}-{local_day:%Y%m%d}-00001"  # numbered by local day
    assert case["case"]["reported_at"].startswith(clock.local_now().strftime("%Y-%m-%dT%H:%M"))

    # 1. fangkong tracing kpis: the default window ends today and holds the case.
    result = CliRunner().invoke(tracing_cli, ["kpis", "--user", "home_investigator", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["new_cases"] == 1
    # ... and so does the API's default window, which ends on the same day.
    assert client.get("/api/tracing/kpis", headers=investigator).json()["new_cases"] == 1
    yesterday = (local_day - dt.timedelta(days=1)).isoformat()
    window = {"since": yesterday, "until": yesterday}
    assert client.get("/api/tracing/kpis", params=window, headers=investigator).json()["new_cases"] == 0

    # 2. The tracing overview page shows today as the end of its window and counts the case.
    page = client.get("/tracing", headers=investigator)
    assert page.status_code == 200
    assert f'name="until" value="{local_day.isoformat()}"' in page.text
    assert re.search(r'data-testid="kpi-new-cases">\s*1\s*<', page.text)

    # 3 and 4. The alert raised now is dated today, and its 2-hour clock runs from now.
    alert = _raise_single_case_alert(client, analyst, local_day)
    raised = dt.datetime.fromisoformat(str(alert["created_at"]))
    due = dt.datetime.fromisoformat(str(alert["response_due_at"]))
    assert clock.local_day(raised) == local_day
    assert due - raised == dt.timedelta(hours=2)
    assert alert["seconds_left"] == pytest.approx(2 * 3600, abs=1)
    assert (alert["first_date"], alert["last_date"]) == (local_day.isoformat(),) * 2
    # The board's default day is today: today's single case is among its last 7 days' signals.
    board = client.get("/api/surveillance/board", headers=analyst).json()
    assert next(row for row in board if row["code"] == HOME_COUNTY)["signals"] == {"cases.cholera": 1}
    dated = client.get("/api/surveillance/board", params={"as_of": yesterday}, headers=analyst).json()
    assert next(row for row in dated if row["code"] == HOME_COUNTY)["total_signals"] == 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minute=st.integers(min_value=0, max_value=24 * 60 - 1))
def test_at_every_minute_of_a_day_the_windows_and_clocks_end_on_the_local_day(
    client, world: World, frozen_clock: FrozenClock, minute: int
) -> None:  # type: ignore[no-untyped-def]
    at = dt.datetime(2026, 12, 6, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
    frozen_clock.set(at)
    today = clock.local_day(at)
    investigator = token_for(client, "home_investigator")
    analyst = token_for(client, "home_surveillance_analyst")

    kpis = client.get("/api/tracing/kpis", headers=investigator).json()
    assert (kpis["since"], kpis["until"]) == ((today - dt.timedelta(days=27)).isoformat(), today.isoformat())
    page = client.get("/tracing", headers=investigator).text
    assert f'name="until" value="{today.isoformat()}"' in page
    run = client.post("/api/surveillance/runs", json={}, headers=analyst)
    assert run.status_code == 200, run.text
    assert run.json()["as_of"] == today.isoformat()
    board = client.get("/surveillance", headers=analyst).text
    assert f'name="as_of" value="{today.isoformat()}"' in board
