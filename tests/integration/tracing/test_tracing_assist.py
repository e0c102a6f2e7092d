"""Jurisdiction boundaries over HTTP: a county sees another county's tracing data only through an assist
request it has accepted, and then only the referred person; the sender sees the outcome, not more."""

from __future__ import annotations

import datetime as dt

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core.events import PersonPlacedUnderManagement


def _home_case_with_a_contact_living_away(client, world: World) -> tuple[int, int, dict[str, str]]:  # type: ignore[no-untyped-def]
    home = token_for(client, "home_investigator")
    index = world.people[HOME_COUNTY][0]
    response = client.post(
        "/api/tracing/cases",
        headers=home,
        json={
            "classification": "confirmed",
            "case_ref": "XH-1",
            "onset_date": "2022-07-05",
            "isolated_at": "2022-07-06T10:00:00",
            "person": {"id_number": world.id_numbers[index]},
        },
    )
    assert response.status_code == 201, response.text
    case_id = response.json()["id"]
    away_person = world.people[FOREIGN_COUNTY][0]
    response = client.post(
        f"/api/tracing/cases/{case_id}/exposures",
        headers=home,
        json={
            "exposures": [
                {
                    "setting": "聚餐",
                    "start": "2022-07-04T18:00:00",
                    "end": "2022-07-04T20:00:00",
                    "person": {
                        "name": "张伟",
                        "id_number": world.id_numbers[away_person],
                        "phone": "13800130099",
                        "residence_code": FOREIGN_COUNTY,
                    },
                }
            ]
        },
    )
    assert response.status_code == 201, response.text
    (contact,) = response.json()
    assert contact["category"] == "close_contact"
    assert contact["lives_elsewhere"] is True
    return case_id, contact["id"], home


def test_the_other_county_sees_nothing_without_a_request(client, world: World) -> None:  # type: ignore[no-untyped-def]
    case_id, contact_id, _home = _home_case_with_a_contact_living_away(client, world)
    away = token_for(client, "away_investigator")
    assert client.get(f"/api/tracing/cases/{case_id}", headers=away).status_code == 404
    assert client.get(f"/api/tracing/contacts/{contact_id}", headers=away).status_code == 404
    assert client.get(f"/api/tracing/cases/{case_id}/chain", headers=away).status_code == 404
    assert client.get("/api/tracing/cases", headers=away).json()["total"] == 0
    assert client.get("/api/tracing/contacts", headers=away).json()["total"] == 0
    assert client.get("/api/tracing/assist?box=received", headers=away).json()["total"] == 0


def test_an_accepted_request_shows_the_referred_person_and_only_them(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    placed: list[PersonPlacedUnderManagement] = []
    app.state.bus.subscribe(PersonPlacedUnderManagement, lambda _s, e: placed.append(e))
    case_id, contact_id, home = _home_case_with_a_contact_living_away(client, world)
    sent = client.post(f"/api/tracing/contacts/{contact_id}/assist", headers=home, json={"message": "请协查"})
    assert sent.status_code == 201, sent.text
    request_id = sent.json()["id"]
    steps = {s["name"]: s["due"] for s in sent.json()["steps"]}
    sent_at = dt.datetime.fromisoformat(sent.json()["sent_at"])
    # cn-9's close_contact_transfer_hours (8 h) sets the plan step; acknowledge 2 h, report 24 h.
    assert [
        round((dt.datetime.fromisoformat(steps[k]) - sent_at).total_seconds() / 3600)
        for k in ("acknowledge", "locate", "apply_plan", "report")
    ] == [2, 4, 8, 24]

    away = token_for(client, "away_investigator")
    before = client.get(f"/api/tracing/assist/{request_id}", headers=away).json()
    assert (before["box"], before["status"], before["person"]) == ("received", "sent", None)
    assert before["contact_id"] is None

    assert client.post(f"/api/tracing/assist/{request_id}/acknowledge", headers=away).status_code == 200
    seen = client.get(f"/api/tracing/assist/{request_id}", headers=away).json()
    assert seen["person"]["name"] == "张*"
    assert seen["message"] == "请协查"
    revealed = client.post(f"/api/tracing/assist/{request_id}/reveal", headers=away).json()
    assert revealed["person"]["name"] == "张伟"
    # Still nothing else of the sender's: not the index case, not the contact record, not the chain.
    for path in (
        f"/api/tracing/cases/{case_id}",
        f"/api/tracing/contacts/{contact_id}",
        f"/api/tracing/cases/{case_id}/source-candidates",
        f"/api/people/{world.people[HOME_COUNTY][0]}",
    ):
        assert client.get(path, headers=away).status_code == 404, path
    assert "XH-1" not in client.get(f"/api/tracing/assist/{request_id}", headers=away).text

    located = client.post(f"/api/tracing/assist/{request_id}/locate", headers=away, json={})
    assert located.status_code == 200, located.text
    assert located.json()["located_person_id"] == world.people[FOREIGN_COUNTY][0]
    applied = client.post(f"/api/tracing/assist/{request_id}/apply-plan", headers=away)
    assert applied.status_code == 200, applied.text
    assert applied.json()["plan_summary"].startswith("close contact under cn-9")
    assert [
        (e.person_id, e.category, e.clock_date, e.source) for e in placed if e.source.startswith("contact:")
    ] == [(world.people[FOREIGN_COUNTY][0], "close_contact", dt.date(2022, 7, 4), f"contact:{contact_id}")]
    reported = client.post(
        f"/api/tracing/assist/{request_id}/report",
        headers=away,
        json={"outcome": "managed", "note": "集中隔离"},
    )
    assert reported.status_code == 200, reported.text

    sender_view = client.get(f"/api/tracing/assist/{request_id}", headers=home).json()
    assert (sender_view["box"], sender_view["status"], sender_view["outcome"]) == (
        "sent",
        "reported",
        "managed: 集中隔离",
    )
    assert sender_view["person"] is None
    assert sender_view["located_person_id"] is None
    assert sender_view["plan_summary"] is None
    assert client.get(f"/api/people/{world.people[FOREIGN_COUNTY][0]}", headers=home).status_code == 404


def test_only_the_receiver_acts_on_a_request(client, world: World) -> None:  # type: ignore[no-untyped-def]
    _case_id, contact_id, home = _home_case_with_a_contact_living_away(client, world)
    request_id = client.post(f"/api/tracing/contacts/{contact_id}/assist", headers=home, json={}).json()["id"]
    assert client.post(f"/api/tracing/assist/{request_id}/acknowledge", headers=home).status_code == 403
    assert client.post(f"/api/tracing/contacts/{contact_id}/assist", headers=home, json={}).status_code == 409
    away = token_for(client, "away_community_worker")
    declined = client.post(
        f"/api/tracing/assist/{request_id}/decline", headers=away, json={"reason": "查无此人"}
    )
    assert declined.json()["status"] == "declined"
    assert (
        client.get(f"/api/tracing/assist/{request_id}", headers=home).json()["declined_reason"] == "查无此人"
    )


def test_a_request_cannot_go_to_ones_own_jurisdiction(client, world: World) -> None:  # type: ignore[no-untyped-def]
    _case_id, contact_id, home = _home_case_with_a_contact_living_away(client, world)
    response = client.post(
        f"/api/tracing/contacts/{contact_id}/assist", headers=home, json={"receiver_code": HOME_COUNTY}
    )
    assert response.status_code == 400
    assert "within your own jurisdiction" in response.json()["detail"]
