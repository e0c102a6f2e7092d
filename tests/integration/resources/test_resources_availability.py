"""A staff member marked not available leaves the sites they were posted to at that instant: the postings
end (audited, kept as history with their end), the site's staff on duty drops, an open quarantine site
below its minimum shows as short on the command dashboard, and the caller is told which sites the person
left (service, JSON API in Chinese by default and in English, the staff page). Marked available again,
the person is posted nowhere until someone posts them (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select

from conftest import HOME_COUNTY, PASSWORD, World, token_for
from fangkong.core import clock
from fangkong.core.models import AuditEntry
from fangkong.quarantine.models import QuarantineSite, SiteStatus
from fangkong.quarantine.service import sites, staffing
from fangkong.resources.models import Posting
from fangkong.resources.service import postings, staff
from fangkong.response.service.dashboard import _resources, staffing_gaps
from quarantine_support import new_site
from resources_support import acting, add_certified


def _open_site_fully_staffed(app, name: str = "西湖宾馆") -> tuple[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    """An open 60-bed site of 西湖区 with its minimum posted: a lead, two doctors, a guard, a cleaner."""
    with acting(app.state.db, "home_administrator") as (session, me):

        def plain(person: str) -> int:
            return staff.add_staff(session, me, jurisdiction_code=HOME_COUNTY, name=person, unit="区政府").id

        crew = {
            "lead": plain("负责人甲"),
            "medical": add_certified(session, me, "医生甲", "clinical"),
            "medical2": add_certified(session, me, "医生乙", "clinical"),
            "security": plain("保安甲"),
            "cleaning": add_certified(session, me, "保洁甲", "disinfection"),
        }
        site_id = new_site(session, me, name, rooms=60).id
        for role, person in crew.items():
            staffing.post_staff(session, me, site_id, person, role.rstrip("2"))
        site = session.get(QuarantineSite, site_id)
        assert site is not None
        site.status = SiteStatus.open
    return site_id, crew


def _short(app, site_id: int) -> tuple[list[tuple[str, int, int]], int, int]:  # type: ignore[no-untyped-def]
    """The dashboard's open sites short of staff (name, on duty, minimum), its count of them, and the
    staff it counts as posted, for the site's jurisdiction."""
    with app.state.db.unit_of_work() as session:
        path = session.get(QuarantineSite, site_id).jpath  # type: ignore[union-attr]
        gaps = staffing_gaps(session, path)
        figures = _resources(session, path)
    return (
        [(name, on_duty, needed) for _id, name, on_duty, needed in gaps.sites_short],
        figures["sites_short"],
        figures["posted"],
    )


