"""The alert inbox's tabs and the alert response statistics page, in a real headless Chromium.

A county's analyst walks the inbox's tabs (the "my jurisdiction's inbox" tab used to answer 422 because
it sent an empty status) and opens the response statistics from the inbox: the counts by level and
status, the shares answered within the 2 h and 24 h clocks and the median response time the API
computes, in Chinese and then in English.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from conftest import HOME_COUNTY, PASSWORD, World, token_for
from fangkong.core import clock

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CYCLE = [3, 4, 2, 5, 3, 4, 3]


def _one_alert(client, headers) -> int:  # type: ignore[no-untyped-def]
    """Case reports of 21 days with a jump today, a detector on them and a run: the alert's id."""
    today = clock.today()
    records = [
        {
            "channel": "case_reports",
            "jurisdiction": HOME_COUNTY,
            "date": (today - dt.timedelta(days=20 - i)).isoformat(),
            "value": 30 if i == 20 else CYCLE[i % 7],
        }
        for i in range(21)
    ]
    sent = client.post("/api/surveillance/observations", json={"observations": records}, headers=headers)
    assert sent.status_code == 200, sent.text
    channel = next(
        c["id"]
        for c in client.get("/api/surveillance/channels", headers=headers).json()
        if c["code"] == "case_reports"
    )
    body = {"channel_id": channel, "level": "county", "method": "ears_c1", "params": {}}
    assert client.post("/api/surveillance/configs", json=body, headers=headers).status_code == 201
    run = client.post("/api/surveillance/runs", json={}, headers=headers).json()
    return int(run["alerts_created"][0])


def _login(page, live_server: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?next={target}")
    page.fill("input[name=username]", "home_surveillance_analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}{target}")


def test_the_inbox_tab_and_the_response_statistics_page(
    live_server: str, client, page, world: World, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_surveillance_analyst")
    alert_id = _one_alert(client, headers)
    # Verification starts 90 minutes after the alert: within both the 2 h and the 24 h clock.
    frozen_clock.advance(minutes=90)
    verified = client.post(
        f"/api/surveillance/alerts/{alert_id}/verify", json={"note": "联系医院核实"}, headers=headers
    )
    assert verified.status_code == 200, verified.text
    api = client.get("/api/surveillance/alerts/stats", headers=headers).json()["overall"]
    assert (api["alerts"], api["within_2h"]) == (1, 1.0)
    assert api["median_response_hours"] == pytest.approx(1.5)

    _login(page, live_server, "/surveillance/alerts")
    with page.expect_navigation():
        page.click("[data-testid=mine]")
    # The inbox of one's own jurisdiction lists the county's alert (it used to be a 422 page).
    page.wait_for_selector("[data-testid=alerts-table]")
    assert page.locator(f"[data-testid=alerts-table] a[href='/surveillance/alerts/{alert_id}']").count() == 1
    # The status tabs keep the inbox switch and still answer.
    with page.expect_navigation():
        page.click("text=核实中")
    page.wait_for_selector("[data-testid=alerts-table]")
    assert "mine=true" in page.url and "status=verifying" in page.url

    page.click("[data-testid=stats-link]")
    page.wait_for_url("**/surveillance/alerts/stats")
    assert page.locator("h1").inner_text() == "预警响应统计"
    assert page.inner_text("[data-testid=alerts-overall]") == "1"
    assert page.inner_text("[data-testid=within-2h-overall]") == "100.0%"
    assert page.inner_text("[data-testid=within-24h-overall]") == "100.0%"
    assert page.inner_text("[data-testid=median-overall]").startswith("1.5 小时")
    # A detector's alert runs on the 24 h clock: the single-case row has nothing to measure.
    assert page.inner_text("[data-testid=alerts-single_case]") == "0"
    assert page.inner_text("[data-testid=within-2h-single_case]") == "—"
    assert page.inner_text("[data-testid=stats-level] [data-level=blue]") == "1"
    assert page.inner_text("[data-testid=stats-level] [data-level=red]") == "0"
    assert page.inner_text("[data-testid=stats-status] [data-status=verifying]") == "1"
    assert page.inner_text("[data-testid=stats-status] [data-status=signal]") == "0"
    assert "2 小时内响应" in page.inner_text("[data-testid=stats-table]")
    # No English word on the Chinese page (P25/P75 are the quartiles' names).
    assert re.findall(r"[A-Za-z]{2,}", page.inner_text("main")) == []

    # A period before the alert has none.
    earlier = (clock.today() - dt.timedelta(days=60)).isoformat()
    page.fill("[data-testid=stats-period] input[name=start]", earlier)
    page.fill("[data-testid=stats-period] input[name=end]", earlier)
    page.click("[data-testid=stats-period] button[type=submit]")
    page.wait_for_selector("[data-testid=no-stats]")

    page.context.add_cookies([{"name": "fk_lang", "value": "en", "url": live_server}])
    page.goto(f"{live_server}/surveillance/alerts/stats")
    assert page.locator("h1").inner_text() == "Alert response statistics"
    table = page.inner_text("[data-testid=stats-table]")
    assert "Answered within 2 h" in table and "Median response time" in table
    assert page.inner_text("[data-testid=median-overall]").startswith("1.5 h")
    assert page.inner_text("[data-testid=stats-status]").splitlines()[1].startswith("Under verification")


def test_a_status_that_does_not_exist_names_the_field(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = {**token_for(client, "home_surveillance_analyst"), "accept": "text/html"}
    empty = client.get("/surveillance/alerts", params={"status": "", "mine": "true"}, headers=headers)
    assert empty.status_code == 200
    wrong = client.get("/surveillance/alerts", params={"status": "open"}, headers=headers)
    assert wrong.status_code == 422 and "open 不是预警状态" in wrong.text and "核实中" in wrong.text
    backwards = client.get(
        "/surveillance/alerts/stats", params={"start": "2026-12-01", "end": "2026-11-01"}, headers=headers
    )
    assert backwards.status_code == 422 and "起始日期 2026-12-01 晚于截止日期 2026-11-01" in backwards.text
