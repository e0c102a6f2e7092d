"""The tracing pages over HTTP: each renders with real data, in Chinese by default and in English."""

from __future__ import annotations

import re

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for


def _seed(client, world: World) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A home case with three kinds of contact (one living in the foreign county and referred there); the
    household contact then tests positive and is reported as a second case."""
    home = token_for(client, "home_investigator")
    index = world.people[HOME_COUNTY][0]
    response = client.post(
        "/api/tracing/cases",
        headers=home,
        json={
            "classification": "confirmed",
            "case_ref": "XH-1",
            "onset_date": "2022-07-05",
            "isolated_at": "2022-07-06T10:00:00",
            "person": {"id_number": world.id_numbers[index]},
        },
    )
    assert response.status_code == 201, response.text
    case = response.json()
    contacts = client.post(
        f"/api/tracing/cases/{case['id']}/exposures",
        headers=home,
        json={
            "exposures": [
                {
                    "setting": "household",
                    "start": "2022-07-04T19:00:00",
                    "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][1]]},
                },
                {
                    "setting": "bus",
                    "start": "2022-07-03T08:00:00",
                    "distance_m": 3,
                    "person": {"name": "周九", "phone": "13900000003"},
                },
                {
                    "setting": "shared_meal",
                    "start": "2022-07-04T18:00:00",
                    "person": {"name": "张伟", "phone": "13800130099", "residence_code": FOREIGN_COUNTY},
                },
            ]
        },
    ).json()
    close = next(c for c in contacts if c["category"] == "close_contact" and not c["lives_elsewhere"])
    away = next(c for c in contacts if c["lives_elsewhere"])
    request = client.post(f"/api/tracing/contacts/{away['id']}/assist", headers=home, json={}).json()
    second = client.post(
        "/api/tracing/cases",
        headers=home,
        json={
            "classification": "asymptomatic",
            "case_ref": "XH-2",
            "sampling_date": "2022-07-06",
            "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][1]]},
        },
    ).json()
    return {"case": case["id"], "contact": close["id"], "request": request["id"], "second": second["id"]}


def test_every_tracing_page_renders_with_data(client, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = _seed(client, world)
    home = token_for(client, "home_investigator")
    pages = {
        "/tracing": "聚集",
        "/tracing/cases": "XH-1",
        "/tracing/cases?classification=asymptomatic": "XH-2",
        f"/tracing/cases/{ids['case']}": "密切接触者",
        f"/tracing/cases/{ids['second']}/sources": "XH-1",
        "/tracing/contacts": "XH-1",
        f"/tracing/contacts/{ids['contact']}": "集中隔离",
        "/tracing/clusters": "XH-1",
        f"/tracing/clusters/{ids['case']}": "echarts",
        "/tracing/assist?box=sent": "协查",
        f"/tracing/assist/{ids['request']}": "协查",
        "/tracing/import": "模板",
    }
    for url, expected in pages.items():
        response = client.get(url, headers=home)
        assert response.status_code == 200, (url, response.text[:500])
        assert expected in response.text, url
    english = client.get(f"/tracing/contacts/{ids['contact']}", headers={**home, "Cookie": "fk_lang=en"})
    assert "close contact" in english.text.lower()
    assert "Management plan" in english.text


def test_the_contact_list_pages_and_filters_on_the_server(client, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed(client, world)
    home = token_for(client, "home_investigator")
    managed = client.get("/tracing/contacts", headers=home).text
    # The household contact became case XH-2: two active contacts of managed categories are left.
    assert len(re.findall(r'href="/tracing/contacts/\d+"', managed)) == 2
    only_general = client.get(
        "/tracing/contacts?category=general_contact", headers={**home, "HX-Request": "true"}
    )
    assert "<html" not in only_general.text
    assert len(re.findall(r'href="/tracing/contacts/\d+"', only_general.text)) == 1
    assert client.get("/api/tracing/contacts?size=1&page=2", headers=home).json()["pages"] == 2
    converted = client.get("/api/tracing/contacts?status=converted", headers=home).json()
    assert [c["category"] for c in converted["items"]] == ["close_contact"]


def test_line_list_entry_by_htmx_answers_with_the_contact_table(client, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = _seed(client, world)
    response = client.post(
        "/login",
        data={
            "username": "home_investigator",
            "password": "correct-horse-42",
            "csrf_token": _login_csrf(client),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(f"/tracing/cases/{ids['case']}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {
        "csrf_token": csrf,
        "name": "冯十一",
        "phone": "13900000011",
        "setting": "office",
        "start": "2022-07-05T09:00",
        "end": "2022-07-05T17:00",
    }
    added = client.post(f"/tracing/cases/{ids['case']}/exposures", data=form, headers={"HX-Request": "true"})
    assert added.status_code == 200
    assert "<html" not in added.text
    assert "冯*" in added.text
    bad = client.post(
        f"/tracing/cases/{ids['case']}/exposures",
        data={**form, "start": "yesterday"},
        headers={"HX-Request": "true"},
    )
    # The form's errors, for htmx to put beside the field: the start, by its label.
    assert bad.status_code == 422
    assert 'data-testid="form-errors"' in bad.text
    assert 'data-field="start"' in bad.text and "开始" in bad.text


def _login_csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
