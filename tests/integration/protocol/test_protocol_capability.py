"""The protocol capability on real databases: plans from events, switching with re-planning, uploads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core.events import EventBus, PersonPlacedUnderManagement
from fangkong.core.models import Person
from fangkong.protocol.models import ManagementPlanRecord
from fangkong.wiring import build_bus

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "protocol"


def _place(app, person_id: int, category: str, last_exposure: dt.date, source: str) -> None:  # type: ignore[no-untyped-def]
    bus: EventBus = build_bus()
    with app.state.db.unit_of_work() as session:
        person = session.get(Person, person_id)
        bus.publish(
            session, PersonPlacedUnderManagement(person_id, person.jpath, category, last_exposure, source)
        )


def test_placing_a_contact_stores_the_cn9_plan(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    person_id = world.people[HOME_COUNTY][0]
    _place(app, person_id, "close_contact", dt.date(2022, 7, 1), "contact:1")
    headers = token_for(client, "home_investigator")
    plans = client.get(f"/api/people/{person_id}/plans", headers=headers).json()
    assert len(plans) == 1
    plan = plans[0]["plan"]
    assert plan["protocol"] == "cn-9"
    kinds = [(s["type"], s["days"]) for s in plan["stages"]]
    assert kinds == [("centralized_quarantine", 7), ("home_health_monitoring", 3)]


def test_a_later_exposure_restarts_the_clock_an_earlier_one_does_not(app, world: World) -> None:  # type: ignore[no-untyped-def]
    person_id = world.people[HOME_COUNTY][1]
    _place(app, person_id, "close_contact", dt.date(2022, 7, 5), "contact:2")
    _place(app, person_id, "close_contact", dt.date(2022, 7, 3), "contact:2")
    with app.state.db.unit_of_work() as session:
        record = session.scalar(
            select(ManagementPlanRecord).where(ManagementPlanRecord.person_id == person_id)
        )
        assert record.clock_date == dt.date(2022, 7, 5)
    _place(app, person_id, "close_contact", dt.date(2022, 7, 8), "contact:2")
    with app.state.db.unit_of_work() as session:
        record = session.scalar(
            select(ManagementPlanRecord).where(ManagementPlanRecord.person_id == person_id)
        )
        assert record.clock_date == dt.date(2022, 7, 8)


def test_switching_a_county_replans_its_people_and_is_audited(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    for i, person_id in enumerate(world.people[HOME_COUNTY] + world.people[FOREIGN_COUNTY]):
        _place(app, person_id, "close_contact", dt.date(2022, 11, 1), f"contact:{i}")
    admin = token_for(client, "home_administrator")
    county = world.jurisdictions[HOME_COUNTY]
    result = client.post(
        f"/api/jurisdictions/{county}/protocol", json={"protocol_id": "cn-9-20"}, headers=admin
    )
    assert result.status_code == 200, result.text
    body = result.json()
    assert (body["old_protocol"], body["new_protocol"]) == ("cn-9", "cn-9-20")
    assert body["replanned"] == len(world.people[HOME_COUNTY])  # the foreign county is untouched
    assert body["changed"] == body["replanned"]
    assert body["summary"][0]["people"] == body["replanned"]
    with app.state.db.unit_of_work() as session:
        rows = session.execute(
            select(
                ManagementPlanRecord.person_id,
                ManagementPlanRecord.protocol_id,
                ManagementPlanRecord.end_date,
            )
        ).all()
    by_person = {pid: (proto, end) for pid, proto, end in rows}
    for pid in world.people[HOME_COUNTY]:
        # 20 measures: 5 days centralized + 3 days home isolation = 8 days from 2022-11-01 (day 0).
        assert by_person[pid] == ("cn-9-20", dt.date(2022, 11, 9))
    for pid in world.people[FOREIGN_COUNTY]:
        assert by_person[pid] == ("cn-9", dt.date(2022, 11, 11))
    in_force = client.get(f"/api/jurisdictions/{county}/protocol", headers=admin).json()
    assert in_force == {"jurisdiction_id": county, "protocol_id": "cn-9-20", "assigned_here": True}
    audit = client.get("/api/audit", headers=token_for(client, "province_admin")).json()
    assert any(e["action"] == "protocol.switch" for e in audit)


def test_only_administrators_switch(client, world: World) -> None:  # type: ignore[no-untyped-def]
    county = world.jurisdictions[HOME_COUNTY]
    investigator = token_for(client, "home_investigator")
    response = client.post(
        f"/api/jurisdictions/{county}/protocol", json={"protocol_id": "cn-9-20"}, headers=investigator
    )
    assert response.status_code == 403


def test_a_broken_upload_is_refused_with_key_and_line_and_nothing_changes(client, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = token_for(client, "home_administrator")
    broken = (FIXTURES / "negative_days.yaml").read_bytes()
    response = client.post(
        "/api/protocols", files={"file": ("broken.yaml", broken, "text/yaml")}, headers=admin
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors and all(e["row"] > 0 for e in errors)
    assert any("days" in e["field"] for e in errors)
    listed = {p["id"] for p in client.get("/api/protocols", headers=admin).json()}
    assert "minimal" not in listed and "cn-9" in listed
    county = world.jurisdictions[HOME_COUNTY]
    assert client.get(f"/api/jurisdictions/{county}/protocol", headers=admin).json()["protocol_id"] == "cn-9"


def test_plan_api_computes_under_the_protocol_in_force(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_investigator")
    response = client.post(
        "/api/protocols/plan",
        json={"category": "close_contact", "last_exposure": "2022-07-01"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["end_date"] == "2022-07-11"
    assert [t["due"] for t in plan["tests"]][:5] == [
        "2022-07-02",
        "2022-07-03",
        "2022-07-04",
        "2022-07-06",
        "2022-07-08",
    ]
    unknown = client.post("/api/protocols/plan", json={"category": "nobody"}, headers=headers)
    assert unknown.status_code == 422


def test_diff_and_page(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_viewer")
    rows = client.get(
        "/api/protocols/diff", params={"a": "cn-9", "b": "cn-9-20", "changed_only": True}, headers=headers
    )
    assert rows.status_code == 200 and rows.json()
    assert (
        client.get("/api/protocols/diff", params={"a": "cn-9", "b": "nope"}, headers=headers).status_code
        == 404
    )


def test_a_batch_of_placements_is_planned_like_single_ones(app, world: World) -> None:  # type: ignore[no-untyped-def]
    from fangkong.core.events import PeoplePlacedUnderManagement, PersonPlacedUnderManagement

    people = world.people[HOME_COUNTY]
    with app.state.db.unit_of_work() as session:
        paths = {pid: session.get(Person, pid).jpath for pid in people}
        placements = (
            PersonPlacedUnderManagement(
                people[0], paths[people[0]], "close_contact", dt.date(2022, 7, 1), "contact:a"
            ),
            # the same source again, later: the clock restarts within the batch
            PersonPlacedUnderManagement(
                people[0], paths[people[0]], "close_contact", dt.date(2022, 7, 4), "contact:a"
            ),
            PersonPlacedUnderManagement(
                people[1],
                paths[people[1]],
                "confirmed",
                dt.date(2022, 7, 2),
                "case:1",
                clock_event="diagnosis",
            ),
        )
        build_bus().publish(session, PeoplePlacedUnderManagement(placements))
    with app.state.db.unit_of_work() as session:
        rows = {
            (r.person_id, r.source): r
            for r in session.scalars(
                select(ManagementPlanRecord).where(ManagementPlanRecord.person_id.in_(people))
            )
        }
        assert len(rows) == 2
        contact = rows[(people[0], "contact:a")]
        assert (contact.clock_date, contact.end_date) == (dt.date(2022, 7, 4), dt.date(2022, 7, 14))
        case = rows[(people[1], "case:1")]
        assert (case.category, case.diagnosis, case.clock_date) == (
            "confirmed",
            dt.date(2022, 7, 2),
            dt.date(2022, 7, 2),
        )
