"""The modelling pages over HTTP on both databases: Rt, the scenario editor and its account, drills."""

from __future__ import annotations

import re
import time

from conftest import World, token_for
from fangkong.modeling import jobs


def test_the_rt_page_shows_each_area_after_an_upload(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    empty = client.get("/modeling/rt", headers=headers)
    assert empty.status_code == 200 and 'data-testid="rt-empty"' in empty.text
    rows = "".join(f"2024-02-{d:02d},330106001001,{d % 5 + 1}\n" for d in range(1, 29))
    uploaded = client.post(
        "/modeling/rt/upload", files={"file": ("c.csv", ("date,jurisdiction,local\n" + rows).encode())},
        data={"basis": "onset"}, headers=headers, follow_redirects=False,
    )  # fmt: skip
    assert uploaded.status_code == 303 and "stored=28" in uploaded.headers["location"]
    page = client.get(uploaded.headers["location"], headers=headers)
    assert 'data-testid="rt-table"' in page.text and 'data-testid="stored"' in page.text
    assert "北山街道" in page.text  # the county's township, with its own estimate
    assert "echarts.min.js" in page.text
    viewer = token_for(client, "home_viewer")
    assert 'data-testid="rt-upload"' not in client.get("/modeling/rt", headers=viewer).text


def test_the_scenario_editor_runs_a_comparison_and_its_page_shows_the_table(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    editor = client.get("/modeling/scenarios", headers=headers)
    assert editor.status_code == 200 and 'data-testid="scenario-form"' in editor.text
    form = {"arms": ["cn-9", "cn-9-10", "none"], "population": "generated", "size": "3000", "days": "40",
            "seeds": "1, 2", "effect": "infections", "price_lab_tube": "20"}  # fmt: skip
    response = client.post("/modeling/scenarios", data=form, headers=headers, follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    job_id = int(re.findall(r"\d+$", location)[0])
    waiting = client.get(location, headers=headers)
    assert waiting.status_code == 200
    jobs.wait(job_id, 120)
    deadline = time.monotonic() + 60
    while True:
        progress = client.get(f"/modeling/jobs/{job_id}/progress", headers=headers)
        if progress.headers.get("HX-Refresh") == "true" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert progress.headers.get("HX-Refresh") == "true"
    page = client.get(location, headers=headers)
    assert 'data-testid="account-table"' in page.text and 'data-testid="frontier-chart"' in page.text
    for arm in ("cn-9", "cn-9-10", "none"):
        assert f'data-arm="{arm}"' in page.text
    assert 'data-testid="cost-lines"' in page.text
    detail = client.get(f"/api/modeling/jobs/{job_id}", headers=headers).json()
    assert detail["request"]["price_overrides"] == {"lab_tube": 20.0}
    listing = client.get("/modeling/scenarios", headers=headers)
    assert f'href="/modeling/jobs/{job_id}"' in listing.text


def test_a_bad_scenario_comes_back_with_its_errors(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    form = {"arms": ["cn-9"], "population": "generated", "size": "3000", "days": "999", "seeds": "1,x"}
    response = client.post("/modeling/scenarios", data=form, headers=headers)
    assert response.status_code == 422
    assert (
        'data-testid="scenario-errors"' in response.text
        and "days" in response.text
        and "seeds" in response.text
    )


def test_a_drill_started_from_its_page_runs_to_the_end_and_shows_its_score(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_command_centre")
    page = client.get("/modeling/drills", headers=headers)
    assert page.status_code == 200 and 'data-testid="drill-form"' in page.text
    form = {
        "people": "1500",
        "days": "20",
        "protocol_id": "cn-9",
        "seed": "1",
        "speed": "1440",
        "autopilot": "true",
    }
    started = client.post("/modeling/drills", data=form, headers=headers, follow_redirects=False)
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    drill_id = int(re.findall(r"\d+$", location)[0])
    jumped = client.post(f"/modeling/drills/{drill_id}/advance", data={"hours": "500"}, headers=headers,
                         follow_redirects=False)  # fmt: skip
    assert jumped.status_code == 303
    shown = client.get(location, headers=headers)
    assert 'data-testid="score-table"' in shown.text and 'data-measure="investigation"' in shown.text
    panel = client.get(f"/modeling/drills/{drill_id}/panel", headers=headers)
    assert panel.status_code == 200 and "hx-trigger" not in panel.text  # finished: no more polling
    status = client.get(f"/api/modeling/drills/{drill_id}", headers=headers).json()
    assert status["status"] == "finished"
    viewer = token_for(client, "home_viewer")
    assert 'data-testid="drill-form"' not in client.get("/modeling/drills", headers=viewer).text
