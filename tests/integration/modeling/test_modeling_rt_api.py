"""Rt per jurisdiction through the API on both databases: uploaded counts, one estimate per child area,
the same numbers as the EpiEstim-checked kernel, scope and bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from conftest import HOME_COUNTY, World, token_for
from fangkong.analytics.rt import estimate_r

COMMUNITIES = ("330106001001", "330106001002")
START = dt.date(2024, 1, 1)
DAYS = 40


def _series(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    growth = np.exp(0.08 * np.arange(DAYS))
    return rng.poisson(2 * growth), rng.poisson(0.3, DAYS)


def _upload(client, headers: dict[str, str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:  # type: ignore[no-untyped-def]
    data = {code: _series(k) for k, code in enumerate(COMMUNITIES)}
    counts = [
        {"jurisdiction": code, "date": (START + dt.timedelta(days=d)).isoformat(), "local": int(local[d]),
         "imported": int(imported[d])}
        for code, (local, imported) in data.items()
        for d in range(DAYS)
    ]  # fmt: skip
    response = client.post(
        "/api/modeling/case-counts", json={"basis": "onset", "counts": counts}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 2 * DAYS}
    return data


def test_rt_of_a_township_and_each_community_matches_the_kernel(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    data = _upload(client, headers)
    township = world.jurisdictions["330106001"]
    body = client.get(f"/api/modeling/rt?jurisdiction_id={township}&window=7", headers=headers).json()
    assert body["source"] == "uploaded" and body["first_day"] == START.isoformat()
    assert [a["code"] for a in body["areas"]] == list(COMMUNITIES)
    total_local = sum(local for local, _ in data.values())
    total_imported = sum(imported for _, imported in data.values())
    expected = estimate_r(total_local, total_imported, mean_si=4.7, std_si=2.9, window=7)
    assert body["whole"]["mean"] == pytest.approx(expected.mean.tolist(), rel=1e-12)
    assert body["whole"]["lower"] == pytest.approx(expected.quantile(0.025).tolist(), rel=1e-12)
    assert body["whole"]["dates"][-1] == (START + dt.timedelta(days=DAYS - 1)).isoformat()
    for area, code in zip(body["areas"], COMMUNITIES, strict=True):
        local, imported = data[code]
        one = estimate_r(local, imported, mean_si=4.7, std_si=2.9, window=7)
        assert area["mean"] == pytest.approx(one.mean.tolist(), rel=1e-12)
        assert area["upper"] == pytest.approx(one.quantile(0.975).tolist(), rel=1e-12)
        assert area["cases"] == int(local.sum() + imported.sum())
    # A growing epidemic has Rt above 1 at the end.
    assert body["whole"]["mean"][-1] > 1


def test_the_county_view_sums_its_townships_and_a_day_sent_again_replaces_the_count(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    data = _upload(client, headers)
    again = {
        "basis": "onset",
        "counts": [{"jurisdiction": COMMUNITIES[0], "date": START.isoformat(), "local": 50}],
    }
    assert client.post("/api/modeling/case-counts", json=again, headers=headers).json() == {"stored": 1}
    body = client.get("/api/modeling/rt", headers=headers).json()
    assert body["jurisdiction_id"] == world.jurisdictions[HOME_COUNTY]
    assert [a["code"] for a in body["areas"]] == ["330106001"]
    expected = sum(int(local.sum() + imported.sum()) for local, imported in data.values())
    expected += 50 - int(data[COMMUNITIES[0]][0][0]) - int(data[COMMUNITIES[0]][1][0])
    assert body["whole"]["cases"] == expected == body["areas"][0]["cases"]


def test_counts_by_report_date_are_kept_apart_from_onset_counts(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    _upload(client, headers)
    body = client.get("/api/modeling/rt?basis=report", headers=headers).json()
    assert body["whole"] is None and body["message"]


def test_a_csv_upload_names_the_bad_row_and_field_and_stores_nothing(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    bad = (
        "date,jurisdiction,local\n2024-01-01,330106001001,3\n2024-01-02,330106001001,x\n"
        "2099-01-01,330106001001,1\n"
    )
    response = client.post(
        "/api/modeling/case-counts/upload", files={"file": ("c.csv", bad.encode())}, data={"basis": "onset"},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 422
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(3, "local"), (4, "date")]
    good = "date,jurisdiction,I\n" + "".join(f"2024-01-{d:02d},330106001002,{d}\n" for d in range(1, 21))
    response = client.post(
        "/api/modeling/case-counts/upload", files={"file": ("c.csv", good.encode())}, headers=headers
    )
    assert response.json() == {"stored": 20}
    body = client.get("/api/modeling/rt", headers=headers).json()
    assert body["whole"]["cases"] == sum(range(1, 21))


def test_counts_outside_ones_jurisdiction_or_in_a_sandbox_are_refused(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    from fangkong.core import audit, jurisdictions
    from fangkong.core.models import Jurisdiction

    headers = token_for(client, "home_command_centre")
    foreign = {"counts": [{"jurisdiction": "330203001001", "date": "2024-01-01", "local": 1}]}
    response = client.post("/api/modeling/case-counts", json=foreign, headers=headers)
    assert response.status_code == 422 and "not found" in response.json()["errors"][0]["message"]
    with app.state.db.unit_of_work() as session:
        county = session.get(Jurisdiction, world.jurisdictions[HOME_COUNTY])
        _township, communities = jurisdictions.create_sandbox(
            session, audit.SYSTEM, county, label="t", communities=1
        )
        code = communities[0].code
    sandboxed = {"counts": [{"jurisdiction": code, "date": "2024-01-01", "local": 1}]}
    response = client.post("/api/modeling/case-counts", json=sandboxed, headers=headers)
    # A drill's sandbox lies outside every real jurisdiction: its codes are unknown there.
    assert response.status_code == 422 and code in response.json()["errors"][0]["message"]
    away = client.get(f"/api/modeling/rt?jurisdiction_id={world.jurisdictions['330203']}", headers=headers)
    assert away.status_code == 404


def test_the_api_takes_rt_from_our_cases_and_our_chains_or_says_there_are_none(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    _upload(client, headers)
    # Counts "from our cases" read tracing, which has none here: nothing to estimate, said so.
    ours = client.get("/api/modeling/rt?counts=tracing", headers=headers)
    assert ours.status_code == 200 and ours.json()["whole"] is None and ours.json()["message"]
    assert client.get("/api/modeling/rt?counts=uploaded", headers=headers).json()["source"] == "uploaded"
    # The chains' serial interval needs links with both onsets: refused naming the field, not a fallback.
    chains = client.get("/api/modeling/rt?si=chains", headers=headers)
    assert chains.status_code == 422 and chains.json()["errors"][0]["field"] == "si"
    assert client.get("/api/modeling/rt?si=measured", headers=headers).status_code == 422
    assert client.get("/api/modeling/rt?counts=all", headers=headers).status_code == 422
