"""Response tasks of the foreign county (海曙区), for the authorization matrix: every route with a
``task_id`` is tried from the home county and must not reach it."""

from __future__ import annotations

from sqlalchemy import select

from conftest import World
from fangkong.core import clock
from fangkong.core.models import Jurisdiction
from fangkong.response.models import Trigger
from fangkong.response.service import opening


def seed_response_foreign(app, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        path = session.scalar(select(Jurisdiction.path).where(Jurisdiction.code == "330203001001"))
        opened = opening.open_tasks(
            session,
            Trigger.case_confirmed,
            subject_kind="case",
            subject_id=900_001,
            subject_ref="case:900001",
            jpath=path,
            happened_at=clock.utcnow(),
        )
        return {"task_id": str(opened[0].id)}
