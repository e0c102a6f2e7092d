"""Postings: a quarantine site opens only with its minimum staff posted; only available people, not deployed
elsewhere and not posted elsewhere, are posted; a site's staff on duty is its postings; the command
dashboard's staffing gaps match a hand-made example (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.errors import Conflict
from fangkong.quarantine.models import QuarantineSite, SiteStatus
from fangkong.quarantine.rules.staffing import minimum_staff
from fangkong.quarantine.service import activation, sites, staffing
from fangkong.resources.service import deployments, staff, teams
from quarantine_support import new_site
from resources_support import acting, add_certified


def _crew(session, me) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A lead, two doctors, a guard and a cleaner of 西湖区: the minimum of a 60-bed site."""

    def plain(name: str) -> int:
        return staff.add_staff(session, me, jurisdiction_code=HOME_COUNTY, name=name, unit="区政府").id

    return {
        "lead": plain("负责人甲"),
        "medical": add_certified(session, me, "医生甲", "clinical"),
        "medical2": add_certified(session, me, "医生乙", "clinical"),
        "security": plain("保安甲"),
        "cleaning": add_certified(session, me, "保洁甲", "disinfection"),
    }


def test_a_quarantine_site_cannot_open_without_its_minimum_staff_and_can_with_it(app, world: World) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    assert minimum_staff(60) == {"lead": 1, "medical": 2, "security": 1, "cleaning": 1}
    with acting(db, "home_administrator") as (session, me):
        crew = _crew(session, me)
        site_id = new_site(session, me, "西湖宾馆", rooms=60, status=SiteStatus.preparing).id
    with acting(db, "home_quarantine_manager") as (session, me):
        staffing.post_staff(session, me, site_id, crew["lead"], "lead")
        staffing.post_staff(session, me, site_id, crew["medical"], "medical")
    with acting(db, "home_quarantine_manager") as (session, me), pytest.raises(Conflict) as refused:
        activation.mark_open(session, me, site_id)
    # The refusal names each post still missing: a second doctor, a guard and a cleaner.
    words = refused.value.message
    assert "西湖宾馆 cannot open" in words and "60 beds need 5 staff" in words
    assert "1 × medical" in words and "1 × security" in words and "1 × cleaning" in words
    assert "lead" not in words.split("lacks", 1)[1]
    with acting(db, "home_quarantine_manager") as (session, me):
        assert session.get(QuarantineSite, site_id).status is SiteStatus.preparing  # type: ignore[union-attr]
        for role in ("medical2", "security", "cleaning"):
            staffing.post_staff(session, me, site_id, crew[role], role.rstrip("2"))
        activation.mark_open(session, me, site_id)
    with acting(db, "home_quarantine_manager") as (session, me):
        site = session.get(QuarantineSite, site_id)
        assert site is not None and site.status is SiteStatus.open
        # The site's staff on duty is its postings: on the list, on the row, and in the staffing view.
        (row,) = sites.site_rows(session, [site])
        assert row.staff_on_duty == site.staff_on_duty == staffing.staffing(session, me, site_id).on_duty == 5
        first = staffing.staffing(session, me, site_id).rows[0].posting.id
        staffing.unpost_staff(session, me, site_id, first)
    with acting(db, "home_quarantine_manager") as (session, me):
        site = session.get(QuarantineSite, site_id)
        assert site is not None
        (row,) = sites.site_rows(session, [site])
        assert row.staff_on_duty == site.staff_on_duty == 4


