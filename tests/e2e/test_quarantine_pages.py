"""The quarantine pages over HTTP: each renders with real data and empty, in Chinese by default and English;
bulk placement, one person's placement, room import with a bad row, transfer batches and permissions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from conftest import HOME_COUNTY, World, token_for

# Han characters outside data (a site, place or person name is data, marked data-user, mono or cite).
HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Seeded:
    open_site: int
    reserve_site: int
    contacts: list[int]


def principal_of(app, username: str, world: World) -> Any:  # type: ignore[no-untyped-def]
    from fangkong.core.auth import principal_for
    from fangkong.core.models import User

    with app.state.db.unit_of_work() as session:
        user = session.get(User, world.users[username])
        assert user is not None
        return principal_for(session, user, "token")


def seed_contacts(client, world: World) -> list[int]:  # type: ignore[no-untyped-def]
    """A confirmed case of 西湖区 and two close contacts whose plans ask for centralized quarantine."""
    from fangkong.core import clock

    day = (clock.today() - dt.timedelta(days=1)).isoformat()
    home = token_for(client, "home_investigator")
    case = client.post(
        "/api/tracing/cases",
        headers=home,
        json={
            "classification": "confirmed",
            "case_ref": "XH-1",
            "onset_date": day,
            "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][0]]},
        },
    )
    assert case.status_code == 201, case.text
    contacts = client.post(
        f"/api/tracing/cases/{case.json()['id']}/exposures",
        headers=home,
        json={
            "exposures": [
                {
                    "setting": "household",
                    "start": f"{day}T08:00:00",
                    "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][1]]},
                },
                {
                    "setting": "shared_meal",
                    "start": f"{day}T12:00:00",
                    "end": f"{day}T13:30:00",
                    "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][3]]},
                },
            ]
        },
    )
    assert contacts.status_code in (200, 201), contacts.text
    return [int(c["id"]) for c in contacts.json()]


def seed_sites(app, world: World) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """An open hotel of 西湖区 (tier 1: four single rooms on two floors, one family room) and a reserve
    site of tier 2 with two rooms, through the use cases."""
    from fangkong.core.events import EventBus
    from fangkong.quarantine import service
    from fangkong.quarantine.service.sites import RoomInput, SiteInput

    manager = principal_of(app, "home_quarantine_manager", world)
    commander = principal_of(app, "home_command_centre", world)
    with app.state.db.unit_of_work() as session:
        hotel = service.sites.create_site(
            session,
            manager,
            SiteInput(
                "西湖隔离酒店", "hotel", "西湖区 隔离路1号", HOME_COUNTY, operator="西湖酒店管理公司", tier=1
            ),
        )
        reserve = service.sites.create_site(
            session,
            manager,
            SiteInput("北山储备点", "purpose_built", "北山街道 储备路2号", "330106001", tier=2),
        )
        service.sites.add_rooms(
            session,
            manager,
            hotel.id,
            [
                RoomInput("101", "single", 1, floor="1"),
                RoomInput("102", "single", 1, floor="1"),
                RoomInput("201", "single", 1, floor="2"),
                RoomInput("202", "single", 1, floor="2"),
                RoomInput("203", "family", 3, floor="2"),
            ],
        )
        service.sites.add_rooms(
            session, manager, reserve.id, [RoomInput("A1", "single", 1), RoomInput("A2", "single", 1)]
        )
        hotel_id, reserve_id = hotel.id, reserve.id
    with app.state.db.unit_of_work() as session:
        service.activation.activate(session, EventBus(), commander, hotel_id, reason="首批启用")
    with app.state.db.unit_of_work() as session:
        service.activation.mark_open(session, manager, hotel_id)
    return hotel_id, reserve_id


def seed(client, app, world: World) -> Seeded:  # type: ignore[no-untyped-def]
    contacts = seed_contacts(client, world)
    hotel, reserve = seed_sites(app, world)
    return Seeded(hotel, reserve, contacts)


def _english(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set("fk_lang", "en")


def _main(html: str) -> str:
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


def _ui_han(html: str) -> list[str]:
    """Chinese left in the platform's own words of a page's main part (data elements taken out)."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Words(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[bool] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            names = dict(attrs)
            data = (
                "data-user" in names
                or "mono" in (names.get("class") or "").split()
                or tag in ("cite", "code", "pre", "script", "style")
                or (names.get("lang") not in (None, "en"))
            )
            if tag in ("input", "br", "meta", "link", "img", "hr"):
                return
            self.stack.append(data or (bool(self.stack) and self.stack[-1]))

        def handle_endtag(self, tag: str) -> None:
            if tag not in ("input", "br", "meta", "link", "img", "hr") and self.stack:
                self.stack.pop()

        def handle_data(self, data: str) -> None:
            if (not self.stack or not self.stack[-1]) and HAN.search(data):
                found.append(data.strip())

    Words().feed(_main(html))
    return found


