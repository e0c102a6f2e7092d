"""The strategy comparison through the API on both databases: a small run end to end, the job lifecycle,
the registry population, scope."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import HOME_COUNTY, World, token_for
from fangkong.modeling import jobs

SMALL: dict[str, Any] = {
    "arms": ["cn-9", "cn-10", "none"],
    "population": "generated",
    "size": 3000,
    "days": 40,
    "seeds": [1, 2],
    "initial_infections": 10,
    "workers": 1,
}


def _finished(client, headers: dict[str, str], job_id: int, timeout: float = 120.0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    jobs.wait(job_id, timeout)
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/api/modeling/jobs/{job_id}", headers=headers).json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_a_small_comparison_runs_in_the_background_and_returns_the_account(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    response = client.post("/api/modeling/comparisons", json=SMALL, headers=headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in ("queued", "running", "done") and job["runs_total"] == 6
    body = _finished(client, headers, job["id"])
    assert body["status"] == "done", body["error"]
    assert body["runs_done"] == 6 and body["progress"] == 1.0
    account = body["result"]
    assert [a["arm"] for a in account["arms"]] == ["cn-9", "cn-10", "none"]
    assert account["population"] == 3000 and account["seeds"] == [1, 2]
    by_arm = {a["arm"]: a for a in account["arms"]}
    for entry in account["arms"]:
        for line in entry["cost_lines"]:
            assert line["cost"] == pytest.approx(line["quantity"] * line["price"])
        assert sum(line["cost"] for line in entry["cost_lines"]) == pytest.approx(entry["total_cost"]["mean"])
    # Testing without isolating anyone buys nothing and costs tests: dominated by doing nothing.
    assert by_arm["cn-10"]["infections"] == by_arm["none"]["infections"]
    assert by_arm["cn-10"]["status"] == "dominated"
    assert by_arm["cn-9"]["infections"]["mean"] < by_arm["none"]["infections"]["mean"]
    listed = client.get("/api/modeling/jobs", headers=headers).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]


def test_the_registry_population_of_a_jurisdiction_can_be_compared(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    scenario = {**SMALL, "arms": ["cn-9", "none"], "population": "registry", "seeds": [1],
                "jurisdiction_id": world.jurisdictions[HOME_COUNTY], "initial_infections": 2}  # fmt: skip
    response = client.post("/api/modeling/comparisons", json=scenario, headers=headers)
    assert response.status_code == 202, response.text
    body = _finished(client, headers, response.json()["id"])
    assert body["status"] == "done", body["error"]
    assert body["result"]["population"] == len(world.people[HOME_COUNTY])


def test_a_failing_run_ends_the_job_as_failed_with_its_message(client, world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from fangkong.modeling import service

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the simulator ran out of patience")

    monkeypatch.setattr(service, "run_comparison", broken)
    headers = token_for(client, "home_command_centre")
    response = client.post("/api/modeling/comparisons", json=SMALL, headers=headers)
    body = _finished(client, headers, response.json()["id"])
    assert body["status"] == "failed"
    assert body["error"] == "the simulator ran out of patience"
    assert body["result"] is None


def test_bad_scenarios_are_refused_with_the_field_named(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    unknown = client.post("/api/modeling/comparisons", json={**SMALL, "arms": ["cn-99"]}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "arms"
    price = client.post("/api/modeling/comparisons", json={**SMALL, "prices": {"caviar": 2}}, headers=headers)
    assert price.status_code == 422 and price.json()["errors"][0]["field"] == "prices.caviar"
    foreign = client.post(
        "/api/modeling/comparisons",
        json={**SMALL, "population": "registry", "jurisdiction_id": world.jurisdictions["330203"]},
        headers=headers,
    )
    assert foreign.status_code == 404
    assert client.get("/api/modeling/jobs", headers=headers).json()["total"] == 0


def test_a_job_is_seen_only_inside_its_jurisdiction(client, world: World) -> None:  # type: ignore[no-untyped-def]
    home = token_for(client, "home_command_centre")
    job = client.post(
        "/api/modeling/comparisons", json={**SMALL, "seeds": [1], "arms": ["none"]}, headers=home
    ).json()
    _finished(client, home, job["id"])
    away = token_for(client, "away_command_centre")
    assert client.get(f"/api/modeling/jobs/{job['id']}", headers=away).status_code == 404
    assert client.get("/api/modeling/jobs", headers=away).json()["total"] == 0
    viewer = token_for(client, "home_viewer")
    assert client.get(f"/api/modeling/jobs/{job['id']}", headers=viewer).status_code == 200
    assert client.post("/api/modeling/comparisons", json=SMALL, headers=viewer).status_code == 403


def test_arms_and_prices_are_listed_with_their_sources(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_viewer")
    arms = {a["arm"]: a for a in client.get("/api/modeling/arms", headers=headers).json()}
    assert {"cn-9", "cn-9-20", "cn-9-10", "cn-10", "none"} <= set(arms)
    assert any("7 d centralized + 3 d home" in note for note in arms["cn-9"]["notes"])
    prices = client.get("/api/modeling/prices", headers=headers).json()
    assert all(p["source"] for p in prices)
    assert {p["basis"] for p in prices} >= {"published", "derived", "assumption"}
