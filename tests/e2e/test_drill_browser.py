"""Drills in a real Chromium (issue 11, items 1 and 13): the drill clock stops at the drill's end and the
drill shows as finished, the count of cases to report goes down to nothing as they are reported, the same
seed starts drill after drill (or, when no new residents can be drawn, the form says why in Chinese and
what to do), and a team member enters a drill, works on its records only, and leaves it."""

from __future__ import annotations

import re

import pytest

from conftest import HOME_COUNTY, PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

DAYS = 14


def _login(page, live_server: str, target: str, username: str = "home_command_centre") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}{target}")


def _fill_drill_form(page, live_server: str, seed: int) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/modeling/drills")
    form = page.locator("[data-testid=drill-form]")
    form.locator("input[name=people]").fill("1200")
    form.locator("input[name=days]").fill(str(DAYS))
    form.locator("input[name=seed]").fill(str(seed))
    form.locator("input[name=autopilot]").check()
    page.click("[data-testid=start-drill]")


def _start(page, live_server: str, seed: int) -> str:  # type: ignore[no-untyped-def]
    """Start an autopilot drill from the drills page; the URL of its page."""
    _fill_drill_form(page, live_server, seed)
    # Drawing the residents and the outbreak takes a few seconds on a busy machine.
    page.wait_for_url(re.compile(r".*/modeling/drills/\d+$"), timeout=90_000)
    assert "【演练】" in page.locator("h1").inner_text()
    return str(page.url)


def _finished(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the drill's panel reports the drill finished (the panel polls while the drill runs)."""
    # A selector, not wait_for_function: the page's Content-Security-Policy refuses evaluating strings.
    page.wait_for_selector("[data-testid=drill-status]:text-is('已结束')", timeout=90_000)


def test_the_drill_clock_stops_at_the_end_and_the_same_seed_starts_drill_after_drill(
    live_server: str, page, world: World, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    end = f"{DAYS * 24} / {DAYS * 24}"
    _login(page, live_server, "/modeling/drills")

    _start(page, live_server, seed=7)
    # Nothing reported yet: every case of the outbreak is still to report.
    assert int(page.locator("[data-testid=cases-to-report]").inner_text()) >= 3
    page.click("[data-testid=advance-end]")
    _finished(page)
    assert page.locator("[data-testid=drill-clock]").inner_text().startswith(end)
    assert page.locator("[data-testid=cases-to-report]").inner_text() == "0"
    assert page.locator("[data-testid=advance-end]").count() == 0

    # The same seed again: a drill of its own, left to its real-time clock until well past its end
    # (the server reads the test's clock: an hour is sixty drill days at ×1440).
    second = _start(page, live_server, seed=7)
    frozen_clock.advance(hours=1)
    page.goto(second)
    _finished(page)
    assert page.locator("[data-testid=drill-clock]").inner_text().startswith(end)
    assert page.locator("[data-testid=cases-to-report]").inner_text() == "0"

    # And a third time.
    _start(page, live_server, seed=7)
    assert page.locator("[data-testid=drill-status]").inner_text() == "运行中"


def test_when_no_new_residents_can_be_drawn_the_form_says_so_in_chinese_with_what_to_do(
    live_server: str, page, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # Every draw of residents the same: the second drill finds all their ID numbers registered already.
    # Patched where the draw is made: the drills package's start module.
    monkeypatch.setattr("fangkong.modeling.drills.start.resident_seed", lambda seed, code, attempt: 11)
    monkeypatch.setattr("fangkong.modeling.drills.start.RESIDENT_DRAWS", 1)
    _login(page, live_server, "/modeling/drills")
    _start(page, live_server, seed=3)
    _fill_drill_form(page, live_server, seed=3)
    errors = page.locator("[data-testid=form-errors]")
    errors.wait_for(timeout=90_000)
    text = errors.inner_text()
    assert "随机种子" in text and "居民" in text, text
    assert not re.search(r"[A-Za-z]{3,}", text), text
    assert page.url.endswith("/modeling/drills")
    assert page.locator("[data-testid=drill-form] input[name=seed]").input_value() == "3"


def test_a_team_member_enters_the_drill_and_sees_its_records_only_until_leaving(
    live_server: str, page, world: World, app
) -> None:  # type: ignore[no-untyped-def]
    from fangkong.core.auth import principal_for
    from fangkong.core.crypto import Vault
    from fangkong.core.events import EventBus
    from fangkong.core.models import User
    from fangkong.core.people_rules import Keys
    from fangkong.modeling import drills
    from fangkong.tracing import service as tracing
    from fangkong.tracing.persons import PersonInput
    from fangkong.tracing.service import Classification

    settings = app.state.settings
    vault = Vault(settings.encryption_key, settings.hash_key)
    keys = Keys(settings.encryption_key, settings.hash_key)
    db = app.state.db
    with db.unit_of_work() as session:
        investigator = principal_for(
            session, session.query(User).filter_by(username="home_investigator").one(), "token"
        )
        real = tracing.register_case(
            session, vault, EventBus(), investigator,
            tracing.CaseInput(classification=Classification.asymptomatic,
                              person=PersonInput(id_number=world.id_numbers[world.people[HOME_COUNTY][0]])),
        )  # fmt: skip
        real_ref = real.case_ref
        commander = principal_for(
            session, session.query(User).filter_by(username="home_command_centre").one(), "token"
        )
        drill = drills.start_drill(
            session, vault, keys, commander,
            drills.DrillRequest(people=1200, days=DAYS, seed=5, autopilot=True, realtime=False),
        )  # fmt: skip
        drill_id = drill.id
    drills.advance(db, vault, EventBus(), drill_id, to_hours=DAYS * 24)

    _login(page, live_server, "/tracing/cases", username="home_investigator")
    listed = page.locator("main").inner_text()
    assert real_ref in listed and "演练" not in listed

    page.goto(f"{live_server}/modeling/drills/{drill_id}/join")
    page.click("[data-testid=enter-drill]")
    page.wait_for_url(f"{live_server}/tracing/cases")
    assert page.locator("[data-testid=drill-mode]").is_visible()
    inside = page.locator("main").inner_text()
    assert "演练-" in inside and real_ref not in inside

    page.click("[data-testid=leave-drill]")
    # Home: "/" leads every role that reads the command dashboard on to it.
    page.wait_for_url(re.compile(rf"{re.escape(live_server)}/(dashboard)?$"))
    page.goto(f"{live_server}/tracing/cases")
    assert page.locator("[data-testid=drill-mode]").count() == 0
    listed = page.locator("main").inner_text()
    assert real_ref in listed and "演练" not in listed
