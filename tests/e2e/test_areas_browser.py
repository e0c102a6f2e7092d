"""The areas pages in a real Chromium: the command centre of 西湖区 (in Chinese) approves a proposal and
finds it on the area list and its tiles; the public page on a phone-sized screen, in Chinese and English,
shows the area and its measures, no staff navigation and no personal data, with no script or style
refused by the page's security policy; the top bar stays one line at 1366 px."""

from __future__ import annotations

import datetime as dt

import pytest
from test_journeys_browser import Checker, login

from areas_support import register_case
from conftest import World
from fangkong.areas import service
from fangkong.areas.service import public
from fangkong.core import clock
from fangkong.core.crypto import Vault
from fangkong.core.models import User
from fangkong.wiring import build_bus

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def fresh_public_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public, "CACHE", public.PublicCache())
    service.arrivals.PUBLIC_LIMITER.reset()


def test_the_command_centre_approves_and_the_public_sees_it_on_a_phone(  # type: ignore[no-untyped-def]
    live_server: str, browser, app, settings, world: World
) -> None:
    vault = Vault(settings.encryption_key, settings.hash_key)
    register_case(app.state.db, vault, build_bus(), world, 0, found_on=clock.today() - dt.timedelta(days=1))
    with app.state.db.unit_of_work() as session:
        for user in session.query(User):
            user.display_name = "指挥部 值班员"
    secrets = [world.id_numbers[pid] for pid in world.people["330106"]] + ["张伟", "王芳", "李娜", "13800"]

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    checker = Checker(page)
    try:
        login(page, live_server, "home_command_centre")
        # Risk areas sit in the top bar's measures group; its second row leads to each page.
        page.goto(f"{live_server}/areas")
        assert "风险区" in page.locator("nav.subnav").inner_text()
        assert page.locator("header.top nav a.active").count() == 1
        top = page.locator("header.top").bounding_box()
        assert top is not None and top["height"] < 80, top  # one line at 1366 px
        checker.check("/areas")
        page.click("[data-testid=tab-proposals]")
        page.wait_for_url(f"{live_server}/areas/proposals")
        page.click("[data-testid=run-proposals]")
        page.wait_for_selector("[data-testid=proposal]")
        checker.check("/areas/proposals")
        form = page.locator("[data-testid=approve-form]").first
        form.locator("input[name=name]").fill("保俶社区 幸福路1号楼")
        form.locator("[data-testid=approve]").click()
        page.wait_for_url(f"{live_server}/areas?state=in_force")
        assert "保俶社区 幸福路1号楼" in page.locator("[data-testid=area-list]").inner_text()
        assert page.locator("[data-testid=tile]").count() == 1
        assert "高风险区" in page.locator("[data-testid=tile]").inner_text()
        checker.check("/areas after approval")
        for path in ("/areas/calendar", "/areas/doorstep"):
            page.goto(f"{live_server}{path}")
            checker.check(path)
    finally:
        context.close()
    assert not checker.problems, "\n".join(checker.problems)

    public.snapshot(app.state.db)  # the approval invalidated it; build the new one before the visit
    for locale, lang, title in (("zh-CN", "zh", "中高风险区公示"), ("en-US", "en", "Public risk area list")):
        phone = browser.new_context(locale=locale, viewport=PHONE, is_mobile=True, has_touch=True)
        tab = phone.new_page()
        tab.set_default_timeout(15_000)
        errors: list[str] = []
        tab.on("console", lambda m, found=errors: found.append(m.text) if m.type == "error" else None)
        try:
            tab.goto(f"{live_server}/public/areas")  # the language from the browser's Accept-Language
            assert tab.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
            assert title in tab.locator("h1").inner_text()
            body = tab.locator("body").inner_text()
            assert "幸福路1号楼" in body
            assert (
                tab.locator("header.top nav").count() == 0
                and tab.locator("[data-testid=logout]").count() == 0
            )
            assert [s for s in secrets if s in tab.content()] == []
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], width  # readable without scrolling sideways
            other = "en" if lang == "zh" else "zh"
            tab.click(f"[data-testid=lang-{other}]")
            tab.wait_for_url(f"{live_server}/public/areas?lang={other}")
            assert tab.locator("html").get_attribute("lang") == ("zh-CN" if other == "zh" else "en")
            tab.goto(f"{live_server}/public/arrivals?lang={lang}")
            tab.wait_for_selector("[data-testid=arrival-form]")
            assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        finally:
            phone.close()
        assert errors == [], errors
