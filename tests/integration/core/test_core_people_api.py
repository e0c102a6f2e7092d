"""The people registry through the API: scope, masking, reveal auditing, registration errors."""

from __future__ import annotations

from conftest import FOREIGN_COUNTY, HOME_COUNTY, PASSWORD, World, token_for, valid_id


def test_county_user_lists_only_their_county(client, world: World) -> None:
    headers = token_for(client, "home_investigator")
    body = client.get("/api/people", headers=headers).json()
    assert body["total"] == len(world.people[HOME_COUNTY])
    assert {p["id"] for p in body["items"]} == set(world.people[HOME_COUNTY])


def test_foreign_person_is_not_found_by_id_search_or_export(client, world: World) -> None:
    headers = token_for(client, "home_investigator")
    foreign_id = world.people[FOREIGN_COUNTY][0]
    assert client.get(f"/api/people/{foreign_id}", headers=headers).status_code == 404
    assert client.post(f"/api/people/{foreign_id}/reveal", headers=headers).status_code == 404
    by_id_number = client.get(
        "/api/people", params={"q": world.id_numbers[foreign_id]}, headers=headers
    ).json()
    assert by_id_number["total"] == 0
    export = client.get("/api/people/export", headers=headers)
    assert export.status_code == 200
    exported_ids = {int(line.split(",")[0]) for line in export.text.strip().splitlines()[1:]}
    assert exported_ids == set(world.people[HOME_COUNTY])


def test_guessing_ids_never_reveals_another_county(client, world: World) -> None:
    headers = token_for(client, "home_community_worker")
    visible = set()
    for guess in range(1, 40):
        if client.get(f"/api/people/{guess}", headers=headers).status_code == 200:
            visible.add(guess)
    assert visible == set(world.people[HOME_COUNTY])


def test_values_are_masked_for_roles_without_the_right(client, world: World) -> None:
    headers = token_for(client, "home_testing_coordinator")
    person_id = world.people[HOME_COUNTY][0]
    shown = client.get(f"/api/people/{person_id}", headers=headers).json()
    full = world.id_numbers[person_id]
    assert shown["id_number"] == full[:3] + "*" * 11 + full[-4:]
    assert "*" in shown["phone"] and "*" in shown["name"]
    assert client.post(f"/api/people/{person_id}/reveal", headers=headers).status_code == 403


def test_reveal_is_audited(client, world: World) -> None:
    headers = token_for(client, "home_investigator")
    person_id = world.people[HOME_COUNTY][1]
    revealed = client.post(f"/api/people/{person_id}/reveal", headers=headers).json()
    assert revealed["id_number"] == world.id_numbers[person_id]
    admin = token_for(client, "province_admin")
    entries = client.get("/api/audit", headers=admin).json()
    reveal_entries = [
        e for e in entries if e["action"] == "people.reveal" and e["object_id"] == str(person_id)
    ]
    assert len(reveal_entries) == 1
    assert reveal_entries[0]["actor"] == "home_investigator"


def test_search_by_phone_and_name(client, world: World) -> None:
    headers = token_for(client, "home_investigator")
    assert client.get("/api/people", params={"q": "张伟"}, headers=headers).json()["total"] == 2
    assert client.get("/api/people", params={"q": "13800130000"}, headers=headers).json()["total"] == 1


def test_register_names_the_bad_fields_and_writes_nothing(client, world: World) -> None:
    headers = token_for(client, "home_investigator")
    before = client.get("/api/people", headers=headers).json()["total"]
    bad = {
        "id_number": "330106199001011234",
        "name": "赵六",
        "phone": "12345",
        "community_code": "330203001001",
        "address": "某路1号",
    }
    response = client.post("/api/people", json=bad, headers=headers)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"id_number", "phone", "community_code"}
    assert client.get("/api/people", headers=headers).json()["total"] == before


def test_register_and_deduplicate(client, world: World) -> None:
    headers = token_for(client, "home_investigator")
    person = {
        "id_number": valid_id("330106", "19880808", 321),
        "name": "赵六",
        "phone": "13912345678",
        "community_code": "330106001001",
        "address": "保俶路8号",
    }
    created = client.post("/api/people", json=person, headers=headers)
    assert created.status_code == 201, created.text
    # Sequence 321 is odd: GB 11643 gives odd sequence numbers to men.
    assert created.json()["sex"] == "M" and created.json()["birth_date"] == "1988-08-08"
    again = client.post("/api/people", json=person, headers=headers)
    assert again.status_code == 409


def test_household_members_share_an_address(client, world: World) -> None:
    headers = token_for(client, "home_investigator")
    person = client.get(f"/api/people/{world.people[HOME_COUNTY][0]}", headers=headers).json()
    members = client.get(f"/api/households/{person['household_id']}", headers=headers).json()
    assert world.people[HOME_COUNTY][0] in {m["id"] for m in members}
    assert len(members) == 2  # seeded: two of three at 幸福路1号 in that community


def test_repeated_failures_do_not_lock_the_account(client, world: World) -> None:
    # Throttling by address and by account is tested in test_core_login_throttle.py.
    for _ in range(5):
        assert (
            client.post("/api/auth/token", json={"username": "home_viewer", "password": "wrong"}).status_code
            == 401
        )
    assert (
        client.post("/api/auth/token", json={"username": "home_viewer", "password": PASSWORD}).status_code
        == 200
    )
