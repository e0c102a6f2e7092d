"""The areas JSON API: proposals approved and listed, the timeline and the due list, the arrivals worklist
and the checkpoint's audited look-up, doorstep requests (emergencies first), and the permissions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from areas_support import HOME_COMMUNITY, area_in_force, as_user, register_case
from conftest import HOME_COUNTY, World, token_for
from fangkong.core import clock
from fangkong.core.crypto import Vault
from fangkong.core.models import AuditEntry
from fangkong.wiring import build_bus


def _propose(client, app, settings, world: World) -> dict:  # type: ignore[no-untyped-def]
    vault = Vault(settings.encryption_key, settings.hash_key)
    register_case(app.state.db, vault, build_bus(), world, 0, found_on=clock.today() - dt.timedelta(days=1))
    answer = client.post("/api/areas/proposals", headers=token_for(client, "home_command_centre"), json={})
    assert answer.status_code == 200, answer.text
    created = answer.json()["created"]
    assert created and created[0]["state"] == "proposed" and created[0]["level"] == "high"
    return created[0]


def test_a_proposal_approved_with_a_new_name_is_listed_in_force_with_its_timeline(  # type: ignore[no-untyped-def]
    client, app, settings, world: World
) -> None:
    proposal = _propose(client, app, settings, world)
    centre = token_for(client, "home_command_centre")
    investigator = token_for(client, "home_investigator")
    refused = client.post(f"/api/areas/{proposal['id']}/approve", headers=investigator, json={})
    assert refused.status_code == 403
    bad = client.post(f"/api/areas/{proposal['id']}/approve", headers=centre, json={"level": "severe"})
    assert bad.status_code == 422
    approved = client.post(
        f"/api/areas/{proposal['id']}/approve", headers=centre, json={"name": "保俶社区 幸福路1号楼"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "in_force" and approved.json()["approved_by"] == "home_command_centre"
    again = client.post(f"/api/areas/{proposal['id']}/approve", headers=centre, json={})
    assert again.status_code == 409
    listed = client.get("/api/areas?state=in_force", headers=investigator).json()
    assert [a["name"] for a in listed["items"]] == ["保俶社区 幸福路1号楼"] and listed["total"] == 1
    steps = client.get(f"/api/areas/{proposal['id']}/timeline", headers=investigator).json()
    assert [s["kind"] for s in steps] == ["proposed", "designated"]
    counties = client.get("/api/areas/counties", headers=investigator).json()
    assert counties[0]["code"] == HOME_COUNTY and counties[0]["rest_is_low"] is True
    assert client.get("/api/areas/due", headers=investigator).json() == []
    ahead = (clock.today() + dt.timedelta(days=8)).isoformat()
    due = client.get(f"/api/areas/due?on={ahead}", headers=investigator).json()
    assert due and due[0]["to_level"] == "medium" and due[0]["ready"] is False  # no negative round yet
    calendar = client.get("/api/areas/calendar", headers=investigator).json()
    assert calendar[0]["area_id"] == proposal["id"]
    early = client.post(f"/api/areas/{proposal['id']}/apply", headers=centre, json={"to_level": "medium"})
    assert early.status_code == 409
    assert client.get("/api/areas/due?on=1900-01-01", headers=investigator).status_code == 422
    assert client.get("/api/areas/999999", headers=investigator).status_code == 404
    assert client.get("/api/areas", headers=token_for(client, "home_viewer")).status_code == 403
    assert client.get("/api/areas", headers=token_for(client, "away_command_centre")).json()["total"] == 0


def test_a_proposal_rejected_leaves_the_list_of_areas_in_force_empty(
    client, app, settings, world: World
) -> None:  # type: ignore[no-untyped-def]
    proposal = _propose(client, app, settings, world)
    centre = token_for(client, "home_command_centre")
    rejected = client.post(f"/api/areas/{proposal['id']}/reject", headers=centre, json={"reason": "误报"})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert client.get("/api/areas?state=in_force", headers=centre).json()["total"] == 0


def test_arrivals_reported_by_staff_merge_and_the_checkpoint_sees_only_what_it_needs(  # type: ignore[no-untyped-def]
    client, app, world: World
) -> None:
    from conftest import valid_id

    worker = token_for(client, "home_community_worker")
    today = clock.today()
    number = valid_id("330203", "19900101", 321)
    body = {
        "id_number": number,
        "name": "赵敏",
        "phone": "13900139000",
        "origin_county_code": "330203",
        "departed_on": (today - dt.timedelta(days=2)).isoformat(),
        "arrived_on": (today - dt.timedelta(days=1)).isoformat(),
        "destination_code": HOME_COMMUNITY,
        "address": "保俶路1号",
    }
    first = client.post("/api/areas/arrivals", headers=worker, json=body)
    assert first.status_code == 201, first.text
    second = client.post("/api/areas/arrivals", headers=worker, json={**body, "channel": "hotline"})
    assert second.json()["merged"] is True and second.json()["arrival_id"] == first.json()["arrival_id"]
    work = client.get("/api/areas/arrivals/worklist", headers=worker).json()
    assert work["total"] == 1 and work["items"][0]["reports"] == 2
    row = work["items"][0]
    assert number not in str(work) and "13900139000" not in str(work) and row["name"] != "赵敏"
    marked = client.post(
        f"/api/areas/arrivals/{row['id']}/state", headers=worker, json={"state": "contacted"}
    )
    assert marked.status_code == 200 and marked.json()["state"] == "contacted"
    assert (
        client.post(f"/api/areas/arrivals/{row['id']}/state", headers=worker, json={"state": "x"}).status_code
        == 422
    )

    with app.state.db.unit_of_work() as session:
        before = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "checkpoint.lookup")
        )
    found = client.post(
        "/api/areas/checkpoint/lookup", headers=worker, json={"id_number": number, "checkpoint": "杭州东站"}
    ).json()
    assert found["found"] is True and set(found) == {"found", "name", "category", "measure", "valid_until"}
    assert found["category"] == row["category"] and "赵" in found["name"] and found["name"] != "赵敏"
    missing = client.post(
        "/api/areas/checkpoint/lookup",
        headers=worker,
        json={"id_number": valid_id("330106", "19800101", 999), "checkpoint": "杭州东站"},
    ).json()
    assert missing == {"found": False, "name": None, "category": None, "measure": None, "valid_until": None}
    bad = client.post(
        "/api/areas/checkpoint/lookup", headers=worker, json={"id_number": "123", "checkpoint": "杭州东站"}
    )
    assert bad.status_code == 422
    with app.state.db.unit_of_work() as session:
        after = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "checkpoint.lookup")
        )
    assert after - before == 2
    analyst = token_for(client, "home_surveillance_analyst")
    assert (
        client.post(
            "/api/areas/checkpoint/lookup", headers=analyst, json={"id_number": number, "checkpoint": "x"}
        ).status_code
        == 403
    )


def test_doorstep_requests_emergencies_first_taken_done_and_departments(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    with as_user(app, "home_command_centre") as (session, _me):
        area_id = area_in_force(session, place_code=HOME_COMMUNITY, name="保俶社区", unit_kind="community")
    worker = token_for(client, "home_community_worker")
    food = client.post(
        "/api/areas/doorstep/requests",
        headers=worker,
        json={"kind": "food", "area_id": area_id, "detail": "米面"},
    )
    emergency = client.post(
        "/api/areas/doorstep/requests",
        headers=worker,
        json={"kind": "medical_emergency", "area_id": area_id, "detail": "孕妇腹痛"},
    )
    assert food.status_code == 201 and emergency.status_code == 201, emergency.text
    listed = client.get("/api/areas/doorstep/requests?open_only=true", headers=worker).json()
    assert [r["kind"] for r in listed] == ["medical_emergency", "food"]
    rid = emergency.json()["id"]
    assert client.post(f"/api/areas/doorstep/requests/{rid}/take", headers=worker).json()["state"] == "taken"
    done = client.post(f"/api/areas/doorstep/requests/{rid}/done", headers=worker, json={"outcome": "送医"})
    assert done.json()["state"] == "done" and done.json()["late"] is False
    board = client.get("/api/areas/doorstep/board", headers=worker).json()
    assert board[0]["area_id"] == area_id and (board[0]["open"], board[0]["done"]) == (1, 1)
    assert (
        client.post(
            "/api/areas/doorstep/requests", headers=worker, json={"kind": "x", "area_id": area_id}
        ).status_code
        == 422
    )
    place = world.jurisdictions[HOME_COUNTY]
    saved = client.put(
        "/api/areas/doorstep/departments",
        headers=worker,
        json={"jurisdiction_id": place, "name": "浙大一院急诊科", "open": True, "phone": "0571-1"},
    )
    assert saved.status_code == 200, saved.text
    assert [d["name"] for d in client.get("/api/areas/doorstep/departments", headers=worker).json()] == [
        "浙大一院急诊科"
    ]
    person = world.people[HOME_COUNTY][1]
    flags = client.put(f"/api/areas/doorstep/people/{person}/flags", headers=worker, json={"pregnant": True})
    assert flags.status_code == 200 and flags.json()["pregnant"] is True
    vulnerable = client.get(f"/api/areas/{area_id}/vulnerable", headers=worker).json()
    assert any(v["person_id"] == person and "pregnant" in v["reasons"] for v in vulnerable)
    foreign = world.people["330203"][0]
    assert (
        client.put(f"/api/areas/doorstep/people/{foreign}/flags", headers=worker, json={}).status_code == 404
    )
    assert (
        client.get("/api/areas/doorstep/requests", headers=token_for(client, "home_investigator")).status_code
        == 403
    )
