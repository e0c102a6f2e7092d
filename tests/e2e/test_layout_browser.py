"""Page layout in a real Chromium (issue 11 item 14): the top bar is one line at 1366 px for every role in
both languages, every field of the user form has a label, and the series page names each place by its
line of descent so that communities of the same name can be told apart."""

from __future__ import annotations

import re

import pytest

from conftest import HOME_COUNTY, PASSWORD, World
from fangkong.core.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# A common laptop screen: the top bar of the widest role must fit it.
WIDE = {"width": 1366, "height": 768}

# Where each item of the top bar sits: on one row means every item's box overlaps the first one's
# vertical band, and nothing lies past the right edge of the window.
HEADER_GEOMETRY = """() => {
  const header = document.querySelector("header.top");
  const items = [...header.querySelectorAll(".brand, nav a, .right > *")]
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0);
  return {
    height: header.getBoundingClientRect().height,
    tallest: Math.max(...items.map(r => r.height)),
    lowestTop: Math.max(...items.map(r => r.top)),
    highestBottom: Math.min(...items.map(r => r.bottom)),
    right: Math.max(...items.map(r => r.right)),
    items: items.length,
  };
}"""


def _landing(live_server: str, target: str) -> str | re.Pattern[str]:
    """Where ``target`` lands: "/" leads those who read the command dashboard on to it (issue 15)."""
    return (
        re.compile("^" + re.escape(live_server) + r"/(dashboard)?$")
        if target == "/"
        else f"{live_server}{target}"
    )


def _login(page, live_server: str, username: str, target: str = "/") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(_landing(live_server, target))


def _city_commander(app) -> str:  # type: ignore[no-untyped-def]
    """The command centre of a city (杭州市): a wider focus picker and more pages than a county's."""
    from fangkong.core import audit, users

    with app.state.db.unit_of_work() as session:
        users.create_user(
            session,
            audit.SYSTEM,
            "/",
            username="city_command",
            display_name="杭州市指挥部 值班长",
            role="command_centre",
            jurisdiction_code="330100",
            password=PASSWORD,
        )
    return "city_command"


def test_the_top_bar_is_one_line_at_1366_px_for_every_role_in_both_languages(  # type: ignore[no-untyped-def]
    live_server: str, browser, app, world: World
) -> None:
    usernames = ["province_admin", _city_commander(app), *(f"home_{role.value}" for role in Role)]
    wrapped = []
    for username in usernames:
        context = browser.new_context(locale="zh-CN", viewport=WIDE)
        page = context.new_page()
        page.set_default_timeout(15_000)
        _login(page, live_server, username)
        for language in ("zh", "en"):
            if language == "en":
                page.goto(f"{live_server}/lang/en?next=/")
                page.wait_for_url(_landing(live_server, "/"))
            box = page.evaluate(HEADER_GEOMETRY)
            assert box["items"] >= 4, box
            one_row = box["lowestTop"] < box["highestBottom"] and box["height"] < 2 * box["tallest"]
            if not one_row or box["right"] > WIDE["width"]:
                wrapped.append((username, language, box))
        context.close()
    assert not wrapped, f"the top bar does not fit one line: {wrapped}"


def test_pages_of_a_group_stay_reachable_from_its_second_row(live_server: str, page, world: World) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(WIDE)
    _login(page, live_server, "province_admin", "/users")
    top = page.locator("header.top nav a.active")
    assert top.inner_text() == "系统管理"
    second = page.locator("nav.subnav a")
    assert second.all_inner_texts() == ["用户", "审计日志"]
    second.nth(1).click()
    page.wait_for_url(f"{live_server}/audit")
    assert page.locator("header.top nav a.active").inner_text() == "系统管理"


def test_every_field_of_the_user_form_has_a_label(live_server: str, page, world: World) -> None:  # type: ignore[no-untyped-def]
    _login(page, live_server, "province_admin", "/users")
    form = page.locator("form[action='/users']")
    fields = form.locator("input:not([type=hidden]), select, textarea")
    assert fields.count() >= 5
    unlabelled = [
        fields.nth(i).get_attribute("name")
        for i in range(fields.count())
        if not fields.nth(i).evaluate("e => [...(e.labels || [])].some(l => l.innerText.trim() !== '')")
    ]
    assert not unlabelled, f"fields without a label: {unlabelled}"
    # The labels are the way to the fields, as a screen reader (or a person clicking them) would use them.
    form.get_by_label("用户名", exact=True).fill("new_analyst")
    form.get_by_label("姓名", exact=True).fill("新分析员")
    form.get_by_label("角色", exact=True).select_option("surveillance_analyst")
    form.get_by_label("辖区", exact=True).select_option(HOME_COUNTY)
    form.get_by_label("密码（至少10位）").fill("a-long-password-42")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("td:has-text('new_analyst')")
    row = page.locator("tr", has_text="new_analyst")
    assert "西湖区" in row.inner_text() and "新分析员" in row.inner_text()


def test_the_series_place_list_tells_communities_of_the_same_name_apart(  # type: ignore[no-untyped-def]
    live_server: str, page, app, world: World
) -> None:
    from fangkong.core import audit, jurisdictions
    from fangkong.core.jurisdictions import JurisdictionRow

    with app.state.db.unit_of_work() as session:
        jurisdictions.import_tree(
            session,
            audit.SYSTEM,
            [
                JurisdictionRow("330106002", "西溪街道", "township", HOME_COUNTY),
                JurisdictionRow("330106001003", "幸福社区", "community", "330106001"),
                JurisdictionRow("330106002001", "幸福社区", "community", "330106002"),
            ],
        )
    _login(page, live_server, "home_surveillance_analyst", "/surveillance/series")
    options = page.locator("[data-testid=place] option").all_inner_texts()
    assert len(options) == len(set(options)), f"places that read the same: {options}"
    happy = [o for o in options if "幸福社区" in o]
    assert len(happy) == 2
    assert any("北山街道" in o for o in happy) and any("西溪街道" in o for o in happy)
    # Children come after their parent: the list reads as the tree it is.
    assert options.index(next(o for o in options if o.startswith("北山街道 ("))) < options.index(
        next(o for o in happy if "北山街道" in o)
    )
