"""Tracing pages in a real Chromium, as an investigator follows a case up: a late contact's plan shows
which tests were missed and what is due now; case entry picks places instead of typed codes, refuses a
diagnosis before onset and finds residents by ID number; an assist request reads the same on both sides
and says what applying the plan did; the chain fills its canvas and the line list updates in place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import FOREIGN_COUNTY, HOME_COUNTY, PASSWORD, World, valid_id
from fangkong.core.auth import Principal, principal_for
from fangkong.core.models import User
from fangkong.tracing import service
from fangkong.tracing.models import Classification, Contact
from fangkong.tracing.persons import PersonInput

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _login(page, live_server: str, target: str, username: str = "home_investigator") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}{target}")


@contextmanager
def _as(app, username: str) -> Iterator[tuple[Session, Principal]]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        yield session, principal_for(session, user, "token")


def _case(app, world: World, *, onset: dt.date, isolated: dt.datetime) -> int:  # type: ignore[no-untyped-def]
    with _as(app, "home_investigator") as (session, me):
        return service.register_case(
            session,
            app.state.vault,
            app.state.bus,
            me,
            service.CaseInput(
                classification=Classification.confirmed,
                case_ref="XH-1",
                person=PersonInput(id_number=world.id_numbers[world.people[HOME_COUNTY][0]]),
                onset_date=onset,
                isolated_at=isolated,
            ),
        ).id


def _exposure(app, case_id: int, start: dt.datetime, person: PersonInput, setting: str = "household") -> int:  # type: ignore[no-untyped-def]
    with _as(app, "home_investigator") as (session, me):
        (contact,) = service.add_exposures(
            session,
            app.state.vault,
            app.state.bus,
            me,
            case_id,
            [service.ExposureInput(setting, start, person=person)],
        )
        return contact.id


# ------------------------------------------------------------------------------------ item 5


def test_a_contact_found_late_shows_missed_tests_and_one_due_now(
    live_server: str, page, app, world: World
) -> None:  # type: ignore[no-untyped-def]
    # Today is 12-07 (the suite's clock). The contact was last exposed on 12-02: her clock started
    # days before anyone knew of her.
    case_id = _case(app, world, onset=dt.date(2026, 12, 1), isolated=dt.datetime(2026, 12, 3, 9, 0))
    contact_id = _exposure(
        app,
        case_id,
        dt.datetime(2026, 12, 2, 8, 0),
        PersonInput(id_number=world.id_numbers[world.people[HOME_COUNTY][1]]),
    )
    _login(page, live_server, f"/tracing/contacts/{contact_id}")
    plan = page.locator("[data-testid=plan]")
    tests = plan.locator("[data-testid=plan-test]")
    states = {
        tests.nth(i).get_attribute("data-due"): tests.nth(i).get_attribute("data-state")
        for i in range(tests.count())
    }
    past = sorted(d for d in states if d < "2026-12-07")
    assert past and all(states[d] == "missed" for d in past)
    assert states.get("2026-12-07") == "due"
    assert all(states[d] == "upcoming" for d in states if d > "2026-12-07")
    missed = tests.filter(has_text="漏检")
    assert missed.count() == len(past)
    due_now = page.locator("[data-testid=tests-due-now]").inner_text()
    assert "今日应采样检测" in due_now
    assert all(d in due_now for d in past)
    assert page.locator("[data-testid=current-stage]").count() == 1

    page.goto(f"{live_server}/tracing/contacts")
    row = page.locator("[data-testid=contacts-table] tr", has_text="王*")
    assert "现在应检" in row.inner_text()

    # She tests positive: the case carries the isolation she already had (taken in today, when found).
    page.goto(f"{live_server}/tracing/contacts/{contact_id}")
    page.locator("[data-testid=convert-form] [name=sampling_date]").fill("2026-12-07")
    page.click("[data-testid=convert]")
    page.wait_for_selector("[data-testid=case-source]")
    isolated = page.locator("tr", has_text="隔离时间").inner_text()
    assert "2026-12-07" in isolated


# ------------------------------------------------------------------------------------ item 10


def test_case_entry_picks_a_community_and_refuses_a_diagnosis_before_onset(
    live_server: str, page, world: World
) -> None:  # type: ignore[no-untyped-def]
    _login(page, live_server, "/tracing/cases")
    form = page.locator("[data-testid=new-case]")
    picker = form.locator("select[name=community_code]")
    offered = picker.locator("option").all_inner_texts()
    assert any("保俶社区" in o for o in offered) and any("宝石社区" in o for o in offered)
    # Only communities of the investigator's own county are offered.
    assert not any("南门社区" in o or "清波门社区" in o for o in offered)
    fresh = valid_id("330106", "19850304", 881)
    form.locator("[name=name]").fill("赵六")
    form.locator("[name=id_number]").fill(fresh)
    picker.select_option(label="宝石社区 · 330106001002")
    form.locator("[name=address]").fill("宝石路9号")
    form.locator("[name=onset_date]").fill("2026-12-05")
    form.locator("[name=diagnosis_date]").fill("2026-12-03")
    page.click("[data-testid=report-case]")
    page.wait_for_selector("[data-error-for=diagnosis_date]:has-text('早于发病日期')")
    assert page.locator("[data-testid=case-ref]").count() == 0
    # What was typed is still there, to be corrected.
    assert form.locator("[name=id_number]").input_value() == fresh
    form.locator("[name=diagnosis_date]").fill("2026-12-06")
    page.click("[data-testid=report-case]")
    page.wait_for_selector("[data-testid=case-ref]")
    assert "2026-12-06" in page.locator("tr", has_text="确诊日期").inner_text()

    page.goto(f"{live_server}/people")
    page.fill("[data-testid=search]", fresh)
    page.press("[data-testid=search]", "Enter")
    page.wait_for_selector("[data-testid=people-table]")
    assert "赵*" in page.locator("[data-testid=people-table]").inner_text()


def test_a_contact_is_added_by_looking_up_the_resident_by_id_number(
    live_server: str, page, app, world: World
) -> None:  # type: ignore[no-untyped-def]
    case_id = _case(app, world, onset=dt.date(2026, 12, 4), isolated=dt.datetime(2026, 12, 5, 10, 0))
    resident = world.people[HOME_COUNTY][2]
    _login(page, live_server, f"/tracing/cases/{case_id}")
    entry = page.locator("[data-testid=exposure-form]")
    counties = entry.locator("select[name=residence_code] option").all_inner_texts()
    assert any("海曙区" in c for c in counties)
    assert not any("西湖区" in c for c in counties)
    entry.locator("[name=id_number]").fill(world.id_numbers[resident])
    page.wait_for_selector("[data-testid=resident-found]")
    assert "李*" in page.locator("[data-testid=resident-found]").inner_text()
    page.click("[data-testid=pick-resident]")
    assert "李*" in page.locator("[data-testid=picked-resident]").inner_text()
    entry.locator("[name=setting]").select_option("household")
    entry.locator("[name=start]").fill("2026-12-04T19:00")
    page.click("[data-testid=add-exposure]")
    page.wait_for_selector("[data-testid=case-contacts] >> text=李*")
    # The form is ready for the next person: no resident left picked.
    assert entry.locator("[name=person_id]").input_value() == ""
    with _as(app, "home_investigator") as (session, _me):
        contact = session.scalar(select(Contact).where(Contact.case_id == case_id))
        assert contact is not None and contact.person_id == resident


# ------------------------------------------------------------------------------------ item 11


def test_an_assist_request_reads_the_same_on_both_sides_and_says_what_applying_did(
    live_server: str, page, browser, app, world: World
) -> None:  # type: ignore[no-untyped-def]
    case_id = _case(app, world, onset=dt.date(2026, 12, 4), isolated=dt.datetime(2026, 12, 5, 10, 0))
    away = world.people[FOREIGN_COUNTY][0]
    contact_id = _exposure(
        app,
        case_id,
        dt.datetime(2026, 12, 4, 18, 0),
        PersonInput(name="张伟", id_number=world.id_numbers[away], residence_code=FOREIGN_COUNTY),
        setting="shared_meal",
    )
    _login(page, live_server, f"/tracing/contacts/{contact_id}")
    form = page.locator("[data-testid=assist-form]")
    # The county picker starts at the county she is recorded to live in.
    assert form.locator("select[name=receiver_code]").input_value() == FOREIGN_COUNTY
    form.locator("[name=message]").fill("请协查，已电话告知")
    page.click("[data-testid=send-assist]")
    page.wait_for_selector("[data-testid=assist-status]")
    assert page.locator("[data-testid=assist-message]").inner_text() == "请协查，已电话告知"
    contact = page.locator("[data-testid=assist-contact]").inner_text()
    assert contact == "张*"
    request_url = page.url

    receiver = browser.new_context(locale="zh-CN").new_page()
    _login(receiver, live_server, request_url.removeprefix(live_server), "away_investigator")
    receiver.click("[data-testid=acknowledge]")
    receiver.wait_for_selector("[data-testid=assist-done]")
    assert "已签收" in receiver.locator("[data-testid=assist-done]").inner_text()
    person = receiver.locator("[data-testid=assist-person]")
    age = person.locator("tr", has=receiver.locator("[data-testid=assist-age]"))
    assert age.locator("th").inner_text() == "年龄"
    assert age.locator("td").inner_text().isdigit()
    receiver.click("[data-testid=locate]")
    receiver.wait_for_selector("[data-testid=apply-plan]")
    receiver.click("[data-testid=apply-plan]")
    receiver.wait_for_selector("[data-testid=applied-plan]")
    done = receiver.locator("[data-testid=assist-done]").inner_text()
    assert "管控方案已落实" in done
    assert "集中隔离医学观察" in receiver.locator("[data-testid=applied-plan]").inner_text()
    receiver.context.close()


# ------------------------------------------------------------------------------------ item 14


_GRAPH = """() => {
  const el = document.querySelector('[data-testid=chain-graph]');
  const chart = echarts.getInstanceByDom(el);
  const data = chart.getModel().getSeriesByIndex(0).getData();
  const points = [];
  for (let i = 0; i < data.count(); i++) {
    points.push(chart.convertToPixel({seriesIndex: 0}, data.getItemLayout(i)));
  }
  const series = chart.getOption().series[0];
  return {width: el.clientWidth, height: el.clientHeight, points: points,
          sizes: series.data.map(n => n.symbolSize), font: series.label.fontSize, labels: series.label.show};
}"""


def test_the_chain_fills_its_canvas_and_the_line_list_updates_in_place(
    live_server: str, page, app, world: World
) -> None:  # type: ignore[no-untyped-def]
    case_id = _case(app, world, onset=dt.date(2026, 12, 1), isolated=dt.datetime(2026, 12, 3, 9, 0))
    contact_id = _exposure(
        app,
        case_id,
        dt.datetime(2026, 12, 2, 8, 0),
        PersonInput(id_number=world.id_numbers[world.people[HOME_COUNTY][1]]),
    )
    with _as(app, "home_investigator") as (session, me):
        service.convert_contact(
            session, app.state.bus, me, contact_id, Classification.confirmed, onset_date=dt.date(2026, 12, 5)
        )
    _login(page, live_server, f"/tracing/cases/{case_id}")
    page.wait_for_selector("[data-testid=chain-graph][data-ready='1']")
    graph = page.evaluate(_GRAPH)
    (x1, y1), (x2, y2) = graph["points"]
    # Two cases are drawn apart across the canvas, not as a knot in its middle...
    assert abs(x2 - x1) >= 0.3 * graph["width"] or abs(y2 - y1) >= 0.3 * graph["height"]
    for x, y in graph["points"]:
        assert 0 <= x <= graph["width"] and 0 <= y <= graph["height"]
    # ...with nodes and names big enough to read, on a canvas no taller than two cases need.
    assert min(graph["sizes"]) >= 20
    assert graph["labels"] and graph["font"] >= 12
    assert graph["height"] <= 320

    entry = page.locator("[data-testid=exposure-form]")
    entry.locator("[name=name]").fill("陈一")
    entry.locator("[name=phone]").fill("13700000031")
    entry.locator("[name=setting]").select_option("household")
    entry.locator("[name=start]").fill("2026-12-02T19:00")
    page.click("[data-testid=add-exposure]")
    page.wait_for_selector("[data-testid=case-contacts] >> text=陈*")
    # The new close contact can be chosen as the one a second-ring exposure went through, no reload.
    via = entry.locator("[data-testid=via-choice]")
    assert "陈*" in via.locator("option").all_inner_texts()
    entry.locator("[name=name]").fill("林二")
    entry.locator("[name=phone]").fill("13700000032")
    entry.locator("[name=setting]").select_option("household")
    entry.locator("[name=start]").fill("2026-12-03T19:00")
    via.select_option(label="陈*")
    page.click("[data-testid=add-exposure]")
    page.wait_for_selector("[data-testid=case-contacts] >> text=林*")
    second_ring = page.locator("[data-testid=case-contacts] tr", has_text="林*")
    assert "经由密接 陈*" in " ".join(second_ring.locator("[data-testid=via]").inner_text().split())
    page.wait_for_selector("[data-testid=chain-graph][data-ready='1']")

    second_ring.locator("a").first.click()
    page.wait_for_selector("[data-testid=via-contact]")
    assert page.locator("[data-testid=via-contact]").inner_text() == "陈*"