def test_posting_an_unavailable_deployed_or_already_posted_person_is_refused(app, world: World) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        crew = _crew(session, me)
        first = new_site(session, me, "西湖宾馆", rooms=10).id
        second = new_site(session, me, "之江酒店", rooms=10, tier=2).id
        away = add_certified(session, me, "支援医生", "clinical")
        team = teams.create_team(
            session, me, jurisdiction_code=HOME_COUNTY, kind="transfer", name="西湖转运队"
        )
        teams.add_member(session, me, team.id, away)
        sent = deployments.send(
            session, me, team.id, to_jurisdiction_code="330102", outbreak="上城区疫情", commander="上城区"
        )
        deployments.check_in(session, me, sent.id)
        staff.set_availability(session, me, crew["security"], available=False)
    with acting(db, "home_quarantine_manager") as (session, me):
        staffing.post_staff(session, me, first, crew["lead"], "lead")
    cases = [
        (crew["lead"], "lead", "负责人甲 is already posted to 西湖宾馆"),
        (crew["security"], "security", "保安甲 is marked not available"),
        (away, "medical", "支援医生 is deployed elsewhere in support"),
        # "No training, no post": a cleaner is no doctor.
        (crew["cleaning"], "medical", "保洁甲 holds no valid certification"),
    ]
    for staff_id, role, words in cases:
        with acting(db, "home_quarantine_manager") as (session, me), pytest.raises(Conflict) as refused:
            staffing.post_staff(session, me, second, staff_id, role)
        assert words in refused.value.message
    # A posting from next week overlaps the open-ended one; once that ends, the person may be posted.
    with acting(db, "home_quarantine_manager") as (session, me), pytest.raises(Conflict):
        staffing.post_staff(
            session, me, second, crew["lead"], "lead", starts_on=clock.today() + dt.timedelta(days=7)
        )
    with acting(db, "home_quarantine_manager") as (session, me):
        posting = staffing.staffing(session, me, first).rows[0].posting.id
        staffing.unpost_staff(session, me, first, posting)
        staffing.post_staff(session, me, second, crew["lead"], "lead")
        assert staffing.staffing(session, me, second).posted == {"lead": 1}
        assert staffing.staffing(session, me, first).posted == {}


def test_the_dashboard_gaps_match_a_hand_made_example(app, world: World) -> None:  # type: ignore[no-untyped-def]
    from fangkong.response.service.dashboard import _resources, staffing_gaps

    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        crew = _crew(session, me)
        # Two open sites of 60 beds (minimum 5): one fully staffed, one with its lead only; a reserve
        # site with nobody is no gap (it is not open).
        full = new_site(session, me, "西湖宾馆", rooms=60).id
        short = new_site(session, me, "之江酒店", rooms=60, tier=2).id
        new_site(session, me, "龙井山庄", rooms=60, tier=3)
        for role in ("lead", "medical", "medical2", "security", "cleaning"):
            staffing.post_staff(session, me, full, crew[role], role.rstrip("2"))
        lead = staff.add_staff(session, me, jurisdiction_code=HOME_COUNTY, name="负责人乙", unit="街道").id
        staffing.post_staff(session, me, short, lead, "lead")
        for site_id in (full, short):
            site = session.get(QuarantineSite, site_id)
            assert site is not None
            site.status = SiteStatus.open
        # A disinfection team of standard size 4 with one certified member: below its standard.
        team = teams.create_team(
            session, me, jurisdiction_code=HOME_COUNTY, kind="disinfection", name="西湖消杀队"
        )
        teams.add_member(session, me, team.id, add_certified(session, me, "消杀甲", "disinfection"))
    with db.unit_of_work() as session:
        path = session.get(QuarantineSite, short).jpath  # type: ignore[union-attr]
        gaps = staffing_gaps(session, path)
        figures = _resources(session, path)
    assert [(name, on_duty, needed) for _id, name, on_duty, needed in gaps.sites_short] == [
        ("之江酒店", 1, 5)
    ]
    assert [(name, ready, standard) for _id, name, ready, standard in gaps.teams_below] == [
        ("西湖消杀队", 1, 4)
    ]
    assert [(posted, sites_) for _name, posted, sites_ in gaps.on_duty_by_place] == [(6, 2)]
    assert (figures["posted"], figures["sites_short"]) == (6, 1)
