"""Reading a dose row, without a database: each cell's forms, each error's words, and a chunk shaped
column by column keeping the good rows and naming the bad ones (row and field)."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.errors import InvalidInput
from fangkong.vaccination.models import DoseKind, Platform
from fangkong.vaccination.service.doses_batch import (
    Bad,
    Memo,
    kind_error,
    parse_day,
    parse_dose_number,
    parse_kind,
    parse_platform,
    platform_of_product,
    shape_rows,
    too_young,
)
from fangkong.vaccination.service.doses_files import read_header, read_rows, template_csv

TODAY = dt.date(2022, 12, 1)


def message(value: object) -> str:
    assert isinstance(value, Bad), value
    return str(value.message)


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2022-03-01", dt.date(2022, 3, 1)),
        ("2022/3/1", dt.date(2022, 3, 1)),
        ("2022.03.01", dt.date(2022, 3, 1)),
        ("20220301", dt.date(2022, 3, 1)),
        ("2022年3月1日", dt.date(2022, 3, 1)),
        ("2022-03-01 09:30:00", dt.date(2022, 3, 1)),
        (dt.datetime(2022, 3, 1, 9, 30), dt.date(2022, 3, 1)),
        (dt.date(2022, 3, 1), dt.date(2022, 3, 1)),
    ],
)
def test_dates_in_the_forms_systems_export(cell: object, day: dt.date) -> None:
    assert parse_day(cell, TODAY) == day  # type: ignore[arg-type]


def test_bad_dates_say_why() -> None:
    assert message(parse_day("2022-02-30", TODAY)) == "“2022-02-30” is not a date (write it as 2022-07-01)"
    assert message(parse_day("2022-12-02", TODAY)) == "2022-12-02 is in the future"
    assert message(parse_day("2020-06-30", TODAY)) == "2020-06-30 is before COVID-19 vaccination began"
    assert message(parse_day("", TODAY)) == "is required"


@pytest.mark.parametrize(
    ("cell", "number"), [("1", 1), (2, 2), (3.0, 3), ("第2剂", 2), ("第三剂", 3), ("第一针", 1), (" 4 ", 4)]
)
def test_dose_numbers(cell: object, number: int) -> None:
    assert parse_dose_number(cell) == number  # type: ignore[arg-type]


def test_bad_dose_numbers() -> None:
    assert message(parse_dose_number("6")) == "dose number must be from 1 to 5"
    assert message(parse_dose_number(0)) == "dose number must be from 1 to 5"
    assert message(parse_dose_number("two")) == "“two” is not a dose number (1, 2, 3 ...)"
    assert message(parse_dose_number(None)) == "is required"


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("基础", DoseKind.primary),
        ("基础免疫", DoseKind.primary),
        ("加强", DoseKind.booster),
        ("序贯加强", DoseKind.booster),
        ("第二剂加强", DoseKind.second_booster),
        ("Second booster", DoseKind.second_booster),
        ("second_booster", DoseKind.second_booster),
        ("PRIMARY", DoseKind.primary),
    ],
)
def test_kinds(cell: str, kind: DoseKind) -> None:
    assert parse_kind(cell) is kind


def test_platforms_from_words_and_product_names() -> None:
    assert parse_platform("灭活") is Platform.inactivated
    assert parse_platform("腺病毒载体") is Platform.vector
    assert parse_platform("Recombinant protein") is Platform.protein
    assert parse_platform("mRNA") is Platform.mrna
    assert parse_platform("") is None
    assert "is not a platform" in message(parse_platform("DNA"))
    assert platform_of_product("新冠病毒灭活疫苗（Vero细胞）北京生物") is Platform.inactivated
    assert platform_of_product("克威莎") is Platform.vector
    assert platform_of_product("Convidecia Air") is Platform.vector
    assert platform_of_product("智克威得 ZF2001") is Platform.protein
    assert platform_of_product("某某疫苗") is None


def test_kind_against_dose_number() -> None:
    assert kind_error(DoseKind.primary, 3) is None  # a three-dose protein series
    assert str(kind_error(DoseKind.primary, 4)) == "a primary series has at most 3 doses"
    assert kind_error(DoseKind.booster, 2) is None  # after a one-dose vector series
    assert str(kind_error(DoseKind.booster, 1)) == "dose 1 cannot be a booster dose"
    assert str(kind_error(DoseKind.second_booster, 2)) == "dose 2 cannot be a second booster dose"


def test_age_at_the_dose() -> None:
    birth = dt.date(2019, 6, 15)
    assert too_young(birth, dt.date(2022, 6, 15)) is None  # third birthday
    assert str(too_young(birth, dt.date(2022, 6, 14))) == "the person was under 3 on that day"
    assert str(too_young(birth, dt.date(2019, 6, 1))) == "given before the person was born (2019-06-15)"


HEADER = ["身份证号", "疫苗名称", "技术路线", "剂次", "接种类型", "接种日期", "接种单位", "批号"]


def test_a_chunk_keeps_good_rows_and_names_every_problem_of_the_bad_ones() -> None:
    header = read_header(HEADER)
    table = [
        ["110101199003074514", "科兴", "", "1", "基础", "2021-05-01", "站A", "L1"],
        [" 11010119900307451x ", "克威莎", "灭活", "9", "加强", "2021-13-01", "站A", "L1"],
        ["", "智飞", "重组蛋白", "2", "基础", "2021-06-01", "", "L2"],
        ["110101199003074514", "某疫苗", "mRNA", "2", "基础", "2021-05-22", "站A", "L2"],
    ]
    shaped = shape_rows(header.positions, [2, 3, 5, 6], table, Memo(), TODAY)
    assert shaped.rows == [2, 6]
    assert shaped.platforms == [Platform.inactivated, Platform.mrna]
    assert shaped.days == [dt.date(2021, 5, 1), dt.date(2021, 5, 22)]
    problems = [(e.row, e.field, e.message) for e in shaped.errors]
    assert problems == [
        (3, "platform", "“克威莎” is an adenovirus vector vaccine"),
        (3, "dose_number", "dose number must be from 1 to 5"),
        (3, "given_on", "“2021-13-01” is not a date (write it as 2022-07-01)"),
        (5, "id_number", "is required"),
        (5, "site", "is required"),
    ]
    # Named as the file names its columns.
    assert [e.field for e in header.named(shaped.errors)] == [
        "技术路线",
        "剂次",
        "接种日期",
        "身份证号",
        "接种单位",
    ]


def test_short_rows_are_read_as_empty_cells() -> None:
    header = read_header(HEADER)
    shaped = shape_rows(header.positions, [2], [["110101199003074514", "科兴"]], Memo(), TODAY)
    assert {e.field for e in shaped.errors} == {"dose_number", "kind", "given_on", "site", "lot"}


def test_header_aliases_and_missing_columns() -> None:
    header = read_header(
        ["ID number", "Vaccine", "Dose", "Type", "Date", "Vaccination site", "Batch", "姓名"]
    )
    assert header.written["given_on"] == "Date"
    assert header.ignored == ["姓名"]
    with pytest.raises(InvalidInput) as caught:
        read_header(["身份证号", "疫苗名称", "剂次", "接种日期", "接种单位", "批号", "疫苗批号"])
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("疫苗批号", "names the same column as “批号”"),
        ("接种类型", "column is missing from the header"),
    ]


def test_csv_rows_are_numbered_as_a_spreadsheet_and_blank_rows_skipped() -> None:
    text = (
        ",".join(HEADER)
        + "\n"
        + "a,b,,1,基础,2021-01-01,s,l\n"
        + ",,,,,,,\n\n"
        + "c,d,,2,基础,2021-01-01,s,l\n"
    )
    header, chunks = read_rows(text.encode("gb18030"), "doses.csv")
    assert header.written["id_number"] == "身份证号"
    assert [(numbers, [r[0] for r in rows]) for numbers, rows in chunks] == [([2, 5], ["a", "c"])]


def test_template_is_the_header_in_the_chosen_language() -> None:
    assert template_csv("zh").decode("utf-8-sig").strip() == ",".join(HEADER)
    assert template_csv("en").decode("utf-8-sig").startswith("id_number,product,platform,dose_number")
