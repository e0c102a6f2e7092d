"""Rt through the API on both databases: a place without enough cases gets no estimate and a reason."""

from __future__ import annotations

import datetime as dt

from conftest import World, token_for

START = dt.date(2024, 3, 1)
DAYS = 30


def test_an_area_without_cases_has_no_estimate_but_a_reason(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    # 保俶社区 reports 4 to 13 cases a day, 宝石社区 one case on the first day only.
    counts = [
        {
            "jurisdiction": "330106001001",
            "date": (START + dt.timedelta(days=d)).isoformat(),
            "local": 4 + d // 3,
        }
        for d in range(DAYS)
    ]
    counts.append({"jurisdiction": "330106001002", "date": START.isoformat(), "local": 1})
    stored = client.post(
        "/api/modeling/case-counts", json={"basis": "onset", "counts": counts}, headers=headers
    )
    assert stored.status_code == 200, stored.text
    township = world.jurisdictions["330106001"]
    body = client.get(f"/api/modeling/rt?jurisdiction_id={township}", headers=headers).json()
    assert (body["max_posterior_cv"], body["min_cases"]) == (0.3, 11)
    busy, quiet = body["areas"]
    assert busy["code"] == "330106001001" and quiet["code"] == "330106001002"
    assert all(m is not None for m in busy["mean"]) and set(busy["reason"]) == {None}
    assert all(cv <= 0.3 for cv in busy["cv"])
    # No cases in any window: the posterior is the prior (mean 5, CV 1), not an estimate.
    windows = len(quiet["dates"])
    assert quiet["mean"] == quiet["lower"] == quiet["upper"] == [None] * windows
    assert quiet["reason"] == ["too_few_cases"] * windows
    assert quiet["cv"] == [1.0] * windows
