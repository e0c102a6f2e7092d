"""The quarantine pages in a real Chromium: the quarantine manager of 西湖区 reads the reserve list against
its standard, opens a site's room board, places everyone waiting in one action and sees them on the board,
and sees the census chart drawn; then the same pages in English, with no Chinese left in the platform's
own words (names of people and places are data), and in Chinese with no English (the journeys' checker)."""

from __future__ import annotations

import re

import pytest
from test_journeys_browser import Checker, login
from test_quarantine_pages import seed

from conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

HAN = re.compile(r"[\u4e00-\u9fff]")
# The platform's own words in the page's main part: text outside data (the journeys' convention: mono,
# data-user, cite, code, another language declared), and placeholders and labels.
MAIN_WORDS_JS = """() => {
  const DATA = ".mono, code, pre, kbd, samp, cite, [data-user]";
  const page = document.documentElement.lang;
  const data = (el) => el.closest(DATA) !== null || (el.closest("[lang]") || {}).lang !== page;
  const words = [];
  const main = document.querySelector("main");
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.replace(/\\s+/g, " ").trim();
    if (text && el && !data(el) && !el.closest("script, style")) words.push(text);
  }
  for (const el of main.querySelectorAll("[placeholder], [aria-label]")) {
    if (!data(el)) words.push((el.getAttribute("placeholder") || "") + (el.getAttribute("aria-label") || ""));
  }
  return words;
}"""


def _pages(site: int) -> list[str]:
    return [
        "/quarantine",
        f"/quarantine/sites/{site}",
        f"/quarantine/sites/{site}/import",
        "/quarantine/to-place",
        "/quarantine/transfers",
        "/quarantine/census",
        "/quarantine/history",
    ]


def test_the_quarantine_manager_places_everyone_and_reads_the_census(  # type: ignore[no-untyped-def]
    live_server: str, browser, client, app, world: World
) -> None:
    from fangkong.core.models import User

    ids = seed(client, app, world)
    # People of a Chinese county have Chinese names: a Latin word on a Chinese page is the platform's own.
    with app.state.db.unit_of_work() as session:
        for user in session.query(User):
            user.display_name = "隔离点 值班员"
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    checker = Checker(page)
    try:
        login(page, live_server, "home_quarantine_manager")
        # The top bar's measures group leads to the reserve list, its second row to the other pages (and to
        # the testing pages the manager may read).
        page.click("header.top nav a:has-text('管控措施')")
        page.wait_for_url(f"{live_server}/quarantine")
        assert page.locator("nav.subnav a").all_inner_texts()[:3] == ["隔离点", "待安置", "入住统计"]
        standard = page.locator("[data-testid=reserve-standard]")
        assert "每万人口房间数" in standard.inner_text() and "西湖区" in standard.inner_text()
        assert page.locator("[data-testid=sites-table] tbody tr").count() == 2
        checker.check("/quarantine")

        page.click("text=西湖隔离酒店")
        page.wait_for_selector("[data-testid=room-board]")
        assert page.locator("[data-testid=room]").count() == 5
        assert page.locator("[data-testid=floor]").count() == 2
        assert page.locator("[data-testid=occupant]").count() == 0
        checker.check("room board")

        page.click("nav.subnav a:has-text('待安置')")
        page.wait_for_selector("[data-testid=to-place-table]")
        assert page.locator("[data-testid=to-place-row]").count() == 2
        page.click("[data-testid=place-all]")
        page.wait_for_selector("[data-testid=place-report]")
        assert page.locator("[data-testid=placed-count]").inner_text() == "2"
        page.wait_for_selector("[data-testid=nobody-to-place]")
        checker.check("place all")

        page.goto(f"{live_server}/quarantine/sites/{ids.open_site}")
        occupants = page.locator("[data-testid=occupant]")
        assert occupants.count() == 2
        assert "至" in occupants.first.inner_text()

        page.click("nav.subnav a:has-text('入住统计')")
        page.wait_for_selector("[data-testid=census-chart][data-ready='1']")
        assert page.locator("[data-testid=census-chart] canvas").count() >= 1
        checker.check("census")

        for path in _pages(ids.open_site):
            page.goto(f"{live_server}{path}")
            checker.check(path)

        page.goto(f"{live_server}/lang/en?next=/quarantine")
        page.wait_for_url(f"{live_server}/quarantine")
        checker.language = "en"
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("header.top nav a.active").inner_text() == "Measures"
        for path in _pages(ids.open_site):
            page.goto(f"{live_server}{path}")
            if path == "/quarantine/census":
                page.wait_for_selector("[data-testid=census-chart][data-ready='1']")
            checker.check(path)
            for text in page.evaluate(MAIN_WORDS_JS):
                if HAN.search(text):
                    checker.fail(path, f"Chinese “{text[:80]}” on an English page")
    finally:
        context.close()
    assert not checker.problems, f"{len(checker.problems)} problems:\n" + "\n".join(checker.problems)
