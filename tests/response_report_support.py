"""Builders shared by the daily report's tests (integration and pages): a closure published for a day,
with figures in the shape the closure service writes (contract of issue 15)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from conftest import HOME_COUNTY
from fangkong.core.db import Database
from fangkong.core.models import Jurisdiction
from fangkong.response.models import DailyClosure

DAY = dt.date(2026, 12, 6)


def closure_figures(day: dt.date = DAY, *, code: str = HOME_COUNTY, reported: int = 4) -> dict[str, Any]:
    """Figures in the shape the closure service publishes (contract: issue 15), with a 28-day series."""
    days = [day - dt.timedelta(days=27 - i) for i in range(28)]
    return {
        "schema": 1,
        "day": day.isoformat(),
        "jurisdiction": {"code": code, "name": "西湖区", "path": "/330000/330100/330106/"},
        "tasks": {"due": 12, "done": 9, "done_on_time": 7, "late": 3, "carried_over": 2, "opened": 14},
        "cases": {
            "reported": reported,
            "total": 37,
            "confirmed": 30,
            "asymptomatic": 7,
            "found_under_management": 3,
        },
        "contacts": {"identified": 58, "under_measure": {"close_contact": 120, "contact_of_contact": 45}},
        "quarantine": {"placed": 40, "released": 11, "occupied": 151, "capacity": 300},
        "testing": {"due": 900, "done": 870, "overdue": 30, "positive": 2},
        "alerts": {
            "raised": 3,
            "answered": 2,
            "answered_in_time": 1,
            "open": 1,
            "median_response_hours": 1.5,
        },
        "areas": {"high": 2, "medium": 5, "designated": 1, "lifted": 0},
        "series": {
            "report": {d.isoformat(): (i * 7) % 9 for i, d in enumerate(days)},
            "onset": {d.isoformat(): (i * 5) % 8 for i, d in enumerate(days)},
        },
        "provisional": ["series.onset"],
    }


def publish(
    db: Database,
    code: str,
    figures: dict[str, Any],
    *,
    version: int = 1,
    day: dt.date = DAY,
    reason: str | None = None,
) -> None:
    """A published closure row, as the closure service writes it (its model is this capability's own)."""
    with db.unit_of_work() as session:
        node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
        assert node is not None
        session.add(
            DailyClosure(
                jurisdiction_id=node.id,
                jpath=node.path,
                day=day,
                version=version,
                figures=json.dumps(figures, ensure_ascii=False),
                reason=reason,
                published_at=dt.datetime(2026, 12, 6, 14, 0, tzinfo=dt.UTC),
                published_by="home_command_centre",
            )
        )
