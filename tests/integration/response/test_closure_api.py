"""The daily closure through the JSON API on SQLite and PostgreSQL: publish v1, a later edit leaves
``/v1`` as it was, a correction with a reason and its figure-by-figure diff, today refused, sign-off,
the activity log, and who may do what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from closure_support import EXPECTED, build_day, register
from conftest import HOME_COUNTY, World, token_for
from fangkong.core import clock
from fangkong.core.db import Database

BASE = f"/api/response/closures/{HOME_COUNTY}"


@pytest.fixture
def day(db: Database, app: Any, world: World, frozen_clock: clock.FrozenClock) -> dt.date:
    today = clock.today()
    build_day(db, app.state.vault, world, today)
    frozen_clock.advance(days=1)
    return today


def test_publish_edit_correct_and_diff_through_the_api(  # type: ignore[no-untyped-def]
    client, db: Database, app: Any, world: World, day: dt.date
) -> None:
    centre = token_for(client, "home_command_centre")
    viewer = token_for(client, "home_investigator")
    assert client.get(f"{BASE}/{day}", headers=centre).status_code == 404
    first = client.post(f"{BASE}/{day}", headers=centre)
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert (v1["version"], v1["latest_version"], v1["code"]) == (1, 1, HOME_COUNTY)
    assert v1["figures"]["tasks"] == EXPECTED["tasks"]
    assert v1["figures"]["provisional"] == ["series.onset"]

    register(db, app.state.vault, world, 2, reported=dt.datetime.combine(day, dt.time(21)))
    again = client.get(f"{BASE}/{day}/v1", headers=viewer)
    assert again.status_code == 200 and again.json()["figures"] == v1["figures"]

    refused = client.post(f"{BASE}/{day}", headers=centre, json={})
    assert refused.status_code == 422
    assert client.post(f"{BASE}/{day}/corrections", headers=centre, json={"reason": ""}).status_code == 422
    corrected = client.post(f"{BASE}/{day}/corrections", headers=centre, json={"reason": "迟报病例补录"})
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["version"] == 2

    assert client.get(f"{BASE}/{day}/v1", headers=viewer).json()["figures"] == v1["figures"]
    newest = client.get(f"{BASE}/{day}", headers=viewer).json()
    assert newest["version"] == 2 and newest["figures"]["cases"]["reported"] == 4
    diff = client.get(f"{BASE}/{day}/diff", params={"a": 1, "b": 2}, headers=viewer).json()
    assert diff["reason"] == "迟报病例补录"
    changes = {c["key"]: c for c in diff["changes"]}
    assert (changes["cases.reported"]["old"], changes["cases.reported"]["new"]) == (3, 4)
    assert changes["cases.reported"]["change"] == 1 and not changes["cases.reported"]["provisional"]
    assert [v["version"] for v in client.get(f"{BASE}/{day}/versions", headers=viewer).json()] == [1, 2]
    days = client.get(BASE, headers=viewer).json()
    assert days == [
        {"day": day.isoformat(), "version": 2, "signed_off": False, "published_at": days[0]["published_at"]}
    ]
    assert client.get(f"{BASE}/{day}/v3", headers=viewer).status_code == 404
    assert client.get(f"{BASE}/{day}/v0", headers=viewer).status_code == 422


def test_today_is_refused_and_only_the_command_centre_publishes_or_signs_off(  # type: ignore[no-untyped-def]
    client, world: World, day: dt.date
) -> None:
    centre = token_for(client, "home_command_centre")
    investigator = token_for(client, "home_investigator")
    today = client.post(f"{BASE}/{clock.today()}", headers=centre)
    assert today.status_code == 422 and "ended" in today.text
    assert client.post(f"{BASE}/{day}", headers=investigator).status_code == 403
    assert client.post(f"/api/response/closures/330203/{day}", headers=centre).status_code == 404
    assert client.get(f"{BASE}/{day}", headers=token_for(client, "away_command_centre")).status_code == 404
    assert client.get(f"{BASE}/not-a-day", headers=centre).status_code == 422
    assert client.post(f"{BASE}/{day}", headers=centre).status_code == 201
    body = {"objectives": "明日完成全部密接转运"}
    assert client.post(f"{BASE}/{day}/v1/sign-off", headers=investigator, json=body).status_code == 403
    signed = client.post(f"{BASE}/{day}/v1/sign-off", headers=centre, json=body)
    assert signed.status_code == 200, signed.text
    assert signed.json()["objectives"] == body["objectives"]
    assert client.post(f"{BASE}/{day}/v1/sign-off", headers=centre, json=body).status_code == 409
    log = client.get(f"{BASE}/{day}/activity", headers=centre).json()
    assert any(g["role"] == "investigator" for g in log)