def test_marking_a_posted_person_not_available_ends_their_postings_and_the_site_falls_short(  # type: ignore[no-untyped-def]
    app, world: World
) -> None:
    db = app.state.db
    site_id, crew = _open_site_fully_staffed(app)
    assert _short(app, site_id) == ([], 0, 5)
    with acting(db, "home_administrator") as (session, me):
        # A second person posted from next week to another site: a posting to come ends before it begins.
        other = new_site(session, me, "之江酒店", rooms=10, tier=2).id
        nurse = add_certified(session, me, "护士甲", "clinical")
        next_week = clock.today() + dt.timedelta(days=7)
        staffing.post_staff(session, me, other, nurse, "medical", starts_on=next_week)
    with acting(db, "home_administrator") as (session, me):
        before = clock.utcnow()
        change = staff.set_availability(session, me, crew["medical"], available=False, bus=app.state.bus)
        assert not change.staff.available
        assert change.sites_left == ["西湖宾馆"]
        assert change.message.render("zh") == "医生甲 已标记为不可用，已离开 西湖宾馆：在该处的上岗已结束"
        assert change.message.render("en") == (
            "医生甲 is marked not available and has left 西湖宾馆: the postings there have ended"
        )
        future = staff.set_availability(session, me, nurse, available=False)
        assert future.sites_left == ["之江酒店"]
    with acting(db, "home_quarantine_manager") as (session, me):
        # The postings are kept as history, each with its end: now, or its own start for the one to come.
        (ended,) = session.scalars(select(Posting).where(Posting.staff_id == crew["medical"])).all()
        assert ended.ends_at is not None and before <= ended.ends_at <= clock.utcnow()
        (cancelled,) = session.scalars(select(Posting).where(Posting.staff_id == nurse)).all()
        assert cancelled.ends_at == cancelled.starts_at
        # The site's staff on duty drops: on the postings, the site's staffing view and its row.
        assert postings.on_duty(session, postings.QUARANTINE_SITE, [site_id]) == {site_id: 4}
        view = staffing.staffing(session, me, site_id)
        assert view.on_duty == 4 and view.posted["medical"] == 1
        assert [(g.role, g.missing) for g in view.gaps] == [("medical", 1)]
        (row,) = sites.site_rows(session, [session.get(QuarantineSite, site_id)])  # type: ignore[list-item]
        assert row.staff_on_duty == 4
        # The site's stored count follows too (quarantine hears StaffPostingsEnded), which its page shows.
        assert session.get(QuarantineSite, site_id).staff_on_duty == 4  # type: ignore[union-attr]
        assert postings.on_duty(session, postings.QUARANTINE_SITE, [other]) == {other: 0}
        # Each ended posting is in the audit log, with why.
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "resources.posting.end").order_by(AuditEntry.id)
        ).all()
        details = [json.loads(e.detail) for e in entries]
        assert [(d["reason"], d["posting"]) for d in details] == [
            ("not_available", ended.id),
            ("not_available", cancelled.id),
        ]
    # The command dashboard shows the site short of its minimum, with the four still posted.
    assert _short(app, site_id) == ([("西湖宾馆", 4, 5)], 1, 4)
    # Marked available again, the person is not posted back: the site stays short until someone posts.
    with acting(db, "home_administrator") as (session, me):
        back = staff.set_availability(session, me, crew["medical"], available=True)
        assert back.ended == [] and back.sites_left == []
        assert back.message.render("zh") == "医生甲 已标记为可用"
    with acting(db, "home_quarantine_manager") as (session, me):
        assert staffing.staffing(session, me, site_id).on_duty == 4
        assert len(session.scalars(select(Posting).where(Posting.staff_id == crew["medical"])).all()) == 1
        assert crew["medical"] in {r.staff.id for r in staffing.postable(session, me, site_id)}
    assert _short(app, site_id) == ([("西湖宾馆", 4, 5)], 1, 4)
    # Marked not available again, with nothing left to end: nothing ends, the message says only that.
    with acting(db, "home_administrator") as (session, me):
        staff.set_availability(session, me, crew["medical"], available=False)
        again = staff.set_availability(session, me, crew["medical"], available=False)
        assert again.ended == [] and again.message.render("en") == "医生甲 is marked not available"


def test_the_api_and_the_staff_page_name_the_sites_left(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    site_id, crew = _open_site_fully_staffed(app)
    headers = token_for(client, "home_administrator")
    url = f"/api/resources/staff/{crew['security']}/availability"
    answer = client.post(url, json={"available": False}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == crew["security"] and body["available"] is False
    assert [(p["site_id"], p["site_name"], p["role"], p["current"]) for p in body["postings_ended"]] == [
        (site_id, "西湖宾馆", "security", False)
    ]
    assert body["postings_ended"][0]["ends_at"] is not None
    assert body["message"] == "保安甲 已标记为不可用，已离开 西湖宾馆：在该处的上岗已结束"
    again = client.post(f"{url}?lang=en", json={"available": True}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["postings_ended"] == [] and again.json()["message"] == "保安甲 is marked available"
    assert client.post(f"{url}?lang=fr", json={"available": True}, headers=headers).status_code == 422
    # The staff page: a manager marks a person not available and is told, in Chinese, which site they left.
    client.get("/login")
    logged_in = client.post(
        "/login",
        data={
            "username": "home_administrator",
            "password": PASSWORD,
            "csrf_token": client.cookies.get("fk_login_csrf"),
        },
        follow_redirects=False,
    )
    assert logged_in.status_code == 303, logged_in.text
    page = client.get("/resources/staff")
    assert page.status_code == 200 and 'data-testid="availability-notice"' not in page.text
    assert page.text.count('data-testid="mark-unavailable"') >= 5
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    form = f"/resources/staff/{crew['cleaning']}/availability"
    bad = client.post(
        form, data={"csrf_token": csrf.group(1), "available": "是"}, headers={"HX-Request": "true"}
    )
    assert bad.status_code == 422 and "请选择可用或不可用" in bad.text
    left = client.post(form, data={"csrf_token": csrf.group(1), "available": "no"})
    assert left.status_code == 200
    notice = left.text.split('data-testid="availability-notice">', 1)[1].split("</p>", 1)[0]
    assert notice == "保洁甲 已标记为不可用，已离开 西湖宾馆：在该处的上岗已结束"
    # The guard, marked available again, was not posted back: two of the five are gone.
    assert _short(app, site_id) == ([("西湖宾馆", 3, 5)], 1, 3)
