"""The events surveillance publishes for the response tasks, through the API on both databases: a detector
run publishes ``AlertRaised`` once per alert it creates (a rerun that adds nothing publishes nothing);
``AlertAnswered`` once when an alert is confirmed or dismissed, not when verification starts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import HOME_COUNTY, PASSWORD, World, token_for
from fangkong.core import clock
from fangkong.core.events import DomainEvent
from fangkong.surveillance.events import AlertAnswered, AlertRaised
from fangkong.surveillance.models import Alert
from surveillance_support import add_cholera_channel

NEIGHBOUR = "330102"  # 上城区, 西湖区's sibling under 杭州市


@pytest.fixture
def province(client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    made = client.post(
        "/api/users",
        headers=token_for(client, "province_admin"),
        json={
            "username": "province_analyst",
            "display_name": "省监测",
            "role": "surveillance_analyst",
            "jurisdiction_code": "330000",
            "password": PASSWORD,
        },
    )
    assert made.status_code == 201, made.text
    return token_for(client, "province_analyst")


def _run(client, headers) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    response = client.post("/api/surveillance/runs", json={}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _act(client, headers, alert_id: int, action: str, note: str) -> None:  # type: ignore[no-untyped-def]
    done = client.post(f"/api/surveillance/alerts/{alert_id}/{action}", json={"note": note}, headers=headers)
    assert done.status_code == 200, done.text


def test_alerts_raised_and_answered_are_published_once(
    app, client, world: World, province, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seen: list[DomainEvent] = []
    for kind in (AlertRaised, AlertAnswered):
        app.state.bus.subscribe(kind, lambda _s, e: seen.append(e))
    add_cholera_channel(client, province)
    today = clock.today()
    records = [
        {"channel": "cases.cholera", "jurisdiction": code, "date": today.isoformat(), "value": 1}
        for code in (HOME_COUNTY, NEIGHBOUR)
    ]
    posted = client.post("/api/surveillance/observations", json={"observations": records}, headers=province)
    assert posted.status_code == 200, posted.text
    created = _run(client, province)["alerts_created"]
    assert len(created) == 2
    with app.state.db.unit_of_work() as session:
        alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(created)))}
        expected = [
            AlertRaised(
                alert_id=a.id,
                jurisdiction_id=a.jurisdiction_id,
                jpath=a.jpath,
                level=a.level.value,
                title=a.title,
                raised_at=clock.as_utc(a.created_at),
            )
            for a in (alerts[i] for i in created)
        ]
    assert seen == expected
    assert {e.level for e in expected if isinstance(e, AlertRaised)} == {"red"}
    # A rerun an hour later creates nothing and publishes nothing.
    frozen_clock.advance(hours=1)
    assert _run(client, province)["alerts_created"] == []
    assert len(seen) == 2

    confirmed, dismissed = created
    _act(client, province, confirmed, "verify", "核实中")
    assert len(seen) == 2  # starting verification is not an answer
    frozen_clock.advance(minutes=30)
    _act(client, province, confirmed, "confirm", "霍乱病例，已确认")
    _act(client, province, dismissed, "dismiss", "重复报告")
    answered = seen[2:]
    assert [(e.alert_id, e.status) for e in answered if isinstance(e, AlertAnswered)] == [
        (confirmed, "confirmed"),
        (dismissed, "dismissed"),
    ]
    assert len(answered) == 2
    with app.state.db.unit_of_work() as session:
        for event in answered:
            assert isinstance(event, AlertAnswered)
            alert = session.get(Alert, event.alert_id)
            assert alert is not None
            assert (event.jpath, event.answered_at) == (alert.jpath, clock.as_utc(alert.closed_at))
    # A closed alert cannot be answered again: refused, nothing published.
    again = client.post(
        f"/api/surveillance/alerts/{confirmed}/dismiss", json={"note": "再次"}, headers=province
    )
    assert again.status_code == 409
    assert len(seen) == 4
