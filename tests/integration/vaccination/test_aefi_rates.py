"""AEFI rates per 100,000 doses by product and lot against a direct count, and the lot signal, on real
databases; then the routes (permissions, scope, answers) over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core import clock
from fangkong.core.events import EventBus
from fangkong.core.models import Person
from fangkong.vaccination.models import AefiOutcome, Dose, DoseKind, Platform, Severity
from fangkong.vaccination.service import aefi
from vaccination_support import as_user

# (product, lot, doses, events, serious events) in 西湖区.
LOTS = [
    ("科兴", "K1", 300, 0, 0),
    ("科兴", "K2", 300, 1, 0),
    ("科兴", "K3", 100, 4, 1),
    ("康希诺", "C1", 50, 1, 1),
]


def _seed(app: Any, world: World) -> None:
    """Doses spread over the home county's people (dose numbers made unique per person), then cards."""
    given = clock.today() - dt.timedelta(days=3)
    with app.state.db.unit_of_work() as session:
        people = [session.get(Person, pid) for pid in world.people[HOME_COUNTY]]
        rows: list[dict[str, Any]] = []
        first_of: dict[str, int] = {}
        for product, lot, count, _events, _serious in LOTS:
            first_of[lot] = len(rows)
            for _ in range(count):
                person = people[len(rows) % len(people)]
                assert person is not None
                rows.append(
                    {
                        "person_id": person.id,
                        "jpath": person.jpath,
                        "product": product,
                        "platform": Platform.inactivated if product == "科兴" else Platform.vector,
                        "dose_number": len(rows) + 1,
                        "kind": DoseKind.primary,
                        "given_on": given,
                        "site": "站",
                        "lot": lot,
                        "source": "test",
                    }
                )
        session.execute(insert(Dose), rows)
        away = session.get(Person, world.people[FOREIGN_COUNTY][0])
        assert away is not None
        session.execute(
            insert(Dose),
            [{**rows[0], "person_id": away.id, "jpath": away.jpath, "dose_number": 1, "lot": "K3"}],
        )
        dose_ids = {
            n: i
            for i, n in session.execute(Dose.__table__.select().with_only_columns(Dose.id, Dose.dose_number))
        }
    with as_user(app, "home_community_worker") as (session, me):
        for _product, lot, _count, events, serious in LOTS:
            for k in range(events):
                dose_id = dose_ids[first_of[lot] + k + 1]
                worst = k < serious
                aefi.report(
                    session,
                    me,
                    EventBus(),
                    dose_id,
                    given,
                    "过敏性皮疹",
                    Severity.severe if worst else Severity.mild,
                    AefiOutcome.recovering,
                    False,
                )


def test_rates_per_100000_doses_by_product_and_lot(app: Any, world: World) -> None:
    _seed(app, world)
    with as_user(app, "home_viewer") as (session, me):
        found = aefi.rates(session, me)
    lots = {r.lot: r for r in found.lots}
    for _product, lot, count, events, serious in LOTS:
        assert (lots[lot].doses, lots[lot].events, lots[lot].serious) == (count, events, serious)
        assert lots[lot].rate == pytest.approx(events * 100_000 / count)
    products = {r.product: r for r in found.products}
    assert (products["科兴"].doses, products["科兴"].events, products["科兴"].serious) == (700, 5, 1)
    assert products["科兴"].rate == pytest.approx(5 * 100_000 / 700)
    assert products["康希诺"].serious_rate == pytest.approx(2000.0)
    with as_user(app, "away_viewer") as (session, away):
        foreign = aefi.rates(session, away)
        assert [(r.lot, r.doses, r.events) for r in foreign.lots] == [("K3", 1, 0)]


def test_a_lot_with_improbably_many_events_raises_a_signal(app: Any, world: World) -> None:
    _seed(app, world)
    with as_user(app, "home_viewer") as (session, me):
        signals = aefi.lot_signals(session, me)
    by_lot = {s.lot: s for s in signals}
    assert signals[0].lot == "K3" and signals[0].signal
    # K3: 4 events in 100 doses against (1 + 1) in 600 doses of the other lots.
    assert by_lot["K3"].expected == pytest.approx(100 * 2 / 600)
    assert not by_lot["K2"].signal
    assert "C1" not in by_lot  # the product's only lot: nothing to compare with
    assert "K1" not in by_lot  # no events


def test_the_routes(client: Any, app: Any, world: World) -> None:
    _seed(app, world)
    worker = token_for(client, "home_community_worker")
    viewer = token_for(client, "home_viewer")
    command = token_for(client, "home_command_centre")
    rates = client.get("/api/vaccination/aefi/rates", headers=viewer)
    assert rates.status_code == 200, rates.text
    assert rates.json()["signals"][0]["lot"] == "K3" and rates.json()["signals"][0]["signal"] is True
    listed = client.get("/api/vaccination/aefi", headers=viewer).json()
    assert listed["total"] == 6 and listed["items"][0]["deadline"] == "open"
    dose_id = client.get("/api/vaccination/aefi?lot=C1", headers=viewer).json()["items"][0]["dose_id"]
    card = {
        "dose_id": dose_id,
        "onset_on": clock.today().isoformat(),
        "symptoms": "死亡",
        "severity": "death",
        "outcome": "died",
        "cluster": False,
    }
    assert client.post("/api/vaccination/aefi", headers=viewer, json=card).status_code == 403
    made = client.post("/api/vaccination/aefi", headers=worker, json=card)
    assert made.status_code == 201, made.text
    event = made.json()
    assert event["report_due_at"] > event["found_at"]
    due = dt.datetime.fromisoformat(event["report_due_at"]) - dt.datetime.fromisoformat(event["found_at"])
    assert due == dt.timedelta(hours=2)
    eid = event["id"]
    wrong = client.post("/api/vaccination/aefi", headers=worker, json={**card, "outcome": "recovered"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "outcome"
    assert (
        client.post(
            f"/api/vaccination/aefi/{eid}/review", headers=command, json={"causality": "a1"}
        ).status_code
        == 409
    )
    assert client.post(f"/api/vaccination/aefi/{eid}/send", headers=worker).status_code == 200
    assert (
        client.post(
            f"/api/vaccination/aefi/{eid}/review", headers=worker, json={"causality": "a1"}
        ).status_code
        == 403
    )
    reviewed = client.post(f"/api/vaccination/aefi/{eid}/review", headers=command, json={"causality": "c"})
    assert reviewed.status_code == 200 and reviewed.json()["causality"] == "c"
    assert (
        client.get(f"/api/vaccination/aefi/{eid}", headers=token_for(client, "away_viewer")).status_code
        == 404
    )
    assert client.get("/api/vaccination/aefi/overdue", headers=viewer).json() == []
