"""One uploaded cholera case opened a red 2 h alert and a yellow 24 h alert fused with another county's
fever signal that had already been confirmed (issue 11, item 6). Through the API on both databases:
one case is one alert, a confirmed alert's signals are spent, and no alert holds another county's data.
"""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import HOME_COUNTY, PASSWORD, World, token_for
from fangkong.core import clock
from surveillance_support import add_cholera_channel

NEIGHBOUR = "330102"  # 上城区, 西湖区's sibling under 杭州市
NEIGHBOUR_TOWNSHIP = "330102001"  # 清波街道: fever clinics report by township
CITY = "330100"
FEVER_CYCLE = [20, 22, 19, 21, 20, 23, 21]


@pytest.fixture
def province(client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A surveillance analyst for the whole province, as the command centre's scheduled run is."""
    made = client.post(
        "/api/users",
        headers=token_for(client, "province_admin"),
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


def _post(client, headers, records) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/surveillance/observations", json={"observations": records}, headers=headers)
    assert response.status_code == 200, response.text


def _run(client, headers, **body: str) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    response = client.post("/api/surveillance/runs", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _alert(client, headers, alert_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return dict(client.get(f"/api/surveillance/alerts/{alert_id}", headers=headers).json())


def test_a_cholera_case_beside_a_confirmed_fever_signal_raises_one_red_alert(
    client, world: World, province, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    today = clock.today()
    # 上城区's fever clinics jump yesterday: an alert, verified and confirmed as an event.
    yesterday = today - dt.timedelta(days=1)
    _post(
        client,
        province,
        [
            {
                "channel": "fever_clinic",
                "jurisdiction": NEIGHBOUR_TOWNSHIP,
                "date": (yesterday - dt.timedelta(days=20 - i)).isoformat(),
                "value": 60 if i == 20 else FEVER_CYCLE[i % 7],
            }
            for i in range(21)
        ],
    )
    channels = client.get("/api/surveillance/channels", headers=province).json()
    fever = next(c["id"] for c in channels if c["code"] == "fever_clinic")
    config = {"channel_id": fever, "level": "county", "method": "ears_c1", "params": {}}
    assert client.post("/api/surveillance/configs", json=config, headers=province).status_code == 201
    first = _run(client, province, first_date=yesterday.isoformat())
    (fever_alert,) = first["alerts_created"]
    assert _alert(client, province, fever_alert)["jurisdiction_code"] == NEIGHBOUR
    for action, note in (("verify", "核实中"), ("confirm", "发热门诊聚集，已确认")):
        done = client.post(
            f"/api/surveillance/alerts/{fever_alert}/{action}", json={"note": note}, headers=province
        )
        assert done.status_code == 200, done.text

    # A cholera channel, and one case uploaded in 西湖区 an hour later.
    frozen_clock.advance(hours=1)
    add_cholera_channel(client, province)
    _post(
        client,
        province,
        [{"channel": "cases.cholera", "jurisdiction": HOME_COUNTY, "date": today.isoformat(), "value": 1}],
    )
    second = _run(client, province)

    # One case, one alert: red, single case, on the 2-hour clock, holding the case only.
    assert len(second["alerts_created"]) == 1, second
    alert = _alert(client, province, second["alerts_created"][0])
    assert (alert["level"], alert["kind"], alert["response_hours"]) == ("red", "single_case", 2)
    assert (alert["jurisdiction_code"], alert["channels"]) == (HOME_COUNTY, ["cases.cholera"])
    # The confirmed fever alert is left alone, and no 24 h alert fuses the case with it.
    assert second["alerts_updated"] == []
    everything = client.get("/api/surveillance/alerts", headers=province).json()["items"]
    assert sorted((a["jurisdiction_code"], a["kind"], a["status"]) for a in everything) == [
        (NEIGHBOUR, "single_channel", "confirmed"),
        (HOME_COUNTY, "single_case", "signal"),
    ]
    # A rerun the next hour adds nothing.
    frozen_clock.advance(hours=1)
    again = _run(client, province)
    assert (again["alerts_created"], again["alerts_updated"]) == ([], [])


def test_neighbouring_counties_fuse_into_the_citys_alert_not_into_each_others(
    client, world: World, province
) -> None:  # type: ignore[no-untyped-def]
    today = clock.today()
    cycle = [3, 4, 2, 5, 3, 4, 3]
    for code, channel in ((HOME_COUNTY, "case_reports"), (NEIGHBOUR, "test_positives")):
        _post(
            client,
            province,
            [
                {
                    "channel": channel,
                    "jurisdiction": code,
                    "date": (today - dt.timedelta(days=20 - i)).isoformat(),
                    "value": 40 if i == 20 else cycle[i % 7],
                }
                for i in range(21)
            ],
        )
    channels = {c["code"]: c["id"] for c in client.get("/api/surveillance/channels", headers=province).json()}
    for code in ("case_reports", "test_positives"):
        body = {"channel_id": channels[code], "level": "county", "method": "ears_c1", "params": {}}
        assert client.post("/api/surveillance/configs", json=body, headers=province).status_code == 201
    run = _run(client, province)
    alerts = [_alert(client, province, a) for a in run["alerts_created"]]
    by_place = {a["jurisdiction_code"]: a for a in alerts}
    assert set(by_place) == {HOME_COUNTY, NEIGHBOUR, CITY}
    # Every alert's evidence lies within its own jurisdiction: each county's its own, the city's both.
    places = {
        code: {s["jurisdiction_code"] for s in alert["evidence"]["signals"]}  # type: ignore[index]
        for code, alert in by_place.items()
    }
    assert places == {HOME_COUNTY: {HOME_COUNTY}, NEIGHBOUR: {NEIGHBOUR}, CITY: {HOME_COUNTY, NEIGHBOUR}}
    assert sorted(by_place[CITY]["channels"]) == ["case_reports", "test_positives"]  # type: ignore[arg-type]
    # 西湖区's analyst sees 西湖区's alert only, and it holds 西湖区's signal only.
    home = token_for(client, "home_surveillance_analyst")
    items = client.get("/api/surveillance/alerts", headers=home).json()["items"]
    assert [(a["jurisdiction_code"], a["channels"]) for a in items] == [(HOME_COUNTY, ["case_reports"])]
