"""The coverage page over HTTP and in Chromium: it says when nothing is counted yet; an administrator
counts from it; the table by band shows numerators and denominators; the trend chart and the tiles draw
(ECharts, no script error), and a tile or a ranked area drills down; Chinese with no English left and
English with no Chinese; a jurisdiction outside the user's scope is not found."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from test_areas_pages import login
from test_testing_pages import chinese_left, english_left

from conftest import World
from fangkong.core import clock
from fangkong.core.models import Person
from fangkong.vaccination.models import Dose, DoseKind, Platform
from fangkong.vaccination.service import coverage, status

# Names of the seeded world's places, shown as written.
DATA = ("西湖", "杭州", "保俶", "北山", "宝石", "浙江")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _seed(app, world: World) -> None:  # type: ignore[no-untyped-def]
    """Two inactivated doses for 保俶社区's 66-year-old, then a count."""
    today = clock.today()
    pid = world.people["330106"][0]
    with app.state.db.unit_of_work() as session:
        person = session.get(Person, pid)
        for n in (1, 2):
            session.add(
                Dose(
                    person_id=pid, jpath=person.jpath, product="CoronaVac", platform=Platform.inactivated,
                    dose_number=n, kind=DoseKind.primary, given_on=today - dt.timedelta(days=60 - 21 * n),
                    site="站", lot="L", source="test",
                )
            )  # fmt: skip
        session.flush()
        status.evaluate(session)
        coverage.refresh(session)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_coverage_page_in_its_language(client, app, world: World, lang: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "home_viewer")
    client.cookies.set("fk_lang", lang)
    empty = client.get("/vaccination/coverage")
    assert empty.status_code == 200
    assert 'data-testid="not-counted"' in empty.text and 'data-testid="refresh"' not in empty.text
    _seed(app, world)
    urls = [
        "/vaccination/coverage",
        "/vaccination/coverage?jurisdiction=330106001&band=80%2B&measure=booster",
        "/vaccination/coverage?jurisdiction=330106001001&band=all",
        "/vaccination/coverage?band=bogus&measure=bogus",
    ]
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, (url, page.text[:400])
        left = english_left(page.text) if lang == "zh" else chinese_left(page.text)
        assert [w for w in left if not any(d in w for d in DATA)] == [], (url, left)
    html = client.get("/vaccination/coverage").text
    assert (
        'data-testid="coverage-table"' in html
        and 'data-testid="trend"' in html
        and 'data-testid="tiles"' in html
    )
    row = re.search(r'data-testid="band-60\+".*?</tr>', html, re.S)
    assert row is not None
    assert re.findall(r'data-testid="(denominator|primary_complete)">([\d,]+)<', row.group(0)) == [
        ("denominator", "2"),
        ("primary_complete", "1"),
    ]
    assert "50.0%" in row.group(0)
    # The one area under 西湖区, linked for the drill down.
    assert 'href="/vaccination/coverage?jurisdiction=330106001&amp;' in html or (
        'href="/vaccination/coverage?jurisdiction=330106001&' in html
    )
    leaf = client.get("/vaccination/coverage?jurisdiction=330106001001").text
    assert 'data-testid="no-children"' in leaf
    assert client.get("/vaccination/coverage?jurisdiction=330203").status_code == 404


def test_an_administrator_counts_from_the_page(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    login(client, "home_administrator")
    page = client.get("/vaccination/coverage")
    assert 'data-testid="not-counted"' in page.text and 'data-testid="refresh"' in page.text
    answer = client.post(
        "/vaccination/coverage/refresh",
        data={"csrf_token": _csrf(page.text), "jurisdiction": "330106001"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("jurisdiction=330106001")
    counted = client.get(answer.headers["location"]).text
    assert 'data-testid="coverage-table"' in counted and 'data-testid="not-counted"' not in counted
    login(client, "home_community_worker")
    refused = client.post("/vaccination/coverage/refresh", data={"csrf_token": _csrf(counted)})
    assert refused.status_code == 403


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_chart_and_tiles_draw_and_a_tile_drills_down(
    live_server: str, browser, app, world: World
) -> None:  # type: ignore[no-untyped-def]
    from test_journeys_browser import Checker
    from test_journeys_browser import login as browser_login

    _seed(app, world)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    checker = Checker(page)
    try:
        browser_login(page, live_server, "province_admin")
        page.goto(f"{live_server}/vaccination/coverage?jurisdiction=330100")
        page.wait_for_selector("#trend canvas")
        page.wait_for_selector("#tiles canvas")
        checker.check("coverage")
        page.locator("#tiles").scroll_into_view_if_needed()
        box = page.locator("#tiles").bounding_box()
        assert box is not None
        # Two tiles (上城区, 西湖区) in one row: click the right one, 西湖区.
        with page.expect_navigation():
            page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
        assert "jurisdiction=330106" in page.url
        page.wait_for_selector("[data-testid=coverage-table]")
        checker.check("drilled down")
        assert checker.problems == []
    finally:
        context.close()
