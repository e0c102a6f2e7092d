"""The areas pages over HTTP: each staff page with data in Chinese and English (no word of the other
language left), the approval form, the public page and forms without login or staff navigation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_testing_pages import chinese_left, english_left

from areas_support import HOME_COMMUNITY, area_in_force, arrival_input, as_user
from conftest import PASSWORD, World
from fangkong.areas import service, views
from fangkong.areas.service import public
from fangkong.core.crypto import Vault
from fangkong.wiring import build_bus


@pytest.fixture(autouse=True)
def fresh_public_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own public snapshot, places and allowances (they live in the process)."""
    monkeypatch.setattr(public, "CACHE", public.PublicCache())
    service.arrivals.PUBLIC_LIMITER.reset()
    public.SUBSCRIBE_ALLOWANCE.reset()
    views.PLACES.reset()
    yield
    service.arrivals.PUBLIC_LIMITER.reset()
    public.SUBSCRIBE_ALLOWANCE.reset()


def login(client, username: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    assert page.status_code == 200
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": client.cookies.get("fk_login_csrf")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    import re

    page = client.get("/areas/proposals")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def seed(app, settings) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with as_user(app, "home_command_centre") as (session, _me):
        high = area_in_force(session, place_code=HOME_COMMUNITY, name="翠苑小区3幢", unit_kind="building")
        whole = area_in_force(
            session, place_code="330106001002", name="宝石社区", level="medium", unit_kind="community"
        )
        proposed = area_in_force(
            session, place_code=HOME_COMMUNITY, name="文三路5号", state="proposed", change_kind="proposed"
        )
    with as_user(app, "home_community_worker") as (session, me):
        service.doorstep.open_request(
            session, app.state.bus, me, kind="medical_emergency", area_id=whole, detail="透析"
        )
        vault = Vault(settings.encryption_key, settings.hash_key)
        service.arrivals.register_arrival(
            session, vault, build_bus(), arrival_input(), channel="staff", reporter=me.username, ip="t"
        )
    return {"high": high, "whole": whole, "proposed": proposed}


STAFF_PAGES = (
    ("home_command_centre", "/areas"),
    ("home_command_centre", "/areas?state="),
    ("home_command_centre", "/areas/proposals"),
    ("home_command_centre", "/areas/calendar"),
    ("home_command_centre", "/areas/{high}"),
    ("home_command_centre", "/areas/doorstep"),
    ("home_command_centre", "/areas/{whole}/vulnerable"),
    ("home_community_worker", "/areas/arrivals"),
    ("home_community_worker", "/areas/checkpoint"),
)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_staff_page_renders_in_its_language(client, app, settings, world: World, lang: str) -> None:  # type: ignore[no-untyped-def]
    ids = seed(app, settings)
    current = ""
    for username, url in STAFF_PAGES:
        if username != current:
            client.cookies.clear()
            login(client, username)
            client.cookies.set("fk_lang", lang)
            current = username
        page = client.get(url.format(**ids))
        assert page.status_code == 200, (url, page.text[:500])
        left = english_left(page.text) if lang == "zh" else chinese_left(page.text)
        left = [
            w
            for w in left
            if not any(d in w for d in ("翠苑", "宝石", "保俶", "文三", "透析", "西湖", "海曙", "北山", "*"))
        ]
        assert left == [], (url, left)


def test_the_command_centre_approves_a_proposal_from_the_page(client, app, settings, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = seed(app, settings)
    login(client, "home_command_centre")
    proposals = client.get("/areas/proposals")
    assert "文三路5号" in proposals.text and 'data-testid="approve"' in proposals.text
    token = _csrf(client)
    refused = client.post(f"/areas/{ids['proposed']}/approve", data={"level": "severe", "csrf_token": token})
    assert refused.status_code == 422
    no_token = client.post(
        f"/areas/{ids['proposed']}/approve", data={"level": "high"}, follow_redirects=False
    )
    assert no_token.status_code == 403
    done = client.post(
        f"/areas/{ids['proposed']}/approve",
        data={"level": "high", "unit_kind": "building", "name": "文三路5号1幢", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/areas")
    listed = client.get("/areas")
    assert "文三路5号1幢" in listed.text and listed.text.count('data-testid="tile"') == 3
    assert "文三路5号1幢" in client.get(f"/areas/{ids['proposed']}").text


def test_staff_pages_ask_for_their_permission(client, app, settings, world: World) -> None:  # type: ignore[no-untyped-def]
    seed(app, settings)
    login(client, "home_viewer")
    assert client.get("/areas").status_code == 403
    client.cookies.clear()
    login(client, "home_surveillance_analyst")
    assert client.get("/areas").status_code == 200
    assert client.get("/areas/arrivals").status_code == 403
    assert client.get("/areas/doorstep").status_code == 403


def test_the_checkpoint_page_shows_only_category_measure_and_validity(
    client, app, settings, world: World
) -> None:  # type: ignore[no-untyped-def]
    seed(app, settings)
    login(client, "home_community_worker")
    page = client.get("/areas/checkpoint")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    number = arrival_input().id_number
    answer = client.post(
        "/areas/checkpoint", data={"id_number": number, "checkpoint": "杭州东站", "csrf_token": token}
    )
    assert answer.status_code == 200 and 'data-testid="answer"' in answer.text
    assert number not in answer.text and "13900139000" not in answer.text and "保俶路" not in answer.text


@pytest.mark.parametrize(("lang", "words"), [("zh", "中高风险区公示"), ("en", "Public risk area list")])
def test_the_public_page_has_no_staff_navigation_in_either_language(
    client, app, settings, world: World, lang: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    seed(app, settings)
    page = client.get(f"/public/areas?lang={lang}")
    assert page.status_code == 200 and words in page.text
    assert (
        "翠苑小区3幢" in page.text and "宝石社区" in page.text and "文三路5号" not in page.text
    )  # no proposals
    assert 'aria-label="Main"' not in page.text and "/logout" not in page.text and "病例" not in page.text
    left = english_left(page.text) if lang == "zh" else chinese_left(page.text)
    data = ("翠苑", "宝石", "保俶", "北山", "西湖", "杭州", "浙江", "JSON")
    assert [w for w in left if not any(d in w for d in data)] == [], left
    by_header = client.get("/public/areas", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Public risk area list" in by_header.text
    feed = client.get("/public/areas.json").json()
    assert feed["counties"][0]["code"] == "330106" and len(feed["counties"][0]["high"]) == 1
    assert client.get("/public/areas/330106.json").status_code == 200
    assert client.get("/public/areas/330102.json").status_code == 404
    for url in ("/public/arrivals", "/public/areas/subscribe", "/public/areas/unsubscribe?token=x"):
        form = client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
        assert form.status_code == 200 and "/logout" not in form.text, url
        left = english_left(form.text) if lang == "zh" else chinese_left(form.text)
        assert [
            w
            for w in left
            if not any(
                d in w for d in ("保俶", "宝石", "清波", "南门", "西湖", "上城", "海曙", "杭州", "宁波", "—")
            )
        ] == [], (url, left)


def test_the_public_arrival_form_registers_and_names_each_bad_field(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    good = arrival_input()
    fields = {k: str(v) for k, v in vars(good).items() if v not in (None, "")}
    bad = client.post("/public/arrivals", data={**fields, "phone": "123", "departed_on": "明天"})
    assert (
        bad.status_code == 422
        and 'data-testid="error-phone"' in bad.text
        and 'data-testid="error-departed_on"' in bad.text
    )
    done = client.post("/public/arrivals", data={**fields, "lang": "en"})
    assert done.status_code == 200, done.text
    assert 'data-testid="receipt"' in done.text and good.id_number not in done.text
    api = client.post("/public/api/arrivals", json={**fields, "companions": 1})
    assert api.status_code == 201 and set(api.json()) == {"registered", "message", "category", "measure"}
    cross = client.post("/public/api/arrivals", json=fields, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403


def test_a_district_subscribed_confirmed_and_stopped_by_its_token(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    import re

    form = client.get("/public/areas/subscribe?county=330106")
    assert 'value="330106" selected' in form.text
    bad = client.post("/public/areas/subscribe", data={"county_code": "330106", "contact": "not-an-address"})
    assert bad.status_code == 422
    done = client.post("/public/areas/subscribe", data={"county_code": "330106", "contact": "a@example.com"})
    assert done.status_code == 200 and 'data-testid="subscribed"' in done.text
    token = re.search(r"token=([A-Za-z0-9_-]+)", done.text).group(1)  # type: ignore[union-attr]
    again = client.post("/public/areas/subscribe", data={"county_code": "330106", "contact": "A@example.com"})
    assert again.status_code == 200 and token not in again.text  # a merge never hands out the token
    confirm = client.get(f"/public/areas/unsubscribe?token={token}")
    assert 'data-testid="confirm-unsubscribe"' in confirm.text
    stopped = client.post("/public/areas/unsubscribe", data={"token": token})
    assert stopped.status_code == 200 and 'data-testid="unsubscribed"' in stopped.text
    assert client.post("/public/areas/unsubscribe", data={"token": "x" * 40}).status_code == 404
