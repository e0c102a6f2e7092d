"""The testing JSON API end to end: campaigns and rounds, sites and laboratories, the scanner endpoint, lab
results (CSV and FHIR), recalls, coverage, test orders and the pool planner, as the roles that use them, on
both databases."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json

from openpyxl import load_workbook
from sqlalchemy import func, select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core.config import Settings
from fangkong.testing.models import Tube, TubeMember
from fangkong.testing.rules.codes import ScanCodes
from fangkong.tracing.models import Case
from fangkong.tracing.rules import subject_key
from testing_support import HOME_COMMUNITIES, acting_as, place

API = "/api/testing"
ROUND_START = "2026-12-07T00:00:00"  # local; the clock stands at 2026-12-07 04:19 local


def _campaign(client, world: World, headers: dict[str, str], **extra: object) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = {
        "name": "西湖区全员核酸",
        "areas": [world.jurisdictions[c] for c in HOME_COMMUNITIES],
        "pool_size": 5,
        **extra,
    }
    created = client.post(f"{API}/campaigns", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


def _scan(codes: ScanCodes, person: int, barcode: str, seq: int, round_id: int, **extra: object) -> dict:  # type: ignore[type-arg]
    return {
        "device_id": "pda-01",
        "device_seq": seq,
        "round_id": round_id,
        "barcode": barcode,
        "person_code": codes.code_for(person),
        "scanned_at": "2026-12-07T01:30:00",
        **extra,
    }


def test_campaigns_rounds_sites_and_laboratories(client, world: World) -> None:  # type: ignore[no-untyped-def]
    coordinator = token_for(client, "home_testing_coordinator")
    viewer = token_for(client, "home_investigator")
    communities = [world.jurisdictions[c] for c in HOME_COMMUNITIES]

    refused = client.post(
        f"{API}/campaigns",
        json={"name": "x", "areas": [world.jurisdictions[FOREIGN_COUNTY]], "pool_size": 3},
        headers=coordinator,
    )
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"areas", "pool_size"}
    assert (
        client.post(f"{API}/campaigns", json={"name": "x", "areas": communities}, headers=viewer).status_code
        == 403
    )

    campaign = _campaign(client, world, coordinator, sealed=[communities[1]])
    assert [(a["name"], a["sealed"]) for a in campaign["areas"]] == [("保俶社区", False), ("宝石社区", True)]
    assert campaign["rounds"] == [] and campaign["advice"]["stop"]["phase"] == "daily"
    assert campaign["advice"]["next_round_on"] == "2026-12-07"
    listed = client.get(f"{API}/campaigns", headers=viewer).json()
    assert [c["id"] for c in listed] == [campaign["id"]]
    assert client.get(f"{API}/campaigns", headers=token_for(client, "away_testing_coordinator")).json() == []

    opened = client.post(
        f"{API}/campaigns/{campaign['id']}/rounds", json={"starts_at": ROUND_START}, headers=coordinator
    )
    assert opened.status_code == 201, opened.text
    first = opened.json()
    assert (first["number"], first["state"], first["starts_at"], first["deadline_at"]) == (
        1,
        "open",
        "2026-12-07T00:00:00",
        "2026-12-08T00:00:00",
    )
    again = client.post(f"{API}/campaigns/{campaign['id']}/rounds", json={}, headers=coordinator)
    assert again.status_code == 409 and "still open" in again.json()["detail"]
    rounds = client.get(f"{API}/campaigns/{campaign['id']}/rounds", headers=viewer).json()
    assert [r["id"] for r in rounds] == [first["id"]]
    assert client.get(f"{API}/rounds/{first['id']}", headers=viewer).json()["number"] == 1

    plan = client.get(f"{API}/rounds/{first['id']}/site-plan", headers=viewer).json()
    assert [(p["name"], p["population"], p["sites"], p["samplers"]) for p in plan] == [
        ("保俶社区", 3, 1, 1),
        ("宝石社区", 3, 1, 1),
    ]
    made = client.post(f"{API}/rounds/{first['id']}/sites", json={}, headers=coordinator)
    assert made.status_code == 200, made.text
    assert len(made.json()) == 2
    assert len(client.post(f"{API}/rounds/{first['id']}/sites", json={}, headers=coordinator).json()) == 2
    site = client.post(
        f"{API}/sites",
        json={"name": "保俶社区 流动点", "jurisdiction_id": communities[0], "campaign_id": campaign["id"]},
        headers=coordinator,
    )
    assert site.status_code == 201, site.text
    sites = client.get(f"{API}/sites", params={"campaign_id": campaign["id"]}, headers=viewer).json()
    assert len(sites) == 3 and {s["active"] for s in sites} == {True}
    elsewhere = client.post(
        f"{API}/sites",
        json={"name": "南门点", "jurisdiction_id": world.jurisdictions[FOREIGN_COUNTY]},
        headers=coordinator,
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "jurisdiction_id"

    lab = client.post(
        f"{API}/laboratories",
        json={
            "name": "西湖区疾控实验室",
            "jurisdiction_code": HOME_COUNTY,
            "tests_per_hour": 900,
        },
        headers=coordinator,
    )
    assert lab.status_code == 201, lab.text
    assert lab.json()["turnaround_hours"] == 12
    twice = client.post(
        f"{API}/laboratories",
        json={"name": "西湖区疾控实验室", "jurisdiction_code": HOME_COUNTY},
        headers=coordinator,
    )
    assert twice.status_code == 409
    assert [x["name"] for x in client.get(f"{API}/laboratories", headers=viewer).json()] == [
        "西湖区疾控实验室"
    ]
    assert client.get(f"{API}/laboratories", headers=token_for(client, "away_laboratory")).json() == []

    closed = client.post(
        f"{API}/rounds/{first['id']}/close", json={"community_positives": 0}, headers=coordinator
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    detail = client.get(f"{API}/campaigns/{campaign['id']}", headers=viewer).json()
    assert detail["advice"]["rounds_closed"] == 1 and detail["advice"]["stop"]["clean_streak"] == 1
    assert detail["advice"]["stop"]["next_round_on"] == "2026-12-08"
    assert detail["advice"]["frequency"]["interval_days"] == 5
    assert detail["advice"]["next_round_on"] == "2026-12-12"
    stopped = client.post(
        f"{API}/campaigns/{campaign['id']}/stop", json={"reason": "清零"}, headers=coordinator
    )
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"


def test_the_scanner_endpoint_answers_each_scan_and_is_idempotent(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    codes = ScanCodes(settings.hash_key)
    coordinator = token_for(client, "home_testing_coordinator")
    sampler = token_for(client, "home_community_worker")
    people = world.people[HOME_COUNTY]
    campaign = _campaign(client, world, coordinator)
    round_id = client.post(
        f"{API}/campaigns/{campaign['id']}/rounds", json={"starts_at": ROUND_START}, headers=coordinator
    ).json()["id"]

    one = _scan(codes, people[0], "T-001", 1, round_id)
    first = client.post(f"{API}/scans", json=one, headers=sampler)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "recorded": 1,
        "already_recorded": 0,
        "refused": 0,
        "outcomes": [{"i": 0, "seq": 1, "status": "recorded"}],
    }
    resent = client.post(f"{API}/scans", json=one, headers=sampler).json()
    assert (resent["recorded"], resent["already_recorded"]) == (0, 1)
    # Laboratories may read but not scan.
    assert (
        client.post(f"{API}/scans", json=one, headers=token_for(client, "home_laboratory")).status_code == 403
    )

    queue = [
        one,  # sent before
        _scan(codes, people[1], "T-001", 2, round_id),
        _scan(codes, people[0], "T-002", 3, round_id),  # already in T-001
        {**_scan(codes, people[2], "T-002", 4, round_id), "person_code": "FK1-1-AAAAAAAA"},  # forged
        _scan(codes, people[2], "T-001", 5, round_id, pool_size=10),  # T-001 holds 5
        _scan(codes, people[2], "T-003", 6, round_id, scanned_at="2030-01-01T00:00:00"),
        _scan(codes, world.people[FOREIGN_COUNTY][0], "T-003", 7, round_id),
        _scan(codes, people[3], "T-001", 8, round_id),
        _scan(codes, people[3], "T-001", 8, round_id),  # the same scan twice in one queue
    ]
    answer = client.post(f"{API}/scans", json={"scans": queue}, headers=sampler)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(o["i"], o["status"], o.get("field")) for o in body["outcomes"]] == [
        (0, "already_recorded", None),
        (1, "recorded", None),
        (2, "refused", "person_code"),
        (3, "refused", "person_code"),
        (4, "refused", "pool_size"),
        (5, "refused", "scanned_at"),
        (6, "refused", "person_code"),
        (7, "recorded", None),
        (8, "already_recorded", None),
    ]
    assert (body["recorded"], body["already_recorded"], body["refused"]) == (2, 2, 5)
    assert "already sampled in round 1 (tube T-001)" in body["outcomes"][2]["message"]
    assert "forged" in body["outcomes"][3]["message"]
    again = client.post(f"{API}/scans", json={"scans": queue}, headers=sampler).json()
    assert (again["recorded"], again["already_recorded"]) == (0, 4)

    # A tube over its pool size is refused: T-001 holds people 0, 1 and 3; two more fill it.
    more = [_scan(codes, people[i], "T-001", 20 + i, round_id) for i in (2, 4, 5)]
    filled = client.post(f"{API}/scans", json={"scans": more}, headers=sampler, params={"lang": "zh"}).json()
    assert [o["status"] for o in filled["outcomes"]] == ["recorded", "recorded", "refused"]
    assert filled["outcomes"][2]["field"] == "barcode" and "T-001" in filled["outcomes"][2]["message"]

    bad = client.post(f"{API}/scans", json={"scans": []}, headers=sampler)
    assert bad.status_code == 422
    with acting_as(app.state.db, "home_testing_coordinator") as (session, _me):
        tube = session.scalar(select(Tube).where(Tube.barcode == "T-001"))
        assert tube is not None and (tube.members, tube.pool_size) == (5, 5)
        assert session.scalar(select(func.count()).select_from(TubeMember)) == 5

    coverage = client.get(f"{API}/rounds/{round_id}/coverage", headers=sampler).json()
    assert (
        coverage["expected"],
        coverage["sampled"],
        coverage["not_sampled"],
        coverage["without_result"],
    ) == (
        6,
        5,
        1,
        5,
    )
    assert [(c["name"], c["sampled"]) for c in coverage["communities"]] == [("保俶社区", 3), ("宝石社区", 2)]
    assert coverage["turnaround"]["tubes"] == 1 and coverage["turnaround"]["pending"] == 1
    progress = client.get(
        f"{API}/rounds/{round_id}/progress", params={"chart": True, "step_minutes": 60}, headers=sampler
    ).json()
    assert progress["points"][-1]["sampled"] == 5 and progress["chart"]["series"][0]["type"] == "line"
    listed = client.get(f"{API}/rounds/{round_id}/not-sampled.xlsx", headers=sampler)
    assert listed.status_code == 200 and listed.headers["content-type"].startswith("application/vnd.openxml")
    rows = list(load_workbook(io.BytesIO(listed.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("社区", "姓名") and len(rows) == 2 and rows[1][0] == "宝石社区"
    assert "*" in str(rows[1][1])  # masked without reveal


def _scanned_round(client, world: World, codes: ScanCodes) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    """A round whose two tubes hold the home county's people: P-1 (people 0-2) and P-2 (people 3-5)."""
    coordinator = token_for(client, "home_testing_coordinator")
    people = world.people[HOME_COUNTY]
    campaign = _campaign(client, world, coordinator)
    round_id = client.post(
        f"{API}/campaigns/{campaign['id']}/rounds", json={"starts_at": ROUND_START}, headers=coordinator
    ).json()["id"]
    scans = [_scan(codes, p, "P-1" if i < 3 else "P-2", i + 1, round_id) for i, p in enumerate(people)]
    answer = client.post(f"{API}/scans", json={"scans": scans}, headers=coordinator).json()
    assert answer["recorded"] == 6, answer
    return round_id, people


