"""Errors and messages over HTTP, on both databases: a failed form answers htmx with its errors for the
form (nothing else replaced), and a browser without script with a whole page that keeps the navigation;
messages the system stored (the classifier's reasons, the case history) read in the page's language;
the JSON API keeps English."""

from __future__ import annotations

import re

from conftest import HOME_COUNTY, PASSWORD, World, token_for

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _visible(page: str) -> str:
    """The text a reader sees: without styles, scripts and tags."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", page)


def _signed_in(client) -> str:  # type: ignore[no-untyped-def]
    """Log the test client in as the home investigator (a cookie session); the page's CSRF token."""
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={"username": "home_investigator", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    page = client.get("/tracing/cases")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def _case_with_a_close_contact(client, world: World) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    home = token_for(client, "home_investigator")
    case = client.post(
        "/api/tracing/cases",
        headers=home,
        json={
            "classification": "confirmed",
            "case_ref": "XH-1",
            "onset_date": "2022-07-05",
            "isolated_at": "2022-07-06T10:00:00",
            "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][0]]},
        },
    )
    assert case.status_code == 201, case.text
    contacts = client.post(
        f"/api/tracing/cases/{case.json()['id']}/exposures",
        headers=home,
        json={
            "exposures": [
                {
                    "setting": "shared_meal",
                    "start": "2022-07-04T18:00:00",
                    "end": "2022-07-04T20:00:00",
                    "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][1]]},
                }
            ]
        },
    )
    assert contacts.status_code == 201, contacts.text
    return int(case.json()["id"]), int(contacts.json()[0]["id"])


def _visit_ending_before_it_starts(csrf: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "kind": "venue",
        "place_name": "联华超市",
        "start": "2022-07-05T10:00",
        "end": "2022-07-04T10:00",
    }


def test_a_failed_form_without_script_gets_a_whole_page_with_its_navigation(client, world: World) -> None:  # type: ignore[no-untyped-def]
    case_id, _ = _case_with_a_close_contact(client, world)
    csrf = _signed_in(client)
    response = client.post(
        f"/tracing/cases/{case_id}/visits",
        data=_visit_ending_before_it_starts(csrf),
        headers={"Accept": "text/html,application/xhtml+xml"},  # as a browser's own form sends
    )
    assert response.status_code == 422
    assert 'data-testid="error-page"' in response.text
    assert 'href="/tracing/cases"' in response.text  # the navigation is there
    assert "结束：结束时间早于开始时间" in response.text  # the field by its label, the reason in Chinese
    assert "ends before" not in response.text and "row 1" not in response.text


def test_a_failed_htmx_form_gets_only_its_errors_named_by_field(client, world: World) -> None:  # type: ignore[no-untyped-def]
    case_id, _ = _case_with_a_close_contact(client, world)
    csrf = _signed_in(client)
    response = client.post(
        f"/tracing/cases/{case_id}/visits",
        data=_visit_ending_before_it_starts(csrf),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "<html" not in response.text and "<nav" not in response.text
    item = re.search(r'<li data-field="end" data-message="([^"]+)">', response.text)
    assert item is not None and item.group(1) == "结束时间早于开始时间"
    # A bad value FastAPI itself refuses is worded the same way.
    response = client.post(
        f"/tracing/cases/{case_id}/visits",
        data={**_visit_ending_before_it_starts(csrf), "kind": "spaceship"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert 'data-field="kind"' in response.text and "“spaceship”不在可选项中" in response.text


def test_a_form_that_succeeds_under_htmx_loads_the_next_page_whole(client, world: World) -> None:  # type: ignore[no-untyped-def]
    case_id, _ = _case_with_a_close_contact(client, world)
    csrf = _signed_in(client)
    form = {**_visit_ending_before_it_starts(csrf), "end": "2022-07-05T11:00"}
    here = f"http://testserver/tracing/cases/{case_id}"
    same_page = client.post(
        f"/tracing/cases/{case_id}/visits",
        data=form,
        headers={"HX-Request": "true", "HX-Current-URL": here},
        follow_redirects=False,
    )
    assert same_page.status_code == 200 and same_page.headers["HX-Refresh"] == "true"
    elsewhere = client.post(
        "/tracing/cases",
        data={"csrf_token": csrf, "classification": "suspected", "name": "冯十一"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/tracing/cases"},
        follow_redirects=False,
    )
    assert elsewhere.status_code == 200
    assert re.fullmatch(r"/tracing/cases/\d+", elsewhere.headers["HX-Redirect"])


def test_the_classifiers_reasons_and_the_case_history_read_in_chinese(client, world: World) -> None:  # type: ignore[no-untyped-def]
    case_id, contact_id = _case_with_a_close_contact(client, world)
    home = token_for(client, "home_investigator")
    contact = client.get(f"/tracing/contacts/{contact_id}", headers=home).text
    reason = re.search(r'data-testid="contact-reason">([^<]+)', contact)
    assert reason is not None
    assert "聚餐" in reason.group(1) and "时间窗" in reason.group(1) and "2022-07-04" in reason.group(1)
    assert LATIN_WORD.findall(reason.group(1)) == []
    case = client.get(f"/tracing/cases/{case_id}", headers=home).text
    history = re.search(r'data-testid="history">(.*?)</table>', case, re.DOTALL)
    assert history is not None and "报告" in history.group(1) and "reported" not in history.group(1)
    assert "已反馈" not in history.group(1)  # not the assist request's "reported"
    assert "确定" in client.get(f"/tracing/cases/{case_id}", headers=home).text  # certainty choices

    english = _visible(
        client.get(f"/tracing/contacts/{contact_id}", headers={**home, "Cookie": "fk_lang=en"}).text
    )
    assert "shared meal exposure on 2022-07-04" in english
    assert "close_contact" not in english and "shared_meal" not in english and "Investigator" in english
    api = client.get(f"/api/tracing/contacts/{contact_id}", headers=home).json()
    reason_text = api.get("reason") or api["contact"]["reason"]
    assert reason_text.startswith("shared meal exposure on 2022-07-04, inside the window")


def test_the_protocol_table_reads_in_chinese(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    page = client.get("/protocols?compare=cn-9-20", headers=headers)
    assert page.status_code == 200
    table = _visible(re.search(r'data-testid="protocol-table">(.*?)</table>', page.text, re.DOTALL).group(1))  # type: ignore[union-attr]
    assert "第 1 阶段" in table and "集中隔离场所" in table and "不得外出" in table
    for english in ("stage 1", "close_contact", "quarantine_site", "may not leave home", "until the index"):
        assert english not in table
