"""The scanner reads its caller from a cache of token principals (``core.deps.RequireAtCommit``) and the
group's transaction confirms the token (``core.auth.token_holders``): a token whose user was deactivated,
whose token expired, or whose role or jurisdiction changed since the cache read it, is refused from the
very next call, and nothing of that call is stored. Runs on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from conftest import HOME_COUNTY, World, token_for
from fangkong.core import clock
from fangkong.core.auth import token_digest
from fangkong.core.config import Settings
from fangkong.core.models import ApiToken, Role, User
from fangkong.testing.models import TubeMember
from fangkong.testing.rules.codes import ScanCodes
from testing_support import HOME_COMMUNITIES

API = "/api/testing"
ROUND_START = "2026-12-07T00:00:00"


def _round(client, world: World) -> int:  # type: ignore[no-untyped-def]
    coordinator = token_for(client, "home_testing_coordinator")
    campaign = client.post(
        f"{API}/campaigns",
        json={
            "name": "全员核酸",
            "areas": [world.jurisdictions[c] for c in HOME_COMMUNITIES],
            "pool_size": 10,
        },
        headers=coordinator,
    ).json()
    answer = client.post(
        f"{API}/campaigns/{campaign['id']}/rounds", json={"starts_at": ROUND_START}, headers=coordinator
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _scan(codes: ScanCodes, person: int, seq: int, round_id: int) -> dict[str, object]:
    return {
        "device_id": "pda-07",
        "device_seq": seq,
        "round_id": round_id,
        "barcode": "T-700",
        "person_code": codes.code_for(person),
        "scanned_at": "2026-12-07T01:30:00",
    }


def _stored(app) -> int:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(TubeMember)) or 0)


def _change_user(app, username: str, **values: object) -> None:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        session.execute(update(User).where(User.username == username).values(**values))


def test_a_deactivated_user_is_refused_from_the_next_call(
    app, client, world: World, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    codes = ScanCodes(settings.hash_key)
    people = world.people[HOME_COUNTY]
    round_id = _round(client, world)
    sampler = token_for(client, "home_community_worker")
    first = client.post(f"{API}/scans", json=_scan(codes, people[0], 1, round_id), headers=sampler)
    assert first.status_code == 200 and first.json()["recorded"] == 1, first.text
    digest = token_digest(sampler["Authorization"][7:])
    assert app.state.token_principals.get(digest) is not None  # read once, now cached

    _change_user(app, "home_community_worker", is_active=False)
    refused = client.post(f"{API}/scans", json=_scan(codes, people[1], 2, round_id), headers=sampler)
    assert refused.status_code == 401, refused.text
    assert _stored(app) == 1
    assert app.state.token_principals.get(digest) is None  # dropped: read afresh next time

    _change_user(app, "home_community_worker", is_active=True)
    again = client.post(f"{API}/scans", json=_scan(codes, people[1], 2, round_id), headers=sampler)
    assert again.status_code == 200 and again.json()["recorded"] == 1, again.text


def test_an_expired_token_is_refused_from_the_next_call(
    app, client, world: World, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    codes = ScanCodes(settings.hash_key)
    people = world.people[HOME_COUNTY]
    round_id = _round(client, world)
    sampler = token_for(client, "home_community_worker")
    assert (
        client.post(f"{API}/scans", json=_scan(codes, people[0], 1, round_id), headers=sampler).status_code
        == 200
    )
    with app.state.db.unit_of_work() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_digest(sampler["Authorization"][7:]))
            .values(expires_at=clock.utcnow() - dt.timedelta(minutes=1))
        )
    refused = client.post(f"{API}/scans", json=_scan(codes, people[1], 2, round_id), headers=sampler)
    assert refused.status_code == 401, refused.text
    assert _stored(app) == 1


def test_a_role_changed_since_the_token_was_read_is_asked_to_send_again(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    codes = ScanCodes(settings.hash_key)
    people = world.people[HOME_COUNTY]
    round_id = _round(client, world)
    sampler = token_for(client, "home_community_worker")
    assert (
        client.post(f"{API}/scans", json=_scan(codes, people[0], 1, round_id), headers=sampler).status_code
        == 200
    )

    # Now a laboratory account: it may read testing but not scan.
    _change_user(app, "home_community_worker", role=Role.laboratory)
    changed = client.post(f"{API}/scans", json=_scan(codes, people[1], 2, round_id), headers=sampler)
    assert changed.status_code == 409, changed.text
    assert "send again" in changed.json()["detail"]
    assert _stored(app) == 1
    # Sent again, the call is read as the account now is: refused for the role.
    resent = client.post(f"{API}/scans", json=_scan(codes, people[1], 2, round_id), headers=sampler)
    assert resent.status_code == 403, resent.text
    assert _stored(app) == 1
