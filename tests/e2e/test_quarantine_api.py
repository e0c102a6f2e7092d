"""The quarantine JSON API end to end: the reserve list, rooms and their import, activation, placement,
stays, transfer batches and the census, as the roles that use them, on both databases."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from openpyxl import load_workbook

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core import clock
from fangkong.quarantine.models import SiteStatus
from quarantine_support import acting, negative_last_stage_tests, new_site, plan_centralized

API = "/api/quarantine"
LAST_EXPOSURE = dt.date(2026, 12, 6)


def test_sites_rooms_and_the_reserve_standard(client, world: World) -> None:  # type: ignore[no-untyped-def]
    manager = token_for(client, "home_quarantine_manager")
    body = {
        "name": "西湖宾馆",
        "kind": "hotel",
        "jurisdiction_code": HOME_COUNTY,
        "tier": 2,
        "operator": "宾馆",
    }
    created = client.post(f"{API}/sites", json=body, headers=manager)
    assert created.status_code == 201, created.text
    site = created.json()
    assert (site["status"], site["tier"], site["rooms"], site["jurisdiction_name"]) == (
        "reserve",
        2,
        0,
        "西湖区",
    )

    assert client.post(f"{API}/sites", json=body, headers=manager).status_code == 409
    outside = client.post(
        f"{API}/sites", json={**body, "name": "别处", "jurisdiction_code": FOREIGN_COUNTY}, headers=manager
    )
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "jurisdiction_code"
    viewer = token_for(client, "home_investigator")
    assert client.post(f"{API}/sites", json={**body, "name": "x"}, headers=viewer).status_code == 403

    # Staff on duty is no longer typed in (it is the people posted there): a client still sending it is
    # not refused, and the figure stays the postings'.
    patched = client.patch(
        f"{API}/sites/{site['id']}", json={"tier": 1, "staff_on_duty": 12}, headers=manager
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["tier"], patched.json()["staff_on_duty"], patched.json()["name"]) == (
        1,
        0,
        "西湖宾馆",
    )

    rooms = [
        {"number": "101", "floor": "1", "kind": "single"},
        {"number": "102", "floor": "1", "kind": "family", "beds": 3},
        {"number": "201", "floor": "2", "kind": "accessible", "beds": 2},
    ]
    added = client.post(f"{API}/sites/{site['id']}/rooms", json={"rooms": rooms}, headers=manager)
    assert added.status_code == 201, added.text
    assert added.json() == {"added": 3}
    again = client.post(
        f"{API}/sites/{site['id']}/rooms",
        json={"rooms": [{"number": "301"}, {"number": "101"}]},
        headers=manager,
    )
    assert again.status_code == 422
    assert [(e["row"], e["field"]) for e in again.json()["errors"]] == [(2, "number")]

    listed = client.get(f"{API}/sites/{site['id']}/rooms", headers=viewer).json()
    assert sorted(r["number"] for r in listed) == ["101", "102", "201"]
    room_101 = next(r for r in listed if r["number"] == "101")
    off = client.post(
        f"{API}/rooms/{room_101['room_id']}/service", json={"in_service": False}, headers=manager
    )
    assert off.status_code == 200 and off.json()["state"] == "out_of_service"
    back = client.post(
        f"{API}/rooms/{room_101['room_id']}/service", json={"in_service": True}, headers=manager
    )
    assert back.json()["state"] == "free"

    detail = client.get(f"{API}/sites/{site['id']}", headers=viewer).json()
    assert (detail["rooms"], detail["beds"], detail["rooms_by_state"]) == (3, 6, {"free": 3})
    page = client.get(f"{API}/sites", headers=viewer).json()
    assert [s["name"] for s in page["items"]] == ["西湖宾馆"]
    own = page["reserve"][0]
    assert (own["code"], own["rooms"], own["standard"], own["residents"]) == (HOME_COUNTY, 3, 20, 6)
    assert own["shortfall"] == 0 and own["meets_standard"]
    assert own["source"]
    standard = client.get(f"{API}/reserve-standard", headers=viewer).json()
    assert standard[0] == own

    # Outside its jurisdiction a site is not found.
    away = token_for(client, "away_quarantine_manager")
    assert client.get(f"{API}/sites/{site['id']}", headers=away).status_code == 404
    assert client.get(f"{API}/sites", headers=away).json()["items"] == []


def test_room_import_template_dry_run_and_bad_rows(client, world: World) -> None:  # type: ignore[no-untyped-def]
    manager = token_for(client, "home_quarantine_manager")
    site = client.post(
        f"{API}/sites",
        json={"name": "隔离点甲", "kind": "purpose_built", "jurisdiction_code": HOME_COUNTY},
        headers=manager,
    ).json()
    template = client.get(f"{API}/rooms/template", headers=manager)
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("application/vnd.openxmlformats")
    header = [c.value for c in load_workbook(io.BytesIO(template.content)).worksheets[0][1]]
    assert header[0] == "房间号"

    bad = "房间号,楼层,房型,床位\n101,1,单人间,1\n102,1,套房,1\n101,1,单人间,\n"
    refused = client.post(
        f"{API}/sites/{site['id']}/rooms/import",
        files={"file": ("rooms.csv", bad.encode("utf-8"), "text/csv")},
        headers=manager,
    )
    assert refused.status_code == 422, refused.text
    named = {(e["row"], e["field"]) for e in refused.json()["errors"]}
    assert (3, "房型") in named and (4, "房间号") in named

    good = "房间号,楼层,房型,床位\n101,1,单人间,1\n102,1,家庭房,3\n201,2,无障碍间,2\n"
    dry = client.post(
        f"{API}/sites/{site['id']}/rooms/import",
        params={"dry_run": True},
        files={"file": ("rooms.csv", good.encode("utf-8"), "text/csv")},
        headers=manager,
    )
    assert dry.status_code == 200, dry.text
    assert (dry.json()["rows"], dry.json()["added"], dry.json()["dry_run"], dry.json()["beds"]) == (
        3,
        0,
        True,
        6,
    )
    assert client.get(f"{API}/sites/{site['id']}", headers=manager).json()["rooms"] == 0
    real = client.post(
        f"{API}/sites/{site['id']}/rooms/import",
        files={"file": ("rooms.csv", good.encode("utf-8"), "text/csv")},
        headers=manager,
    )
    assert real.json()["added"] == 3
    assert client.get(f"{API}/sites/{site['id']}", headers=manager).json()["rooms"] == 3
    junk = client.post(
        f"{API}/sites/{site['id']}/rooms/import",
        files={"file": ("rooms.xlsx", b"not a workbook", "application/octet-stream")},
        headers=manager,
    )
    assert junk.status_code == 422


def test_activation_is_approved_by_the_command_centre_and_recorded(client, world: World) -> None:  # type: ignore[no-untyped-def]
    manager = token_for(client, "home_quarantine_manager")
    command = token_for(client, "home_command_centre")
    rule = client.get(f"{API}/activation/rule", headers=command).json()
    assert (rule["occupancy_threshold"], rule["forecast_hours"], rule["is_default"]) == (0.8, 48, True)
    changed = client.put(
        f"{API}/activation/rule", json={"occupancy_threshold": 0.7, "forecast_hours": 24}, headers=manager
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["occupancy_threshold"], changed.json()["is_default"]) == (0.7, False)
    assert (
        client.put(
            f"{API}/activation/rule", json={"occupancy_threshold": 1.5, "forecast_hours": 24}, headers=manager
        ).status_code
        == 422
    )

    site = client.post(
        f"{API}/sites",
        json={"name": "一梯队", "kind": "hotel", "jurisdiction_code": HOME_COUNTY},
        headers=manager,
    ).json()
    assert client.post(f"{API}/sites/{site['id']}/activate", json={}, headers=manager).status_code == 403
    activated = client.post(f"{API}/sites/{site['id']}/activate", json={"reason": "演练"}, headers=command)
    assert activated.status_code == 200, activated.text
    assert (activated.json()["previous"], activated.json()["status"]) == ("reserve", "preparing")
    assert activated.json()["approved_by"] == "home_command_centre"
    assert client.post(f"{API}/sites/{site['id']}/activate", json={}, headers=command).status_code == 409
    opened = client.post(f"{API}/sites/{site['id']}/open", json={}, headers=manager)
    assert opened.json()["status"] == "open"
    advice = client.get(f"{API}/activation/advice", headers=command)
    assert advice.status_code == 200, advice.text
    assert advice.json()["rule"]["occupancy_threshold"] == 0.7
    closing = client.post(f"{API}/sites/{site['id']}/start-closing", json={}, headers=manager)
    assert closing.json()["status"] == "closing"
    back = client.post(f"{API}/sites/{site['id']}/finish-closing", json={}, headers=manager)
    assert back.json()["status"] == "reserve", back.text
    history = client.get(f"{API}/activation/history", params={"site_id": site["id"]}, headers=command).json()
    assert [h["status"] for h in history] == ["reserve", "closing", "open", "preparing"]
    assert history[-1]["reason"] == "演练"


def _placement_world(app, world: World) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """An open site with two single rooms and a family room, and three home people under plans."""
    people = world.people[HOME_COUNTY]
    with acting(app, "home_quarantine_manager") as (session, me):
        site = new_site(session, me, "开放点", rooms=3, status=SiteStatus.open)
        for pid in people[:4]:
            plan_centralized(session, pid, LAST_EXPOSURE)
        return {"site": site.id, "people": people[:4]}


def test_placement_stays_transfers_and_census(
    app, client, world: World, tmp_path: Path, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seeded = _placement_world(app, world)
    site_id, people = seeded["site"], seeded["people"]
    assert isinstance(people, list)
    manager = token_for(client, "home_quarantine_manager")
    reader = token_for(client, "home_community_worker")

    waiting = client.get(f"{API}/to-place", headers=reader)
    assert waiting.status_code == 200, waiting.text
    assert waiting.json()["total"] == 4
    row = waiting.json()["items"][0]
    assert row["category"] == "close_contact" and row["name"] and row["release"]
    assert row["hours_left"] <= 8

    needs = client.put(f"{API}/people/{people[1]}/needs", json={"chronically_ill": True}, headers=manager)
    assert needs.status_code == 200 and needs.json()["chronically_ill"] is True

    rooms = client.get(f"{API}/sites/{site_id}/rooms", headers=reader).json()
    first, second = rooms[0]["room_id"], rooms[1]["room_id"]
    placed = client.post(
        f"{API}/place-in-room", json={"person_id": people[0], "room_id": first}, headers=manager
    )
    assert placed.status_code == 201, placed.text
    stay = placed.json()
    assert (stay["state"], stay["room_id"], stay["site_id"]) == ("placed", first, site_id)
    taken = client.post(
        f"{API}/place-in-room", json={"person_id": people[1], "room_id": first}, headers=manager
    )
    assert taken.status_code == 409
    assert "single room" in taken.json()["detail"]
    twice = client.post(
        f"{API}/place-in-room", json={"person_id": people[0], "room_id": second}, headers=manager
    )
    assert twice.status_code == 409
    assert (
        client.post(
            f"{API}/place-in-room", json={"person_id": people[1], "room_id": first}, headers=reader
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"{API}/place-in-room", json={"person_id": people[1], "room_id": 999_999}, headers=manager
        ).status_code
        == 404
    )

    bulk = client.post(f"{API}/place", json={"person_ids": people[1:]}, headers=manager)
    assert bulk.status_code == 200, bulk.text
    report = bulk.json()
    assert report["placed"] + len(report["unplaced"]) == 3
    assert report["placed"] == 2
    assert all(u["reason"] and u["message"] for u in report["unplaced"])

    board = client.get(f"{API}/sites/{site_id}/board", headers=reader).json()
    occupants = [p for f in board["floors"] for r in f["rooms"] for p in r["people"]]
    assert len(occupants) == 3
    assert all(p["until"] for p in occupants)

    stays = client.get(f"{API}/people/{people[0]}/stays", headers=reader).json()
    assert [s["id"] for s in stays] == [stay["id"]]
    checked = client.post(f"{API}/stays/{stay['id']}/check-in", json={}, headers=manager)
    assert checked.status_code == 200 and checked.json()["state"] == "checked_in"
    assert client.post(f"{API}/stays/{stay['id']}/check-in", json={}, headers=manager).status_code == 409

    batches = client.post(f"{API}/transfers", json={"seats": 4}, headers=manager)
    assert batches.status_code == 201, batches.text
    assert sum(b["riders"] for b in batches.json()) == 2
    listed = client.get(f"{API}/transfers", headers=reader).json()
    assert {b["id"] for b in listed} == {b["id"] for b in batches.json()}
    batch = batches.json()[0]
    sheet = client.get(f"{API}/transfers/{batch['id']}/sheet", headers=reader)
    assert sheet.status_code == 200 and not sheet.json()["revealed"]
    arrived = client.post(f"{API}/transfers/{batch['id']}/arrival", json={}, headers=manager)
    assert arrived.status_code == 200 and arrived.json()["count"] == batch["riders"]

    census = client.get(f"{API}/census", params={"chart": True}, headers=reader)
    assert census.status_code == 200, census.text
    figures = census.json()
    assert figures["occupied"] == 3 and figures["capacity_open"] == 3
    assert figures["chart"]["series"] and len(figures["projection"]) == 7
    assert client.get(f"{API}/census", headers=reader).json()["chart"] is None

    # Everyone's stage ends within three weeks, but a release waits for the stage's last test.
    held = client.post(f"{API}/release-due", json={"on": "2026-12-31"}, headers=manager)
    assert held.status_code == 200 and held.json()["count"] == 0
    # Three weeks on, the lab has reported those tests negative: all are released, rooms go to cleaning.
    frozen_clock.set(clock.from_local(dt.datetime(2026, 12, 31, 9, 0)))
    negative_last_stage_tests(app.state.db, tmp_path, people)
    released = client.post(f"{API}/release-due", json={}, headers=manager)
    assert released.status_code == 200 and released.json()["count"] == 3
    rooms = client.get(f"{API}/sites/{site_id}/rooms", headers=reader).json()
    assert {r["state"] for r in rooms} == {"cleaning"}
    cleaned = client.post(f"{API}/rooms/{first}/cleaning", json={"note": "终末消毒"}, headers=manager)
    assert cleaned.status_code == 200 and cleaned.json()["state"] == "free"
    assert client.post(f"{API}/rooms/{first}/cleaning", json={}, headers=manager).status_code == 409


def test_bad_input_is_a_clear_4xx(client, world: World) -> None:  # type: ignore[no-untyped-def]
    manager = token_for(client, "home_quarantine_manager")
    for method, path, body in (
        ("post", "/sites", {"name": "", "kind": "hotel", "jurisdiction_code": HOME_COUNTY}),
        ("post", "/sites", {"name": "x", "kind": "castle", "jurisdiction_code": HOME_COUNTY}),
        ("post", "/place", {"person_ids": []}),
        ("post", "/place-in-room", {"person_id": 2**40, "room_id": 1}),
        ("post", "/transfers", {"seats": 0}),
        ("post", "/stays/1/check-in", {"at": "10000-01-01T00:00:00"}),
        ("put", "/activation/rule", {"occupancy_threshold": 0, "forecast_hours": 1}),
    ):
        response = getattr(client, method)(f"{API}{path}", json=body, headers=manager)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    assert client.get(f"{API}/sites/1", headers=manager).status_code == 404
    assert client.post(f"{API}/stays/77/move", json={"room_id": 1}, headers=manager).status_code == 404
    assert client.get(f"{API}/transfers/5/sheet", headers=manager).status_code == 404
    assert client.get(f"{API}/census", params={"days_ahead": 99}, headers=manager).status_code == 422
