from conftest import World, token_for

DRILL = {"people": 1200, "days": 14, "seed": 1, "realtime": False, "protocol_id": "cn-9"}

def test_second(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = token_for(client, "home_command_centre")
    a = client.post("/api/modeling/drills", json=DRILL, headers=h)
    print(a.status_code, a.text[:300])
    b = client.post("/api/modeling/drills", json=DRILL, headers=h)
    print(b.status_code, b.text[:600])
    assert False
