"""`make run`, then log in as `command`: the demo region with its outbreak, seen in a real browser.

The demo is built as `make run` builds it (`fangkong db upgrade` was done by the fixtures; `fangkong
demo` here, with fewer residents to keep the test short) under the frozen clock, then the command
centre logs in and lands on the dashboard: cases in the curve, overdue tasks, the demo county to drill
into, its late tasks, and yesterday's closed and signed-off day.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from typer.testing import CliRunner

from fangkong.core import clock, config
from fangkong.core.demo_loader import DEMO_PASSWORD


def _demo(settings, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    from fangkong.cli import app as cli_app

    for name, value in (
        ("FANGKONG_DATABASE_URL", settings.database_url),
        ("FANGKONG_VAR_DIR", str(settings.var_dir)),
        ("FANGKONG_ENCRYPTION_KEY", settings.encryption_key),
        ("FANGKONG_HASH_KEY", settings.hash_key),
        ("FANGKONG_SECRET_KEY", settings.secret_key),
    ):
        monkeypatch.setenv(name, value)
    config.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["demo", "--people", "6000"])
    finally:
        config.get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_make_run_then_command_sees_a_county_in_the_middle_of_an_outbreak(
    settings, monkeypatch, live_server: str, page
) -> None:  # type: ignore[no-untyped-def]
    output = _demo(settings, monkeypatch)
    assert "response: an outbreak of 25 cases" in output
    assert "vaccination: " in output
    assert "personal data: 1 emergency open, 3 residents entered twice" in output
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server}/login")
    page.fill("#username", "command")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard$"))
    page.wait_for_selector("#db-curve canvas")
    assert int(page.inner_text("[data-testid=tile-cases-window]")) >= 25
    assert int(page.inner_text("[data-testid=tile-overdue]")) > 0

    # The demo county (西湖区, where the county accounts work) is one click down.
    page.click("[data-testid=drill-330106]")
    page.wait_for_url(re.compile(r".*/dashboard\?jurisdiction=330106$"))
    assert page.inner_text("[data-testid=dashboard-place]") == "西湖区"
    # The outbreak's 25 cases, and the quarantine demo's two reported today.
    assert int(page.inner_text("[data-testid=tile-cases-window]")) == 27
    assert int(page.inner_text("[data-testid=tile-alerts]")) >= 1

    # Its tasks: some late, shown as such.
    page.goto(f"{live_server}/tasks?late=yes")
    assert page.locator("[data-testid=task-row]").count() > 0

    # Yesterday's day is closed and signed off with today's objectives.
    yesterday = clock.today() - dt.timedelta(days=1)
    page.goto(f"{live_server}/closure/330106/{yesterday.isoformat()}")
    body = page.inner_text("main")
    assert "演示数据" in body  # the objectives the demo's command centre set

    # Vaccination is alive too: the county's coverage by age near the national figures of 2022-11-28
    # (86.42 % of people aged 60 and over, 65.8 % of people aged 80 and over with a full series), from
    # stored numerators and denominators that the dashboard repeats.
    page.goto(f"{live_server}/vaccination/coverage?jurisdiction=330106")
    rates = {}
    for band in ("60+", "80+"):
        row = page.locator(f"[data-testid='band-{band}']")
        done = int(row.locator("[data-testid=primary_complete]").inner_text().replace(",", ""))
        people = int(row.locator("[data-testid=denominator]").inner_text().replace(",", ""))
        assert people > 0
        rates[band] = done / people
    assert 0.80 < rates["60+"] < 0.92, rates
    assert 0.55 < rates["80+"] < 0.76, rates
    page.wait_for_selector("[data-testid=trend] canvas")
    page.goto(f"{live_server}/dashboard?jurisdiction=330106")
    assert page.locator("[data-testid=vaccination-figures] tr").count() == 3
    # The adverse-event cards of the last days are still to be sent: their tasks are open.
    page.goto(f"{live_server}/tasks?trigger=aefi_reported")
    assert "疑似异常反应报告卡报送县级疾控" in page.inner_text("main")
    # Teams and supplies are on hand.
    page.goto(f"{live_server}/resources/teams")
    assert page.locator("[data-testid=team-row]").count() > 0

    # The administrator finds the outbreak's emergency open and the residents entered twice.
    page.context.clear_cookies()
    page.goto(f"{live_server}/login")
    page.fill("#username", "admin")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(dashboard)?$"))
    page.goto(f"{live_server}/privacy/emergencies")
    assert page.locator("[data-testid=emergency-row]").count() == 1
    page.goto(f"{live_server}/privacy/merge")
    assert page.locator("[data-testid=candidate]").count() == 3
    assert errors == []
