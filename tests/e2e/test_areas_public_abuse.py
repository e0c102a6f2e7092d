"""The public endpoints under abuse: a thousand malformed submissions (bad ID numbers, scripts in text
fields, oversized bodies, wrong types, floods from one address) get clear 4xx answers and write nothing;
the allowance per address holds; no public answer ever carries another person's data."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from areas_support import HOME_COMMUNITY, area_in_force, arrival_input, as_user
from conftest import World, valid_id
from fangkong.areas import service, views
from fangkong.areas.models import Arrival, ArrivalReport, PublicSubscription
from fangkong.areas.service import public
from fangkong.core.models import AuditEntry, Person

SCRIPT = "<script>alert(1)</script>"
TABLES = (Arrival, ArrivalReport, PublicSubscription, Person)


@pytest.fixture(autouse=True)
def fresh_public_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(public, "CACHE", public.PublicCache())
    service.arrivals.PUBLIC_LIMITER.reset()
    public.SUBSCRIBE_ALLOWANCE.reset()
    views.PLACES.reset()
    yield
    service.arrivals.PUBLIC_LIMITER.reset()
    public.SUBSCRIBE_ALLOWANCE.reset()


def _counts(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        found = {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}
        found["audit"] = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        return found


def _good() -> dict[str, Any]:
    return {k: v for k, v in vars(arrival_input()).items() if v not in (None, "")}


def malformed() -> list[tuple[str, str, Any]]:
    """(path, how, payload): JSON bodies, forms, raw bytes; every one of them wrong somewhere."""
    good = _good()
    cases: list[tuple[str, str, Any]] = []
    bad_ids = [
        "123",
        SCRIPT,
        "11010519491231002Y",
        "330203199001011230",
        "０" * 18,
        "'; DROP TABLE people;--",
        "",
    ]
    for bad in bad_ids:
        cases.append(("/public/api/arrivals", "json", {**good, "id_number": bad}))
        cases.append(("/public/arrivals", "form", {**good, "id_number": bad}))
    for field in ("name", "phone", "origin_county_code", "destination_code", "departed_on", "arrived_on"):
        for value in (SCRIPT, f"{SCRIPT}x", "<img src=x onerror=alert(1)>", "\x00", "😀" * 3):
            cases.append(("/public/api/arrivals", "json", {**good, field: value}))
            cases.append(("/public/arrivals", "form", {**good, field: value}))
    wrong_types: list[Any] = [
        [good],
        "text",
        12,
        None,
        True,
        {"id_number": ["x"]},
        {"name": 7},
        {"name": {"a": 1}},
    ]
    wrong_types += [{**good, "companions": v} for v in (-1, 51, "many", True, 1.5, [1], 10**30)]
    wrong_types += [
        {**good, "departed_on": v} for v in (12, "2026-13-01", "1926-01-01", "2099-01-01", [2026])
    ]
    wrong_types += [{**good, "origin_area_id": v} for v in (0, -5, 2**40, "abc", 999_999)]
    wrong_types += [{**good, "is_admin": True}, {**good, "person_id": 1}]
    for payload in wrong_types:
        cases.append(("/public/api/arrivals", "json", payload))
    big = "长" * 20_000
    for path in ("/public/api/arrivals", "/public/arrivals", "/public/areas/subscribe"):
        cases.append((path, "raw-json", json.dumps({**good, "name": big}).encode()))
        cases.append((path, "raw", b"x" * (views.MAX_PUBLIC_BODY + 1)))
        cases.append((path, "raw-text", b"id_number=1"))
        cases.append((path, "raw-json", b"{not json"))
        cases.append((path, "raw-json", b"\xff\xfe\x00"))
    for county, contact in (
        ("330106", "not-an-address"),
        ("330106", SCRIPT),
        ("330106", "a@" + "b" * 300 + ".com"),
        ("999999", "a@example.com"),
        (SCRIPT, "a@example.com"),
        ("", ""),
        ("330106001001", "a@example.com"),  # a community, not a county
    ):
        cases.append(("/public/areas/subscribe", "form", {"county_code": county, "contact": contact}))
    cases.append(("/public/areas/unsubscribe", "form", {"token": SCRIPT}))
    cases.append(("/public/areas/unsubscribe", "form", {"token": "a" * 43}))
    # Repeat the set until a thousand, each copy differing (a counter in a field checked early).
    total: list[tuple[str, str, Any]] = []
    round_no = 0
    while len(total) < 1000:
        for path, how, payload in cases:
            if isinstance(payload, dict) and "id_number" in payload and isinstance(payload.get("name"), str):
                payload = {**payload, "places_visited": f"第{round_no}轮"}
            total.append((path, how, payload))
        round_no += 1
    return total[:1000]


def _send(client: TestClient, path: str, how: str, payload: Any) -> Any:
    if how == "json":
        return client.post(path, json=payload)
    if how == "form":
        return client.post(path, data={k: str(v) for k, v in payload.items()})
    media = {"raw": "application/json", "raw-json": "application/json", "raw-text": "text/plain"}[how]
    return client.post(path, content=payload, headers={"Content-Type": media})


def test_a_thousand_malformed_submissions_get_clear_4xx_and_write_nothing(
    app, world: World, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    before = _counts(app)
    statuses: dict[int, int] = {}
    with TestClient(app, client=("198.51.100.7", 4000)) as client:
        for i, (path, how, payload) in enumerate(malformed()):
            if i % 9 == 0:
                # Past both allowances (10 a minute for arrivals, 10 an hour for subscriptions): each
                # malformed submission is judged on its content here; floods are the next test.
                frozen_clock.advance(dt.timedelta(hours=1, minutes=1))
            answer = _send(client, path, how, payload)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            assert 400 <= answer.status_code < 500, (
                path,
                how,
                str(payload)[:200],
                answer.status_code,
                answer.text[:300],
            )
            assert answer.status_code != 429, (path, str(payload)[:100])
            assert SCRIPT not in answer.text or answer.headers["content-type"].startswith("application/json")
            if answer.headers["content-type"].startswith("application/json"):
                assert "detail" in answer.json()
    assert sum(statuses.values()) == 1000 and set(statuses) <= {403, 404, 413, 415, 422}, statuses
    assert _counts(app) == before


def test_a_flood_from_one_address_is_refused_past_its_allowance_and_writes_nothing(app, world: World) -> None:  # type: ignore[no-untyped-def]
    good = _good()
    before = _counts(app)
    with TestClient(app, client=("203.0.113.9", 4000)) as client:
        answers = [client.post("/public/api/arrivals", json={**good, "phone": "1"}) for _ in range(40)]
        codes = [a.status_code for a in answers]
        limit = service.arrivals.PUBLIC_SUBMISSIONS_PER_MINUTE
        assert codes[:limit] == [422] * limit and set(codes[limit:]) == {429}
        assert int(answers[-1].headers["retry-after"]) >= 1
        # A good submission from the flooding address is refused too: nothing written.
        assert client.post("/public/api/arrivals", json=good).status_code == 429
        forms = [client.post("/public/arrivals", data={**good, "phone": "1"}).status_code for _ in range(5)]
        assert set(forms) == {429}
        subscriptions = [
            client.post(
                "/public/areas/subscribe", data={"county_code": "330106", "contact": f"x{i}@example.com"}
            )
            for i in range(15)
        ]
        assert [s.status_code for s in subscriptions][-3:] == [429, 429, 429]
        assert _counts(app)["arrivals"] == before["arrivals"]
    with TestClient(app, client=("203.0.113.10", 4000)) as other:
        assert other.post("/public/api/arrivals", json=good).status_code == 201  # another address is served


def test_no_public_answer_carries_another_persons_data(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with as_user(app, "home_command_centre") as (session, _me):
        area_in_force(session, place_code=HOME_COMMUNITY, name="翠苑小区3幢", unit_kind="building")
    one = {
        **_good(),
        "id_number": valid_id("330203", "19900101", 501),
        "name": "赵敏",
        "phone": "13900139001",
    }
    two = {
        **_good(),
        "id_number": valid_id("330203", "19850505", 502),
        "name": "钱多多",
        "phone": "13900139002",
    }
    secrets = [one["id_number"], one["phone"], one["name"], two["id_number"], two["phone"], two["name"]]
    secrets += [one["address"], "保俶路"]
    answers: list[str] = []
    with TestClient(app, client=("192.0.2.1", 4000)) as client:
        answers.append(client.post("/public/api/arrivals", json=one).text)
        answers.append(client.post("/public/arrivals", data=two).text)
        # The same trip reported again under another name and phone: the answer says nothing of the first.
        answers.append(
            client.post("/public/api/arrivals", json={**one, "name": "孙悟空", "phone": "13900139009"}).text
        )
        answers.append(client.post("/public/arrivals", data={**two, "phone": "139"}).text)
        public.snapshot(app.state.db)
        for url in (
            "/public/areas",
            "/public/areas?lang=en",
            "/public/areas.json",
            "/public/areas/330106.json",
            "/public/arrivals",
            "/public/areas/subscribe",
        ):
            answers.append(client.get(url).text)
    for text in answers[:3] + answers[4:]:
        leaked = [s for s in secrets if s in text]
        assert leaked == [], (leaked, text[:300])
    # The refused form shows back only what its own sender typed (their own ID and name), nobody else's.
    assert (
        one["id_number"] not in answers[3]
        and one["name"] not in answers[3]
        and one["phone"] not in answers[3]
    )
