"""What the command sees of resources in one read: staff on duty, teams deployed, readiness gaps and
reorder alerts of a subtree."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fangkong.resources.rules import ReadinessState
from fangkong.resources.service import deployments, staff, supplies, teams


def counts(session: Session, jpath: str) -> dict[str, int]:
    """Teams deployed, staff on duty and gaps of a subtree (the API and the command dashboard read it)."""
    duty = staff.duty_counts(session, jpath)
    rows = teams.teams_of(session, jpath)
    return {
        "staff": duty.staff,
        "available": duty.available,
        "on_call": duty.on_call,
        "on_duty": duty.on_duty,
        "away": duty.away,
        "support": duty.support,
        "teams": len(rows),
        "teams_deployed": deployments.open_count(session, jpath),
        "teams_not_ready": sum(1 for r in rows if r.readiness.state is not ReadinessState.ready),
        "staff_gap": sum(r.readiness.gap for r in rows),
        "reorder_alerts": len(supplies.stock_rows(session, jpath, alerts_only=True)),
    }
