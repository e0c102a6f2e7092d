"""Assignment over HTTP: a task goes only to a team working for its place (422 naming the field
otherwise) and shows on the team's page; a quarantine site's page shows its posted staff and posts and
unposts with htmx forms, in Chinese with no English left; the command dashboard shows the staff posted
and the open sites short of staff; the CLI lists postings as JSON."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_areas_pages import login
from test_testing_pages import english_left
from typer.testing import CliRunner

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core import clock, config
from fangkong.quarantine.models import SiteStatus
from fangkong.resources.service import staff, teams
from quarantine_support import new_site
from resources_support import acting, add_certified


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _task(app: Any) -> int:
    """An open case task of a 西湖区 community (the dashboard tests' maker)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "response"))
    from dashboard_support import place_of, task

    with app.state.db.unit_of_work() as session:
        community = place_of(session, "330106001001")
        return task(session, "team_on_site", 1, community, clock.utcnow() - dt.timedelta(hours=1), 120).id


def test_a_task_goes_only_to_a_team_working_for_its_place(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        home = teams.create_team(
            session, me, jurisdiction_code=HOME_COUNTY, kind="investigation", name="西湖流调队"
        ).id
    with acting(db, "away_administrator") as (session, me):
        foreign = teams.create_team(
            session, me, jurisdiction_code=FOREIGN_COUNTY, kind="investigation", name="海曙流调队"
        ).id
    task_id = _task(app)
    headers = token_for(client, "home_command_centre")
    url = f"/api/response/tasks/{task_id}/assign"
    outside = client.post(url, json={"team_id": foreign}, headers=headers)
    assert outside.status_code == 422 and "team_id" in outside.text, outside.text
    unknown = client.post(url, json={"team": "不存在的队"}, headers=headers)
    assert unknown.status_code == 422 and "team" in unknown.text
    given = client.post(url, json={"team_id": home}, headers=headers)
    assert given.status_code == 200, given.text
    assert (given.json()["team_id"], given.json()["team"]) == (home, "西湖流调队")
    # By name, as older clients do, the same team is found.
    again = client.post(url, json={"team": "西湖流调队"}, headers=headers)
    assert again.status_code == 200 and again.json()["team_id"] == home
    login(client, "home_command_centre")
    task_page = client.get(f"/tasks/{task_id}").text
    choices = task_page.split('data-testid="team-choice"', 1)[1].split("</select>", 1)[0]
    assert "西湖流调队" in choices and "海曙流调队" not in choices
    team_page = client.get(f"/resources/teams/{home}")
    assert team_page.status_code == 200
    assert (
        team_page.text.count('data-testid="team-task"') == 1 and f'href="/tasks/{task_id}"' in team_page.text
    )
    assert english_left(team_page.text) == []
    assert client.get(f"/resources/teams/{foreign}").status_code == 404


def _crew_and_site(app: Any) -> tuple[int, dict[str, int]]:
    with acting(app.state.db, "home_administrator") as (session, me):
        lead = staff.add_staff(session, me, jurisdiction_code=HOME_COUNTY, name="负责人甲", unit="区政府").id
        doctor = add_certified(session, me, "医生甲", "clinical")
        site = new_site(session, me, "西湖宾馆", rooms=40, status=SiteStatus.preparing).id
    return site, {"lead": lead, "medical": doctor}


def test_the_site_page_shows_its_staff_and_posts_and_unposts(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    site_id, crew = _crew_and_site(app)
    login(client, "home_quarantine_manager")
    page = client.get(f"/quarantine/sites/{site_id}")
    assert page.status_code == 200 and 'data-testid="no-postings"' in page.text
    assert 'data-testid="staff-gaps"' in page.text and english_left(page.text) == []
    form = page.text.split('data-testid="posting-form"', 1)[1].split("</form>", 1)[0]
    assert "负责人甲" in form and "医生甲" in form
    assert 'hx-boost="true"' in page.text.split('data-testid="posting-form"', 1)[0].rsplit("<form", 1)[1]
    csrf = _csrf(page.text)
    bad = client.post(
        f"/quarantine/sites/{site_id}/postings",
        data={"csrf_token": csrf, "staff_id": str(crew["lead"]), "role": "medical"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 409 and "负责人甲" in bad.text
    posted = client.post(
        f"/quarantine/sites/{site_id}/postings",
        data={"csrf_token": csrf, "staff_id": str(crew["lead"]), "role": "lead"},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    page = client.get(f"/quarantine/sites/{site_id}").text
    assert page.count('data-testid="posting-row"') == 1
    # Posted here, so no longer offered in the form.
    assert "负责人甲" not in page.split('data-testid="posting-form"', 1)[1].split("</form>", 1)[0]
    headers = token_for(client, "home_quarantine_manager")
    staffing = client.get(f"/api/quarantine/sites/{site_id}/staffing", headers=headers).json()
    assert staffing["on_duty"] == 1 and staffing["missing"] == {"medical": 1, "security": 1, "cleaning": 1}
    posting_id = staffing["postings"][0]["id"]
    ended = client.post(
        f"/quarantine/sites/{site_id}/postings/{posting_id}/end",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    assert 'data-testid="no-postings"' in client.get(f"/quarantine/sites/{site_id}").text


def test_the_dashboard_and_the_cli_show_postings(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    from fangkong.quarantine.service import staffing

    site_id, crew = _crew_and_site(app)
    with acting(app.state.db, "home_quarantine_manager") as (session, me):
        staffing.post_staff(session, me, site_id, crew["lead"], "lead")
    with app.state.db.unit_of_work() as session:
        from fangkong.quarantine.models import QuarantineSite

        site = session.get(QuarantineSite, site_id)
        assert site is not None
        site.status = SiteStatus.open  # test set-up: an open site short of its minimum
    login(client, "home_command_centre")
    page = client.get("/dashboard").text
    figures = page.split('data-testid="resource-figures"', 1)[1].split("</table>", 1)[0]
    assert 'data-testid="staff-posted">1<' in figures and 'data-testid="sites-short">1<' in figures
    assert "西湖宾馆" in page.split('data-testid="sites-short-list"', 1)[1].split("</ul>", 1)[0]


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World) -> Iterator[None]:  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_the_cli_posts_and_lists_postings(cli_env, app) -> None:  # type: ignore[no-untyped-def]
    from fangkong.resources.cli import app as cli

    site_id, crew = _crew_and_site(app)
    runner = CliRunner()
    posted = runner.invoke(
        cli,
        ["post", str(site_id), str(crew["medical"]), "medical", "-u", "home_quarantine_manager", "--json"],
    )
    assert posted.exit_code == 0, posted.output
    assert json.loads(posted.output)["on_duty"] == 1
    twice = runner.invoke(
        cli,
        ["post", str(site_id), str(crew["medical"]), "medical", "-u", "home_quarantine_manager", "--json"],
    )
    assert twice.exit_code == 2 and "already posted" in twice.output
    listed = runner.invoke(cli, ["postings", "--jurisdiction", HOME_COUNTY, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(p["staff_name"], p["role"], p["site_name"]) for p in json.loads(listed.output)] == [
        ("医生甲", "medical", "西湖宾馆")
    ]
