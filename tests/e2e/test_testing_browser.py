"""The testing pages in a real Chromium: the testing coordinator of 西湖区 (in Chinese) opens a campaign's
round dashboard from the navigation, sees the progress chart drawn and the counts per community refresh
themselves; the laboratory uploads a results file and reads the report with its unknown barcode; then the
pages in English, with no Chinese left in the platform's own words (names of people and places are data),
and in Chinese with no English (the journeys' checker)."""

from __future__ import annotations

import re

import pytest
from test_journeys_browser import Checker, login
from test_testing_pages import result_time, results_csv, seed

from conftest import World
from fangkong.core.config import Settings

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


def _coordinator_pages(campaign: int, round_id: int, site: int, person: int) -> list[str]:
    return [
        "/testing",
        f"/testing/campaigns/{campaign}",
        f"/testing/rounds/{round_id}",
        f"/testing/rounds/{round_id}/coverage",
        f"/testing/sites/{site}",
        "/testing/worklist",
        f"/testing/people/{person}",
        "/testing/recalls",
        "/testing/planner?prevalence=1",
    ]


def _in_english(checker: Checker, page, live_server: str, paths: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/lang/en?next={paths[0]}")
    page.wait_for_url(f"{live_server}{paths[0]}")
    checker.language = "en"
    assert page.locator("html").get_attribute("lang") == "en"
    for path in paths:
        page.goto(f"{live_server}{path}")
        if "/rounds/" in path and not path.endswith("coverage"):
            page.wait_for_selector("[data-testid=progress-chart][data-ready='1']")
        checker.check(path)
        for text in page.evaluate(MAIN_WORDS_JS):
            if HAN.search(text):
                checker.fail(path, f"Chinese “{text[:80]}” on an English page")


def test_the_coordinator_watches_a_round_and_the_lab_loads_its_results(  # type: ignore[no-untyped-def]
    live_server: str, browser, client, app, world: World, settings: Settings, tmp_path
) -> None:
    from fangkong.core.models import User

    ids = seed(app, world, settings)
    # People of a Chinese county have Chinese names: a Latin word on a Chinese page is the platform's own.
    with app.state.db.unit_of_work() as session:
        for user in session.query(User):
            user.display_name = "检测组 值班员"
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    checker = Checker(page)
    try:
        login(page, live_server, "home_testing_coordinator")
        # The top bar's measures group leads to the campaigns, its second row to the worklists.
        page.click("header.top nav a:has-text('管控措施')")
        page.wait_for_url(f"{live_server}/testing")
        assert page.locator("nav.subnav a").all_inner_texts() == ["区域检测", "采样清单"]
        assert page.locator("[data-testid=campaign-row]").count() == 1
        checker.check("/testing")

        page.click("[data-testid=campaign-row] a:has-text('西湖区全员核酸')")
        page.wait_for_selector("[data-testid=advice]")
        assert "继续每日检测" in page.locator("[data-testid=stop-advice]").inner_text()
        assert page.locator("[data-testid=plan-sites]").all_inner_texts() == ["1", "1"]
        checker.check("campaign")

        page.click("[data-testid=round-row] a:has-text('第 1 轮')")
        page.wait_for_url(f"{live_server}/testing/rounds/{ids.round}")
        page.wait_for_selector("[data-testid=progress-chart][data-ready='1']")
        assert page.locator("[data-testid=progress-chart] canvas").count() >= 1
        assert page.locator("[data-testid=sampled]").inner_text() == "3"
        rows = page.locator("[data-testid=community-row]")
        assert rows.count() == 2
        assert page.locator("[data-testid=coverage-share]").all_inner_texts() == ["67%", "33%"]
        # The counts refresh themselves: the fragment is fetched again within a few seconds.
        with page.expect_response(
            lambda r: r.url.endswith(f"/testing/rounds/{ids.round}/live"), timeout=12_000
        ):
            pass
        page.wait_for_selector("[data-testid=round-live] [data-testid=community-row]")
        assert page.locator("[data-testid=progress-chart] canvas").count() >= 1
        checker.check("round dashboard")

        page.click("[data-testid=link-coverage]")
        page.wait_for_selector("[data-testid=coverage-table]")
        assert page.locator("[data-testid=row-not-sampled]").all_inner_texts() == ["1", "2"]
        checker.check("coverage")
        for path in _coordinator_pages(ids.campaign, ids.round, ids.site, ids.people[0]):
            page.goto(f"{live_server}{path}")
            checker.check(path)
        _in_english(
            checker, page, live_server, _coordinator_pages(ids.campaign, ids.round, ids.site, ids.people[0])
        )
    finally:
        context.close()
    problems = list(checker.problems)

    results = tmp_path / "结果.csv"
    results.write_bytes(
        results_csv(
            [
                ("P-0001", "阳性", "28.1", "27.5", result_time()),
                ("P-0002", "阴性", "", "", result_time()),
                ("NO-SUCH-TUBE", "阴性", "", "", result_time()),
            ]
        )
    )
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    checker = Checker(page)
    try:
        login(page, live_server, "home_laboratory")
        page.goto(f"{live_server}/testing/lab")
        checker.check("/testing/lab")
        page.set_input_files("[data-testid=results-file]", str(results))
        page.select_option("select[name=laboratory_id]", str(ids.lab))
        page.click("[data-testid=upload]")
        page.wait_for_selector("[data-testid=upload-report]")
        assert page.locator("[data-testid=report-loaded]").inner_text() == "2"
        assert page.locator("[data-testid=report-recalled]").inner_text() == "2"
        assert page.locator("[data-testid=unknown-barcode]").all_inner_texts() == ["NO-SUCH-TUBE"]
        checker.check("lab report", typed="NO-SUCH-TUBE")
        # A bad file: every bad row listed after the form, naming row and column.
        bad = tmp_path / "坏结果.csv"
        bad.write_bytes(results_csv([("P-0002", "大概", "", "", result_time())]))
        page.set_input_files("[data-testid=results-file]", str(bad))
        with checker.refusal():
            page.click("[data-testid=upload]")
            page.wait_for_selector("[data-testid=upload-form] [data-form-errors]")
            checker.check("lab refusal", typed="大概")
        said = page.locator("[data-testid=upload-form] [data-form-errors]").inner_text()
        assert "第 2 行" in said and "结果" in said, said
        _in_english(checker, page, live_server, ["/testing/lab", "/testing", f"/testing/rounds/{ids.round}"])
    finally:
        context.close()
    problems += checker.problems
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
