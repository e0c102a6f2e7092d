"""The tracing pages in a real Chromium: report a case, enter the line list as a call goes, see the chain,
open a contact's plan, convert it to a case, and check an import with a bad row."""

from __future__ import annotations

import pytest

from conftest import HOME_COUNTY, PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _login(page, live_server: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?next={target}")
    page.fill("#username", "home_investigator")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}{target}")


def test_report_trace_and_convert(live_server: str, page, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _login(page, live_server, "/tracing/cases")
    form = page.locator("[data-testid=new-case]")
    assert form.locator("[name=classification]").input_value() == "confirmed"
    form.locator("[name=case_ref]").fill("XH-100")
    form.locator("[name=id_number]").fill(world.id_numbers[world.people[HOME_COUNTY][0]])
    form.locator("[name=onset_date]").fill("2022-07-05")
    form.locator("[name=isolated_at]").fill("2022-07-06T10:00")
    page.click("[data-testid=report-case]")
    page.wait_for_selector("[data-testid=case-ref]")
    assert page.locator("[data-testid=case-ref]").inner_text() == "XH-100"
    assert page.locator("[data-testid=case-classification]").inner_text() == "确诊病例"

    entry = page.locator("[data-testid=exposure-form]")
    for name, phone, setting, start in (
        ("陈一", "13700000031", "household", "2022-07-04T19:00"),
        ("林二", "13700000032", "bus", "2022-07-03T08:00"),
    ):
        entry.locator("[name=name]").fill(name)
        entry.locator("[name=phone]").fill(phone)
        entry.locator("[name=setting]").select_option(setting)
        entry.locator("[name=start]").fill(start)
        page.click("[data-testid=add-exposure]")
        page.wait_for_selector(f"[data-testid=case-contacts] >> text={name[0]}*", timeout=15_000)
    rows = page.locator("[data-testid=case-contacts] tbody tr")
    assert rows.count() == 2
    assert "密切接触者" in rows.filter(has_text="陈*").first.inner_text()
    assert entry.locator("[name=name]").input_value() == ""  # the form is ready for the next person

    page.reload()
    page.wait_for_selector("[data-testid=chain-graph][data-ready='1']")
    assert page.locator("[data-testid=chain-graph] canvas").count() >= 1
    assert "1" in page.locator("[data-testid=chain-stats]").inner_text()
    page.screenshot(path=str(tmp_path / "case.png"), full_page=True)

    page.locator("[data-testid=case-contacts] a").first.click()
    page.wait_for_selector("[data-testid=plan]")
    assert "集中隔离医学观察" in page.locator("[data-testid=plan]").inner_text()
    page.locator("[data-testid=convert-form] [name=sampling_date]").fill("2022-07-07")
    page.click("[data-testid=convert]")
    page.wait_for_selector("[data-testid=case-source]")
    assert "由接触者转为病例" in page.locator("[data-testid=case-source]").inner_text()
    page.wait_for_selector("[data-testid=chain-graph][data-ready='1']")
    assert "2" in page.locator("[data-testid=chain-stats]").inner_text()


def test_an_import_with_a_bad_row_names_it_in_the_page(
    live_server: str, page, world: World, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cases.csv"
    path.write_text(
        "病例编号,病例分类,发病日期\nA-1,确诊,2022-07-05\nA-2,大概,2022-07-05\n", encoding="utf-8"
    )
    _login(page, live_server, "/tracing/import")
    page.locator("[data-testid=import-form] [name=kind]").select_option("cases")
    page.set_input_files("[data-testid=import-form] [name=file]", str(path))
    page.click("[data-testid=import]")
    page.wait_for_selector("[data-testid=import-errors]")
    text = page.locator("[data-testid=import-errors]").inner_text()
    assert "病例分类" in text  # the column as the file's header names it
    assert "3" in text
    path.write_text(
        "病例编号,病例分类,发病日期\nA-1,确诊,2022-07-05\nA-2,疑似,2022-07-05\n", encoding="utf-8"
    )
    page.locator("[data-testid=import-form] [name=dry_run]").check()
    page.set_input_files("[data-testid=import-form] [name=file]", str(path))
    page.click("[data-testid=import]")
    page.wait_for_selector("[data-testid=import-report]")
    assert "试导入" in page.locator("[data-testid=import-report]").inner_text()
    page.goto(f"{live_server}/tracing/cases")
    assert page.locator("[data-testid=no-cases]").count() == 1
