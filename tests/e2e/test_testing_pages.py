"""The testing pages over HTTP: each renders with real data and empty, in Chinese by default and in English;
a round's dashboard and its refreshing fragment, coverage and the not-sampled workbook, the campaign with
its advice and sites, the lab's upload with its report (twice, a bad file, an unknown barcode, the
templates), worklists with a sample recorded, a person's history, the recall of a positive pool, the
planner; and who may do what: the testing coordinator, the laboratory and the community worker."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from conftest import World, token_for
from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.testing.models import Laboratory, TestOrder
from fangkong.testing.service import rounds, scanning
from testing_support import (
    acting_as,
    bus_with_orders,
    home_people,
    home_round,
    make_scan,
    place,
    scan_codes,
)

HAN = re.compile(r"[\u4e00-\u9fff]")
# Latin words a Chinese page may show as they are (the journeys' SYMBOLS).
SYMBOLS = {"Rt", "CSV", "Excel", "ICU", "Ct", "ORF1ab", "IP", "UTF"}
LATIN_RUN = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class Seeded:
    campaign: int
    round: int
    site: int
    lab: int
    people: list[int]


def seed(app, world: World, settings: Settings) -> Seeded:  # type: ignore[no-untyped-def]
    """A campaign of 西湖区's two communities (5-in-1) with its first round and sites: a and b of 保俶社区 in
    tube P-0001 at the first site, d of 宝石社区 in P-0002; a laboratory; and f under a close contact's
    plan (tests due yesterday and on later days)."""
    db = app.state.db
    campaign_id, round_id = home_round(db, world, pool_size=5)
    with acting_as(db, "home_testing_coordinator") as (session, me):
        site_id = rounds.set_up_sites(session, me, round_id)[0].id
    codes = scan_codes(settings)
    a, b, _c, d, _e, f = home_people(world)
    start = clock.utcnow()
    scans = [
        make_scan(codes, a, "P-0001", 1, round_id=round_id, at=start, site_id=site_id),
        make_scan(
            codes, b, "P-0001", 2, round_id=round_id, at=start + dt.timedelta(minutes=5), site_id=site_id
        ),
        make_scan(codes, d, "P-0002", 3, round_id=round_id, at=start + dt.timedelta(minutes=40)),
    ]
    with acting_as(db, "home_community_worker") as (session, me):
        assert scanning.bind(session, me, scans, codes=codes).recorded == 3
    with db.unit_of_work() as session:
        lab = Laboratory(
            name="西湖区疾控中心实验室",
            jurisdiction_id=world.jurisdictions["330106"],
            jpath="/330000/330100/330106/",
            tests_per_hour=500,
            turnaround_hours=12,
        )
        session.add(lab)
        session.flush()
        lab_id = lab.id
        place(
            session, bus_with_orders(), f, "close_contact", clock.today() - dt.timedelta(days=2), "contact:1"
        )
    return Seeded(campaign_id, round_id, site_id, lab_id, home_people(world))


def results_csv(rows: list[tuple[str, ...]]) -> bytes:
    lines = ["条码,结果,Ct ORF1ab,Ct N,检测时间", *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def result_time(hours_ago: float = 1) -> str:
    return clock.as_local(clock.utcnow() - dt.timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M")


def upload(client, headers: dict[str, str], data: bytes, name: str = "结果.csv", **form: str) -> Any:  # type: ignore[no-untyped-def]
    return client.post("/testing/lab", headers=headers, data=form, files={"file": (name, data)})


# ------------------------------------------------------------------------------------------ words on a page


def _main(html: str) -> str:
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


def ui_words(html: str) -> list[str]:
    """The platform's own words in a page's main part: text outside data (mono, data-user, cite, code,
    another language declared), and placeholders and aria-labels."""
    found: list[str] = []
    void = {"input", "br", "meta", "link", "img", "hr"}
    page = re.search(r'<html lang="([^"]+)"', html)
    language = page.group(1) if page else "zh-CN"

    class Words(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[bool] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            names = dict(attrs)
            inside = bool(self.stack) and self.stack[-1]
            data = inside or (
                "data-user" in names
                or "mono" in (names.get("class") or "").split()
                or tag in ("cite", "code", "pre", "script", "style")
                or names.get("lang") not in (None, language)
            )
            if not data:
                for attr in ("placeholder", "aria-label"):
                    if names.get(attr):
                        found.append(str(names[attr]))
            if tag not in void:
                self.stack.append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag not in void and self.stack:
                self.stack.pop()

        def handle_data(self, data: str) -> None:
            if (not self.stack or not self.stack[-1]) and data.strip():
                found.append(data.strip())

    Words().feed(_main(html))
    return found


def chinese_left(html: str) -> list[str]:
    """On an English page: the platform's words that are still Chinese (FHIR declared lang=en is data)."""
    return [w for w in ui_words(html) if HAN.search(w)]


