"""The audit log page in a real headless Chromium: entries in words, filters by user, action, object and
local days, and paging that keeps the filters, in Chinese and in English."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import HOME_COUNTY, PASSWORD, World, token_for, valid_id
from fangkong.core import clock

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

REVEALS_TODAY = 52


def _reveal(client, headers, person_id: int) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"/api/people/{person_id}/reveal", headers=headers)
    assert response.status_code == 200, response.text


def _login(page, live_server: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?next={target}")
    page.fill("input[name=username]", "home_administrator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}{target}")


def _apply(page) -> None:  # type: ignore[no-untyped-def]
    """Submit the filter form and wait for the answer (the old page has a table too)."""
    with page.expect_navigation():
        page.click("[data-testid=filter-apply]")


def _column(page, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        t.strip() for t in page.locator(f"[data-testid=audit-table] td[data-col={name}]").all_inner_texts()
    ]


def test_the_audit_log_in_words_with_filters_and_pages(
    live_server: str, client, page, world: World, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    investigator = token_for(client, "home_investigator")
    first, second = world.people[HOME_COUNTY][:2]
    today = clock.today()
    two_days_ago = today - dt.timedelta(days=2)
    # 07:30 in Beijing two days ago is still the day before in UTC: the filter must count local days.
    now = frozen_clock.at
    frozen_clock.set(clock.from_local(dt.datetime.combine(two_days_ago, dt.time(7, 30))))
    _reveal(client, investigator, first)
    frozen_clock.set(now)
    for _ in range(REVEALS_TODAY):
        _reveal(client, investigator, second)
    worker = token_for(client, "home_community_worker")
    registered = client.post(
        "/api/people",
        json={
            "id_number": valid_id(HOME_COUNTY, "19900101", 555),
            "name": "孙八",
            "community_code": "330106001001",
            "address": "保俶路1号",
        },
        headers=worker,
    )
    assert registered.status_code == 201, registered.text

    _login(page, live_server, "/audit")
    table = page.inner_text("[data-testid=audit-table]")
    # Words, not stored keys: the action, the kind of object and the user's name.
    assert "登记居民" in table and "查看居民完整个人信息" in table
    assert "home community_worker" in _column(page, "who")
    for raw in ("people.reveal", "people.register", "home_investigator", "person "):
        assert raw not in table, raw
    assert _column(page, "object")[0] == f"居民 {registered.json()['id']}"

    # One user's entries.
    page.select_option("[data-testid=filter-user]", label="home community_worker (home_community_worker)")
    _apply(page)
    assert set(_column(page, "who")) == {"home community_worker"}
    assert set(_column(page, "action")) == {"登记居民"}

    # One action on one object, on a local day two days ago.
    page.goto(f"{live_server}/audit")
    page.select_option("[data-testid=filter-action]", "people.reveal")
    page.select_option("[data-testid=filter-object-type]", "person")
    page.fill("[data-testid=filter-start]", two_days_ago.isoformat())
    page.fill("[data-testid=filter-end]", two_days_ago.isoformat())
    _apply(page)
    assert _column(page, "object") == [f"居民 {first}"]
    assert _column(page, "who") == ["home investigator"]
    # The same filter on today finds the other reveals, fifty to a page, and the next page keeps it.
    page.fill("[data-testid=filter-start]", today.isoformat())
    page.fill("[data-testid=filter-end]", today.isoformat())
    _apply(page)
    assert page.inner_text("[data-testid=audit-total]") == f"共 {REVEALS_TODAY} 条"
    assert len(_column(page, "object")) == 50
    with page.expect_navigation():
        page.click("[data-testid=audit-next]")
    assert page.url.endswith("page=2")
    assert _column(page, "object") == [f"居民 {second}"] * (REVEALS_TODAY - 50)
    assert page.input_value("[data-testid=filter-action]") == "people.reveal"
    # An object number nobody touched: the page says so.
    page.fill("[data-testid=filter-object-id]", "999999")
    _apply(page)
    page.wait_for_selector("[data-testid=audit-none]")
    # A day range backwards is named beside the form, and what was typed stays.
    page.goto(f"{live_server}/audit?start={today.isoformat()}&end={two_days_ago.isoformat()}")
    assert page.locator("[data-testid=audit-errors] [data-field=start]").count() == 1
    assert page.input_value("[data-testid=filter-start]") == today.isoformat()

    page.context.add_cookies([{"name": "fk_lang", "value": "en", "url": live_server}])
    page.goto(f"{live_server}/audit?action=people.register")
    assert set(_column(page, "action")) == {"Registered a resident"}
    assert "home community_worker" in _column(page, "who")
    assert _column(page, "object")[0].startswith("Resident ")
