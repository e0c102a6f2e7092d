"""The training and duty-roster pages over HTTP: empty states in Chinese and English, a course's session
with one result form per participant (htmx swaps the row; a bad score is named beside its field), the
renewal worklist and its Excel export, the roster grid and a refused roster file naming row and column,
and the staff list showing masked phones with an audited reveal."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from test_areas_pages import login
from test_testing_pages import chinese_left, english_left

from conftest import HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.crypto import Vault
from fangkong.resources.service import staff, training
from resources_support import acting, add_certified

EMPTY = {
    "/resources/training": "no-courses",
    "/resources/training/exercises": "no-exercises",
    "/resources/training/renewals": "no-renewals",
    "/resources/roster": "no-shifts-today",
}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pages_show_their_empty_states_in_their_language(client, app, world: World, lang: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "home_administrator")
    client.cookies.set("fk_lang", lang)
    for path, empty in EMPTY.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert f'data-testid="{empty}"' in page.text, path
        left = english_left(page.text) if lang == "zh" else chinese_left(page.text)
        assert left == [], (path, left)


def _seed(app, settings) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """A course with a session today and two participants; a certificate expiring in ten days; a staff
    member with a work phone."""
    vault = Vault(settings.encryption_key, settings.hash_key)
    with acting(app.state.db, "home_administrator") as (session, me):
        add_certified(session, me, "王到期", "sampling", passed_on=clock.today() - dt.timedelta(days=355))
        people = [
            staff.add_staff(
                session, me, jurisdiction_code=HOME_COUNTY, name=n, unit="区疾控中心",
                work_phone="13905712345" if n == "甲学员" else "", vault=vault,
            ).id
            for n in ("甲学员", "乙学员")
        ]  # fmt: skip
        course = training.create_course(session, me, title="采样实操培训", skill="sampling")
        held = training.hold_session(session, me, course.id, clock.today())
        training.add_participants(session, me, held.id, people)
        return course.id, held.id, people[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_session_takes_results_one_participant_at_a_time(
    client, app, world: World, settings, lang: str
) -> None:  # type: ignore[no-untyped-def]
    course_id, session_id, first = _seed(app, settings)
    login(client, "home_administrator")
    client.cookies.set("fk_lang", lang)
    for path in (
        "/resources/training",
        f"/resources/training/courses/{course_id}",
        f"/resources/training/sessions/{session_id}",
        "/resources/training/renewals",
        "/resources/roster",
        "/resources/staff",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        left = english_left(page.text) if lang == "zh" else chinese_left(page.text)
        assert left == [], (path, left)
    page = client.get(f"/resources/training/sessions/{session_id}").text
    assert page.count('data-testid="result-form"') == 2 and "hx-post" in page
    htmx = {"HX-Request": "true"}
    bad = client.post(
        f"/resources/training/sessions/{session_id}/results",
        data={"csrf_token": _csrf(page), "staff_id": str(first), "exam_score": "120"},
        headers=htmx,
    )
    assert bad.status_code == 422 and 'data-field="exam_score"' in bad.text
    good = client.post(
        f"/resources/training/sessions/{session_id}/results",
        data={"csrf_token": _csrf(page), "staff_id": str(first), "exam_score": "91"},
        headers=htmx,
    )
    assert good.status_code == 200 and 'data-testid="participant"' in good.text
    assert ("通过：已取得资格" if lang == "zh" else "Passed: certified") in good.text
    assert "<html" not in good.text  # the row alone, for htmx to swap
    renewals = client.get("/resources/training/renewals").text
    assert "王到期" in renewals and 'data-testid="renewals-export"' in renewals
    exported = client.get(f"/resources/training/renewals.xlsx?jurisdiction={HOME_COUNTY}&within=30")
    assert exported.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
    assert sheet.cell(row=2, column=1).value == "王到期"
    foreign = client.get("/resources/training/renewals?jurisdiction=330203")
    assert foreign.status_code == 422


def test_staff_phones_show_masked_and_reveal_on_request(client, app, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    _, _, first = _seed(app, settings)
    login(client, "home_administrator")
    page = client.get("/resources/staff").text
    assert "139****2345" in page and "13905712345" not in page
    revealed = client.post(
        f"/resources/staff/{first}/phone", data={"csrf_token": _csrf(page)}, headers={"HX-Request": "true"}
    )
    assert revealed.status_code == 200 and "13905712345" in revealed.text
    login(client, "home_viewer")
    viewer = client.get("/resources/staff").text
    assert "139****2345" in viewer and 'data-testid="reveal-phone"' not in viewer


def test_the_roster_page_sets_a_shift_and_refuses_a_bad_file_whole(
    client, app, world: World, settings
) -> None:  # type: ignore[no-untyped-def]
    _, _, first = _seed(app, settings)
    login(client, "home_administrator")
    page = client.get("/resources/roster").text
    assert 'data-testid="roster-grid"' in page and 'data-testid="no-shifts-today"' in page
    today = clock.today().isoformat()
    saved = client.post(
        "/resources/roster/shifts",
        data={"csrf_token": _csrf(page), "staff_id": str(first), "day": today, "kind": "on_duty",
              "jurisdiction": HOME_COUNTY},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    page = client.get("/resources/roster").text
    assert page.count('data-testid="today-line"') == 1
    bad_day = client.post(
        "/resources/roster/shifts",
        data={"csrf_token": _csrf(page), "staff_id": str(first), "day": "someday", "kind": "on_duty"},
        headers={"HX-Request": "true"},
    )
    assert bad_day.status_code == 422 and 'data-field="day"' in bad_day.text
    file = f"人员编号,日期,班次\n{first},{today},备班\n{first + 100},{today},值班\n".encode()
    refused = client.post(
        "/resources/roster/import",
        data={"csrf_token": _csrf(page)},
        files={"file": ("roster.csv", file, "text/csv")},
    )
    assert refused.status_code == 422
    errors = refused.text.split('data-testid="roster-import-errors"', 1)[1].split("</table>", 1)[0]
    assert "<td>3</td>" in errors and "人员编号" in errors
    # Nothing of the file was written: today's line is still on duty.
    dashboard = client.get("/resources/staff").text
    assert 'data-testid="on-duty">1<' in dashboard
    download = client.get(f"/resources/roster.csv?jurisdiction={HOME_COUNTY}&week={today}")
    assert download.status_code == 200 and f"{first}," in download.content.decode("utf-8-sig")
