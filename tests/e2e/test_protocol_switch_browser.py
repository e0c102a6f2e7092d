"""The protocol switch in a real headless Chromium (issue 11, item 4): the choice starts at the protocol
in force, a preview shows what would change before anything does, the confirmed switch counts the people
it re-planned (a contact outside the registry included), and the changes read in Chinese and English."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD, World
from protocol_switch_support import seed_contacts

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

ENGLISH_WORDS = re.compile(r"\b(stage|tests?|management|days?|removed|added|earlier|later|close contact)\b")


def test_the_switch_is_previewed_confirmed_and_counted(
    live_server: str, app, page, world: World, settings
) -> None:  # type: ignore[no-untyped-def]
    seed_contacts(app, world, settings)
    page.goto(f"{live_server}/login?next=/protocols")
    page.fill("input[name=username]", "home_administrator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/protocols")
    assert page.inner_text("[data-testid=in-force]") == "cn-9"
    # The choice starts at the protocol in force, not at the one it replaced (cn-8).
    assert page.input_value("[data-testid=switch-to]") == "cn-9"

    page.select_option("[data-testid=switch-to]", "cn-9-20")
    page.click("[data-testid=switch]")
    preview = page.locator("[data-testid=switch-preview]")
    preview.wait_for()
    assert page.inner_text("[data-testid=preview-replanned]") == "2"
    assert page.inner_text("[data-testid=preview-changed]") == "2"
    text = preview.inner_text()
    assert "管控结束时间提前 2 天" in text and "密接的密接" in text and "不再判定此类人员" in text
    assert not ENGLISH_WORDS.search(text), ENGLISH_WORDS.search(text)
    # Nothing has changed yet.
    assert page.inner_text("[data-testid=in-force]") == "cn-9"
    page.click("[data-testid=cancel-switch]")
    page.wait_for_selector("[data-testid=switch-preview]", state="detached")
    assert page.inner_text("[data-testid=in-force]") == "cn-9"

    page.select_option("[data-testid=switch-to]", "cn-9-20")
    page.click("[data-testid=switch]")
    page.click("[data-testid=confirm-switch]")
    report = page.locator("[data-testid=switch-report]")
    report.wait_for()
    assert page.inner_text("[data-testid=replanned]") == "2"
    assert page.inner_text("[data-testid=changed]") == "2"
    assert "密切接触者" in report.inner_text()
    assert not ENGLISH_WORDS.search(report.inner_text())
    assert page.inner_text("[data-testid=in-force]") == "cn-9-20"
    assert page.input_value("[data-testid=switch-to]") == "cn-9-20"

    # In English the same changes read in English.
    page.context.add_cookies([{"name": "fk_lang", "value": "en", "url": live_server}])
    page.goto(f"{live_server}/protocols")
    page.select_option("[data-testid=switch-to]", "cn-9")
    page.click("[data-testid=switch]")
    preview = page.locator("[data-testid=switch-preview]")
    preview.wait_for()
    row = preview.locator("tr[data-category=close_contact]").inner_text()
    assert "close contact" in row and "management ends 2 days later" in row
