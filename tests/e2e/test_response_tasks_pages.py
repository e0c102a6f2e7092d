"""The task pages over HTTP: the list, a task and the templates render in Chinese with no English
left (and in English with no Chinese), the countdown and "late by" show, and the bulk form works."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from test_areas_pages import login
from test_testing_pages import chinese_left, english_left

from conftest import World, token_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "response"))
from tasks_support import report_case, wire

# Names of the seeded world's places and people, and data the platform shows as written.
DATA = ("西湖", "杭州", "保俶", "北山")


@pytest.fixture(autouse=True)
def wired(app):  # type: ignore[no-untyped-def]
    wire(app.state.bus)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_task_pages_render_in_their_language(client, world: World, frozen_clock, lang: str) -> None:  # type: ignore[no-untyped-def]
    report_case(client, world, token_for(client, "home_investigator"))
    command = token_for(client, "home_command_centre")
    task_id = client.get("/api/response/tasks", headers=command).json()["items"][0]["id"]
    frozen_clock.advance(hours=3)
    assert client.post("/api/response/sweep", headers=command).status_code == 200
    client.cookies.clear()
    login(client, "home_command_centre")
    client.cookies.set("fk_lang", lang)
    for url in (
        "/tasks",
        "/tasks?state=&late=yes",
        f"/tasks/{task_id}",
        "/tasks/templates",
        "/tasks?trigger=alert_raised",
    ):
        page = client.get(url)
        assert page.status_code == 200, (url, page.text[:500])
        left = english_left(page.text) if lang == "zh" else chinese_left(page.text)
        left = [w for w in left if not any(d in w for d in DATA)]
        assert left == [], (url, left)
    listed = client.get("/tasks").text
    assert 'data-testid="late-by"' in listed and 'data-testid="time-left"' in listed
    assert 'data-testid="no-tasks"' in client.get("/tasks?trigger=alert_raised").text


def test_bulk_actions_from_the_list(client, world: World) -> None:  # type: ignore[no-untyped-def]
    report_case(client, world, token_for(client, "home_investigator"))
    login(client, "home_command_centre")
    page = client.get("/tasks")
    ids = re.findall(r'name="ids" value="(\d+)"', page.text)
    assert len(ids) == 7
    answer = client.post(
        "/tasks/bulk",
        data={"csrf_token": _csrf(page.text), "action": "start", "ids": ids[:3]},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.text
    assert 'data-testid="bulk-report"' in answer.text and "3" in answer.text
    started = client.get("/tasks?state=in_progress").text
    assert len(re.findall(r'name="ids" value="(\d+)"', started)) == 3
    refused = client.post("/tasks/bulk", data={"action": "start", "ids": ids[:1]}, follow_redirects=False)
    assert refused.status_code == 403
    plain = client.post(
        "/tasks/bulk",
        data={"csrf_token": _csrf(page.text), "action": "cancel", "ids": ids[3:5], "reason": "重复"},
        follow_redirects=False,
    )
    assert plain.status_code == 303
    assert len(re.findall(r'name="ids" value="(\d+)"', client.get("/tasks?state=cancelled").text)) == 2
    detail = client.post(
        f"/tasks/{ids[5]}/act",
        data={"csrf_token": _csrf(page.text), "action": "complete", "evidence": "已到场"},
        follow_redirects=False,
    )
    assert detail.status_code == 303
    assert "已到场" in client.get(f"/tasks/{ids[5]}").text
