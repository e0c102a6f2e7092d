"""Helpers of the resources tests (no tests here): acting as a seeded user, staff with certifications
made through the use cases, and a foreign team, deployment, course, session and store in 海曙区 for the
authorization matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core.auth import Principal, principal_for
from fangkong.core.db import Database
from fangkong.core.models import User
from fangkong.resources.service import staff, supplies, teams, training


@contextmanager
def acting(db: Database, username: str) -> Iterator[tuple[Session, Principal]]:
    with db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        yield session, principal_for(session, user, "token")


def add_certified(
    session: Session,
    me: Principal,
    name: str,
    skill: str,
    *,
    code: str = HOME_COUNTY,
    passed_on: dt.date | None = None,
    valid_days: int = 365,
) -> int:
    """A staff member of ``code`` certified for ``skill`` (passed ``passed_on``, default 30 days ago)."""
    from fangkong.core import clock

    person = staff.add_staff(
        session, me, jurisdiction_code=code, name=name, unit="区疾控中心", skills=[skill]
    )
    staff.certify(
        session,
        me,
        person.id,
        skill,
        passed_on or clock.today() - dt.timedelta(days=30),
        valid_days=valid_days,
    )
    return person.id


def seed_resources_foreign(app: object, world: World) -> dict[str, str]:
    """A staff member, team, deployment, course, session and store of 海曙区 (foreign), made by its own
    administrator, so every resources route with one of these ids can be tried from the home county."""
    from fangkong.core import clock
    from fangkong.resources.service import deployments

    db: Database = app.state.db  # type: ignore[attr-defined]
    with acting(db, "away_administrator") as (session, me):
        # Enough certified samplers that the foreign county's sampling sites can open (testing's seed).
        ids = [add_certified(session, me, f"采样员{i}", "sampling", code=FOREIGN_COUNTY) for i in range(3)]
        team = teams.create_team(
            session, me, jurisdiction_code=FOREIGN_COUNTY, kind="sampling", name="海曙采样队"
        )
        teams.add_member(session, me, team.id, ids[0], leader=True)
        sent = deployments.send(
            session,
            me,
            team.id,
            to_jurisdiction_code="330102",
            outbreak="上城区疫情",
            commander="上城区指挥部",
        )
        course = training.create_course(session, me, title="采样培训", skill="sampling")
        held = training.hold_session(session, me, course.id, clock.today())
        store = supplies.receive(session, me, jurisdiction_code=FOREIGN_COUNTY, kind="tube", quantity=100)
        # A posting of the foreign quarantine site (seeded before this), for the postings routes.
        from fangkong.quarantine.service import sites as quarantine_sites
        from fangkong.quarantine.service import staffing

        site = quarantine_sites.list_sites(session, me).items[0]
        posting = staffing.post_staff(session, me, site.id, ids[1], "lead")
        return {
            "posting_id": str(posting),
            "staff_id": str(ids[0]),
            "team_id": str(team.id),
            "deployment_id": str(sent.id),
            "course_id": str(course.id),
            "session_id": str(held.id),
            "stock_id": str(store.id),
        }
