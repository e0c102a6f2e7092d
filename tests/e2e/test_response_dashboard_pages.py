"""The command dashboard and accountability pages over HTTP: "/" leads command users to the dashboard
(others keep the overview), the Chinese pages show no English word, a child's drill-down link opens
that child's dashboard, the empty states, the JSON API and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from test_response_report_pages import login
from test_testing_pages import chinese_left, english_left
from typer.testing import CliRunner

from conftest import HOME_COUNTY, PASSWORD, World, token_for
from fangkong.core import clock


def _example(app: Any, world: World) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "response"))
    from dashboard_support import counting_bus, place, place_of, report_case, task

    db = app.state.db
    bus = counting_bus()
    today = clock.today()
    report_case(db, app.state.vault, world, bus, 0, reported=dt.datetime.combine(today, dt.time(1, 0)),
                onset=today - dt.timedelta(days=2))  # fmt: skip
    place(db, bus, world.people[HOME_COUNTY][3], "close_contact", "test:1", today - dt.timedelta(days=2))
    now = clock.utcnow()
    with db.unit_of_work() as session:
        community = place_of(session, "330106001001")
        task(
            session,
            "team_on_site",
            1,
            community,
            now - dt.timedelta(hours=5),
            120,
            closed_after=1,
            team="一队",
        )
        task(session, "core_facts", 1, community, now - dt.timedelta(hours=6), 240)


def test_home_leads_command_users_to_the_dashboard(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    login(client, "home_command_centre")
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    client.cookies.clear()
    login(client, "home_laboratory")
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 200 and 'data-testid="dashboard-place"' not in page.text


def test_the_chinese_dashboard_and_its_drill_down(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    _example(app, world)
    login(client, "home_command_centre")
    page = client.get("/dashboard")
    assert page.status_code == 200, page.text[:2000]
    html = page.text
    assert english_left(html) == []
    assert "指挥看板" in html and "西湖区" in html and "密切接触者" in html
    assert 'data-testid="curve-chart"' in html and "/static/js/response_dashboard.js" in html
    data = json.loads(
        re.search(
            r'<script type="application/json" id="dashboard-data"[^>]*>(.*?)</script>', html, re.S
        ).group(1)
    )  # type: ignore[union-attr]
    assert sum(data["report"]) == 1 and len(data["days"]) == 28
    assert re.search(r'data-testid="tile-overdue">1<', html)
    # No inline script: every <script> either loads a file or is a JSON data block.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    link = re.search(r'href="([^"]+)" data-testid="drill-330106001"', html)
    assert link is not None
    child = client.get(link.group(1).replace("&amp;", "&"))
    assert child.status_code == 200
    assert 'data-testid="dashboard-place">北山街道<' in child.text
    assert 'href="/dashboard?jurisdiction=330106"' in child.text  # back up the tree
    community = client.get("/dashboard?jurisdiction=330106001001")
    assert 'data-testid="children-empty"' in community.text and english_left(community.text) == []
    # Outside the caller's scope: not found, never another county's figures.
    assert client.get("/dashboard?jurisdiction=330203").status_code == 404

    accountability = client.get("/accountability")
    assert accountability.status_code == 200
    assert english_left(accountability.text) == []
    assert 'data-testid="by-area"' in accountability.text and "一队" in accountability.text


def test_empty_states_and_the_english_page(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    login(client, "home_command_centre")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert 'data-testid="curve-empty"' in page.text and 'data-testid="overdue-empty"' in page.text
    assert english_left(page.text) == []
    empty = client.get("/accountability")
    assert 'data-testid="accountability-empty"' in empty.text and english_left(empty.text) == []
    client.cookies.set("fk_lang", "en")
    english = client.get("/dashboard")
    assert "Command dashboard" in english.text
    # Only the places' names (data) stay Chinese.
    assert set(chinese_left(english.text)) <= {"西湖区", "北山街道"}


def test_the_api(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    _example(app, world)
    headers = token_for(client, "home_command_centre")
    answer = client.get("/api/response/dashboard", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["place"]["code"] == HOME_COUNTY and body["cases_today"] == 1
    assert body["under_measure"] == {"close_contact": 1}
    assert body["timeliness"]["on_site"]["median"] == 1.0
    assert [c["place"]["code"] for c in body["children"]] == ["330106001"]
    on = (clock.today() - dt.timedelta(days=1)).isoformat()
    earlier = client.get(f"/api/response/dashboard?jurisdiction=330106001&on={on}", headers=headers)
    assert earlier.status_code == 200 and earlier.json()["cases_today"] == 0
    assert client.get("/api/response/dashboard?jurisdiction=330203", headers=headers).status_code == 404
    assert client.get("/api/response/dashboard?on=someday", headers=headers).status_code == 422
    acc = client.get("/api/response/accountability?weeks=2", headers=headers)
    assert acc.status_code == 200 and acc.json()["total"] == {"met": 1, "missed": 1, "met_share": 0.5}
    lab = token_for(client, "home_laboratory")
    assert client.get("/api/response/dashboard", headers=lab).status_code == 403


def test_the_cli(app, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    from fangkong.cli import app as cli

    _example(app, world)
    runner = CliRunner()
    env = {"FANGKONG_DATABASE_URL": settings.resolved_database_url()}
    shown = runner.invoke(cli, ["response", "dashboard", "--user", "home_command_centre", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["cases_today"] == 1
    province = runner.invoke(cli, ["response", "dashboard", "--jurisdiction", "330000"], env=env)
    assert province.exit_code == 0, province.output
    assert "330100" in province.output
    recounted = runner.invoke(
        cli, ["response", "recount", "--day", clock.today().isoformat(), "--json"], env=env
    )
    assert recounted.exit_code == 0, recounted.output
    assert json.loads(recounted.output) == {"ok": True, "day": clock.today().isoformat(), "changes": []}


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_charts_draw_in_a_browser(live_server: str, page, app, world: World) -> None:  # type: ignore[no-untyped-def]
    _example(app, world)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/login?next=/dashboard")
    page.fill("#username", "home_command_centre")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/dashboard")
    page.wait_for_selector("#db-curve canvas")
    assert page.locator("#hist-on_site canvas").count() == 1
    page.click("[data-testid=drill-330106001]")
    page.wait_for_url(f"{live_server}/dashboard?jurisdiction=330106001")
    assert page.inner_text("[data-testid=dashboard-place]") == "北山街道"
    assert errors == []
