"""The outreach routes over HTTP: who may call them, the scope, the answers and the named errors."""

from __future__ import annotations

from typing import Any

from conftest import FOREIGN_COUNTY, World, token_for
from fangkong.core import clock
from fangkong.vaccination.service import status
from vaccination_support import HOME_A, add_person, seed_vaccination_foreign


def test_the_outreach_routes(client: Any, app: Any, world: World) -> None:
    elder = add_person(app, world, HOME_A, "19380501")
    with app.state.db.unit_of_work() as session:
        status.evaluate(session)
    worker = token_for(client, "home_community_worker")
    viewer = token_for(client, "home_viewer")
    assert client.get("/api/vaccination/outreach", headers=viewer).status_code == 403
    listed = client.get("/api/vaccination/outreach?min_age=80", headers=worker)
    assert listed.status_code == 200, listed.text
    assert [i["person_id"] for i in listed.json()["items"]] == [elder]
    assert client.get("/api/vaccination/outreach?jurisdiction=330203", headers=worker).status_code == 404
    url = f"/api/vaccination/outreach/{elder}/attempts"
    bad = client.post(url, headers=worker, json={"method": "phone", "outcome": "appointment", "note": "x"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["appointment_on"]
    made = client.post(
        url,
        headers=worker,
        json={"method": "door", "outcome": "appointment", "appointment_on": clock.today().isoformat()},
    )
    assert made.status_code == 201, made.text
    assert made.json()["recorded_by"] == "home_community_worker"
    assert [a["outcome"] for a in client.get(url, headers=worker).json()] == ["appointment"]
    foreign = f"/api/vaccination/outreach/{world.people[FOREIGN_COUNTY][0]}/attempts"
    assert (
        client.post(foreign, headers=worker, json={"method": "phone", "outcome": "refused"}).status_code
        == 404
    )
    assert client.post(url, headers=viewer, json={"method": "phone", "outcome": "refused"}).status_code == 403
    reminders = client.get("/api/vaccination/outreach/reminders", headers=worker)
    assert reminders.status_code == 200
    gaps = client.get("/api/vaccination/outreach/gaps", headers=token_for(client, "home_command_centre"))
    assert gaps.status_code == 200 and gaps.json()["items"][0]["code"] == HOME_A
    assert "海曙区" not in gaps.text and "南门" not in gaps.text


def test_a_foreign_card_is_not_found(client: Any, app: Any, world: World) -> None:
    card = seed_vaccination_foreign(app, world)["aefi_id"]
    worker = token_for(client, "home_community_worker")
    assert client.get(f"/api/vaccination/aefi/{card}", headers=worker).status_code == 404
    assert client.post(f"/api/vaccination/aefi/{card}/send", headers=worker).status_code == 404
    review = client.post(
        f"/api/vaccination/aefi/{card}/review",
        headers=token_for(client, "home_command_centre"),
        json={"causality": "c"},
    )
    assert review.status_code == 404
    assert (
        client.get(f"/api/vaccination/aefi/{card}", headers=token_for(client, "away_viewer")).status_code
        == 200
    )
