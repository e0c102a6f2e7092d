"""Switching the protocol in force re-plans and counts every contact under management (issue 11, item 4).

西湖区 went from cn-9 to cn-9-20 and the page said "重新计算方案人数 0 · 方案有变化 0" while the contacts'
plans did change: the switch counted only the plans stored for registry people, and a contact entered by
name and phone (not in the registry) has none. On both databases: such a contact and a registry contact
are both re-planned and counted, a preview changes nothing, and the changes read in Chinese and English.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import HOME_COUNTY, World
from fangkong.core import audit
from fangkong.core.models import Jurisdiction
from fangkong.protocol import service as protocols
from fangkong.protocol.models import ManagementPlanRecord, PlanState
from protocol_switch_support import seed_contacts


def _county(session: Session) -> Jurisdiction:
    county = session.scalar(select(Jurisdiction).where(Jurisdiction.code == HOME_COUNTY))
    assert county is not None
    return county


def test_a_switch_replans_and_counts_contacts_in_and_out_of_the_registry(app, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    ids = seed_contacts(app, world, settings)
    with app.state.db.unit_of_work() as session:
        preview = protocols.preview_switch(session, _county(session), "cn-9-20")
    with app.state.db.unit_of_work() as session:
        # The preview wrote nothing: cn-9 is still in force and the stored plan is still cn-9's.
        assert protocols.protocol_id_in_force(session, _county(session).path) == "cn-9"
        stored = session.scalar(
            select(ManagementPlanRecord).where(ManagementPlanRecord.person_id == ids["second_person"])
        )
        assert (stored.protocol_id, stored.state) == ("cn-9", PlanState.active)
        report = protocols.switch_protocol(session, audit.SYSTEM, _county(session), "cn-9-20")
    for counted in (preview, report):
        assert (counted.old_protocol, counted.new_protocol) == ("cn-9", "cn-9-20")
        assert (counted.replanned, counted.changed) == (2, 2)
        assert [c for c, _, _ in counted.lines] == ["close_contact", "contact_of_contact"] or [
            c for c, _, _ in counted.lines
        ] == ["contact_of_contact", "close_contact"]
    assert [cid for cid, _ in report.contact_changes] == [ids["close"]]
    assert [pid for pid, _ in report.changes] == [ids["second_person"]]
    lines = {category: parts for category, parts, _ in report.lines}
    # cn-9-20: a close contact is 5 days centralised + 3 days at home, 2 days fewer than cn-9's 7 + 3.
    close = [part.render("zh") for part in lines["close_contact"]]
    assert "管控结束时间提前 2 天" in close
    assert "第 1 阶段（集中隔离医学观察）：7 天 → 5 天" in close
    assert "management ends 2 days earlier" in [part.render("en") for part in lines["close_contact"]]
    # A contact of a contact is no longer identified: management ends.
    assert lines["contact_of_contact"][0].render("zh") == "cn-9-20 不再判定此类人员：管控结束"
    with app.state.db.unit_of_work() as session:
        stored = session.scalar(
            select(ManagementPlanRecord).where(ManagementPlanRecord.person_id == ids["second_person"])
        )
        assert (stored.protocol_id, stored.state) == ("cn-9-20", PlanState.ended)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_switching_to_the_protocol_in_force_is_only_a_preview(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from conftest import token_for

    headers = {**token_for(client, "home_administrator"), "accept": "text/html"}
    page = client.get("/protocols", headers=headers)
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/protocols/switch",
        data={"protocol_id": "cn-9", "confirmed": "yes", "csrf_token": csrf},
        headers=headers,
    )
    assert answer.status_code == 200
    assert "本辖区已在执行 cn-9，无需切换。" in answer.text
    assert 'data-testid="switch-report"' not in answer.text
