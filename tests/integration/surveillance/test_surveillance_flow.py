"""Surveillance end to end through the API, on SQLite and PostgreSQL: observations with revisions, a
detector run that signals, two channels fused into an alert, its response clock, escalation when
overdue, the CIDARS-style statistics, webhooks and pulls against local HTTP servers, and bad input.

Time is the suite's frozen platform clock (``frozen_clock``), set to START and moved by each test.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conftest import FOREIGN_COUNTY, HOME_COUNTY, PASSWORD, World, token_for
from fangkong.core.clock import FrozenClock as Clock
from surveillance_support import add_cholera_channel

START = dt.datetime(2024, 3, 20, 8, 0, tzinfo=dt.UTC)
TODAY = START.date()
TOWNSHIP = "330106001"
CITY = "330100"
# A weekly cycle: every 7-day baseline window holds the same values, so only the spikes alarm.
CASE_CYCLE = [3, 4, 2, 5, 3, 4, 3]
FEVER_CYCLE = [20, 22, 19, 21, 20, 23, 21]


@pytest.fixture
def clock(frozen_clock: Clock) -> Clock:
    frozen_clock.set(START)
    return frozen_clock


@pytest.fixture
def analyst(client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return token_for(client, "home_surveillance_analyst")


@pytest.fixture
def province(client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A surveillance analyst for the whole province (reports, configures, runs and responds)."""
    admin = token_for(client, "province_admin")
    made = client.post(
        "/api/users",
        headers=admin,
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


def _days(n: int, end: dt.date = TODAY) -> list[dt.date]:
    return [end - dt.timedelta(days=n - 1 - i) for i in range(n)]


def _records(
    channel: str, place: str, cycle: list[int], spike_on: dt.date | None, spike: int, n: int = 21
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i, day in enumerate(_days(n)):
        value = spike if day == spike_on else cycle[i % len(cycle)]
        out.append({"channel": channel, "jurisdiction": place, "date": day.isoformat(), "value": value})
    return out


def _post(client, headers, records):  # type: ignore[no-untyped-def]
    response = client.post("/api/surveillance/observations", json={"observations": records}, headers=headers)
    assert response.status_code in (200, 403, 422), response.text
    return response


def _channel_id(client, headers, code: str) -> int:  # type: ignore[no-untyped-def]
    channels = client.get("/api/surveillance/channels", headers=headers).json()
    return next(c["id"] for c in channels if c["code"] == code)


def _configure(
    client, headers, code: str, level: str = "county", method: str = "ears_c1", params=None
) -> int:  # type: ignore[no-untyped-def]
    body = {
        "channel_id": _channel_id(client, headers, code),
        "level": level,
        "method": method,
        "params": params or {},
    }
    response = client.post("/api/surveillance/configs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _two_channel_outbreak(client, headers) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Fever-clinic visits in a township jump on day -1, county case reports on day 0; run both days."""
    yesterday = TODAY - dt.timedelta(days=1)
    assert (
        _post(client, headers, _records("case_reports", HOME_COUNTY, CASE_CYCLE, TODAY, 30)).status_code
        == 200
    )
    assert (
        _post(client, headers, _records("fever_clinic", TOWNSHIP, FEVER_CYCLE, yesterday, 60)).status_code
        == 200
    )
    _configure(client, headers, "case_reports")
    _configure(client, headers, "fever_clinic")
    run = client.post(
        "/api/surveillance/runs",
        json={"first_date": yesterday.isoformat(), "as_of": TODAY.isoformat()},
        headers=headers,
    )
    assert run.status_code == 200, run.text
    return dict(run.json())


# ------------------------------ ingest


def test_corrections_are_kept_as_revisions_and_the_latest_value_counts(
    client, world: World, clock: Clock, analyst
) -> None:  # type: ignore[no-untyped-def]
    record = {"channel": "case_reports", "jurisdiction": HOME_COUNTY, "date": "2024-03-18", "value": 5}
    first = _post(client, analyst, [record]).json()
    assert (first["created"], first["revised"]) == (1, 0)
    clock.advance(hours=30)
    corrected = _post(client, analyst, [{**record, "value": 7}]).json()
    assert (corrected["created"], corrected["revised"], corrected["unchanged"]) == (0, 1, 0)
    again = _post(client, analyst, [{**record, "value": 7}]).json()
    assert again["unchanged"] == 1
    page = client.get("/api/surveillance/observations", headers=analyst).json()
    assert page["total"] == 1
    latest = page["items"][0]
    assert (latest["value"], latest["revision"]) == (7.0, 2)
    history = client.get(f"/api/surveillance/observations/{latest['id']}/revisions", headers=analyst).json()
    assert [(h["revision"], h["value"], h["source"]) for h in history] == [(1, 5.0, "api"), (2, 7.0, "api")]


def test_weekly_values_are_filed_under_the_monday_of_their_week(
    client, world: World, clock: Clock, analyst
) -> None:  # type: ignore[no-untyped-def]
    # 2024-03-14 is a Thursday; the wastewater channel reports weekly.
    _post(
        client,
        analyst,
        [{"channel": "wastewater", "jurisdiction": HOME_COUNTY, "date": "2024-03-14", "value": 1.5e5}],
    )
    item = client.get("/api/surveillance/observations", headers=analyst).json()["items"][0]
    assert item["period_start"] == "2024-03-11"


def test_bad_rows_are_each_named_and_nothing_is_written(client, world: World, clock: Clock, analyst) -> None:  # type: ignore[no-untyped-def]
    good = {"channel": "case_reports", "jurisdiction": HOME_COUNTY, "date": "2024-03-18", "value": 5}
    batch = [
        good,
        {"channel": "no_such_channel", "jurisdiction": HOME_COUNTY, "date": "2024-03-18", "value": 1},
        {"channel": "case_reports", "jurisdiction": FOREIGN_COUNTY, "date": "2024-03-18", "value": 1},
        {"channel": "case_reports", "jurisdiction": TOWNSHIP, "date": "2024-03-18", "value": 1},
        {"channel": "case_reports", "jurisdiction": HOME_COUNTY, "date": "18/03/2024x", "value": 1},
        {"channel": "case_reports", "jurisdiction": HOME_COUNTY, "date": "2024-03-17", "value": -2},
        {"channel": "case_reports", "jurisdiction": HOME_COUNTY, "date": "2024-03-21", "value": 1},
        good,
    ]
    response = _post(client, analyst, batch)
    assert response.status_code == 422
    found = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert found == {
        (2, "channel"),
        (3, "jurisdiction"),
        (4, "jurisdiction"),
        (5, "date"),
        (6, "value"),
        (7, "date"),
        (8, "date"),
    }
    assert client.get("/api/surveillance/observations", headers=analyst).json()["total"] == 0


def test_csv_and_excel_uploads_name_the_spreadsheet_row(client, world: World, clock: Clock, analyst) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    csv_text = (
        "channel,jurisdiction,date,value\n"
        + "case_reports,330106,2024-03-18,4\ncase_reports,330106,2024-03-19,x\n"
    )
    bad = client.post(
        "/api/surveillance/observations/upload",
        headers=analyst,
        files={"file": ("cases.csv", csv_text.encode(), "text/csv")},
    )
    assert bad.status_code == 422
    assert [(e["row"], e["field"]) for e in bad.json()["errors"]] == [(3, "value")]
    book = Workbook()
    sheet = book.active
    sheet.append(["渠道", "地区编码", "日期", "数值"])
    sheet.append(["case_reports", "330106", dt.date(2024, 3, 18), 4])
    sheet.append(["case_reports", "330106", dt.datetime(2024, 3, 19), 6])
    buffer = io.BytesIO()
    book.save(buffer)
    good = client.post(
        "/api/surveillance/observations/upload",
        headers=analyst,
        files={"file": ("cases.xlsx", buffer.getvalue(), "application/octet-stream")},
    )
    assert good.status_code == 200, good.text
    assert good.json()["created"] == 2
    values = sorted(
        i["value"] for i in client.get("/api/surveillance/observations", headers=analyst).json()["items"]
    )
    assert values == [4.0, 6.0]


def test_a_role_without_write_permission_cannot_report(client, world: World, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    viewer = token_for(client, "home_viewer")
    record = {"channel": "case_reports", "jurisdiction": HOME_COUNTY, "date": "2024-03-18", "value": 5}
    assert _post(client, viewer, [record]).status_code == 403
    lab = token_for(client, "home_laboratory")
    assert _post(client, lab, [record]).status_code == 200


# ------------------------------ detection and fusion


def test_a_run_signals_and_two_channels_make_one_yellow_alert(
    client, world: World, clock: Clock, analyst
) -> None:  # type: ignore[no-untyped-def]
    run = _two_channel_outbreak(client, analyst)
    assert run["signals"] == 2
    assert len(run["alerts_created"]) == 1
    signals = client.get("/api/surveillance/signals", headers=analyst).json()["items"]
    assert {(s["channel"], s["jurisdiction_code"], s["period_start"]) for s in signals} == {
        ("case_reports", HOME_COUNTY, TODAY.isoformat()),
        ("fever_clinic", HOME_COUNTY, (TODAY - dt.timedelta(days=1)).isoformat()),
    }
    for s in signals:
        assert s["observed"] > s["threshold"]
    alert = client.get(f"/api/surveillance/alerts/{run['alerts_created'][0]}", headers=analyst).json()
    # The first day's single-channel alert (blue) took in the second channel and rose to yellow.
    assert alert["level"] == "yellow"
    assert alert["jurisdiction_code"] == HOME_COUNTY
    assert sorted(alert["channels"]) == ["case_reports", "fever_clinic"]
    assert [a["action"] for a in alert["actions"]][:2] == ["created", "new_evidence"]
    series = alert["evidence"]["series"]
    assert {s["channel"] for s in series} == {"case_reports", "fever_clinic"}
    case_series = next(s for s in series if s["channel"] == "case_reports")
    assert case_series["observed"][-1] == 30.0
    assert case_series["threshold"][-1] < 30.0
    # The home county's responders got it in their inbox; a rerun adds nothing.
    notified = {d["target"] for d in alert["deliveries"] if d["notifier"] == "inapp"}
    assert "home surveillance_analyst" in notified
    again = client.post("/api/surveillance/runs", json={"as_of": TODAY.isoformat()}, headers=analyst).json()
    assert again["alerts_created"] == []
    assert again["alerts_updated"] == []


def test_neighbouring_counties_fuse_and_a_far_one_does_not(
    client, world: World, clock: Clock, province
) -> None:  # type: ignore[no-untyped-def]
    for code in ("330102", "330203"):
        assert (
            _post(client, province, _records("test_positives", code, CASE_CYCLE, TODAY, 40)).status_code
            == 200
        )
    assert (
        _post(client, province, _records("case_reports", HOME_COUNTY, CASE_CYCLE, TODAY, 30)).status_code
        == 200
    )
    _configure(client, province, "case_reports")
    _configure(client, province, "test_positives")
    run = client.post("/api/surveillance/runs", json={"as_of": TODAY.isoformat()}, headers=province).json()
    alerts = client.get("/api/surveillance/alerts", headers=province).json()["items"]
    levels = {a["jurisdiction_code"]: (a["level"], sorted(a["channels"])) for a in alerts}
    assert len(run["alerts_created"]) == 4
    # 西湖区 and 上城区 are siblings under 杭州市: their two channels within 7 days are the city's alert,
    # routed to the city; each county's own alert holds only its own signal (its readers may not see
    # the other county's data).
    assert levels[CITY][1] == ["case_reports", "test_positives"]
    assert levels[CITY][0] in ("yellow", "orange")
    assert levels[HOME_COUNTY] == ("blue", ["case_reports"])
    assert levels["330102"] == ("blue", ["test_positives"])
    city_alert = next(a for a in alerts if a["jurisdiction_code"] == CITY)
    assert city_alert["assigned_code"] == CITY
    home = client.get("/api/surveillance/alerts", headers=token_for(client, "home_surveillance_analyst"))
    assert {a["jurisdiction_code"] for a in home.json()["items"]} == {HOME_COUNTY}
    # 海曙区 is under 宁波市: one channel only, a blue alert.
    assert levels["330203"] == ("blue", ["test_positives"])


def test_single_case_of_a_listed_disease_raises_a_red_two_hour_alert(
    client, world: World, clock: Clock, analyst
) -> None:  # type: ignore[no-untyped-def]
    add_cholera_channel(client, analyst)
    configs = client.get("/api/surveillance/configs", headers=analyst).json()
    assert [(c["channel"], c["method"]) for c in configs] == [("cases.cholera", "fixed")]
    _post(
        client,
        analyst,
        [{"channel": "cases.cholera", "jurisdiction": HOME_COUNTY, "date": TODAY.isoformat(), "value": 1}],
    )
    run = client.post("/api/surveillance/runs", json={}, headers=analyst).json()
    alert = client.get(f"/api/surveillance/alerts/{run['alerts_created'][0]}", headers=analyst).json()
    assert (alert["level"], alert["kind"], alert["response_hours"]) == ("red", "single_case", 2)
    assert alert["seconds_left"] == pytest.approx(2 * 3600)


def test_a_bad_detector_configuration_is_refused_naming_the_field(
    client, world: World, clock: Clock, analyst
) -> None:  # type: ignore[no-untyped-def]
    channel = _channel_id(client, analyst, "fever_clinic")
    cases = [
        ({"channel_id": channel, "level": "county", "method": "nope"}, "method"),
        ({"channel_id": channel, "level": "county", "method": "ears_c1", "params": {"alpha": 2}}, "params"),
        ({"channel_id": channel, "level": "county", "method": "ears_c1", "params": {"bogus": 1}}, "params"),
        ({"channel_id": channel, "level": "community", "method": "ears_c1"}, "level"),
    ]
    for body, named in cases:
        response = client.post("/api/surveillance/configs", json=body, headers=analyst)
        assert response.status_code == 422, body
        assert [e["field"] for e in response.json()["errors"]] == [named], response.json()


# ------------------------------ response clock, escalation, statistics


def test_the_response_clock_runs_until_verification_starts(
    client, world: World, clock: Clock, analyst
) -> None:  # type: ignore[no-untyped-def]
    run = _two_channel_outbreak(client, analyst)
    alert_id = run["alerts_created"][0]
    fresh = client.get(f"/api/surveillance/alerts/{alert_id}", headers=analyst).json()
    assert (fresh["status"], fresh["response_hours"], fresh["overdue"]) == ("signal", 24, False)
    assert fresh["seconds_left"] == pytest.approx(24 * 3600)
    clock.advance(hours=3)
    later = client.get(f"/api/surveillance/alerts/{alert_id}", headers=analyst).json()
    assert later["seconds_left"] == pytest.approx(21 * 3600)
    investigator = token_for(client, "home_investigator")
    verified = client.post(
        f"/api/surveillance/alerts/{alert_id}/verify",
        json={"note": "calling the hospital"},
        headers=investigator,
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verifying"
    assert verified.json()["response_seconds"] == pytest.approx(3 * 3600)
    clock.advance(hours=30)
    # The answer came in time: nothing to escalate, the clock stays stopped.
    assert client.post("/api/surveillance/alerts/escalate", headers=analyst).json()["escalated"] == []
    dismissed = client.post(
        f"/api/surveillance/alerts/{alert_id}/dismiss", json={"note": ""}, headers=investigator
    )
    assert dismissed.status_code == 422
    assert dismissed.json()["errors"][0]["field"] == "note"
    confirmed = client.post(
        f"/api/surveillance/alerts/{alert_id}/confirm", json={"note": "cluster of 12"}, headers=investigator
    )
    assert confirmed.json()["status"] == "confirmed"
    assert (
        client.post(f"/api/surveillance/alerts/{alert_id}/verify", json={}, headers=investigator).status_code
        == 409
    )
    viewer = token_for(client, "home_viewer")
    assert (
        client.post(f"/api/surveillance/alerts/{alert_id}/verify", json={}, headers=viewer).status_code == 403
    )


def test_confirming_publishes_the_domain_event(client, app, world: World, clock: Clock, analyst) -> None:  # type: ignore[no-untyped-def]
    from fangkong.surveillance.events import AlertConfirmedAsEvent

    seen: list[AlertConfirmedAsEvent] = []
    app.state.bus.subscribe(AlertConfirmedAsEvent, lambda _session, event: seen.append(event))
    alert_id = _two_channel_outbreak(client, analyst)["alerts_created"][0]
    client.post(f"/api/surveillance/alerts/{alert_id}/verify", json={}, headers=analyst)
    client.post(f"/api/surveillance/alerts/{alert_id}/confirm", json={"note": "outbreak"}, headers=analyst)
    assert len(seen) == 1
    assert seen[0].alert_id == alert_id
    assert set(seen[0].channels) == {"case_reports", "fever_clinic"}
    assert seen[0].jpath.endswith(f"/{HOME_COUNTY}/")


def test_an_unanswered_alert_moves_up_to_the_city_with_a_fresh_clock(
    client, world: World, clock: Clock, analyst
) -> None:  # type: ignore[no-untyped-def]
    admin = token_for(client, "province_admin")
    made = client.post(
        "/api/users",
        headers=admin,
        json={
            "username": "city_duty",
            "display_name": "杭州值班",
            "role": "command_centre",
            "jurisdiction_code": CITY,
            "password": PASSWORD,
        },
    )
    assert made.status_code == 201, made.text
    city = token_for(client, "city_duty")
    alert_id = _two_channel_outbreak(client, analyst)["alerts_created"][0]
    assert client.get("/api/surveillance/alerts", params={"mine": True}, headers=city).json()["total"] == 0
    clock.advance(hours=23)
    assert client.post("/api/surveillance/alerts/escalate", headers=analyst).json()["escalated"] == []
    clock.advance(hours=2)
    assert client.post("/api/surveillance/alerts/escalate", headers=analyst).json()["escalated"] == [alert_id]
    moved = client.get(f"/api/surveillance/alerts/{alert_id}", headers=city).json()
    assert (moved["assigned_code"], moved["escalations"], moved["overdue"]) == (CITY, 1, False)
    assert moved["seconds_left"] == pytest.approx(24 * 3600)
    assert "escalated" in [a["action"] for a in moved["actions"]]
    assert any(d["target"] == "杭州值班" and d["reason"] == "escalated" for d in moved["deliveries"])
    inbox = client.get("/api/surveillance/alerts", params={"mine": True}, headers=city).json()
    assert [a["id"] for a in inbox["items"]] == [alert_id]
    # Escalating again at once does nothing: the city has a fresh 24 h.
    assert client.post("/api/surveillance/alerts/escalate", headers=analyst).json()["escalated"] == []
    # The county can still answer it.
    assert (
        client.post(f"/api/surveillance/alerts/{alert_id}/verify", json={}, headers=analyst).status_code
        == 200
    )


def test_statistics_report_response_rate_and_times_like_cidars(
    client, world: World, clock: Clock, analyst, province
) -> None:  # type: ignore[no-untyped-def]
    for code in ("330102", "330203"):
        assert (
            _post(client, province, _records("test_positives", code, CASE_CYCLE, TODAY, 40)).status_code
            == 200
        )
    _configure(client, province, "test_positives")
    created = client.post("/api/surveillance/runs", json={}, headers=province).json()["alerts_created"]
    assert len(created) == 2
    listed = client.get("/api/surveillance/alerts", headers=province).json()["items"]
    alerts = {a["jurisdiction_code"]: a["id"] for a in listed}
    outsider = token_for(client, "away_command_centre")
    assert (
        client.post(
            f"/api/surveillance/alerts/{alerts['330102']}/verify", json={}, headers=outsider
        ).status_code
        == 404
    )
    # 上城区 is answered after 1 h; 海曙区 after 30 h, once it has escalated to 宁波市.
    clock.advance(hours=1)
    assert (
        client.post(
            f"/api/surveillance/alerts/{alerts['330102']}/verify", json={}, headers=province
        ).status_code
        == 200
    )
    clock.advance(hours=29)
    assert client.post("/api/surveillance/alerts/escalate", headers=province).json()["escalated"] == [
        alerts["330203"]
    ]
    reason = {"note": "pharmacy promotion, not an outbreak"}
    dismissed = client.post(
        f"/api/surveillance/alerts/{alerts['330203']}/dismiss", json=reason, headers=province
    )
    assert dismissed.status_code == 200
    stats = client.get(
        "/api/surveillance/alerts/stats", params={"start": TODAY.isoformat()}, headers=province
    ).json()
    overall = stats["overall"]
    assert (overall["alerts"], overall["responded"], overall["response_rate"]) == (2, 2, 1.0)
    assert overall["median_response_hours"] == pytest.approx((1 + 30) / 2)
    assert overall["within_2h"] == pytest.approx(0.5)
    assert overall["within_24h"] == pytest.approx(0.5)
    assert overall["within_deadline"] == pytest.approx(0.5)
    assert (overall["escalated"], overall["dismissed"], overall["confirmed"]) == (1, 1, 0)
    assert stats["temporal"]["alerts"] == 2
    assert stats["single_case"]["alerts"] == 0
    # A county sees only its own alerts in the figures.
    home = client.get(
        "/api/surveillance/alerts/stats", params={"start": TODAY.isoformat()}, headers=analyst
    ).json()
    assert home["overall"]["alerts"] == 0


# ------------------------------ webhooks and pulls


@dataclass
class LocalServer:
    """What a local HTTP server on 127.0.0.1 received, and what it answers GETs with."""

    url: str = ""
    feed: bytes = b"[]"
    received: list[dict[str, object]] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    state = LocalServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:
            state.queries.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state.feed)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def test_new_alerts_are_posted_to_the_county_webhook(
    client, world: World, clock: Clock, analyst, local_server
) -> None:  # type: ignore[no-untyped-def]
    url, recorder = local_server.url, local_server
    endpoint = client.post(
        "/api/surveillance/endpoints",
        headers=analyst,
        json={"name": "county duty phone", "url": f"{url}/hook"},
    )
    assert endpoint.status_code == 201, endpoint.text
    alert_id = _two_channel_outbreak(client, analyst)["alerts_created"][0]
    assert [(m["event"], m["alert_id"], m["jurisdiction_code"]) for m in recorder.received] == [
        ("alert.created", alert_id, HOME_COUNTY)
    ]
    detail = client.get(f"/api/surveillance/alerts/{alert_id}", headers=analyst).json()
    hook = next(d for d in detail["deliveries"] if d["notifier"] == "webhook")
    assert (hook["status"], hook["target"], hook["attempts"]) == ("sent", "county duty phone", 1)


def test_an_unreachable_webhook_is_retried_and_reported(client, world: World, clock: Clock, analyst) -> None:  # type: ignore[no-untyped-def]
    client.post(
        "/api/surveillance/endpoints", headers=analyst, json={"name": "dead", "url": "http://127.0.0.1:9/x"}
    )
    alert_id = _two_channel_outbreak(client, analyst)["alerts_created"][0]
    detail = client.get(f"/api/surveillance/alerts/{alert_id}", headers=analyst).json()
    hook = next(d for d in detail["deliveries"] if d["notifier"] == "webhook")
    assert (hook["status"], hook["attempts"]) == ("pending", 1)
    assert "unreachable" in hook["last_error"]
    again = client.post("/api/surveillance/deliveries/send", headers=analyst).json()
    assert again == {"sent": 0, "failed": 0, "retrying": 1}


def test_a_pull_source_is_read_and_corrections_come_as_revisions(
    client, world: World, clock: Clock, analyst, local_server
) -> None:  # type: ignore[no-untyped-def]
    url, feed = local_server.url, local_server
    feed.feed = json.dumps(
        {
            "observations": [
                {"jurisdiction": TOWNSHIP, "date": "2024-03-18", "value": 12},
                {"jurisdiction": TOWNSHIP, "date": "2024-03-19", "value": 15},
            ]
        }
    ).encode()
    source = client.post(
        "/api/surveillance/pull-sources",
        headers=analyst,
        json={"name": "hospital-feed", "url": f"{url}/visits", "channel_code": "fever_clinic"},
    )
    assert source.status_code == 201, source.text
    source_id = source.json()["id"]
    first = client.post(f"/api/surveillance/pull-sources/{source_id}/pull", headers=analyst).json()
    assert first["created"] == 2
    feed.feed = json.dumps([{"jurisdiction": TOWNSHIP, "date": "2024-03-19", "value": 16}]).encode()
    clock.advance(days=1)
    second = client.post(f"/api/surveillance/pull-sources/{source_id}/pull", headers=analyst).json()
    assert (second["created"], second["revised"]) == (0, 1)
    assert feed.queries == ["/visits", "/visits?since=2024-03-06"]
    status = client.get("/api/surveillance/pull-sources", headers=analyst).json()[0]["last_status"]
    assert status.startswith("ok")


def test_a_pull_with_a_bad_record_writes_nothing(
    client, world: World, clock: Clock, analyst, local_server
) -> None:  # type: ignore[no-untyped-def]
    url, feed = local_server.url, local_server
    feed.feed = json.dumps(
        [
            {"jurisdiction": TOWNSHIP, "date": "2024-03-18", "value": 3},
            {"jurisdiction": TOWNSHIP, "date": "soon", "value": 4},
        ]
    ).encode()
    source_id = client.post(
        "/api/surveillance/pull-sources",
        headers=analyst,
        json={"name": "f", "url": url, "channel_code": "fever_clinic"},
    ).json()["id"]
    response = client.post(f"/api/surveillance/pull-sources/{source_id}/pull", headers=analyst)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"row": 2, "field": "date", "message": "“soon” is not a date (write it as 2022-07-01)"}
    ]
    assert client.get("/api/surveillance/observations", headers=analyst).json()["total"] == 0


def test_the_scheduled_pull_reads_every_source(app, world: World, clock: Clock, local_server) -> None:  # type: ignore[no-untyped-def]
    from fangkong.core import audit
    from fangkong.core.models import Jurisdiction
    from fangkong.surveillance import observations, service

    url, feed = local_server.url, local_server
    feed.feed = json.dumps(
        [{"channel": "fever_clinic", "jurisdiction": TOWNSHIP, "date": "2024-03-19", "value": 9}]
    ).encode()
    db = app.state.db
    with db.unit_of_work() as session:
        home = session.get(Jurisdiction, world.jurisdictions[HOME_COUNTY])
        service.create_pull_source(session, audit.SYSTEM, home.path, "good", "http_json", url, None)
        service.create_pull_source(
            session, audit.SYSTEM, home.path, "down", "http_json", "http://127.0.0.1:9/", None
        )
    outcomes = observations.pull_all(db, audit.SYSTEM, "/", START)
    assert [(o.name, o.ok) for o in outcomes] == [("good", True), ("down", False)]
    assert outcomes[0].report is not None
    assert outcomes[0].report.created == 1
    assert "unreachable" in outcomes[1].message
