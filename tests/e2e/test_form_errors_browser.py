"""A bad value on a form, in a real Chromium: the page stays (navigation and all), what was typed stays,
and the error sits beside the field in the reader's language, naming it as the form labels it.

One form of each kind the issue met as a bare "422 · row 1 …" page: a case report with an onset in the
future, a place visited that ends before it starts, a contact converted with a sampling date in the
future, an assist request declined without a reason, an alert dismissed without a reason, detector
parameters out of range, and a CSV upload with a bad row (its column named as the file's header does).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from conftest import FOREIGN_COUNTY, HOME_COUNTY, PASSWORD, World, token_for

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# Words of Latin letters: on a Chinese page these may only come from data the user typed.
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _login(page, live_server: str, username: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}{target}")


def _error_beside(form, field: str) -> str:  # type: ignore[no-untyped-def]
    """The message shown right after the field (in its label), the field marked invalid; its text."""
    form.locator("[data-form-errors]").wait_for()
    slot = form.locator(f'.field-error[data-error-for="{field}"]')
    assert slot.is_visible()
    beside = slot.evaluate(
        """(slot) => {
            const field = slot.closest('form').querySelector('[name="' + slot.dataset.errorFor + '"]');
            return slot.previousElementSibling === field && field.getAttribute('aria-invalid') === 'true';
        }"""
    )
    assert beside, f"the message for {field} is not beside it"
    return str(slot.inner_text())


def _still_the_page(page, url: str) -> None:  # type: ignore[no-untyped-def]
    assert page.url == url
    assert page.locator("header.top nav a").count() >= 2  # the navigation is still there
    assert page.locator("[data-testid=error-page]").count() == 0


def _no_english(text: str, *typed: str) -> None:
    for value in typed:
        text = text.replace(value, "")
    assert LATIN_WORD.findall(text) == [], text


def _case(client, world: World, ref: str = "XH-1") -> tuple[int, dict[str, str]]:  # type: ignore[no-untyped-def]
    home = token_for(client, "home_investigator")
    response = client.post(
        "/api/tracing/cases",
        headers=home,
        json={
            "classification": "confirmed",
            "case_ref": ref,
            "onset_date": "2022-07-05",
            "isolated_at": "2022-07-06T10:00:00",
            "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][0]]},
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"]), home


def _contact(client, case_id: int, home: dict[str, str], person: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/api/tracing/cases/{case_id}/exposures",
        headers=home,
        json={
            "exposures": [
                {
                    "setting": "聚餐",
                    "start": "2022-07-04T18:00:00",
                    "end": "2022-07-04T20:00:00",
                    "person": person,
                }
            ]
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()[0]["id"])


def test_case_visit_and_conversion_forms_keep_the_page_and_say_what_is_wrong_beside_the_field(  # type: ignore[no-untyped-def]
    live_server: str, page, client, world: World
) -> None:
    case_id, home = _case(client, world)
    contact_id = _contact(client, case_id, home, {"name": "陈一", "phone": "13700000031"})

    _login(page, live_server, "home_investigator", "/tracing/cases")
    form = page.locator("[data-testid=new-case]")
    form.locator("[name=name]").fill("冯十一")
    form.locator("[name=onset_date]").fill("2099-01-01")
    form.locator("[data-testid=report-case]").click()
    message = _error_beside(form, "onset_date")
    assert "2099-01-01" in message and "将来" in message
    summary = form.locator("[data-form-errors]").inner_text()
    assert "发病日期" in summary and "onset_date" not in summary
    _still_the_page(page, f"{live_server}/tracing/cases")
    assert form.locator("[name=name]").input_value() == "冯十一"
    assert form.locator("[name=onset_date]").input_value() == "2099-01-01"
    _no_english(summary, "2099-01-01")

    page.goto(f"{live_server}/tracing/cases/{case_id}")
    visit = page.locator("form[action$='/visits']")
    visit.locator("[name=place_name]").fill("联华超市")
    visit.locator("[name=start]").fill("2022-07-05T10:00")
    visit.locator("[name=end]").fill("2022-07-04T10:00")
    visit.locator("button[type=submit]").click()
    message = _error_beside(visit, "end")
    assert "开始" in message
    _still_the_page(page, f"{live_server}/tracing/cases/{case_id}")
    assert visit.locator("[name=place_name]").input_value() == "联华超市"
    assert visit.locator("[name=end]").input_value() == "2022-07-04T10:00"
    _no_english(visit.locator("[data-form-errors]").inner_text())
    # Fixed, the same form saves and the page shows the place.
    visit.locator("[name=end]").fill("2022-07-05T11:00")
    visit.locator("button[type=submit]").click()
    page.wait_for_selector("#visits >> text=联华超市")
    assert page.locator("[data-form-errors]").count() == 0

    page.goto(f"{live_server}/tracing/contacts/{contact_id}")
    convert = page.locator("[data-testid=convert-form]")
    convert.locator("[name=sampling_date]").fill("2099-02-01")
    convert.locator("[data-testid=convert]").click()
    message = _error_beside(convert, "sampling_date")
    assert "将来" in message
    _still_the_page(page, f"{live_server}/tracing/contacts/{contact_id}")
    assert convert.locator("[name=sampling_date]").input_value() == "2099-02-01"
    _no_english(convert.locator("[data-form-errors]").inner_text(), "2099-02-01")


def test_an_assist_request_declined_without_a_reason_asks_for_one_beside_the_reason(  # type: ignore[no-untyped-def]
    live_server: str, page, client, world: World
) -> None:
    case_id, home = _case(client, world)
    away_person = world.people[FOREIGN_COUNTY][0]
    contact_id = _contact(
        client,
        case_id,
        home,
        {
            "name": "张伟",
            "id_number": world.id_numbers[away_person],
            "phone": "13800130099",
            "residence_code": FOREIGN_COUNTY,
        },
    )
    sent = client.post(f"/api/tracing/contacts/{contact_id}/assist", headers=home, json={"message": "请协查"})
    assert sent.status_code == 201, sent.text
    request_id = sent.json()["id"]

    _login(page, live_server, "away_investigator", f"/tracing/assist/{request_id}")
    actions = page.locator("[data-testid=assist-actions]")
    actions.locator("[data-testid=decline]").click()
    message = _error_beside(actions, "reason")
    assert "原因" in message or "理由" in message
    _still_the_page(page, f"{live_server}/tracing/assist/{request_id}")
    _no_english(actions.locator("[data-form-errors]").inner_text())
    # With a reason the request is declined and the page says so.
    actions.locator("[name=reason]").fill("查无此人")
    actions.locator("[data-testid=decline]").click()
    page.wait_for_selector("text=查无此人")


def test_surveillance_forms_keep_the_page_and_name_the_field_or_the_files_column(  # type: ignore[no-untyped-def]
    live_server: str, page, client, world: World, tmp_path
) -> None:
    from fangkong.core import clock

    analyst = token_for(client, "home_surveillance_analyst")
    channels = {c["code"]: c for c in client.get("/api/surveillance/channels", headers=analyst).json()}
    records = [
        {
            "channel": "case_reports",
            "jurisdiction": HOME_COUNTY,
            "date": (clock.today() - dt.timedelta(days=20 - i)).isoformat(),
            "value": 30 if i == 20 else (2, 3, 1, 2, 4, 2, 3)[i % 7],
        }
        for i in range(21)
    ]
    assert client.post(
        "/api/surveillance/observations", json={"observations": records}, headers=analyst
    ).is_success
    body = {
        "channel_id": channels["case_reports"]["id"],
        "level": "county",
        "method": "ears_c1",
        "params": {},
    }
    assert client.post("/api/surveillance/configs", json=body, headers=analyst).status_code == 201
    alert_id = int(
        client.post("/api/surveillance/runs", json={}, headers=analyst).json()["alerts_created"][0]
    )

    _login(page, live_server, "home_surveillance_analyst", "/surveillance/config")
    detectors = page.locator("form[action='/surveillance/config/detectors']")
    detectors.locator("[name=method]").select_option("ears_c1")
    detectors.locator("[name=params]").fill("alpha=7")
    detectors.locator("button[type=submit]").click()
    message = _error_beside(detectors, "params")
    assert "alpha" in message and "0" in message and "1" in message
    _still_the_page(page, f"{live_server}/surveillance/config")
    assert detectors.locator("[name=params]").input_value() == "alpha=7"
    _no_english(detectors.locator("[data-form-errors]").inner_text(), "alpha")

    page.goto(f"{live_server}/surveillance/data")
    upload = page.locator("form[action='/surveillance/data/upload']")
    path = tmp_path / "监测数据.csv"
    path.write_text(
        f"监测渠道,地区编码,日期,数值\ncase_reports,{HOME_COUNTY},2022-13-01,3\n", encoding="utf-8"
    )
    upload.locator("[name=file]").set_input_files(str(path))
    upload.locator("button[type=submit]").click()
    upload.locator("[data-form-errors]").wait_for()
    listed = upload.locator("[data-form-errors]").inner_text()
    assert "第 2 行" in listed and "日期" in listed and "2022-13-01" in listed
    assert "date" not in listed
    beside = upload.locator("[data-form-errors]").evaluate(
        "(list) => list.previousElementSibling === list.closest('form').querySelector('[name=file]')"
    )
    assert beside
    _still_the_page(page, f"{live_server}/surveillance/data")
    _no_english(listed, "2022-13-01")

    page.goto(f"{live_server}/surveillance/alerts/{alert_id}")
    respond = page.locator(f"form[action='/surveillance/alerts/{alert_id}/action']")
    respond.locator("button[value=dismiss]").click()
    message = _error_beside(respond, "note")
    _still_the_page(page, f"{live_server}/surveillance/alerts/{alert_id}")
    _no_english(message)


def test_english_pages_word_the_same_errors_in_english(live_server: str, page, client, world: World) -> None:  # type: ignore[no-untyped-def]
    _login(page, live_server, "home_investigator", "/tracing/cases")
    page.click("[data-testid=lang-en]")
    page.wait_for_url(f"{live_server}/tracing/cases")
    form = page.locator("[data-testid=new-case]")
    form.locator("[name=name]").fill("Feng")
    form.locator("[name=onset_date]").fill("2099-01-01")
    form.locator("[data-testid=report-case]").click()
    assert "in the future" in _error_beside(form, "onset_date")
    summary = form.locator("[data-form-errors]").inner_text()
    assert "Onset date" in summary and "onset_date" not in summary
    assert page.locator("[data-testid=role]").inner_text() == "Investigator"
