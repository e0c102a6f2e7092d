"""The browser smoke test: log in, switch language, search a person, see the masked ID, log out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import HOME_COUNTY, PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_login_language_search_masked_logout(live_server: str, page, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/people")
    assert "/login" in page.url  # pages need a login
    assert page.locator("h1").inner_text() == "登录"  # Chinese by default
    page.fill("#username", "home_testing_coordinator")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/people")
    assert page.locator("h1").inner_text() == "人员"

    page.click("[data-testid=lang-en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "People"

    person_id = world.people[HOME_COUNTY][0]
    full_id = world.id_numbers[person_id]
    page.fill("[data-testid=search]", full_id)
    page.keyboard.press("Enter")
    rows = page.locator("[data-testid=people-table] tbody tr")
    # htmx swaps the table in place: wait for the search result, not for the table already shown.
    expect(rows).to_have_count(1)
    shown = rows.first.locator("td").nth(1).inner_text()
    assert shown == full_id[:3] + "*" * 11 + full_id[-4:]
    assert full_id not in page.content()
    page.screenshot(path=str(tmp_path / "people.png"))

    rows.first.locator("a").click()
    page.wait_for_selector("[data-testid=person-id-number]")
    assert "*" in page.locator("[data-testid=person-id-number]").inner_text()
    assert page.locator("[data-testid=reveal]").count() == 0  # this role may not reveal

    page.click("[data-testid=logout]")
    page.wait_for_url(f"{live_server}/login")
    page.goto(f"{live_server}/people")
    assert "/login" in page.url  # the old session is void


def test_investigator_reveals_and_it_is_audited(live_server: str, page, world: World) -> None:  # type: ignore[no-untyped-def]
    person_id = world.people[HOME_COUNTY][1]
    page.goto(f"{live_server}/login?next=/people/{person_id}")
    page.fill("#username", "home_investigator")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/people/{person_id}")
    page.click("[data-testid=reveal]")
    page.wait_for_selector(f"text={world.id_numbers[person_id]}")
    assert page.locator("[data-testid=person-id-number]").inner_text() == world.id_numbers[person_id]
