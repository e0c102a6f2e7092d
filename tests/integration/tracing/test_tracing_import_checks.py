"""An import follows the same rules as entering one case or contact: places must exist, and a managed
contact reported as a case keeps the isolation she already had (issue 11, items 5 and 10)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tracing_support import Tracing

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, token_for
from fangkong.core import clock
from fangkong.core.errors import InvalidInput
from fangkong.core.people_rules import Keys
from fangkong.tracing import imports, service
from fangkong.tracing.imports import ImportReport
from fangkong.tracing.models import (
    Case,
    Classification,
    Contact,
    ContactCategory,
    Exposure,
    UnidentifiedPerson,
)
from fangkong.tracing.persons import PersonInput

pytest_plugins = ["tracing_support"]  # the `tracing` fixture


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _run(tracing: Tracing, kind: str, path: Path) -> ImportReport:
    keys = Keys(tracing.app.state.settings.encryption_key, tracing.app.state.settings.hash_key)  # type: ignore[attr-defined]
    with tracing.as_user("home_investigator") as (session, me):
        return imports.import_file(session, tracing.vault, tracing.bus, me, keys, kind, path)  # type: ignore[arg-type]


def _counts(tracing: Tracing) -> tuple[int, ...]:
    with tracing.as_user("home_investigator") as (session, _me):
        return tuple(
            session.scalar(select(func.count()).select_from(m)) or 0
            for m in (Case, Exposure, Contact, UnidentifiedPerson)
        )


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A local wall-clock moment as the aware UTC instant the clock is set to."""
    return clock.from_local(dt.datetime(year, month, day, hour, minute))


# ------------------------------------------------------------------------------------ places


def test_a_case_file_with_a_community_that_does_not_exist_is_refused_and_nothing_written(
    tracing: Tracing, world: World, tmp_path: Path
) -> None:
    before = _counts(tracing)
    path = _csv(
        tmp_path / "cases.csv",
        ["病例编号", "病例分类", "姓名", "手机号", "社区编码", "住址", "现住地区划代码"],
        [
            ["XH-1", "确诊", "钱七", "13900000001", "330106001001", "保俶路1号", ""],
            ["XH-2", "确诊", "孙八", "13900000002", "330106999999", "保俶路2号", ""],
            ["XH-3", "确诊", "李九", "13900000003", "330106001", "保俶路3号", ""],
            ["XH-4", "确诊", "周十", "13900000004", "", "", "330299"],
            ["XH-5", "确诊", "吴一", "13900000005", "", "", FOREIGN_COUNTY],
        ],
    )
    with pytest.raises(InvalidInput) as caught:
        _run(tracing, "cases", path)
    # Each row and column named as the file names them; a good code (rows 2 and 6) is no error.
    assert [(e.row, e.field) for e in caught.value.errors] == [
        (3, "社区编码"),
        (4, "社区编码"),
        (5, "现住地区划代码"),
    ]
    assert caught.value.file
    messages = [e.message for e in caught.value.errors]
    assert "330106999999" in messages[0]
    assert "not a community" in messages[1]
    assert "330299" in messages[2]
    assert _counts(tracing) == before


def test_a_contact_list_with_an_unknown_residence_is_refused_through_the_route(
    client: TestClient, world: World, tracing: Tracing
) -> None:
    headers = token_for(client, "home_investigator")
    case = f"XH-1,确诊,{world.id_numbers[world.people[HOME_COUNTY][0]]},2026-12-04\n"
    created = client.post(
        "/api/tracing/import?kind=cases",
        headers=headers,
        files={"file": ("cases.csv", f"病例编号,病例分类,身份证号,发病日期\n{case}".encode(), "text/csv")},
    )
    assert created.status_code == 200, created.text
    before = _counts(tracing)
    body = (
        "case_ref,name,phone,community_code,residence_code,setting,last_exposure\n"
        "XH-1,陈一,13700000031,330106001002,,household,2026-12-04\n"
        "XH-1,林二,13700000032,,330299,household,2026-12-04\n"
    )
    refused = client.post(
        "/api/tracing/import?kind=contacts",
        headers=headers,
        files={"file": ("contacts.csv", body.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [(3, "residence_code")]
    assert "330299" in refused.json()["errors"][0]["message"]
    assert _counts(tracing) == before


# ------------------------------------------------------------------------------------ isolation


def test_an_imported_case_who_was_a_quarantined_contact_keeps_her_isolation(
    tracing: Tracing, world: World, tmp_path: Path, frozen_clock: clock.FrozenClock
) -> None:
    frozen_clock.set(_at(2026, 12, 6, 9, 30))
    wife, husband = world.people[HOME_COUNTY][:2]
    with tracing.as_user("home_investigator") as (session, me):
        index = service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=Classification.confirmed,
                person=PersonInput(id_number=world.id_numbers[wife]),
                onset_date=dt.date(2026, 12, 4),
                isolated_at=dt.datetime(2026, 12, 5, 10, 0),
            ),
        )
        # Her husband, exposed at home until her isolation: a close contact, in centralized quarantine.
        (contact,) = service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            index.id,
            [
                service.ExposureInput(
                    "household",
                    dt.datetime(2026, 12, 5, 8, 0),
                    person=PersonInput(id_number=world.id_numbers[husband]),
                )
            ],
        )
        assert contact.category is ContactCategory.close_contact
    frozen_clock.set(_at(2026, 12, 8, 10, 0))
    cases = _csv(
        tmp_path / "cases.csv",
        ["病例编号", "病例分类", "身份证号", "采样日期"],
        [["XH-9", "无症状", world.id_numbers[husband], "2026-12-08"]],
    )
    assert _run(tracing, "cases", cases).cases == 1
    with tracing.as_user("home_investigator") as (session, _me):
        reported = session.scalar(select(Case).where(Case.case_ref == "XH-9"))
        assert reported is not None
        assert reported.found_under_management
        # His centralized quarantine began on 12-06 (day 1 after the exposure of 12-05), and not before
        # he was on record that morning: the same as when the case is entered on its own.
        assert reported.isolated_at is not None
        assert clock.as_local(reported.isolated_at).replace(microsecond=0) == dt.datetime(2026, 12, 6, 9, 30)
    # His own contacts were exposed only until then: a meal in quarantine exposes nobody.
    exposures = _csv(
        tmp_path / "exposures.csv",
        ["病例编号", "姓名", "手机号", "接触场景", "开始时间", "结束时间"],
        [
            ["XH-9", "陈一", "13700000031", "聚餐", "2026-12-05 19:00", "2026-12-05 21:00"],
            ["XH-9", "林二", "13700000032", "聚餐", "2026-12-07 12:00", "2026-12-07 13:00"],
        ],
    )
    assert _run(tracing, "exposures", exposures).contacts == {
        "close_contact": 1,
        "not_a_contact": 1,
    }
