"""The resources pages over HTTP: staff with the renewal worklist, teams with readiness, deployments with
check-in and check-out, supplies with days left, the reorder alert and the chart's data; Chinese with no
English left and English with no Chinese; forms refuse bad values field by field; a viewer sees no forms."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from test_areas_pages import login
from test_testing_pages import chinese_left, english_left

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.resources.models import SupplyKind
from fangkong.resources.service import deployments, roster, supplies, teams
from resources_support import acting, add_certified

PAGES = ("/resources/staff", "/resources/teams", "/resources/deployments", "/resources/supplies")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _seed(app) -> int:  # type: ignore[no-untyped-def]
    """A certified team of 西湖区 with one expiring certificate, support from 海曙区 checked in, and tubes
    used today by a consumption so that the store shows days left and an alert."""
    db = app.state.db
    with acting(db, "away_administrator") as (session, me):
        team = teams.create_team(
            session, me, jurisdiction_code=FOREIGN_COUNTY, kind="sampling", name="海曙采样队"
        )
        teams.add_member(
            session, me, team.id, add_certified(session, me, "支援甲", "sampling", code=FOREIGN_COUNTY)
        )
        sent = deployments.send(
            session,
            me,
            team.id,
            to_jurisdiction_code=HOME_COUNTY,
            outbreak="西湖区疫情",
            commander="西湖区指挥部",
        )
    with acting(db, "home_administrator") as (session, me):
        home = teams.create_team(
            session, me, jurisdiction_code=HOME_COUNTY, kind="investigation", name="西湖流调一队"
        )
        first = add_certified(
            session, me, "王流调", "field_investigation", passed_on=clock.today() - dt.timedelta(days=350)
        )
        teams.add_member(session, me, home.id, first, leader=True)
        # 王流调 is on duty today by the roster (the dashboard's staff on duty reads the roster).
        roster.set_shift(session, me, first, clock.today(), "on_duty")
        deployments.check_in(session, me, sent.id)
        store = supplies.receive(session, me, jurisdiction_code=HOME_COUNTY, kind="tube", quantity=40)
        supplies.consume(session, me.jpath, {SupplyKind.tube: 20}, "round:1", clock.today())
        return int(store.id)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_resources_page_in_its_language(client, app, world: World, lang: str) -> None:  # type: ignore[no-untyped-def]
    _seed(app)
    login(client, "home_administrator")
    client.cookies.set("fk_lang", lang)
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        left = english_left(page.text) if lang == "zh" else chinese_left(page.text)
        assert left == [], (path, left)
    staff_page = client.get("/resources/staff").text
    assert "王流调" in staff_page and 'data-testid="renewal"' in staff_page
    teams_page = client.get("/resources/teams").text
    assert "西湖流调一队" in teams_page and ("未就绪" if lang == "zh" else "Not ready") in teams_page
    deployed = client.get("/resources/deployments").text
    assert "海曙采样队" in deployed and 'data-testid="checked-in">1<' in deployed
    stock = client.get("/resources/supplies").text
    # 20 tubes left at 20 a day: one day, under the 7-day threshold.
    assert 'data-testid="alert"' in stock and 'data-testid="days-left">1.0<' in stock
    assert 'data-testid="days-chart"' in stock


def test_forms_refuse_bad_values_and_take_good_ones(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    store = _seed(app)
    login(client, "home_administrator")
    csrf = _csrf(client.get("/resources/staff").text)
    bad = client.post(
        "/resources/staff",
        data={"csrf_token": csrf, "name": " ", "unit": "疾控", "jurisdiction_code": FOREIGN_COUNTY},
        headers={"HX-Request": "true"},
    )
    assert (
        bad.status_code == 422
        and 'data-field="name"' in bad.text
        and 'data-field="jurisdiction_code"' in bad.text
    )
    good = client.post(
        "/resources/staff",
        data={"csrf_token": csrf, "name": "新采样员", "unit": "社区卫生服务中心",
              "jurisdiction_code": HOME_COUNTY, "skills": ["sampling", "data_entry"]},
        follow_redirects=False,
    )  # fmt: skip
    assert good.status_code == 303
    assert "新采样员" in client.get("/resources/staff").text
    short = client.post(
        "/resources/supplies/transfers",
        data={
            "csrf_token": csrf,
            "stock_id": str(store),
            "to_jurisdiction_code": FOREIGN_COUNTY,
            "quantity": "999",
        },
        headers={"HX-Request": "true"},
    )
    assert short.status_code == 422 and 'data-field="quantity"' in short.text
    receipt = client.post(
        "/resources/supplies/receipts",
        data={"csrf_token": csrf, "jurisdiction_code": HOME_COUNTY, "kind": "tube", "quantity": "500"},
        follow_redirects=False,
    )
    assert receipt.status_code == 303
    assert 'data-testid="no-alerts"' in client.get("/resources/supplies").text


def test_a_viewer_reads_the_pages_without_forms(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed(app)
    login(client, "home_viewer")
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200 and '<form method="post"' not in page.text, path


def test_the_command_dashboard_shows_teams_deployed_staff_on_duty_and_gaps(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed(app)
    login(client, "home_command_centre")
    page = client.get("/dashboard")
    assert page.status_code == 200
    figures = page.text.split('data-testid="resource-figures"', 1)[1].split("</table>", 1)[0]
    # 西湖区: its own investigator on duty and the one sampler from 海曙区 checked in; no team is out;
    # its one team lacks two of its three; the tube store will not last.
    assert 'data-testid="staff-on-duty">2<' in figures
    assert 'data-testid="teams-deployed">0<' in figures
    assert 'data-testid="reorder-alerts">1<' in figures
    assert english_left(page.text) == []