def english_left(html: str) -> list[str]:
    """On a Chinese page: Latin words of two letters or more that are not symbols Chinese readers use."""
    left = []
    for text in ui_words(html):
        words = [w for w in LATIN_RUN.findall(text) if sum(c.isalpha() for c in w) >= 2 and w not in SYMBOLS]
        if words:
            left.append(text)
    return left


def _english(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set("fk_lang", "en")


# ------------------------------------------------------------------------------------------ the pages


def test_every_testing_page_renders_with_data_in_chinese_and_english(  # type: ignore[no-untyped-def]
    client, app, world: World, settings: Settings
) -> None:
    ids = seed(app, world, settings)
    lab = token_for(client, "home_laboratory")
    loaded = upload(client, lab, results_csv([("P-0001", "阳性", "28.1", "27.5", result_time())]))
    assert loaded.status_code == 200, loaded.text[:2000]
    coordinator = token_for(client, "home_testing_coordinator")
    pages = {
        "/testing": ["区域检测", "西湖区全员核酸", "第 1 轮", "混采阳性追踪", "混采数测算"],
        f"/testing/campaigns/{ids.campaign}": [
            "规则建议",
            "继续每日检测",
            "按规则设置采样点",
            "保俶社区",
            "采样人员",
        ],
        f"/testing/rounds/{ids.round}": [
            "第 1 轮",
            "progress-chart",
            "echarts",
            "各社区",
            "宝石社区",
            "every 5s",
        ],
        f"/testing/rounds/{ids.round}/coverage": [
            "应检未检",
            "保俶社区",
            "从采样到出结果的时间",
            "not-sampled.xlsx",
        ],
        f"/testing/sites/{ids.site}": ["采样人员", "第 1 轮", "保俶社区"],
        "/testing/worklist": ["采样清单", "逾期", "overdue-table", "登记采样"],
        f"/testing/people/{ids.people[0]}": ["检测记录", "P-0001", "阳性", "ORF1ab 28.1", "混采阳性追踪"],
        "/testing/recalls": ["混采阳性追踪", "P-0001", "待找到"],
        "/testing/planner?prevalence=1": ["最佳混采数", "plan-table"],
    }
    for path, expected in pages.items():
        response = client.get(path, headers=coordinator)
        assert response.status_code == 200, (path, response.text[:2000])
        for text in expected:
            assert text in response.text, (path, text)
        assert not english_left(response.text), (path, english_left(response.text))
    lab_page = client.get("/testing/lab", headers=lab)
    assert lab_page.status_code == 200 and "CSV 模板" in lab_page.text
    assert not english_left(lab_page.text), english_left(lab_page.text)

    _english(client)
    for path in [*pages, "/testing/lab"]:
        response = client.get(path, headers=lab if path == "/testing/lab" else coordinator)
        assert response.status_code == 200, path
        assert 'lang="en"' in response.text
        left = chinese_left(response.text)
        assert not left, (path, left)


def test_empty_states_everywhere(client, world: World) -> None:  # type: ignore[no-untyped-def]
    coordinator = token_for(client, "home_testing_coordinator")
    for path, empty in (
        ("/testing", "no-campaigns"),
        ("/testing/worklist", "nothing-due"),
        ("/testing/worklist", "nothing-overdue"),
        ("/testing/recalls", "no-recalls"),
        ("/testing/recalls?state=located", "no-recalls"),
        ("/testing/planner", "no-plan"),
        (f"/testing/people/{world.people['330106'][0]}", "no-tests"),
        (f"/testing/people/{world.people['330106'][0]}", "no-recalls"),
    ):
        response = client.get(path, headers=coordinator)
        assert response.status_code == 200, (path, response.text[:1000])
        assert f'data-testid="{empty}"' in response.text, (path, empty)
    assert 'data-testid="new-campaign"' in client.get("/testing", headers=coordinator).text
    # Whoever may only read sees the empty list without the form.
    worker = client.get("/testing", headers=token_for(client, "home_community_worker")).text
    assert 'data-testid="no-campaigns"' in worker and 'data-testid="new-campaign"' not in worker
    lab = client.get("/testing/lab", headers=token_for(client, "home_laboratory")).text
    assert 'data-testid="upload-form"' in lab and 'data-testid="upload-report"' not in lab


def test_a_round_without_samples_and_a_campaign_without_rounds(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    campaign, round_id = home_round(app.state.db, world)
    coordinator = token_for(client, "home_testing_coordinator")
    page = client.get(f"/testing/rounds/{round_id}", headers=coordinator).text
    assert 'data-testid="sampled">0<' in page and 'data-testid="expected">6<' in page
    coverage = client.get(f"/testing/rounds/{round_id}/coverage", headers=coordinator).text
    assert 'data-testid="no-tubes"' in coverage
    site_page = client.get(f"/testing/campaigns/{campaign}", headers=coordinator).text
    assert 'data-testid="no-sites"' in site_page and 'data-testid="close-round"' in site_page
    with acting_as(app.state.db, "home_testing_coordinator") as (session, me):
        bare = rounds.create_campaign(session, me, name="空白活动", areas=[world.jurisdictions["330106001"]])
        bare_id = bare.id
    bare_page = client.get(f"/testing/campaigns/{bare_id}", headers=coordinator).text
    assert 'data-testid="no-rounds"' in bare_page and 'data-testid="no-plan"' in bare_page
    assert 'data-testid="open-round"' in bare_page


# ------------------------------------------------------------------------------------------ a round


def test_the_dashboard_counts_and_colours_each_community_and_refreshes_itself(  # type: ignore[no-untyped-def]
    client, app, world: World, settings: Settings
) -> None:
    ids = seed(app, world, settings)
    coordinator = token_for(client, "home_testing_coordinator")
    page = client.get(f"/testing/rounds/{ids.round}", headers=coordinator).text
    assert 'data-testid="expected">6<' in page and 'data-testid="sampled">3<' in page
    assert 'data-testid="without-result">3<' in page
    rows = re.findall(r'data-testid="community-row" class="([\w-]+)"', page)
    # 保俶社区: 2 of 3 sampled (67%: behind); 宝石社区: 1 of 3 (33%: far behind).
    assert rows == ["cov-fair-row", "cov-poor-row"], rows
    assert 'hx-trigger="every 5s"' in page and "data-option=" in page
    live = client.get(f"/testing/rounds/{ids.round}/live", headers={**coordinator, "HX-Request": "true"})
    assert live.status_code == 200
    assert live.text.lstrip().startswith("<div") and "header" not in live.text.split("<main>")[0][:200]
    assert 'id="round-live"' in live.text and "<script" not in live.text
    # The chart's data rides on the fragment: sampled shares through the round and the deadline.
    assert "%" in live.text and "markLine" in live.text.replace("&#34;", '"')


def test_coverage_and_the_not_sampled_workbook_masked_for_the_coordinator(  # type: ignore[no-untyped-def]
    client, app, world: World, settings: Settings
) -> None:
    ids = seed(app, world, settings)
    coordinator = token_for(client, "home_testing_coordinator")
    page = client.get(f"/testing/rounds/{ids.round}/coverage", headers=coordinator).text
    assert re.findall(r'data-testid="row-not-sampled">(\d+)<', page) == ["1", "2"]
    book = client.get(f"/testing/rounds/{ids.round}/not-sampled.xlsx", headers=coordinator)
    assert book.status_code == 200 and book.content[:2] == b"PK"
    rows = list(load_workbook(io.BytesIO(book.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("社区", "姓名") and len(rows) == 4
    assert all("*" in str(r[1]) for r in rows[1:]), rows
    one = client.get(
        f"/testing/rounds/{ids.round}/not-sampled.xlsx?community_id={world.jurisdictions['330106001002']}",
        headers=coordinator,
    )
    assert len(list(load_workbook(io.BytesIO(one.content)).worksheets[0].iter_rows())) == 3
    # The community worker may reveal: whole names.
    worker = token_for(client, "home_community_worker")
    revealed = client.get(f"/testing/rounds/{ids.round}/not-sampled.xlsx", headers=worker)
    sheet = load_workbook(io.BytesIO(revealed.content)).worksheets[0]
    names = [r[1] for r in list(sheet.iter_rows(values_only=True))[1:]]
    assert "李娜" in names


# ------------------------------------------------------------------------------------------ a campaign


def test_the_campaign_shows_its_advice_and_sites_and_runs_its_rounds(  # type: ignore[no-untyped-def]
    client, app, world: World, settings: Settings
) -> None:
    ids = seed(app, world, settings)
    coordinator = token_for(client, "home_testing_coordinator")
    page = client.get(f"/testing/campaigns/{ids.campaign}", headers=coordinator).text
    # Three residents a community: one site and one sampler each (rt.sites).
    assert re.findall(r'data-testid="plan-sites">(\d+)<', page) == ["1", "1"]
    assert re.findall(r'data-testid="plan-samplers">(\d+)<', page) == ["1", "1"]
    assert f'href="/testing/sites/{ids.site}"' in page
    closed = client.post(
        f"/testing/rounds/{ids.round}/close",
        headers=coordinator,
        data={"community_positives": "0"},
        follow_redirects=False,
    )
    assert closed.status_code == 303 and closed.headers["location"] == f"/testing/campaigns/{ids.campaign}"
    page = client.get(f"/testing/campaigns/{ids.campaign}", headers=coordinator).text
    assert 'data-testid="open-round"' in page and 'data-testid="next-round"' in page
    opened = client.post(
        f"/testing/campaigns/{ids.campaign}/rounds", headers=coordinator, follow_redirects=False
    )
    assert opened.status_code == 303 and opened.headers["location"].startswith("/testing/rounds/")
    # Closing with a bad count is refused beside its field.
    round_two = int(opened.headers["location"].rsplit("/", 1)[1])
    refused = client.post(
        f"/testing/rounds/{round_two}/close",
        headers={**coordinator, "HX-Request": "true"},
        data={"community_positives": "-1"},
    )
    assert refused.status_code == 422 and 'data-field="community_positives"' in refused.text
    stop = client.post(
        f"/testing/campaigns/{ids.campaign}/stop",
        headers={**coordinator, "HX-Request": "true"},
        data={"reason": ""},
    )
    assert stop.status_code == 422 and 'data-field="reason"' in stop.text


def test_a_campaign_started_from_the_form_and_a_bad_deadline_refused_beside_its_field(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    coordinator = token_for(client, "home_testing_coordinator")
    areas = [world.jurisdictions["330106001001"], world.jurisdictions["330106001002"]]
    form = {
        "name": "北山街道全员核酸",
        "areas": [str(a) for a in areas],
        "pool_size": "10",
        "deadline_hours": "0",
    }
    refused = client.post("/testing/campaigns", headers={**coordinator, "HX-Request": "true"}, data=form)
    assert refused.status_code == 422 and 'data-field="deadline_hours"' in refused.text
    made = client.post(
        "/testing/campaigns",
        headers=coordinator,
        data={**form, "deadline_hours": "24"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"], headers=coordinator).text
    assert "北山街道全员核酸" in page and "保俶社区" in page and 'data-testid="no-rounds"' in page
    listed = client.get("/testing", headers=coordinator).text
    assert listed.count('data-testid="campaign-row"') == 1


def test_the_site_page_counts_what_was_sampled_there(client, app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    ids = seed(app, world, settings)
    page = client.get(f"/testing/sites/{ids.site}", headers=token_for(client, "home_community_worker")).text
    table = page.split('data-testid="site-rounds"', 1)[1].split("</table>", 1)[0]
    # One tube, two people at the site in round 1, no result yet.
    assert re.findall(r'<td class="num">(\d+)</td>', table) == ["1", "2", "0"]


# ------------------------------------------------------------------------------------------ the laboratory


def test_the_lab_loads_a_file_reports_an_unknown_barcode_and_loads_it_twice_for_nothing(  # type: ignore[no-untyped-def]
    client, app, world: World, settings: Settings
) -> None:
    ids = seed(app, world, settings)
    lab = token_for(client, "home_laboratory")
    data = results_csv(
        [
            ("P-0001", "阳性", "28.1", "27.5", result_time()),
            ("P-0002", "阴性", "", "", result_time()),
            ("NO-SUCH-TUBE", "阴性", "", "", result_time()),
        ]
    )
    first = upload(client, lab, data, laboratory_id=str(ids.lab))
    assert first.status_code == 200, first.text[:3000]
    assert 'data-testid="report-loaded">2<' in first.text
    assert 'data-testid="report-positive-pools">1<' in first.text
    assert 'data-testid="report-recalled">2<' in first.text
    assert re.findall(r'data-testid="unknown-barcode">([^<]+)<', first.text) == ["NO-SUCH-TUBE"]
    assert "<td>4</td>" in first.text.split('data-testid="unknown-barcodes"', 1)[1]
    assert f'value="{ids.lab}" data-user selected' in first.text
    again = upload(client, lab, data)
    assert (
        'data-testid="report-loaded">0<' in again.text and 'data-testid="report-unchanged">2<' in again.text
    )
    # A bad row refuses the whole file, naming the row and the column as the file names them.
    bad = upload(client, lab, results_csv([("P-0002", "大概", "", "", result_time())]))
    assert bad.status_code == 422
    errors = bad.text.split('data-testid="upload-errors"', 1)[1].split("</table>", 1)[0]
    assert "<td>2</td>" in errors and "结果" in errors
    # The recall follows on its page.
    recalls = client.get("/testing/recalls", headers=token_for(client, "home_testing_coordinator")).text
    assert recalls.count('data-testid="member"') == 2


def test_the_templates_download_and_the_fhir_one_loads(client, world: World) -> None:  # type: ignore[no-untyped-def]
    lab = token_for(client, "home_laboratory")
    csv_text = client.get("/testing/lab/template.csv", headers=lab)
    assert csv_text.status_code == 200 and csv_text.text.lstrip("\ufeff").startswith("条码,结果,Ct ORF1ab")
    fhir = client.get("/testing/lab/template.fhir.json", headers=lab)
    assert fhir.status_code == 200 and fhir.json()["resourceType"] == "Bundle"
    loaded = upload(client, lab, fhir.content, name="template.json")
    # Its two tubes are examples no round holds: both reported, nothing refused.
    assert loaded.status_code == 200, loaded.text[:3000]
    assert re.findall(r'data-testid="unknown-barcode">([^<]+)<', loaded.text) == [
        "TUBE-20261206-0001",
        "TUBE-20261206-0002",
    ]
    broken = upload(
        client, lab, b'{"resourceType": "Bundle", "type": "collection", "entry": [{}]}', name="b.json"
    )
    assert broken.status_code == 422 and 'data-testid="upload-errors"' in broken.text
    _english(client)
    english = client.get("/testing/lab/template.csv", headers=lab).text
    assert english.lstrip("\ufeff").startswith("barcode,result,Ct ORF1ab")


# ------------------------------------------------------------------------------------------ worklists


def test_a_worklist_shows_overdue_tests_in_red_and_records_a_sample(  # type: ignore[no-untyped-def]
    client, app, world: World, settings: Settings
) -> None:
    ids = seed(app, world, settings)
    worker = token_for(client, "home_community_worker")
    page = client.get("/testing/worklist", headers=worker).text
    overdue = page.split('data-testid="overdue-table"', 1)[1].split("</table>", 1)[0]
    assert 'class="overdue"' in overdue and 'data-testid="overdue"' in overdue
    order = int(re.findall(r'action="/testing/orders/(\d+)/sample"', overdue)[0])
    refused = client.post(
        f"/testing/orders/{order}/sample", headers={**worker, "HX-Request": "true"}, data={"barcode": " "}
    )
    assert refused.status_code == 422 and 'data-field="barcode"' in refused.text
    done = client.post(
        f"/testing/orders/{order}/sample",
        headers=worker,
        data={"barcode": "S-0001", "back": "/testing/worklist?place=home"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/testing/worklist?place=home"
    with app.state.db.unit_of_work() as session:
        assert session.scalar(select(TestOrder.tube_barcode).where(TestOrder.id == order)) == "S-0001"
    history = client.get(f"/testing/people/{ids.people[5]}", headers=worker).text
    assert "S-0001" in history and 'data-testid="history-row"' in history
    # Another day's list, filtered by community.
    later = (clock.today() + dt.timedelta(days=30)).isoformat()
    other = client.get(
        f"/testing/worklist?day={later}&community_id={world.jurisdictions['330106001002']}", headers=worker
    )
    assert other.status_code == 200 and 'data-testid="nothing-due"' in other.text
    bad_day = client.get("/testing/worklist?day=2026-13-40", headers=worker)
    assert bad_day.status_code == 422 and 'value="2026-13-40"' in bad_day.text


# ------------------------------------------------------------------------------------------ recalls


def test_members_of_a_positive_pool_are_located_and_retested(  # type: ignore[no-untyped-def]
    client, app, world: World, settings: Settings
) -> None:
    seed(app, world, settings)
    upload(
        client,
        token_for(client, "home_laboratory"),
        results_csv([("P-0001", "阳性", "30", "", result_time())]),
    )
    worker = token_for(client, "home_community_worker")
    page = client.get("/testing/recalls", headers=worker).text
    assert 'data-testid="located-count">0<' in page and "h left" not in page
    first, second = (int(x) for x in re.findall(r'id="recall-(\d+)"', page))
    assert (
        client.post(f"/testing/recalls/{first}/located", headers=worker, follow_redirects=False).status_code
        == 303
    )
    refused = client.post(
        f"/testing/recalls/{second}/retest", headers={**worker, "HX-Request": "true"}, data={"barcode": ""}
    )
    assert refused.status_code == 422 and 'data-field="barcode"' in refused.text
    done = client.post(
        f"/testing/recalls/{second}/retest",
        headers=worker,
        data={"barcode": "R-0001"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get("/testing/recalls", headers=worker).text
    assert 'data-testid="located-count">2<' in page and 'data-testid="hours-to-all-located">' in page
    located = client.get("/testing/recalls?state=located", headers=worker).text
    assert located.count('data-testid="member"') == 2


# ------------------------------------------------------------------------------------------ the planner


def test_the_planner_gives_the_optimal_size_and_says_when_pooling_does_not_pay(client, world: World) -> None:  # type: ignore[no-untyped-def]
    reader = token_for(client, "home_laboratory")
    one = client.get("/testing/planner?prevalence=1&population=1000000&lab_capacity=500", headers=reader).text
    # Dorfman at 1%: 11 people a pool, about 0.1956 tests per person (reference/pooling/dorfman.csv).
    assert 'data-testid="optimal">11<' in one and 'data-testid="tests-per-person">0.1956<' in one
    assert one.count('data-testid="plan-row"') == 5
    half = client.get("/testing/planner?prevalence=50", headers=reader).text
    assert 'data-testid="no-pooling"' in half
    refused = client.get("/testing/planner?prevalence=150", headers=reader)
    assert refused.status_code == 422 and 'data-testid="planner-errors"' in refused.text
    assert 'value="150"' in refused.text


# ------------------------------------------------------------------------------------------ permissions


def test_each_role_reaches_its_pages_and_no_others(client, app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    ids = seed(app, world, settings)
    coordinator = token_for(client, "home_testing_coordinator")
    lab = token_for(client, "home_laboratory")
    worker = token_for(client, "home_community_worker")
    # The laboratory loads results and reads, but has no worklist and runs no campaign.
    assert client.get("/testing/worklist", headers=lab).status_code == 403
    assert client.get(f"/testing/rounds/{ids.round}", headers=lab).status_code == 200
    assert client.post(f"/testing/campaigns/{ids.campaign}/rounds", headers=lab).status_code == 403
    # The coordinator runs campaigns and samples, but loads no results.
    assert client.get("/testing/lab", headers=coordinator).status_code == 403
    assert upload(client, coordinator, results_csv([])).status_code == 403
    # The community worker samples and recalls, but neither runs campaigns nor loads results.
    assert client.get("/testing/worklist", headers=worker).status_code == 200
    assert client.get("/testing/lab", headers=worker).status_code == 403
    assert client.post("/testing/campaigns", headers=worker, data={"name": "x"}).status_code == 403
    assert client.post(f"/testing/rounds/{ids.round}/close", headers=worker).status_code == 403
    campaign = client.get(f"/testing/campaigns/{ids.campaign}", headers=worker).text
    assert 'data-testid="open-round"' not in campaign and 'data-testid="close-round"' not in campaign
    # A role without testing sees nothing of it; another county's coordinator finds nothing.
    assert client.get("/testing", headers=token_for(client, "home_surveillance_analyst")).status_code == 403
    away = token_for(client, "away_testing_coordinator")
    assert client.get(f"/testing/campaigns/{ids.campaign}", headers=away).status_code == 404
    assert client.get(f"/testing/rounds/{ids.round}", headers=away).status_code == 404
    assert client.get(f"/testing/sites/{ids.site}", headers=away).status_code == 404
    assert client.get(f"/testing/people/{ids.people[0]}", headers=away).status_code == 404
    assert 'data-testid="no-campaigns"' in client.get("/testing", headers=away).text
