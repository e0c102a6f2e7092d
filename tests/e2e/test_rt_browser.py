"""The Rt page in a real headless Chromium: where a place has too few cases, the page shows no number
(the prior's 5.00 used to appear in bold red) and says why, in Chinese and in English."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_a_place_without_cases_shows_no_rt_and_says_why(
    live_server: str, page, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    counts = tmp_path / "counts.csv"
    # 保俶社区 has 4 to 13 cases a day; 宝石社区 none after its first day.
    counts.write_text(
        "date,jurisdiction,local\n"
        + "".join(f"2024-03-{d:02d},330106001001,{4 + d // 3}\n" for d in range(1, 31))
        + "2024-03-01,330106001002,1\n",
        encoding="utf-8",
    )
    page.goto(f"{live_server}/login?next=/modeling/rt")
    page.fill("#username", "home_command_centre")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/modeling/rt")
    page.set_input_files("[data-testid=rt-upload] input[type=file]", str(counts))
    page.click("[data-testid=rt-upload] button[type=submit]")
    page.wait_for_selector("[data-testid=rt-table]")
    township = world.jurisdictions["330106001"]
    page.goto(f"{live_server}/modeling/rt?jurisdiction_id={township}")
    page.wait_for_selector("#rt-charts .card")
    quiet = page.locator("[data-testid=rt-table] tr[data-code='330106001002']")
    assert quiet.locator("[data-testid=rt-latest]").inner_text() == "—"
    assert quiet.locator("[data-testid=rt-reason]").inner_text() == "数据不足，无法估计"
    assert "5.00" not in quiet.inner_text()
    busy = page.locator("[data-testid=rt-table] tr[data-code='330106001001']")
    assert float(busy.locator("[data-testid=rt-latest]").inner_text()) > 0
    assert busy.locator("[data-testid=rt-reason]").count() == 0
    assert "少于 11 例" in page.inner_text("[data-testid=rt-criterion]")
    # The quiet community's chart card says so instead of drawing the prior.
    assert page.locator("#rt-charts [data-testid=rt-no-estimate]").count() == 1
    assert page.locator("#rt-charts canvas").count() >= 2  # the township and 保俶社区

    page.context.add_cookies([{"name": "fk_lang", "value": "en", "url": live_server}])
    page.reload()
    quiet = page.locator("[data-testid=rt-table] tr[data-code='330106001002']")
    assert quiet.locator("[data-testid=rt-reason]").inner_text() == "Too few cases to estimate"
    assert "fewer than 11 locally acquired cases" in page.inner_text("[data-testid=rt-criterion]")
