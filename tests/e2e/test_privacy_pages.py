"""The privacy pages over HTTP, in Chinese: the rules with their dry run, an emergency opened, closed
and its deletion report, duplicates compared and merged then undone, access outside one's jurisdiction
refused without a reason and opened with one, and the supervisor's review."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from conftest import HOME_COUNTY, PASSWORD, World
from fangkong.core.models import AuditEntry, Person


def _csrf(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]


def _log_in(client: Any, username: str, page: str) -> str:
    client.cookies.clear()
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(client.get("/login").text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return _csrf(shown.text)


def test_rules_dry_run_and_a_rule_below_the_minimum_refused(client: Any, world: World) -> None:
    csrf = _log_in(client, "home_administrator", "/privacy")
    page = client.get("/privacy")
    assert "数据保存" in page.text and page.text.count('data-testid="rule-row"') == 9
    assert "管控人员" in page.text and "解除管控" in page.text
    dry = client.post("/privacy/dry-run", data={"csrf_token": csrf})
    assert dry.status_code == 200 and "试运行：未删除任何数据" in dry.text
    bad = client.post(
        "/privacy/rules",
        data={"csrf_token": csrf, "record_class": "cases", "period_days": "3", "action": "delete"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422 and "data-form-errors" in bad.text and "28" in bad.text
    good = client.post(
        "/privacy/rules",
        data={
            "csrf_token": csrf,
            "record_class": "cases",
            "period_days": "90",
            "action": "delete",
            "active": "yes",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert '<td class="mono">90</td>' in client.get("/privacy").text


def test_an_emergency_is_opened_closed_and_shows_its_report_only_at_province_level(
    app: Any, client: Any, world: World, frozen_clock: Any
) -> None:
    import datetime as dt

    csrf = _log_in(client, "home_administrator", "/privacy/emergencies")
    assert "只有省级管理员" in client.get("/privacy/emergencies").text
    csrf = _log_in(client, "province_admin", "/privacy/emergencies")
    opened = client.post(
        "/privacy/emergencies",
        data={"csrf_token": csrf, "name": "全省疫情", "opened_on": "2026-11-01"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    where = opened.headers["location"]
    client.post(f"{where}/close", data={"csrf_token": csrf})
    assert 'data-testid="purge"' not in client.get(where).text  # the confirmation period runs
    frozen_clock.advance(dt.timedelta(days=15))
    purged = client.post(f"{where}/purge", data={"csrf_token": csrf}, follow_redirects=True)
    assert purged.status_code == 200 and "删除报告" in purged.text
    assert 'data-testid="people-purged"' in purged.text


def test_duplicates_compared_merged_and_undone(app: Any, client: Any, world: World) -> None:
    first = world.people[HOME_COUNTY][0]
    with app.state.db.unit_of_work() as session:
        p = session.get(Person, first)
        same = ("jurisdiction_id", "jpath", "pii", "phone_hash", "name_hash", "id_masked", "phone_masked")
        twin = Person(
            **{k: getattr(p, k) for k in same},
            id_hash="f" * 32,
            name_masked=p.name_masked,
            sex=p.sex,
            birth_date=p.birth_date,
        )
        session.add(twin)
        session.flush()
        twin_id = twin.id
    csrf = _log_in(client, "home_investigator", "/privacy/merge")
    listed = client.get("/privacy/merge")
    assert listed.text.count('data-testid="candidate"') == 1 and "姓名、电话、出生日期相同" in listed.text
    compared = client.get("/privacy/merge/compare", params={"first": first, "second": twin_id})
    assert compared.status_code == 200 and compared.text.count('data-testid="side"') == 2
    merged = client.post(
        "/privacy/merge",
        data={"csrf_token": csrf, "survivor_id": first, "merged_id": twin_id},
        follow_redirects=True,
    )
    assert merged.status_code == 200 and 'data-testid="undo"' in merged.text
    assert 'data-testid="no-candidates"' in merged.text
    undo = re.search(r'action="(/privacy/merges/\d+/undo)"', merged.text).group(1)  # type: ignore[union-attr]
    after = client.post(undo, data={"csrf_token": csrf}, follow_redirects=True)
    assert "已撤销" in after.text


def test_access_refused_without_a_reason_opened_with_one_and_reviewed(
    app: Any, client: Any, world: World
) -> None:
    person = world.people[HOME_COUNTY][0]
    csrf = _log_in(client, "away_investigator", "/privacy/access")
    assert client.get(f"/people/{person}").status_code == 404
    refused = client.post(
        "/privacy/access",
        data={"csrf_token": csrf, "person_id": str(person), "reason": "other", "reason_text": ""},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422 and "data-form-errors" in refused.text and "请填写理由" in refused.text
    opened = client.post(
        "/privacy/access",
        data={"csrf_token": csrf, "person_id": str(person), "reason": "arrival", "reason_text": ""},
        follow_redirects=True,
    )
    assert opened.status_code == 200 and str(person) in str(opened.url)
    with app.state.db.unit_of_work() as session:
        reads = session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(person))).all()
        assert "privacy.access_granted" in reads and "privacy.access_read" in reads
    csrf = _log_in(client, "away_administrator", "/privacy/access/review")
    page = client.get("/privacy/access/review")
    assert page.text.count('data-testid="review-row"') == 1 and "来返人员核实" in page.text
    action = re.search(r'action="(/privacy/access/\d+/review)"', page.text).group(1)  # type: ignore[union-attr]
    empty = client.post(action, data={"csrf_token": csrf, "note": " "}, headers={"HX-Request": "true"})
    assert empty.status_code == 422 and "请填写审核意见" in empty.text
    done = client.post(action, data={"csrf_token": csrf, "note": "核实无误"}, follow_redirects=True)
    assert 'data-testid="nothing-to-review"' in done.text


def test_a_tracing_record_compared_beside_the_person_linked_and_undone(
    app: Any, client: Any, world: World
) -> None:
    from sqlalchemy import insert

    from fangkong.privacy.service import linkage

    person_id = world.people[HOME_COUNTY][0]
    with app.state.db.unit_of_work() as session:
        person = session.get(Person, person_id)
        records = linkage.table("tracing_unidentified_people")
        assert records is not None
        record_id = session.execute(
            insert(records)
            .values(
                jurisdiction_id=person.jurisdiction_id,
                jpath=person.jpath,
                pii=b"sealed",
                id_hash=person.id_hash,
                label="李*",
                id_masked="3301**********0011",
            )
            .returning(records.c.id)
        ).scalar_one()
    csrf = _log_in(client, "home_investigator", "/privacy/merge")
    listed = client.get("/privacy/merge")
    assert "流调记录的身份证号已登记" in listed.text and 'data-testid="compare-record"' in listed.text
    compared = client.get("/privacy/merge/record", params={"person": person_id, "record": record_id})
    assert compared.status_code == 200 and compared.text.count('data-testid="side"') == 2
    # Masked on both sides: the record's masked number, never a full one.
    assert "3301**********0011" in compared.text and world.id_numbers[person_id] not in compared.text
    linked = client.post(
        "/privacy/merge/record",
        data={"csrf_token": csrf, "person_id": person_id, "record_id": record_id},
        follow_redirects=True,
    )
    assert linked.status_code == 200 and "流调记录 #" in linked.text and 'data-testid="undo"' in linked.text
    again = client.get("/privacy/merge/record", params={"person": person_id, "record": record_id})
    assert 'data-testid="already-linked"' in again.text
    undo = re.search(r'action="(/privacy/merges/\d+/undo)"', linked.text).group(1)  # type: ignore[union-attr]
    assert "已撤销" in client.post(undo, data={"csrf_token": csrf}, follow_redirects=True).text


def test_the_review_list_shows_each_chosen_reason_in_chinese_and_the_log_keeps_no_typed_reason(
    app: Any, client: Any, world: World
) -> None:
    people = world.people[HOME_COUNTY]
    chosen = {
        "arrival": "来返人员核实",
        "referred_contact": "外地推送的密接",
        "case_investigation": "病例流调",
        "other": "其他",
    }
    csrf = _log_in(client, "away_investigator", "/privacy/access")
    for person, reason in zip(people, chosen, strict=False):
        opened = client.post(
            "/privacy/access",
            data={
                "csrf_token": csrf,
                "person_id": str(person),
                "reason": reason,
                "reason_text": "王某某的家属来电",
            },
            follow_redirects=False,
        )
        assert opened.status_code == 303
    _log_in(client, "away_administrator", "/privacy/access/review")
    page = client.get("/privacy/access/review")
    shown = min(len(people), len(chosen))
    assert page.text.count('data-testid="review-row"') == shown
    for reason, words in list(chosen.items())[:shown]:
        assert words in page.text and f">{reason}<" not in page.text
    with app.state.db.unit_of_work() as session:
        details = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "privacy.access_granted")
        ).all()
        assert len(details) == shown and not any("王某某" in d for d in details)
