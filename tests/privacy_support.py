"""Helpers of the privacy tests (no tests here): the foreign objects of the authorization matrix (an
emergency the home county cannot see, a merge and an access grant in the foreign county)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conftest import HOME_COUNTY, World
from fangkong.core import audit, clock
from fangkong.core.auth import principal_for
from fangkong.core.models import User


def _principal(session: Any, username: str) -> Any:
    return principal_for(session, session.scalar(select(User).where(User.username == username)), "token")


def seed_privacy_foreign(app: Any, world: World) -> dict[str, str]:
    """An emergency of the province (above every county user), a merge of two people of 海曙区 and an
    access grant of a 海曙区 investigator to a 西湖区 resident."""
    from conftest import FOREIGN_COUNTY
    from fangkong.privacy.service import access, emergency, merge

    with app.state.db.unit_of_work() as session:
        admin = _principal(session, "province_admin")
        found = emergency.open_emergency(session, admin, audit.SYSTEM, "全省疫情", clock.today())
        away_admin = _principal(session, "away_administrator")
        first, second = world.people[FOREIGN_COUNTY][1:3]
        merged = merge.merge(session, audit.SYSTEM, away_admin.jpath, first, second)
        reader = _principal(session, "away_investigator")
        grant = access.request_access(session, reader, world.people[HOME_COUNTY][2], "arrival", "")
        return {
            "emergency_id": str(found.id),
            "merge_id": str(merged.id),
            "grant_id": str(grant.id),
            "record_class": "cases",
        }
