"""The modelling pages in a real headless Chromium: a comparison from the scenario editor to its account and
chart, Rt charts after an upload, and a drill from its start to its score."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _login(page, live_server: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?next={target}")
    page.fill("#username", "home_command_centre")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}{target}")


def test_a_comparison_from_the_editor_to_the_account_and_its_frontier_chart(
    live_server: str, page, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _login(page, live_server, "/modeling/scenarios")
    for arm in ("cn-9-20", "cn-10"):
        page.uncheck(f"input[name=arms][value={arm}]")
    page.fill("input[name=size]", "3000")
    page.fill("input[name=days]", "40")
    page.fill("input[name=seeds]", "1, 2")
    page.click("[data-testid=run-scenario]")
    page.wait_for_url(f"{live_server}/modeling/jobs/*")
    # The progress fragment polls until the job ends, then the page reloads with the account.
    page.wait_for_selector("[data-testid=account-table]", timeout=120_000)
    rows = page.locator("[data-testid=account-table] tbody tr")
    assert rows.count() == 3
    page.wait_for_selector("#scatter canvas")
    assert page.locator("[data-testid=status-none]").count() == 1
    page.screenshot(path=str(tmp_path / "account.png"), full_page=True)


def test_rt_charts_appear_after_an_upload(live_server: str, page, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counts = tmp_path / "counts.csv"
    counts.write_text(
        "date,jurisdiction,local\n"
        + "".join(f"2024-03-{d:02d},330106001002,{d // 3 + 1}\n" for d in range(1, 31)),
        encoding="utf-8",
    )
    _login(page, live_server, "/modeling/rt")
    page.set_input_files("[data-testid=rt-upload] input[type=file]", str(counts))
    page.click("[data-testid=rt-upload] button[type=submit]")
    page.wait_for_selector("[data-testid=rt-table]")
    page.wait_for_selector("#rt-charts canvas")
    assert page.locator("#rt-charts .card").count() == 2  # the county and its township


def test_a_drill_from_its_start_to_its_score(live_server: str, page, world: World) -> None:  # type: ignore[no-untyped-def]
    _login(page, live_server, "/modeling/drills")
    page.fill("[data-testid=drill-form] input[name=people]", "1500")
    page.fill("[data-testid=drill-form] input[name=days]", "20")
    page.check("[data-testid=drill-form] input[name=autopilot]")
    page.click("[data-testid=start-drill]")
    page.wait_for_url(f"{live_server}/modeling/drills/*")
    assert "【演练】" in page.locator("h1").inner_text()
    # The form is answered once the twenty drill days have run (with their response tasks, some 15 s
    # on a busy two-core machine), then the drill's page loads again.
    with page.expect_navigation(timeout=120_000):
        page.click("[data-testid=advance-end]")
    page.wait_for_selector("[data-measure=investigation]")
    assert page.locator("[data-testid=drill-score]").inner_text().strip() not in ("", "—")
    assert page.locator("[data-testid=advance-end]").count() == 0  # finished: no more controls
