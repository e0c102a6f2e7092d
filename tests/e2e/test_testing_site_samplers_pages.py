"""Samplers posted to a sampling site from the resources staff list, over HTTP on both databases: only a
person certified for sampling is offered and accepted (an expired certificate is refused naming the
person), the site counts who stands there against the samplers the rule sized it for, one person is not
posted at two sites, and unposting frees them again; the card is in Chinese with no English left."""

from __future__ import annotations

import datetime as dt
import re

from test_areas_pages import login
from test_testing_pages import english_left

from conftest import World
from fangkong.core import clock
from resources_support import acting, add_certified


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _form(page: str) -> str:
    return page.split('data-testid="sampler-form"', 1)[1].split("</form>", 1)[0]


def test_a_site_takes_certified_samplers_only_and_counts_them(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    from fangkong.testing.service import rounds
    from testing_support import home_round

    db = app.state.db
    _campaign, round_id = home_round(db, world)
    with acting(db, "home_administrator") as (session, me):
        sampler = add_certified(session, me, "采样员甲", "sampling")
        other = add_certified(session, me, "采样员乙", "sampling")
        lapsed = add_certified(
            session, me, "过期采样员", "sampling", passed_on=clock.today() - dt.timedelta(days=400)
        )
        driver = add_certified(session, me, "司机甲", "transport")
    with acting(db, "home_testing_coordinator") as (session, me):
        sites = rounds.set_up_sites(session, me, round_id)
        first, second = sites[0].id, sites[1].id
        planned = sites[0].samplers

    login(client, "home_testing_coordinator")
    page = client.get(f"/testing/sites/{first}")
    assert page.status_code == 200 and 'data-testid="no-samplers"' in page.text
    assert english_left(page.text) == []
    assert f"当前已派驻 0 人，按规则本采样点应配 {planned} 人" in page.text
    offered = _form(page.text)
    # Certified samplers are offered; the lapsed one and the driver are not.
    assert "采样员甲" in offered and "采样员乙" in offered
    assert "过期采样员" not in offered and "司机甲" not in offered
    csrf = _csrf(page.text)

    refused = client.post(
        f"/testing/sites/{first}/samplers",
        data={"csrf_token": csrf, "staff_id": str(lapsed)},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 409 and "过期采样员" in refused.text
    assert (
        client.post(
            f"/testing/sites/{first}/samplers", data={"csrf_token": csrf, "staff_id": str(driver)}
        ).status_code
        == 409
    )
    posted = client.post(
        f"/testing/sites/{first}/samplers",
        data={"csrf_token": csrf, "staff_id": str(sampler)},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    page = client.get(f"/testing/sites/{first}").text
    assert page.count('data-testid="sampler-row"') == 1 and "采样员甲" not in _form(page)
    assert f"当前已派驻 1 人，按规则本采样点应配 {planned} 人" in page
    # One person stands at one site at a time.
    twice = client.post(
        f"/testing/sites/{second}/samplers",
        data={"csrf_token": csrf, "staff_id": str(sampler)},
        headers={"HX-Request": "true"},
    )
    assert twice.status_code == 409 and "采样员甲" in twice.text
    bad = client.post(
        f"/testing/sites/{first}/samplers",
        data={"csrf_token": csrf, "staff_id": str(other), "ends_on": "明天"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422 and 'data-field="ends_on"' in bad.text

    posting = re.search(rf'action="/testing/sites/{first}/samplers/(\d+)/end"', page)
    assert posting is not None
    ended = client.post(
        f"/testing/sites/{first}/samplers/{posting.group(1)}/end",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    page = client.get(f"/testing/sites/{first}").text
    assert 'data-testid="no-samplers"' in page and "采样员甲" in _form(page)
    # A reader sees the card but no form.
    login(client, "home_command_centre")
    seen = client.get(f"/testing/sites/{first}").text
    assert 'data-testid="site-samplers"' in seen and 'data-testid="sampler-form"' not in seen
