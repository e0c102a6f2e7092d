"""The tasks engine end to end through the API: a confirmed case opens its tasks in parallel with the
right deadlines; past a deadline an untouched task is warned, its supervisor notified, then escalated to
the parent keeping its first clock, and listed as late; recording the investigation closes core facts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tasks_support import report_case, wire

from conftest import HOME_COUNTY, World, token_for
from fangkong.core import clock
from fangkong.core.models import AuditEntry
from fangkong.response.models import TaskEvent
from fangkong.response.service.templates import DEFAULT_TEMPLATES

CASE_CODES = [t.code for t in DEFAULT_TEMPLATES if t.trigger.value == "case_confirmed"]
MINUTES = {t.code: t.minutes for t in DEFAULT_TEMPLATES}


@pytest.fixture(autouse=True)
def wired(app):  # type: ignore[no-untyped-def]
    wire(app.state.bus)


def _tasks(client, headers, **params):  # type: ignore[no-untyped-def]
    response = client.get("/api/response/tasks", headers=headers, params={"size": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()


def _by_code(page) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    return {t["code"]: t for t in page["items"]}


def test_a_confirmed_case_opens_its_tasks_and_an_untouched_one_escalates(
    client, world: World, frozen_clock: clock.FrozenClock
) -> None:  # type: ignore[no-untyped-def]
    investigator = token_for(client, "home_investigator")
    command = token_for(client, "home_command_centre")
    reported_at = clock.utcnow()
    case_id = report_case(client, world, investigator)

    page = _tasks(client, command)
    tasks = _by_code(page)
    assert sorted(tasks) == sorted(CASE_CODES)
    assert page["counts"]["open"] == len(CASE_CODES)
    for code, task in tasks.items():
        opened = dt.datetime.fromisoformat(task["opened_at"])
        due = dt.datetime.fromisoformat(task["due_at"])
        assert due - opened == dt.timedelta(minutes=MINUTES[code]), code
        assert clock.from_local(opened) - reported_at < dt.timedelta(seconds=1)
        assert task["jurisdiction_id"] == world.jurisdictions[HOME_COUNTY]
        assert task["subject_id"] == case_id and task["state"] == "open" and task["late"] is False
    assert tasks["contacts_transferred"]["depends_on_id"] == tasks["contacts_identified"]["id"]
    # Delivered twice (e.g. reclassified to confirmed again), nothing opens twice.
    assert _tasks(client, command)["total"] == len(CASE_CODES)

    on_site = tasks["team_on_site"]
    first_due = on_site["due_at"]

    def sweep() -> dict:  # type: ignore[type-arg]
        response = client.post("/api/response/sweep", headers=command)
        assert response.status_code == 200, response.text
        return response.json()

    frozen_clock.advance(minutes=91)  # past the 30-minute warning of the 2-hour clock
    fired = sweep()
    assert fired["warned"] == [on_site["id"]] and fired["escalated"] == []
    assert sweep()["warned"] == []

    frozen_clock.advance(minutes=30)  # 2 h 1 min: past the deadline
    fired = sweep()
    assert fired["supervisor_notified"] == [on_site["id"]] and fired["escalated"] == []
    detail = client.get(f"/api/response/tasks/{on_site['id']}", headers=command).json()
    assert detail["task"]["late"] is True

    frozen_clock.advance(minutes=30)  # past the deadline and the 30-minute grace
    fired = sweep()
    assert fired["escalated"] == [on_site["id"]]
    assert sweep()["escalated"] == []

    city = world.jurisdictions["330100"]
    detail = client.get(f"/api/response/tasks/{on_site['id']}", headers=command).json()
    assert detail["task"]["jurisdiction_id"] == city
    assert detail["task"]["due_at"] == first_due
    assert detail["task"]["escalations"] == 1
    assert [e["kind"] for e in detail["history"]] == ["opened", "warned", "supervisor_notified", "escalated"]
    # The county it came from still sees it, listed as late.
    late = _by_code(_tasks(client, command, late="true"))
    assert "team_on_site" in late and late["team_on_site"]["jurisdiction_id"] == city

    # Recording the investigation closes core facts (and, with a contact named, contacts identified).
    contact_person = world.people[HOME_COUNTY][1]
    response = client.post(
        f"/api/tracing/cases/{case_id}/exposures",
        headers=investigator,
        json={
            "exposures": [
                {
                    "setting": "household",
                    "start": "2026-12-05T18:00:00",
                    "end": "2026-12-05T20:00:00",
                    "person": {"id_number": world.id_numbers[contact_person], "name": "王芳"},
                }
            ]
        },
    )
    assert response.status_code == 201, response.text
    tasks = _by_code(_tasks(client, command))
    assert tasks["core_facts"]["state"] == "done"
    assert tasks["core_facts"]["closed_by"] == "system"
    assert "investigation recorded" in tasks["core_facts"]["evidence"]
    assert tasks["core_facts"]["late"] is False
    assert tasks["contacts_identified"]["state"] == "done"
    assert tasks["team_on_site"]["state"] == "open"


def test_actions_and_bulk_actions_through_the_api(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    investigator = token_for(client, "home_investigator")
    command = token_for(client, "home_command_centre")
    report_case(client, world, investigator)
    tasks = _by_code(_tasks(client, command))
    on_site = tasks["team_on_site"]["id"]

    refused = client.post(f"/api/response/tasks/{on_site}/cancel", headers=investigator, json={"reason": "x"})
    assert refused.status_code == 403
    no_reason = client.post(f"/api/response/tasks/{on_site}/cancel", headers=command, json={"reason": ""})
    assert no_reason.status_code == 422

    me = client.get("/api/me", headers=investigator).json()
    wrong_role = client.post(
        f"/api/response/tasks/{tasks['risk_area_proposed']['id']}/assign",
        headers=command,
        json={"user_id": me["id"]},
    )
    assert wrong_role.status_code == 400, wrong_role.text
    assigned = client.post(
        f"/api/response/tasks/{on_site}/assign", headers=command, json={"user_id": me["id"]}
    )
    assert assigned.status_code == 200 and assigned.json()["assignee_id"] == me["id"]
    mine = _tasks(client, investigator, mine="true")
    assert on_site in [t["id"] for t in mine["items"]]

    started = client.post(f"/api/response/tasks/{on_site}/start", headers=investigator)
    assert started.json()["state"] == "in_progress"
    done = client.post(
        f"/api/response/tasks/{on_site}/complete", headers=investigator, json={"evidence": "到场 14:05"}
    )
    assert done.json()["state"] == "done" and done.json()["closed_by"] == "home_investigator"
    again = client.post(
        f"/api/response/tasks/{on_site}/complete", headers=investigator, json={"evidence": "x"}
    )
    assert again.status_code == 400

    ids = [tasks["environment_sampling"]["id"], tasks["regional_testing_decision"]["id"], on_site, 999_999]
    bulk = client.post(
        "/api/response/tasks/bulk",
        headers=command,
        json={"action": "cancel", "ids": ids, "reason": "演练取消"},
    )
    assert bulk.status_code == 200, bulk.text
    results = {r["id"]: r for r in bulk.json()["results"]}
    assert results[ids[0]]["ok"] and results[ids[1]]["ok"]
    assert not results[on_site]["ok"] and not results[999_999]["ok"]
    assert bulk.json()["done"] == 2 and bulk.json()["failed"] == 2

    reopened = client.post(f"/api/response/tasks/{ids[0]}/reopen", headers=command)
    assert reopened.json()["state"] == "open" and reopened.json()["cancel_reason"] is None
    history = client.get(f"/api/response/tasks/{ids[0]}", headers=command).json()["history"]
    assert [h["kind"] for h in history] == ["opened", "cancelled", "reopened"]
    assert history[1]["note"] == "演练取消"

    with app.state.db.unit_of_work() as session:
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("response.%"))))
        assert {"response.task.assign", "response.task.start", "response.task.complete"} <= actions
        assert {"response.task.cancel", "response.task.reopen"} <= actions
        assert session.scalar(select(TaskEvent.id).where(TaskEvent.kind == "assigned")) is not None


def test_the_foreign_county_sees_none_of_the_tasks(client, world: World) -> None:  # type: ignore[no-untyped-def]
    investigator = token_for(client, "home_investigator")
    report_case(client, world, investigator)
    away = token_for(client, "away_command_centre")
    assert _tasks(client, away)["total"] == 0
    home = _tasks(client, token_for(client, "home_command_centre"))
    task_id = home["items"][0]["id"]
    assert client.get(f"/api/response/tasks/{task_id}", headers=away).status_code == 404
    bulk = client.post("/api/response/tasks/bulk", headers=away, json={"action": "start", "ids": [task_id]})
    assert bulk.json()["results"][0]["ok"] is False


def test_templates_are_listed_and_edited_by_their_managers(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    command = token_for(client, "home_command_centre")
    listed = client.get("/api/response/templates", headers=command).json()
    assert {t["code"] for t in listed} == {t.code for t in DEFAULT_TEMPLATES}
    assert all(t["source"] for t in listed)
    bad = client.patch("/api/response/templates/core_facts", headers=command, json={"warn_minutes": 300})
    assert bad.status_code == 422
    ok = client.patch("/api/response/templates/core_facts", headers=command, json={"minutes": 180})
    assert (
        ok.status_code == 200
        and ok.json()["minutes"] == 180
        and ok.json()["updated_by"] == "home_command_centre"
    )
    viewer = token_for(client, "home_viewer")
    assert (
        client.patch("/api/response/templates/core_facts", headers=viewer, json={"minutes": 60}).status_code
        == 403
    )
    assert (
        client.patch("/api/response/templates/nope", headers=command, json={"minutes": 60}).status_code == 404
    )
    with app.state.db.unit_of_work() as session:
        assert session.scalar(select(AuditEntry.id).where(AuditEntry.action == "response.template.update"))
