"""The surveillance pages over HTTP (Chinese by default, English on request), and in a real browser.

The browser test drives Debian's Chromium through Playwright against a live server: it logs in, runs
the detectors from the board, opens the alert from the inbox and starts its verification.
"""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from conftest import HOME_COUNTY, PASSWORD, World, token_for
from fangkong.core import clock

CYCLE = [3, 4, 2, 5, 3, 4, 3]


def _outbreak(client, headers) -> int:  # type: ignore[no-untyped-def]
    """Case reports of 21 days with a jump today, a detector on them, and a run: returns the alert id."""
    records = [
        {
            "channel": "case_reports",
            "jurisdiction": HOME_COUNTY,
            "date": (clock.today() - dt.timedelta(days=20 - i)).isoformat(),
            "value": 30 if i == 20 else CYCLE[i % 7],
        }
        for i in range(21)
    ]
    assert (
        client.post(
            "/api/surveillance/observations", json={"observations": records}, headers=headers
        ).status_code
        == 200
    )
    channels = client.get("/api/surveillance/channels", headers=headers).json()
    channel = next(c["id"] for c in channels if c["code"] == "case_reports")
    body = {"channel_id": channel, "level": "county", "method": "ears_c1", "params": {}}
    assert client.post("/api/surveillance/configs", json=body, headers=headers).status_code == 201
    run = client.post("/api/surveillance/runs", json={}, headers=headers).json()
    return int(run["alerts_created"][0])


def test_every_page_shows_the_outbreak_in_chinese(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_surveillance_analyst")
    alert_id = _outbreak(client, headers)
    board = client.get("/surveillance", headers=headers)
    assert board.status_code == 200
    assert "预警信号看板" in board.text
    assert "西湖区" in board.text
    assert "法定传染病病例报告" in board.text  # the channel's column on the board
    inbox = client.get("/surveillance/alerts", headers=headers).text
    assert f"/surveillance/alerts/{alert_id}" in inbox
    assert "剩余" in inbox  # the response clock is running
    alert = client.get(f"/surveillance/alerts/{alert_id}", headers=headers).text
    assert "蓝色" in alert and "新信号" in alert and "开始核实" in alert
    channel = client.get("/api/surveillance/channels", headers=headers).json()[0]["id"]
    series = client.get(
        "/surveillance/series",
        params={"channel_id": channel, "jurisdiction_id": world.jurisdictions[HOME_COUNTY]},
        headers=headers,
    ).text
    assert "ears_c1" in series and 'data-testid="series-chart"' in series
    config = client.get("/surveillance/config", headers=headers).text
    assert "发热门诊就诊人次" in config and "7 天内同一或相邻地区两个渠道出现信号" in config
    data = client.get("/surveillance/data", headers=headers).text
    # A batch sent through the API is named in the reader's words, not by its key ("api").
    assert "最近报送批次" in data and "数据接口" in data


def test_pages_speak_english_when_asked(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_surveillance_analyst")
    _outbreak(client, headers)
    client.cookies.set("fk_lang", "en")
    board = client.get("/surveillance", headers=headers).text
    assert "Signal board" in board and "Notifiable case reports" in board
    assert "left" in client.get("/surveillance/alerts", headers=headers).text


def test_empty_pages_say_so(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_viewer")
    assert "暂无预警" in client.get("/surveillance/alerts", headers=headers).text
    assert "尚未配置预警模型" in client.get("/surveillance/config", headers=headers).text
    board = client.get("/surveillance", params={"level": "community"}, headers=headers).text
    assert "这 7 天内没有预警信号" in board
    # A viewer sees no forms to change anything.
    assert "新增预警模型" not in client.get("/surveillance/config", headers=headers).text


def test_a_form_with_a_bad_value_shows_the_field(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_surveillance_analyst")
    channel = client.get("/api/surveillance/channels", headers=headers).json()[0]["id"]
    form = {"channel_id": str(channel), "level": "county", "method": "ears_c1", "params": "alpha=7"}
    response = client.post(
        "/surveillance/config/detectors", headers={**headers, "accept": "text/html"}, data=form
    )
    assert response.status_code == 422
    assert "参数" in response.text  # the field by its label, with the navigation around it
    assert "alpha" in response.text
    assert 'href="/surveillance/config"' in response.text


# ----------------------------------------------------------------------------- in a real browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.browser
def test_a_responder_runs_the_detectors_and_starts_verification(
    live_server: str, client, page, world: World
) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_surveillance_analyst")
    records = [
        {
            "channel": "case_reports",
            "jurisdiction": HOME_COUNTY,
            "value": 30 if i == 20 else CYCLE[i % 7],
            "date": (clock.today() - dt.timedelta(days=20 - i)).isoformat(),
        }
        for i in range(21)
    ]
    client.post("/api/surveillance/observations", json={"observations": records}, headers=headers)
    channel = next(
        c["id"]
        for c in client.get("/api/surveillance/channels", headers=headers).json()
        if c["code"] == "case_reports"
    )
    client.post(
        "/api/surveillance/configs",
        json={"channel_id": channel, "level": "county", "method": "ears_c1"},
        headers=headers,
    )
    page.goto(f"{live_server}/login?next=/surveillance")
    page.fill("input[name=username]", "home_surveillance_analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/surveillance")
    page.click("[data-testid=run]")
    page.wait_for_url("**/surveillance?as_of=*run=*")  # the run's board, once the form has been answered
    page.wait_for_selector("[data-testid=board-table]")
    assert "西湖区" in page.inner_text("[data-testid=board-table]")
    # ECharts drew the tile view on a canvas.
    page.wait_for_selector("[data-testid=tiles] canvas")
    page.goto(f"{live_server}/surveillance/alerts")
    page.click("[data-testid=alerts-table] a")
    page.wait_for_selector("[data-testid=evidence-chart] canvas")
    assert page.inner_text("[data-testid=status]") == "新信号"
    page.fill("[data-testid=note]", "正在联系医院")
    page.click("[data-testid=verify]")
    page.wait_for_selector("[data-testid=confirm]")
    assert page.inner_text("[data-testid=status]") == "核实中"
    assert "已响应" in page.inner_text("[data-testid=clock]")
