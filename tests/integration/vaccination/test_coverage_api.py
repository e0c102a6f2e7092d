"""The coverage API (SQLite and PostgreSQL): nothing counted yet says so; the refresh is an
administrator's; counts by band with their denominators for a jurisdiction in scope only; the weekly
trend; the ranking of the jurisdictions under one, lowest first; the dashboard's figures."""

from __future__ import annotations

import datetime as dt

from conftest import World, token_for
from fangkong.core import clock
from fangkong.core.models import Person
from fangkong.vaccination.models import Dose, DoseKind, Platform
from fangkong.vaccination.service import coverage, status


def _vaccinate(app, person_ids: list[int], doses: int) -> None:  # type: ignore[no-untyped-def]
    """Inactivated doses 30 days apart, the last one 10 days ago."""
    today = clock.today()
    with app.state.db.unit_of_work() as session:
        for pid in person_ids:
            person = session.get(Person, pid)
            for n in range(doses):
                session.add(
                    Dose(
                        person_id=pid, jpath=person.jpath, product="BBIBP", platform=Platform.inactivated,
                        dose_number=n + 1, kind=DoseKind.primary if n < 2 else DoseKind.booster,
                        given_on=today - dt.timedelta(days=10 + 30 * (doses - 1 - n)), site="站", lot="L",
                        source="test",
                    )
                )  # fmt: skip
        session.flush()
        status.evaluate(session, person_ids)


def _band(body: dict, band: str) -> dict:  # type: ignore[type-arg]
    return next(b for b in body["bands"] if b["band"] == band)


def test_coverage_by_band_after_a_refresh(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    viewer = token_for(client, "home_viewer")
    empty = client.get("/api/vaccination/coverage", headers=viewer).json()
    assert empty["as_of"] is None and _band(empty, "all")["denominator"] == 0

    # 西湖区: in each community people of 66, 56 and 46; the 66-year-old of 保俶社区 has two doses, the
    # 56-year-old one.
    bao, bao_56 = world.people["330106"][0], world.people["330106"][1]
    _vaccinate(app, [bao], 2)
    _vaccinate(app, [bao_56], 1)
    for user in ("home_viewer", "home_community_worker", "home_command_centre"):
        r = client.post("/api/vaccination/coverage/refresh", headers=token_for(client, user))
        assert r.status_code == 403, user
    admin = token_for(client, "home_administrator")
    r = client.post("/api/vaccination/coverage/refresh", json={"weeks": 4}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["as_of"] == clock.today().isoformat() and r.json()["rows"] > 0

    body = client.get("/api/vaccination/coverage", headers=viewer).json()
    assert body["jurisdiction_code"] == "330106" and body["as_of"] == clock.today().isoformat()
    elderly, adults, everyone = _band(body, "60+"), _band(body, "18-59"), _band(body, "all")
    assert (elderly["denominator"], adults["denominator"], everyone["denominator"]) == (2, 4, 6)
    assert elderly["primary_complete"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert adults["at_least_one"]["numerator"] == 1 and adults["primary_complete"]["numerator"] == 0
    assert everyone["dropout"] == 0.5  # two began, one completed
    assert _band(body, "3-17")["at_least_one"]["rate"] is None  # nobody in the band: no rate

    community = client.get("/api/vaccination/coverage?jurisdiction=330106001001", headers=viewer).json()
    assert _band(community, "all")["denominator"] == 3
    assert client.get("/api/vaccination/coverage?jurisdiction=330203", headers=viewer).status_code == 404
    assert client.get("/api/vaccination/coverage?jurisdiction=abc", headers=viewer).status_code == 422
    away = client.get("/api/vaccination/coverage", headers=token_for(client, "away_viewer")).json()
    assert _band(away, "all")["denominator"] == 3 and _band(away, "all")["at_least_one"]["numerator"] == 0


def test_trend_and_ranking(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    _vaccinate(app, [world.people["330106"][3]], 2)  # 宝石社区's 66-year-old, complete 10 days ago
    with app.state.db.unit_of_work() as session:
        coverage.refresh(session, weeks=3)
    viewer = token_for(client, "home_viewer")
    trend = client.get(
        "/api/vaccination/coverage/trend?jurisdiction=330106001&band=60%2B&measure=primary_complete",
        headers=viewer,
    ).json()
    days = [p["as_of"] for p in trend["points"]]
    assert len(days) == 4 and days[-1] == clock.today().isoformat()
    assert [p["numerator"] for p in trend["points"]] == [0, 1, 1, 1]  # complete on 27 November
    assert all(p["denominator"] == 2 for p in trend["points"])

    ranked = client.get(
        "/api/vaccination/coverage/ranking?jurisdiction=330106001&band=60%2B&measure=primary_complete",
        headers=viewer,
    ).json()
    assert [(i["jurisdiction_code"], i["rank"], i["rate"]) for i in ranked["items"]] == [
        ("330106001001", 1, 0.0),
        ("330106001002", 2, 1.0),
    ]
    highest = client.get(
        "/api/vaccination/coverage/ranking?jurisdiction=330106001&lowest_first=false&size=1", headers=viewer
    ).json()
    assert highest["items"][0]["jurisdiction_code"] == "330106001002" and highest["pages"] == 2
    province = client.get(
        "/api/vaccination/coverage/ranking", headers=token_for(client, "province_admin")
    ).json()
    assert [i["jurisdiction_code"] for i in province["items"]] == [
        "330200",
        "330100",
    ]  # 宁波 has nobody vaccinated
    bad = client.get("/api/vaccination/coverage/ranking?band=99", headers=viewer)
    assert bad.status_code == 422

    with app.state.db.unit_of_work() as session:
        figures = coverage.figures_for_dashboard(session, "/330000/330100/330106/")
        assert figures is not None and figures.as_of == clock.today()
        assert (figures.elderly.denominator, figures.elderly.numerators[1]) == (2, 1)
        assert figures.everyone.denominator == 6
