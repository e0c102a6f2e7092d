"""Importing doses on SQLite and PostgreSQL: a vaccination system's export (Chinese or English headers,
CSV, GB18030 CSV or Excel) is written whole or not at all, every bad row is named with the column as the
file names it, a dry run writes nothing, and the people whose doses were written are announced once."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, valid_id
from fangkong.core.auth import Principal, principal_for
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.errors import InvalidInput
from fangkong.core.events import DomainEvent, EventBus
from fangkong.core.models import AuditEntry, Person, User
from fangkong.vaccination.events import DosesRecorded
from fangkong.vaccination.models import Dose, DoseKind, Platform
from fangkong.vaccination.service.doses_import import ImportReport, import_doses

ZH = ["身份证号", "姓名", "疫苗名称", "技术路线", "剂次", "接种类型", "接种日期", "接种单位", "批号"]
EN = ["id_number", "product", "platform", "dose_number", "kind", "given_on", "site", "lot"]


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault(settings.encryption_key, settings.hash_key)


class Recorder:
    def __init__(self) -> None:
        self.bus = EventBus()
        self.events: list[DosesRecorded] = []

        def keep(session: Session, event: DomainEvent) -> None:
            assert isinstance(event, DosesRecorded)
            self.events.append(event)

        self.bus.subscribe(DosesRecorded, keep)


@contextmanager
def as_user(app, username: str) -> Iterator[tuple[Session, Principal]]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        yield session, principal_for(session, user, "token")


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def zh_row(id_number: str, number: int, kind: str = "基础", day: str = "2022-03-01", **kw: str) -> list[str]:
    return [
        id_number,
        "张伟",
        kw.get("product", "新冠病毒灭活疫苗（Vero细胞）北京生物"),
        kw.get("platform", "灭活"),
        str(number),
        kind,
        day,
        kw.get("site", "西湖区北山街道社区卫生服务中心"),
        kw.get("lot", "202203A01"),
    ]


def run_import(
    app,
    vault: Vault,
    data: bytes,
    name: str = "doses.csv",
    *,
    dry_run: bool = False,
    user: str = "home_administrator",
) -> tuple[ImportReport, Recorder]:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    with as_user(app, user) as (session, principal):
        report = import_doses(session, principal, recorder.bus, vault, data, name, dry_run=dry_run)
    return report, recorder


def errors_of(app, vault: Vault, data: bytes, name: str = "doses.csv") -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as caught:
        run_import(app, vault, data, name)
    assert caught.value.file
    return [(e.row, e.field, e.message) for e in caught.value.errors]


def dose_count(app) -> int:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Dose)) or 0


def test_chinese_export_is_written_with_the_registry_place_and_announced_once(
    app, world: World, vault: Vault
) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    a, b = world.id_numbers[home[0]], world.id_numbers[home[3]]
    data = csv_bytes(
        ZH,
        [
            zh_row(a, 1),
            zh_row(a, 2, day="2022-03-22"),
            zh_row(a, 3, kind="加强", day="2022-09-30", product="克威莎", platform=""),
            zh_row(b.lower(), 1, product="智飞", platform="重组蛋白", lot="ZF-01"),
        ],
    )
    report, recorder = run_import(app, vault, data)
    assert (report.rows, report.doses, report.people) == (4, 4, 2)
    assert report.by_kind == {"booster": 1, "primary": 3}
    assert report.by_platform == {"inactivated": 2, "protein": 1, "vector": 1}
    assert (report.first_day, report.last_day) == (dt.date(2022, 3, 1), dt.date(2022, 9, 30))
    assert report.ignored_columns == ["姓名"]
    assert [sorted(e.person_ids) for e in recorder.events] == [sorted([home[0], home[3]])]
    with app.state.db.unit_of_work() as session:
        doses = session.scalars(select(Dose).order_by(Dose.person_id, Dose.dose_number)).all()
        person = session.get(Person, home[0])
        assert person is not None
        assert [(d.person_id, d.dose_number, d.kind, d.platform) for d in doses] == [
            (home[0], 1, DoseKind.primary, Platform.inactivated),
            (home[0], 2, DoseKind.primary, Platform.inactivated),
            (home[0], 3, DoseKind.booster, Platform.vector),
            (home[3], 1, DoseKind.primary, Platform.protein),
        ]
        assert {d.jpath for d in doses if d.person_id == home[0]} == {person.jpath}
        assert doses[0].source == "import:doses.csv:2"
        assert doses[0].site == "西湖区北山街道社区卫生服务中心"
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "doses.import"))
        assert entry is not None and entry.actor == "home_administrator"


def test_dry_run_writes_nothing_and_reports_what_it_would(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    a = world.id_numbers[world.people[HOME_COUNTY][0]]
    report, recorder = run_import(app, vault, csv_bytes(ZH, [zh_row(a, 1), zh_row(a, 2)]), dry_run=True)
    assert (report.dry_run, report.rows, report.doses, report.people) == (True, 2, 2, 1)
    assert recorder.events == []
    assert dose_count(app) == 0


def test_every_bad_row_is_named_by_the_files_own_column_and_nothing_is_written(
    app, world: World, vault: Vault
) -> None:  # type: ignore[no-untyped-def]
    home = world.people[HOME_COUNTY]
    a, b = world.id_numbers[home[0]], world.id_numbers[home[1]]
    foreign = world.id_numbers[world.people[FOREIGN_COUNTY][0]]
    stranger = valid_id("330106", "19500101", 777)
    run_import(app, vault, csv_bytes(ZH, [zh_row(b, 1)]))  # already stored: b's first dose
    rows = [
        zh_row(a, 1),  # row 2: good
        zh_row(stranger, 1),  # 3: valid ID, nobody registered
        zh_row(foreign, 1),  # 4: registered in another county: the same answer
        zh_row("33010619500101123", 1),  # 5: not an ID number
        zh_row(a, 2, day="2022-02-30"),  # 6: no such day
        zh_row(a, 2, day="2030-01-01"),  # 7: future
        zh_row(a, 9),  # 8: dose number out of range
        zh_row(a, 2, product="某某疫苗", platform=""),  # 9: unknown product, no platform
        zh_row(a, 2, product="克威莎", platform="灭活"),  # 10: contradicts the product
        zh_row(a, 1),  # 11: same person and dose number as row 2
        zh_row(b, 1),  # 12: already recorded
        zh_row(a, 2, kind="第二剂加强"),  # 13: dose 2 cannot be a second booster
        zh_row(a, 3, kind="其他", site="", lot="x" * 41),  # 14: three problems at once
    ]
    errors = errors_of(app, vault, csv_bytes(ZH, rows))
    by_row = {}
    for row, column, message in errors:
        by_row.setdefault(row, []).append((column, message))
    assert sorted(by_row) == list(range(3, 15))
    assert by_row[3] == [("身份证号", "no one with this ID number is registered in your jurisdiction")]
    assert by_row[4] == by_row[3]
    assert by_row[5][0][0] == "身份证号" and "18 characters" in by_row[5][0][1]
    assert by_row[6][0][0] == "接种日期" and "not a date" in by_row[6][0][1]
    assert by_row[7] == [("接种日期", "2030-01-01 is in the future")]
    assert by_row[8] == [("剂次", "dose number must be from 1 to 5")]
    assert by_row[9] == [("技术路线", "needed: “某某疫苗” is not a product we know")]
    assert by_row[10] == [("技术路线", "“克威莎” is an adenovirus vector vaccine")]
    assert by_row[11] == [("剂次", "same person and dose number as row 2")]
    assert by_row[12] == [("剂次", "this person's dose with this number is already recorded")]
    assert by_row[13] == [("接种类型", "dose 2 cannot be a second booster dose")]
    assert {c for c, _ in by_row[14]} == {"接种类型", "接种单位", "批号"}
    assert dose_count(app) == 1  # only the earlier import's dose


def test_english_headers_in_an_excel_file(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    a = world.id_numbers[world.people[HOME_COUNTY][2]]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["ID number", "Vaccine", "Dose", "Type", "Date", "Vaccination site", "Batch"])
    sheet.append([a, "CoronaVac", 1, "primary", dt.datetime(2021, 6, 1, 9, 30), "Site A", "L1"])
    sheet.append([a, "CoronaVac", 2.0, "primary", "2021/6/22", "Site A", "L2"])
    sheet.append([None] * 7)  # blank rows are skipped
    sheet.append([a, "CoronaVac", "第三剂", "booster", "2021-06-23", "Site A", "L3"])
    buffer = io.BytesIO()
    book.save(buffer)
    report, _ = run_import(app, vault, buffer.getvalue(), "doses.xlsx")
    assert (report.rows, report.doses) == (3, 3)
    with app.state.db.unit_of_work() as session:
        assert session.scalars(select(Dose.given_on).order_by(Dose.dose_number)).all() == [
            dt.date(2021, 6, 1),
            dt.date(2021, 6, 22),
            dt.date(2021, 6, 23),
        ]
    # Sent again with one more row: errors name the columns as the file's header does ("Dose", "Date").
    sheet.append([a, "CoronaVac", 4, "second booster", "yesterday", "Site A", "L4"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert errors_of(app, vault, buffer.getvalue(), "doses.xlsx") == [
        (2, "Dose", "this person's dose with this number is already recorded"),
        (3, "Dose", "this person's dose with this number is already recorded"),
        (5, "Dose", "this person's dose with this number is already recorded"),
        (6, "Date", "“yesterday” is not a date (write it as 2022-07-01)"),
    ]


def test_gb18030_csv_from_chinese_excel(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    a = world.id_numbers[world.people[HOME_COUNTY][0]]
    report, _ = run_import(app, vault, csv_bytes(ZH, [zh_row(a, 1)], encoding="gb18030"))
    assert report.doses == 1


def test_header_problems_are_named_in_the_files_language(app, world: World, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    assert errors_of(
        app, vault, csv_bytes(["身份证号", "疫苗名称", "剂次", "接种日期", "接种单位", "批号"], [])
    ) == [(1, "接种类型", "column is missing from the header")]
    assert errors_of(app, vault, csv_bytes(["id_number", "product", "dose", "kind", "date", "site"], [])) == [
        (1, "lot", "column is missing from the header")
    ]
    assert errors_of(app, vault, csv_bytes(EN, [])) == [(2, "*", "the file has a header but no rows")]
    assert errors_of(app, vault, b"") == [(1, "*", "the file is empty")]
    assert errors_of(app, vault, b"x", "doses.pdf")[0][1] == "*"
