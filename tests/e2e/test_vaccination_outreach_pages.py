"""The outreach and AEFI pages over HTTP: each renders in Chinese with no English left (and in English
with no Chinese), empty states are said, a contact attempt is recorded inline through htmx, and an AEFI
card goes from the report form to the county CDC and its causality review."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from test_areas_pages import login
from test_testing_pages import chinese_left, english_left

from conftest import HOME_COUNTY, World
from fangkong.core import clock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "vaccination"))
from fangkong.vaccination.models import ContraindicationReason, VaccinationStatus
from fangkong.vaccination.service import status
from vaccination_support import HOME_A, add_person, give_doses

# Names of the seeded world's places and people, and data the platform shows as written.
DATA = ("西湖", "杭州", "保俶", "北山", "宝石", "赵", "张", "王", "李", "北京生物")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _seed(app: Any, world: World) -> dict[str, int]:
    elder = add_person(app, world, HOME_A, "19380501")
    with app.state.db.unit_of_work() as session:
        dose = give_doses(
            session, world.people[HOME_COUNTY][0], [clock.today() - dt.timedelta(days=2)], lot="L7"
        )
        status.evaluate(session)
    return {"elder": elder, "dose": dose[0]}


def _left(html: str, lang: str) -> list[str]:
    left = english_left(html) if lang == "zh" else chinese_left(html)
    return [w for w in left if not any(d in w for d in DATA)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pages_render_in_their_language(client: Any, app: Any, world: World, lang: str) -> None:
    ids = _seed(app, world)
    login(client, "home_community_worker")
    client.cookies.set("fk_lang", lang)
    assert client.get("/vaccination/aefi").status_code == 200
    page = client.get("/vaccination/aefi/new")
    answer = client.post(
        "/vaccination/aefi",
        data={
            "csrf_token": _csrf(page.text),
            "id_number": world.id_numbers[world.people[HOME_COUNTY][0]],
            "dose_number": "1",
            "onset_on": clock.today().isoformat(),
            "symptoms": "发热",
            "severity": "mild",
            "outcome": "recovering",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    card_url = answer.headers["location"]
    urls = [
        "/vaccination/outreach",
        "/vaccination/outreach?min_age=80",
        "/vaccination/outreach/reminders",
        "/vaccination/outreach/gaps",
        "/vaccination/aefi",
        "/vaccination/aefi?state=sent",
        "/vaccination/aefi/new",
        "/vaccination/aefi/rates",
        card_url,
    ]
    for url in urls:
        shown = client.get(url)
        assert shown.status_code == 200, (url, shown.text[:500])
        assert _left(shown.text, lang) == [], (url, _left(shown.text, lang))
    worklist = client.get("/vaccination/outreach").text
    assert f'id="person-{ids["elder"]}"' in worklist
    assert 'data-testid="no-aefi"' in client.get("/vaccination/aefi?state=sent").text
    assert 'data-testid="no-reminders"' in client.get("/vaccination/outreach/reminders").text


def test_a_contact_is_recorded_inline(client: Any, app: Any, world: World) -> None:
    ids = _seed(app, world)
    login(client, "home_community_worker")
    page = client.get("/vaccination/outreach")
    url = f"/vaccination/outreach/{ids['elder']}/attempts"
    assert f'hx-post="{url}"' in page.text
    token = _csrf(page.text)
    bad = client.post(
        url,
        data={"csrf_token": token, "method": "phone", "outcome": "appointment"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422 and "appointment_on" in bad.text
    booked = (clock.today() + dt.timedelta(days=2)).isoformat()
    row = client.post(
        url,
        data={"csrf_token": token, "method": "phone", "outcome": "appointment", "appointment_on": booked},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200, row.text
    assert row.text.lstrip().startswith("<tr") and booked in row.text and "预约" in row.text
    gone = client.post(
        url, data={"csrf_token": token, "method": "door", "outcome": "moved"}, headers={"HX-Request": "true"}
    )
    assert 'data-testid="work-row-closed"' in gone.text
    assert f'id="person-{ids["elder"]}"' not in client.get("/vaccination/outreach").text
    export = client.get("/api/vaccination/outreach/export.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"


def test_a_contraindication_is_recorded_from_the_worklist(client: Any, app: Any, world: World) -> None:
    ids = _seed(app, world)
    login(client, "home_community_worker")
    page = client.get("/vaccination/outreach")
    url = f"/vaccination/outreach/{ids['elder']}/contraindications"
    assert f'hx-post="{url}"' in page.text and "严重过敏" in page.text
    token = _csrf(page.text)
    # A fever postpones the dose until a day that must be given.
    undated = client.post(
        url, data={"csrf_token": token, "reason": "fever_acute_infection"}, headers={"HX-Request": "true"}
    )
    assert undated.status_code == 422 and "until" in undated.text
    unknown = client.post(url, data={"csrf_token": token, "reason": "头疼"}, headers={"HX-Request": "true"})
    assert unknown.status_code == 422 and "reason" in unknown.text
    until = (clock.today() + dt.timedelta(days=14)).isoformat()
    row = client.post(
        url,
        data={"csrf_token": token, "reason": "fever_acute_infection", "until": until},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200, row.text
    assert 'data-testid="work-row-closed"' in row.text and until in row.text and "发热" in row.text
    assert f'id="person-{ids["elder"]}"' not in client.get("/vaccination/outreach").text
    with app.state.db.unit_of_work() as session:
        now = session.get(VaccinationStatus, ids["elder"])
        assert now is not None and now.contraindication == ContraindicationReason.fever_acute_infection


def test_a_card_is_sent_and_reviewed_from_its_page(client: Any, app: Any, world: World) -> None:
    _seed(app, world)
    login(client, "home_community_worker")
    page = client.get("/vaccination/aefi/new")
    form = {
        "csrf_token": _csrf(page.text),
        "id_number": world.id_numbers[world.people[HOME_COUNTY][0]],
        "dose_number": "2",
        "onset_on": clock.today().isoformat(),
        "symptoms": "晕厥",
        "severity": "severe",
        "outcome": "recovering",
        "cluster": "yes",
    }
    missing = client.post("/vaccination/aefi", data=form, headers={"HX-Request": "true"})
    assert missing.status_code == 422 and "dose_number" in missing.text
    made = client.post("/vaccination/aefi", data={**form, "dose_number": "1"}, follow_redirects=False)
    card_url = made.headers["location"]
    card = client.get(card_url).text
    assert "2 小时" in card and 'data-testid="send-form"' in card and 'data-testid="review-form"' not in card
    sent = client.post(f"{card_url}/send", data={"csrf_token": _csrf(card)}, follow_redirects=False)
    assert sent.status_code == 303
    assert "按时报送" in client.get(card_url).text
    client.cookies.clear()
    login(client, "home_command_centre")
    card = client.get(card_url).text
    assert 'data-testid="send-form"' not in card and 'data-testid="review-form"' in card
    reviewed = client.post(
        f"{card_url}/review", data={"csrf_token": _csrf(card), "causality": "a4"}, follow_redirects=False
    )
    assert reviewed.status_code == 303
    assert "A4 接种焦虑相关反应" in client.get(card_url).text
    assert "L7" in client.get("/vaccination/aefi/rates").text