def test_lab_results_recalls_and_a_positive_retest_opening_a_case(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    codes = ScanCodes(settings.hash_key)
    round_id, people = _scanned_round(client, world, codes)
    lab = token_for(client, "home_laboratory")
    worker = token_for(client, "home_community_worker")

    bad = "条码,结果,Ct ORF1ab,Ct N,检测时间\nP-1,阳性,33,32,2026-12-07 03:00\nP-2,maybe,,,2026-12-07 03:00\n"
    refused = client.post(f"{API}/results", files={"file": ("lab.csv", bad.encode())}, headers=lab)
    assert refused.status_code == 422
    assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [(3, "结果")]
    good = (
        "条码,结果,Ct ORF1ab,Ct N,检测时间\n"
        "P-1,阳性,33,32,2026-12-07 03:00\nP-2,阴性,,,2026-12-07 03:00\nP-404,阴性,,,2026-12-07 03:00\n"
    )
    assert (
        client.post(f"{API}/results", files={"file": ("lab.csv", good.encode())}, headers=worker).status_code
        == 403
    )
    loaded = client.post(f"{API}/results", files={"file": ("lab.csv", good.encode())}, headers=lab)
    assert loaded.status_code == 200, loaded.text
    report = loaded.json()
    assert (report["rows"], report["loaded"], report["positive_pools"], report["recalled"]) == (3, 2, 1, 3)
    assert [(u["row"], u["field"]) for u in report["unknown"]] == [(4, "条码")]
    twice = client.post(f"{API}/results", files={"file": ("lab.csv", good.encode())}, headers=lab).json()
    assert (twice["loaded"], twice["unchanged"], twice["recalled"]) == (0, 2, 0)

    recalls = client.get(f"{API}/recalls", headers=worker).json()
    assert sorted(r["person_id"] for r in recalls) == sorted(people[:3])
    assert {(r["pool_barcode"], r["state"], r["late"]) for r in recalls} == {("P-1", "flagged", False)}
    tube_id = recalls[0]["tube_id"]
    sick, well, missing = (next(r for r in recalls if r["person_id"] == p) for p in people[:3])
    located = client.post(f"{API}/recalls/{well['id']}/located", json={}, headers=worker)
    assert located.status_code == 200 and located.json()["state"] == "located"
    retest = client.post(
        f"{API}/recalls/{sick['id']}/retest",
        json={
            "barcode": "R-1",
            "result": "positive",
            "ct_values": {"ORF1ab": 25.0},
            "tested_at": "2026-12-07T04:00",
        },
        headers=worker,
    )
    assert retest.status_code == 200, retest.text
    assert (retest.json()["state"], retest.json()["result"]) == ("retested", "positive")
    with acting_as(app.state.db, "home_investigator") as (session, _me):
        # The positive single tube reached tracing through the app's bus: a case was opened.
        assert (
            session.scalar(select(Case).where(Case.subject_key == subject_key(people[0], None))) is not None
        )
    timing = client.get(f"{API}/tubes/{tube_id}/recall-timing", headers=worker).json()
    assert (timing["members"], timing["located"], timing["all_located_at"]) == (3, 2, None)
    wrong_ct = client.post(
        f"{API}/recalls/{missing['id']}/retest",
        json={"barcode": "R-2", "ct_values": {"N": 99}},
        headers=worker,
    )
    assert wrong_ct.status_code == 422

    coverage = client.get(f"{API}/rounds/{round_id}/coverage", headers=worker).json()
    assert (coverage["sampled"], coverage["without_result"]) == (6, 0)
    assert coverage["turnaround"]["resulted"] == 2


def test_fhir_results_the_template_and_a_malformed_bundle(client, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    codes = ScanCodes(settings.hash_key)
    _scanned_round(client, world, codes)
    lab = token_for(client, "home_laboratory")
    template = client.get(f"{API}/results/template", headers=lab)
    assert template.status_code == 200 and template.headers["content-type"].startswith(
        "application/fhir+json"
    )
    bundle = template.json()
    text = json.dumps(bundle)
    # The template's two tubes become this round's.
    barcodes = [
        e["resource"]["container"][0]["identifier"][0]["value"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Specimen"
    ]
    for old, new in zip(barcodes, ("P-1", "P-2"), strict=True):
        text = text.replace(f'"{old}"', f'"{new}"')
    headers = {**lab, "Content-Type": "application/fhir+json"}
    loaded = client.post(f"{API}/results/fhir", content=text.encode(), headers=headers)
    assert loaded.status_code == 200, loaded.text
    assert (loaded.json()["loaded"], loaded.json()["positive_pools"]) == (2, 1)
    as_file = client.post(f"{API}/results/fhir", files={"file": ("r.json", text.encode())}, headers=lab)
    assert as_file.status_code == 200 and as_file.json()["unchanged"] == 2

    broken = copy.deepcopy(json.loads(text))
    for entry in broken["entry"]:
        if entry["resource"]["resourceType"] == "Specimen":
            del entry["resource"]["container"]
            break
    refused = client.post(f"{API}/results/fhir", content=json.dumps(broken).encode(), headers=headers)
    assert refused.status_code == 422
    assert any("container" in e["field"] for e in refused.json()["errors"]), refused.json()
    assert client.post(f"{API}/results/fhir", content=b"not json", headers=headers).status_code == 422
    assert client.post(f"{API}/results/fhir", content=b"", headers=headers).status_code == 422
    csv = client.get(f"{API}/results/template", params={"format": "csv"}, headers=lab)
    assert csv.status_code == 200 and csv.content.decode("utf-8-sig").startswith("条码,结果")


def test_orders_worklist_sample_history_and_overdue(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    person = world.people[HOME_COUNTY][0]
    with acting_as(app.state.db, "home_testing_coordinator") as (session, _me):
        # The app's bus: the protocol makes the plan and testing makes its orders.
        place(session, app.state.bus, person, "close_contact", dt.date(2026, 12, 4), "contact:77")
    coordinator = token_for(client, "home_testing_coordinator")
    synced = client.post(f"{API}/orders/sync", json={}, headers=coordinator)
    assert synced.status_code == 200, synced.text
    assert synced.json()["created"] == 0 and synced.json()["unchanged"] > 0
    assert (
        client.post(f"{API}/orders/sync", headers=token_for(client, "home_community_worker")).status_code
        == 403
    )

    # Exposed 12-04: plan days 1, 2, 3 fell on 12-05, 12-06, 12-07 (today, local).
    today = client.get(f"{API}/orders/worklist", headers=coordinator).json()
    assert [(o["person_id"], o["due_date"], o["place"]) for o in today["items"]] == [
        (person, "2026-12-07", "quarantine_site")
    ]
    assert "*" in today["items"][0]["person_name"] or today["items"][0]["person_name"]
    late = client.get(f"{API}/orders/overdue", headers=coordinator).json()
    assert [o["due_date"] for o in late["items"]] == ["2026-12-05", "2026-12-06"]
    community = world.jurisdictions[HOME_COMMUNITIES[1]]
    assert (
        client.get(f"{API}/orders/overdue", params={"community_id": community}, headers=coordinator).json()[
            "total"
        ]
        == 0
    )

    order_id = today["items"][0]["id"]
    sampled = client.post(f"{API}/orders/{order_id}/sample", json={"barcode": "S-1"}, headers=coordinator)
    assert sampled.status_code == 200, sampled.text
    assert (sampled.json()["state"], sampled.json()["tube_barcode"]) == ("sampled", "S-1")
    assert (
        client.post(
            f"{API}/orders/{order_id}/sample", json={"barcode": "S-1"}, headers=coordinator
        ).status_code
        == 200
    )
    other = client.post(f"{API}/orders/{order_id}/sample", json={"barcode": "S-2"}, headers=coordinator)
    assert other.status_code == 409
    history = client.get(
        f"{API}/people/{person}/tests", headers=token_for(client, "home_investigator")
    ).json()
    assert [(h["kind"], h["barcode"], h["state"]) for h in history if h["barcode"]] == [
        ("order", "S-1", "sampled")
    ]
    assert (
        client.get(f"{API}/people/{world.people[FOREIGN_COUNTY][0]}/tests", headers=coordinator).status_code
        == 404
    )


def test_the_pool_planner(client, world: World) -> None:  # type: ignore[no-untyped-def]
    viewer = token_for(client, "home_investigator")
    low = client.get(f"{API}/pools", params={"prevalence": 0.01}, headers=viewer)
    assert low.status_code == 200, low.text
    assert (low.json()["optimal_pool_size"], low.json()["pooling_pays"]) == (11, True)
    assert round(low.json()["tests_per_person"], 4) == 0.1956
    high = client.get(f"{API}/pools", params={"prevalence": 0.5}, headers=viewer).json()
    assert (high["optimal_pool_size"], high["pooling_pays"]) == (1, False)
    for wrong in (0, 1e-15, 1, -3, "x"):
        assert client.get(f"{API}/pools", params={"prevalence": wrong}, headers=viewer).status_code == 422
    assert (
        client.get(
            f"{API}/pools", params={"prevalence": 0.01}, headers=token_for(client, "home_viewer")
        ).status_code
        == 403
    )
