"""The daily closure pages over HTTP, in Chinese with no English left: the list of closed days with the
drill-down, a day by section with the onset curve marked provisional, a correction's diff highlighted,
the sign-off form and the activity log by role; the command centre's forms through a logged-in session."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from test_areas_pages import login
from test_testing_pages import english_left

from closure_support import build_day, register
from conftest import HOME_COUNTY, World, token_for
from fangkong.core import clock


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None, path
    return found.group(1)


def test_the_closure_pages_in_chinese_from_publication_to_sign_off(  # type: ignore[no-untyped-def]
    client, app: Any, world: World, frozen_clock: clock.FrozenClock
) -> None:
    day = clock.today()
    build_day(app.state.db, app.state.vault, world, day)
    frozen_clock.advance(days=1)
    login(client, "home_command_centre")
    home = client.get("/closure")
    assert home.status_code == 200
    assert "日清日结" in home.text and "尚无已日结的日期" in home.text and "立即对昨日日结" in home.text
    assert not english_left(home.text), english_left(home.text)

    published = client.post(
        f"/closure/{HOME_COUNTY}/{day}/publish",
        data={"csrf_token": _csrf(client, "/closure")},
        follow_redirects=False,
    )
    assert (
        published.status_code == 303 and published.headers["location"] == f"/closure/{HOME_COUNTY}/{day}/v1"
    )
    page = client.get(f"/closure/{HOME_COUNTY}/{day}/v1")
    assert page.status_code == 200
    for text in (
        "任务",
        "结转至次日",
        "密切接触者",
        "按发病日期病例数",
        "暂定",
        "下一工作周期目标",
        "按岗位的当日工作记录",
        "流调人员",
    ):
        assert text in page.text, text
    assert 'data-figure="tasks.late"' in page.text
    assert not english_left(page.text), english_left(page.text)

    register(app.state.db, app.state.vault, world, 2, reported=dt.datetime.combine(day, dt.time(22)))
    corrected = client.post(
        f"/closure/{HOME_COUNTY}/{day}/publish",
        data={"csrf_token": _csrf(client, "/closure"), "reason": "迟报病例补录"},
        follow_redirects=False,
    )
    assert corrected.headers["location"] == f"/closure/{HOME_COUNTY}/{day}/v2"
    second = client.get(f"/closure/{HOME_COUNTY}/{day}/v2")
    assert "相对 v1 的更正" in second.text and "迟报病例补录" in second.text
    assert re.search(r'<tr class="changed" data-figure="cases.reported">', second.text)
    assert not english_left(second.text), english_left(second.text)
    first = client.get(f"/closure/{HOME_COUNTY}/{day}/v1")
    assert "此日已有更正版本" in first.text and "closure-changes" not in first.text
    diff = client.get(f"/closure/{HOME_COUNTY}/{day}/diff?a=1&b=2")
    assert diff.status_code == 200 and 'data-figure="cases.total"' in diff.text and "+1" in diff.text
    assert not english_left(diff.text), english_left(diff.text)

    signed = client.post(
        f"/closure/{HOME_COUNTY}/{day}/v2/sign-off",
        data={"csrf_token": _csrf(client, "/closure"), "objectives": "24小时内完成全部密接转运"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    after = client.get(f"/closure/{HOME_COUNTY}/{day}")
    assert "24小时内完成全部密接转运" in after.text and 'data-testid="sign-off"' not in after.text
    listing = client.get("/closure")
    assert f"/closure/{HOME_COUNTY}/{day}" in listing.text and "立即对昨日日结" not in listing.text
    assert not english_left(listing.text), english_left(listing.text)


def test_drill_down_reading_without_forms_and_errors(client, app: Any, world: World) -> None:  # type: ignore[no-untyped-def]
    from fangkong.response.service import closure

    yesterday = clock.today() - dt.timedelta(days=1)
    with app.state.db.unit_of_work() as session:
        assert closure.close_due_days(session, clock.utcnow())
    city = client.get("/closure/330100", headers=token_for(client, "province_admin"))
    assert city.status_code == 200 and 'data-testid="closure-publish"' not in city.text
    assert "西湖区" in city.text and f"/closure/{HOME_COUNTY}/{yesterday}" in city.text
    assert not english_left(city.text), english_left(city.text)
    investigator = token_for(client, "home_investigator")
    page = client.get(f"/closure/{HOME_COUNTY}/{yesterday}", headers=investigator)
    assert page.status_code == 200 and 'data-testid="sign-off"' not in page.text and "尚未签批" in page.text
    assert not english_left(page.text), english_left(page.text)
    assert client.get(f"/closure/330203/{yesterday}", headers=investigator).status_code == 404
    assert client.get(f"/closure/{HOME_COUNTY}/{clock.today()}", headers=investigator).status_code == 404
    # Every role that reads the response pages sees its county's days (the seeded users sit in the county).
    worker = client.get("/closure", headers=token_for(client, "home_community_worker"))
    assert worker.status_code == 200 and f"/closure/{HOME_COUNTY}/{yesterday}" in worker.text
