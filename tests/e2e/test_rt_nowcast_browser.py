"""The Rt page in a real headless Chromium, from the platform's own cases: the serial interval from our
chains is offered and used, and the epidemic curve by onset draws the nowcast band."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from conftest import PASSWORD, World
from fangkong.core.auth import principal_for
from fangkong.core.crypto import Vault
from fangkong.core.events import EventBus
from fangkong.core.models import User
from fangkong.tracing import service
from fangkong.tracing.models import Certainty, Classification
from fangkong.tracing.persons import PersonInput

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

FIRST_ONSET = dt.date(2026, 11, 8)


def _seed(app, settings) -> None:  # type: ignore[no-untyped-def]
    vault = Vault(settings.encryption_key, settings.hash_key)
    with app.state.db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == "home_investigator"))
        me = principal_for(session, user, "token")
        ids = []
        for i in range(40):
            onset = FIRST_ONSET + dt.timedelta(days=i // 2)
            case = service.register_case(
                session, vault, EventBus(), me,
                service.CaseInput(
                    classification=Classification.confirmed,
                    person=PersonInput(name=f"病例{i}", community_code="330106001001"),
                    onset_date=onset,
                    reported_at=dt.datetime.combine(onset + dt.timedelta(days=i % 4), dt.time(10)),
                ),
            )  # fmt: skip
            ids.append(case.id)
        for a, b in [(0, 6), (1, 9), (2, 10), (4, 11), (6, 16), (9, 15), (10, 22), (12, 20), (7, 5)]:
            service.add_link(session, me, ids[a], ids[b], Certainty.confirmed)


def test_the_rt_page_uses_our_chains_and_draws_the_nowcast(
    live_server: str, page, world: World, app, settings
) -> None:  # type: ignore[no-untyped-def]
    _seed(app, settings)
    page.goto(f"{live_server}/login?next=/modeling/rt")
    page.fill("#username", "home_command_centre")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/modeling/rt")
    assert page.inner_text("[data-testid=si-pairs]") == "9"
    page.check("[data-testid=rt-si-chains]")
    page.click("form[action='/modeling/rt'] button[type=submit]")
    page.wait_for_selector("[data-testid=rt-table]")
    assert "si=chains" in page.url
    assert "代际间隔取自本平台传播链的实测" in page.inner_text("[data-testid=rt-method]")
    page.wait_for_selector("#nowcast-chart canvas")
    assert page.locator("[data-testid=nowcast-row]").count() == 15
