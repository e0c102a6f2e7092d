"""Access outside one's jurisdiction, on SQLite and PostgreSQL: reading a person registered elsewhere is
refused without a reason; with one it is allowed for a shift, audited when granted and at each read,
and listed for the supervisors above the reader."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core import people
from fangkong.core.auth import principal_for
from fangkong.core.errors import InvalidInput, NotFound
from fangkong.core.models import AuditEntry, User
from fangkong.privacy.rules.access import GRANT_HOURS
from fangkong.privacy.service import access


def _principal(session: Any, world: World, username: str) -> Any:
    user = session.get(User, world.users[username])
    return principal_for(session, user, "token")


def test_reading_outside_ones_jurisdiction_is_refused_without_a_reason_and_audited_with_one(
    app: Any, world: World, frozen_clock: Any
) -> None:
    db = app.state.db
    arrival = world.people[HOME_COUNTY][0]  # registered in 西湖区; the reader works in 海曙区
    with db.unit_of_work() as session:
        reader = _principal(session, world, "away_investigator")
        with pytest.raises(NotFound):
            people.get(session, reader, arrival)
        with pytest.raises(InvalidInput) as caught:
            access.request_access(session, reader, arrival, "other", "  ")
        assert [e.field for e in caught.value.errors] == ["reason_text"]
        with pytest.raises(InvalidInput):
            access.request_access(session, reader, arrival, "curiosity", "")
    with db.unit_of_work() as session:
        reader = _principal(session, world, "away_investigator")
        with pytest.raises(NotFound):
            people.get(session, reader, arrival)  # a refused request grants nothing
        grant = access.request_access(session, reader, arrival, "arrival", "到达登记核实")
        grant_id = grant.id
    with db.unit_of_work() as session:
        reader = _principal(session, world, "away_investigator")
        view = people.get(session, reader, arrival)
        assert view.id == arrival and not view.revealed
        actions = [
            (e.action, e.object_id, e.actor)
            for e in session.scalars(select(AuditEntry).where(AuditEntry.action.startswith("privacy.access")))
        ]
        assert actions == [
            ("privacy.access_granted", str(arrival), "away_investigator"),
            ("privacy.access_read", str(arrival), "away_investigator"),
        ]
        # Someone else in the same office has no grant.
        colleague = _principal(session, world, "away_community_worker")
        with pytest.raises(NotFound):
            people.get(session, colleague, arrival)
        # The supervisors above the reader see it to review; the reader's own county's only.
        assert [g.id for g in access.for_review(session, "/330000/330200/")] == [grant_id]
        assert access.for_review(session, "/330000/330100/330106/") == []
    frozen_clock.advance(dt.timedelta(hours=GRANT_HOURS, minutes=1))
    with db.unit_of_work() as session:
        reader = _principal(session, world, "away_investigator")
        with pytest.raises(NotFound):
            people.get(session, reader, arrival)  # the grant has run out


def test_the_api_refuses_without_a_reason_and_the_person_page_opens_with_one(
    client: Any, world: World
) -> None:
    reader = token_for(client, "away_investigator")
    arrival = world.people[HOME_COUNTY][1]
    assert client.get(f"/api/people/{arrival}", headers=reader).status_code == 404
    refused = client.post(
        "/api/privacy/access", json={"person_id": arrival, "reason": "other"}, headers=reader
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["reason_text"]
    given = client.post(
        "/api/privacy/access",
        json={"person_id": arrival, "reason": "referred_contact", "reason_text": "协查密接"},
        headers=reader,
    )
    assert given.status_code == 201, given.text
    assert client.get(f"/api/people/{arrival}", headers=reader).status_code == 200
    # Inside one's own jurisdiction there is no glass to break.
    own = world.people[FOREIGN_COUNTY][0]
    assert (
        client.post(
            "/api/privacy/access", json={"person_id": own, "reason": "arrival"}, headers=reader
        ).status_code
        == 422
    )
    supervisor = token_for(client, "away_administrator")
    listed = client.get("/api/privacy/access/review", headers=supervisor)
    assert [g["person_ref"] for g in listed.json()] == [arrival]
    reviewed = client.post(
        f"/api/privacy/access/{listed.json()[0]['id']}/review", json={"note": "核实无误"}, headers=supervisor
    )
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == "away_administrator"
    # A supervisor elsewhere cannot see or review it.
    other = token_for(client, "home_administrator")
    assert client.get("/api/privacy/access/review", headers=other).json() == []
    assert (
        client.post(
            f"/api/privacy/access/{listed.json()[0]['id']}/review", json={"note": ""}, headers=other
        ).status_code
        == 404
    )
