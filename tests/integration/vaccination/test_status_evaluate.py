"""Status rows from the rules (SQLite and PostgreSQL): one per registry person aged 3 or over, the
unvaccinated included; doses recorded move a person on (the DosesRecorded handler); a rules change is
picked up; contraindications recorded by a community worker, in scope and validated, withhold or
postpone the next dose."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from conftest import World, token_for
from fangkong.core import clock
from fangkong.core.models import Person
from fangkong.vaccination.events import DosesRecorded
from fangkong.vaccination.models import (
    Contraindication,
    Dose,
    DoseKind,
    Platform,
    StatusState,
    VaccinationStatus,
)
from fangkong.vaccination.rules import schedule
from fangkong.vaccination.service import status


def _dose(session, person_id: int, number: int, given_on: dt.date, kind: DoseKind = DoseKind.primary) -> None:  # type: ignore[no-untyped-def]
    person = session.get(Person, person_id)
    session.add(
        Dose(
            person_id=person_id, jpath=person.jpath, product="CoronaVac", platform=Platform.inactivated,
            dose_number=number, kind=kind, given_on=given_on, site="保俶站", lot="L-1", source="test",
        )
    )  # fmt: skip
    session.flush()


def test_everyone_aged_3_gets_a_row_the_unvaccinated_included(app, world: World) -> None:  # type: ignore[no-untyped-def]
    everyone = [pid for ids in world.people.values() for pid in ids]
    with app.state.db.unit_of_work() as session:
        toddler = everyone[0]
        session.execute(
            update(Person)
            .where(Person.id == toddler)
            .values(birth_date=clock.today() - dt.timedelta(days=700))
        )
        assert status.evaluate(session) == len(everyone) - 1
        rows = {r.person_id: r for r in session.scalars(select(VaccinationStatus))}
        assert set(rows) == set(everyone) - {toddler}
        assert {r.state for r in rows.values()} == {StatusState.unvaccinated}
        assert all(
            r.rules_version == schedule.RULES_VERSION and r.next_kind == DoseKind.primary
            for r in rows.values()
        )
        assert all(r.jpath == session.get(Person, pid).jpath for pid, r in rows.items())
        assert status.stale_people(session) == []


def test_doses_recorded_move_a_person_on(app, world: World) -> None:  # type: ignore[no-untyped-def]
    pid = world.people["330106"][0]  # born 1960: 66
    today = clock.today()
    with app.state.db.unit_of_work() as session:
        status.evaluate(session)
        _dose(session, pid, 1, today - dt.timedelta(days=200))
        status.on_doses_recorded(session, DosesRecorded(person_ids=(pid,)))
        row = session.get(VaccinationStatus, pid)
        assert (row.state, row.next_kind, row.due_on) == (
            StatusState.primary_started,
            DoseKind.primary,
            today - dt.timedelta(days=179),
        )
        _dose(session, pid, 2, today - dt.timedelta(days=179))
        _dose(session, pid, 3, today - dt.timedelta(days=60), DoseKind.booster)
        status.on_doses_recorded(session, DosesRecorded(person_ids=(pid,)))
        row = session.get(VaccinationStatus, pid)
        assert row.state == StatusState.boosted
        assert row.doses == 3
        assert row.primary_complete_on == today - dt.timedelta(days=179)
        assert (row.next_kind, row.due_on) == (
            DoseKind.second_booster,
            schedule.add_months(today - dt.timedelta(days=60), 6),
        )


def test_a_rules_change_makes_every_row_stale(app, world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        status.evaluate(session)
        monkeypatch.setattr(schedule, "RULES_VERSION", "next")
        assert len(status.stale_people(session)) == 9
        assert status.evaluate_stale(session) == 9
        assert {r.rules_version for r in session.scalars(select(VaccinationStatus))} == {"next"}


def test_a_worker_records_a_contraindication_in_scope(client, world: World) -> None:  # type: ignore[no-untyped-def]
    worker = token_for(client, "home_community_worker")
    home, foreign = world.people["330106"][0], world.people["330203"][0]
    today = clock.today()
    until = today + dt.timedelta(days=10)
    r = client.post(
        "/api/vaccination/contraindications",
        json={
            "person_id": home,
            "reason": "fever_acute_infection",
            "until": until.isoformat(),
            "note": "发热",
        },
        headers=worker,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["state"] == "unvaccinated"
    assert body["contraindication"] == "fever_acute_infection"
    assert body["due_on"] == (until + dt.timedelta(days=1)).isoformat()

    r = client.post(
        "/api/vaccination/contraindications",
        json={"person_id": home, "reason": "severe_allergy"},
        headers=worker,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["contraindication"], r.json()["next_kind"], r.json()["due_on"]) == (
        "severe_allergy",
        None,
        None,
    )

    refused = [
        ({"person_id": foreign, "reason": "end_stage"}, 404),
        ({"person_id": home, "reason": "end_stage", "until": until.isoformat()}, 422),
        ({"person_id": home, "reason": "chronic_flare"}, 422),
        (
            {
                "person_id": home,
                "reason": "chronic_flare",
                "until": (today - dt.timedelta(days=1)).isoformat(),
            },
            422,
        ),
        ({"person_id": home, "reason": "nonsense"}, 422),
    ]
    for payload, code in refused:
        r = client.post("/api/vaccination/contraindications", json=payload, headers=worker)
        assert r.status_code == code, (payload, r.text)
    r = client.post(
        "/api/vaccination/contraindications",
        json={"person_id": home, "reason": "chronic_flare"},
        headers=worker,
    )
    assert r.json()["errors"][0]["field"] == "until"
    viewer = token_for(client, "home_viewer")
    r = client.post(
        "/api/vaccination/contraindications", json={"person_id": home, "reason": "end_stage"}, headers=viewer
    )
    assert r.status_code == 403


def test_contraindications_are_audited_rows(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    from fangkong.core.models import AuditEntry

    worker = token_for(client, "home_community_worker")
    home = world.people["330106"][1]
    r = client.post(
        "/api/vaccination/contraindications", json={"person_id": home, "reason": "end_stage"}, headers=worker
    )
    assert r.status_code == 201
    with app.state.db.unit_of_work() as session:
        row = session.scalar(select(Contraindication).where(Contraindication.person_id == home))
        assert (row.recorded_by, row.until, row.recorded_on) == ("home_community_worker", None, clock.today())
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "vaccination.contraindication"))
        assert entry is not None and entry.object_id == str(home)