def test_every_quarantine_page_renders_with_data_in_chinese_and_english(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = seed(client, app, world)
    manager = token_for(client, "home_quarantine_manager")
    pages = {
        "/quarantine": ["储备标准", "西湖隔离酒店", "北山储备点", "启用建议"],
        f"/quarantine/sites/{ids.open_site}": ["房间看板", "101", "203", "家庭房"],
        f"/quarantine/sites/{ids.reserve_site}": ["储备", "A1"],
        f"/quarantine/sites/{ids.open_site}/import": ["导入房间", "下载模板"],
        "/quarantine/to-place": ["待安置", "密切接触者", "全部安置"],
        "/quarantine/transfers": ["转运批次"],
        "/quarantine/census": ["入住统计", "census-chart", "echarts"],
        "/quarantine/history": ["启用记录", "首批启用"],
    }
    for path, expected in pages.items():
        response = client.get(path, headers=manager)
        assert response.status_code == 200, (path, response.text[:2000])
        for text in expected:
            assert text in response.text, (path, text)
    _english(client)
    for path in pages:
        response = client.get(path, headers=manager)
        assert response.status_code == 200, path
        assert response.text.count('lang="en"') >= 1
        left = _ui_han(response.text)
        assert not left, (path, left)


def test_a_county_without_sites_says_so_and_links_to_creating_one(client, world: World) -> None:  # type: ignore[no-untyped-def]
    manager = token_for(client, "home_quarantine_manager")
    page = client.get("/quarantine", headers=manager).text
    assert 'data-testid="no-sites"' in page and 'href="#new-site"' in page
    assert 'data-testid="new-site"' in page
    # Whoever may only read is told, without a form to fill.
    reader = client.get("/quarantine", headers=token_for(client, "home_investigator")).text
    assert 'data-testid="no-sites"' in reader and 'data-testid="new-site"' not in reader
    for path, empty in (
        ("/quarantine/to-place", "nobody-to-place"),
        ("/quarantine/transfers", "no-batches"),
        ("/quarantine/history", "no-history"),
        ("/quarantine/census", "census-chart"),
    ):
        response = client.get(path, headers=manager)
        assert response.status_code == 200, (path, response.text[:1000])
        assert f'data-testid="{empty}"' in response.text, path


def test_reserve_standard_shows_rooms_per_10k_and_the_shortfall(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    seed_sites(app, world)
    page = client.get("/quarantine", headers=token_for(client, "home_quarantine_manager")).text
    table = page.split('data-testid="reserve-standard"', 1)[1].split("</table>", 1)[0]
    # 西湖区: six residents and seven rooms on the reserve list: far above 20 per 10,000, no shortfall.
    assert "西湖区" in table and "达标" in table


def test_create_site_refuses_a_bad_tier_beside_the_field_and_keeps_the_input(client, world: World) -> None:  # type: ignore[no-untyped-def]
    manager = token_for(client, "home_quarantine_manager")
    form = {"name": "新隔离点", "kind": "hotel", "jurisdiction_code": HOME_COUNTY, "tier": "0"}
    htmx = client.post("/quarantine/sites", headers={**manager, "HX-Request": "true"}, data=form)
    assert htmx.status_code == 422
    assert 'data-field="tier"' in htmx.text
    plain = client.post("/quarantine/sites", headers=manager, data=form)
    assert plain.status_code == 422 and 'value="新隔离点"' in plain.text
    created = client.post(
        "/quarantine/sites", headers=manager, data={**form, "tier": "1"}, follow_redirects=False
    )
    assert created.status_code == 303
    site = client.get(created.headers["location"], headers=manager)
    assert "新隔离点" in site.text and 'data-testid="no-rooms"' in site.text


def test_place_all_places_people_and_names_the_reason_for_each_left_out(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = seed(client, app, world)
    manager = token_for(client, "home_quarantine_manager")
    listed = client.get("/quarantine/to-place", headers=manager).text
    assert listed.count('data-testid="to-place-row"') == 2
    answer = client.post("/quarantine/to-place/place-all", headers={**manager, "HX-Request": "true"})
    assert answer.status_code == 200, answer.text[:2000]
    assert re.search(r'data-testid="placed-count">2<', answer.text), answer.text[:3000]
    assert 'hx-swap-oob="true"' in answer.text and 'data-testid="nobody-to-place"' in answer.text
    board = client.get(f"/quarantine/sites/{ids.open_site}", headers=manager).text
    assert board.count('data-testid="occupant"') == 2
    # A masked name on the board, never the whole one.
    assert "王芳" not in board and "王*" in board


def test_place_all_without_free_rooms_gives_each_persons_reason(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    seed_contacts(client, world)
    manager = token_for(client, "home_quarantine_manager")
    answer = client.post("/quarantine/to-place/place-all", headers={**manager, "HX-Request": "true"})
    assert answer.status_code == 200
    assert re.search(r'data-testid="placed-count">0<', answer.text)
    assert answer.text.count('data-testid="unplaced-reason"') == 2
    # Each reason in the page's language.
    reasons = re.findall(r'data-testid="unplaced-reason">([^<]*)<', answer.text)
    assert all(HAN.search(r) and not re.search(r"[A-Za-z]{2,}", r) for r in reasons), reasons


def test_one_person_placed_by_hand_in_a_chosen_room(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = seed(client, app, world)
    manager = token_for(client, "home_quarantine_manager")
    person = world.people[HOME_COUNTY][1]
    screen = client.get(f"/quarantine/to-place/{person}", headers=manager)
    assert screen.status_code == 200 and 'data-testid="room-choice"' in screen.text
    room = re.search(r'<option value="(\d+)">202 ', screen.text)
    assert room, screen.text[:3000]
    placed = client.post(
        f"/quarantine/to-place/{person}",
        headers=manager,
        data={"room_id": room.group(1)},
        follow_redirects=False,
    )
    assert placed.status_code == 303, placed.text
    assert placed.headers["location"].startswith(f"/quarantine/sites/{ids.open_site}")
    # Placed now: no longer waiting.
    assert client.get(f"/quarantine/to-place/{person}", headers=manager).status_code == 404


def test_room_import_dry_run_then_refused_rows_then_import(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = seed(client, app, world)
    manager = token_for(client, "home_quarantine_manager")
    url = f"/quarantine/sites/{ids.reserve_site}/import"
    good = "房间号,楼层,房间类型,床位数\nB1,3,单人间,1\nB2,3,家庭房,3\n".encode()
    dry = client.post(url, headers=manager, data={"dry_run": "true"}, files={"file": ("rooms.csv", good)})
    assert dry.status_code == 200, dry.text[:2000]
    assert 'data-testid="import-report"' in dry.text and "试导入" in dry.text
    bad = "房间号,楼层,房间类型,床位数\nB1,3,单人间,1\nB1,3,套房,0\n".encode()
    refused = client.post(url, headers=manager, files={"file": ("rooms.csv", bad)})
    assert refused.status_code == 422
    assert 'data-testid="import-errors"' in refused.text and "房间类型" in refused.text
    done = client.post(url, headers=manager, files={"file": ("rooms.csv", good)})
    assert done.status_code == 200 and 'data-testid="import-rooms-added">2<' in done.text
    board = client.get(f"/quarantine/sites/{ids.reserve_site}", headers=manager).text
    assert "B2" in board
    template = client.get("/quarantine/rooms/template.xlsx", headers=manager)
    assert template.status_code == 200 and template.content[:2] == b"PK"


def test_status_buttons_follow_the_permissions(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = seed(client, app, world)
    manager = token_for(client, "home_quarantine_manager")
    commander = token_for(client, "home_command_centre")
    as_manager = client.get(f"/quarantine/sites/{ids.reserve_site}", headers=manager).text
    assert 'data-testid="action-activate"' not in as_manager
    as_commander = client.get(f"/quarantine/sites/{ids.reserve_site}", headers=commander).text
    assert 'data-testid="action-activate"' in as_commander
    refused = client.post(f"/quarantine/sites/{ids.reserve_site}/activate", headers=manager, data={})
    assert refused.status_code == 403
    done = client.post(
        f"/quarantine/sites/{ids.reserve_site}/activate",
        headers=commander,
        data={"reason": "床位紧张"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(f"/quarantine/sites/{ids.reserve_site}", headers=manager).text
    assert 'data-testid="action-open"' in page and "床位紧张" in page


def test_transfer_batches_planned_printed_and_arrived(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    seed(client, app, world)
    manager = token_for(client, "home_quarantine_manager")
    client.post("/quarantine/to-place/place-all", headers=manager)
    planned = client.post(
        "/quarantine/transfers", headers=manager, data={"seats": "4"}, follow_redirects=False
    )
    assert planned.status_code == 303, planned.text
    listed = client.get("/quarantine/transfers", headers=manager).text
    batch = re.search(r'href="/quarantine/transfers/(\d+)"', listed)
    assert batch, listed[:3000]
    sheet = client.get(f"/quarantine/transfers/{batch.group(1)}", headers=manager)
    assert (
        sheet.status_code == 200
        and 'data-testid="batch-people"' in sheet.text
        and "@media print" in sheet.text
    )
    arrived = client.post(
        f"/quarantine/transfers/{batch.group(1)}/arrival", headers=manager, follow_redirects=False
    )
    assert arrived.status_code == 303
    sheet = client.get(f"/quarantine/transfers/{batch.group(1)}", headers=manager).text
    assert 'data-testid="confirm-arrival"' not in sheet


def test_readers_see_the_pages_but_cannot_place(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    seed(client, app, world)
    investigator = token_for(client, "home_investigator")
    listed = client.get("/quarantine/to-place", headers=investigator)
    assert listed.status_code == 200 and 'data-testid="place-all"' not in listed.text
    assert client.post("/quarantine/to-place/place-all", headers=investigator).status_code == 403
    viewer = token_for(client, "home_surveillance_analyst")
    assert client.get("/quarantine", headers=viewer).status_code == 403
