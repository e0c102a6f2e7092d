"""The drill plays the personal-data lifecycle, on SQLite and PostgreSQL: on autopilot an investigator of
one sandbox community reads a referred contact of the next with a stated reason (audited), the
supervisor reviews it the same day, the score judges the reviews, and the drill's summary holds the
drill-sandbox retention rule's dry run; nothing of it reaches a real review list."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import func, select

from conftest import PASSWORD, World, token_for
from fangkong.core.models import AuditEntry, Jurisdiction, Person
from fangkong.modeling import drill_privacy
from fangkong.privacy.models import AccessGrant
from fangkong.privacy.rules.retention import DRILL_PERIOD_DAYS

DRILL: dict[str, Any] = {
    "people": 1200,
    "days": 14,
    "seed": 5,
    "realtime": False,
    "protocol_id": "cn-9",
    "autopilot": True,
}


def test_the_drill_reads_with_a_reason_reviews_it_and_forecasts_its_sandbox_retention(
    client: Any, world: World, app: Any
) -> None:
    headers = token_for(client, "home_command_centre")
    started = client.post("/api/modeling/drills", json=DRILL, headers=headers)
    assert started.status_code == 201, started.text
    drill = started.json()
    advanced = client.post(
        f"/api/modeling/drills/{drill['id']}/advance",
        json={"to_hours": DRILL["days"] * 24 + 1},
        headers=headers,
    )
    assert advanced.status_code == 200 and advanced.json()["finished"], advanced.text
    status = client.get(f"/api/modeling/drills/{drill['id']}", headers=headers).json()
    kinds = {k["kind"]: k for k in status["events"]}
    for kind in ("privacy_access", "privacy_review"):
        assert kinds[kind]["fed"] == kinds[kind]["due"] == drill_privacy.ACCESS_DAYS, kinds[kind]
        assert kinds[kind]["failed"] == 0
    assert kinds["privacy_retention"]["fed"] == 1

    with app.state.db.unit_of_work() as session:
        sandbox = session.get(Jurisdiction, drill["sandbox_id"]).path
        grants = session.scalars(select(AccessGrant).order_by(AccessGrant.id)).all()
        assert len(grants) == drill_privacy.ACCESS_DAYS
        for grant in grants:
            # A resident of another sandbox community, read for a referred contact, reviewed the same day.
            assert grant.reason == "referred_contact" and grant.reason_text == drill_privacy.TYPED_REASON
            assert grant.person_jpath.startswith(sandbox) and grant.user_jpath.startswith(sandbox)
            assert not grant.person_jpath.startswith(grant.user_jpath)
            assert grant.reviewed_by is not None and grant.reviewed_by.startswith(f"drill:{drill['id']}:")
            assert grant.reviewed_at is not None and grant.reviewed_at - grant.granted_at < dt.timedelta(
                hours=1
            )
            reads = session.scalar(
                select(func.count()).where(
                    AuditEntry.action == "privacy.access_read", AuditEntry.object_id == str(grant.person_ref)
                )
            )
            assert reads >= 1
        residents = session.scalar(select(func.count()).where(Person.jpath.startswith(sandbox)))

    # The drill's summary: what the drill-sandbox rule will delete, and when.
    summary = status["summary"][drill_privacy.SUMMARY_KEY]
    assert summary["action"] == "delete" and summary["period_days"] == DRILL_PERIOD_DAYS
    assert summary["people"] == residents == status["people"]
    assert summary["records"]["tracing_cases"] >= 3
    assert summary["active"] and summary["goes_on"]

    score = client.get(f"/api/modeling/drills/{drill['id']}/score", headers=headers).json()
    measures = {m["key"]: m for m in score["measures"]}
    review = measures["access_review"]
    assert review["status"] == "ok" and review["judged"] == drill_privacy.ACCESS_DAYS
    assert review["points"] == 100.0

    # The drill's page says it in Chinese: the events, the measure and the retention dry run.
    client.cookies.clear()
    login = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "home_command_centre", "password": PASSWORD, "csrf_token": csrf})
    panel = client.get(f"/modeling/drills/{drill['id']}/panel").text
    for words in (
        "说明理由查阅辖区外人员",
        "主管审核辖区外查阅",
        "1 天内经主管审核的辖区外查阅",
        "按演练沙盒保存规则",
    ):
        assert words in panel, words
    assert f"{summary['people']:,} 人" in panel

    # No real supervisor sees the drill's grants.
    admin = token_for(client, "home_administrator")
    assert client.get("/api/privacy/access/review", headers=admin).json() == []
