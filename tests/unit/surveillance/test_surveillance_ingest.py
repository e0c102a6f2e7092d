"""Reading and checking observations: every bad row and field named, weekly periods, uploads."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from fangkong.core.errors import InvalidInput
from fangkong.core.models import Level
from fangkong.surveillance.ingest import (
    ChannelInfo,
    PlaceInfo,
    RawRecord,
    read_upload,
    records_from_rows,
    validate,
)
from fangkong.surveillance.models import Frequency

CHANNELS = {
    "case_reports": ChannelInfo(1, "case_reports", Frequency.daily, Level.county),
    "wastewater": ChannelInfo(2, "wastewater", Frequency.weekly, Level.county),
}
PLACES = {
    "330106": PlaceInfo(10, "330106", "/330000/330100/330106/", Level.county),
    "330106001": PlaceInfo(11, "330106001", "/330000/330100/330106/330106001/", Level.township),
    "330203": PlaceInfo(20, "330203", "/330000/330200/330203/", Level.county),
}
SCOPE = "/330000/330100/330106/"
TODAY = dt.date(2024, 3, 20)


def check(records: list[RawRecord]):  # type: ignore[no-untyped-def]
    return validate(records, CHANNELS, PLACES, SCOPE, TODAY)


def errors_of(records: list[RawRecord]) -> list[tuple[int, str]]:
    with pytest.raises(InvalidInput) as caught:
        check(records)
    return [(e.row, e.field) for e in caught.value.errors]


def test_good_records_are_kept_with_their_place_and_period() -> None:
    clean = check(
        [
            RawRecord(2, "case_reports", "330106", "2024-03-19", "4"),
            RawRecord(3, "wastewater", "330106", "2024/03/14", 2.5e5),
        ]
    )
    assert [(c.channel_id, c.jurisdiction_id, c.period_start, c.value) for c in clean] == [
        (1, 10, dt.date(2024, 3, 19), 4.0),
        (2, 10, dt.date(2024, 3, 11), 2.5e5),  # the Thursday's value is filed under its Monday
    ]


def test_every_problem_names_its_row_and_field() -> None:
    found = errors_of(
        [
            RawRecord(2, "", "330106", "2024-03-19", 1),
            RawRecord(3, "case_reports", "", "2024-03-19", 1),
            RawRecord(4, "case_reports", "330203", "2024-03-19", 1),  # outside the caller's scope
            RawRecord(5, "case_reports", "330106001", "2024-03-19", 1),  # wrong level for the channel
            RawRecord(6, "case_reports", "330106", "19.03.2024", 1),
            RawRecord(7, "case_reports", "330106", "2024-03-21", 1),  # future
            RawRecord(8, "case_reports", "330106", "2024-03-18", "many"),
            RawRecord(9, "case_reports", "330106", "2024-03-18", -1),
            RawRecord(10, "case_reports", "330106", "2024-03-18", float("inf")),
            RawRecord(11, "case_reports", "330106", "2024-03-18", None),
        ]
    )
    assert found == [
        (2, "channel"),
        (3, "jurisdiction"),
        (4, "jurisdiction"),
        (5, "jurisdiction"),
        (6, "date"),
        (7, "date"),
        (8, "value"),
        (9, "value"),
        (10, "value"),
        (11, "value"),
    ]


def test_two_values_for_the_same_period_are_refused_naming_both_rows() -> None:
    with pytest.raises(InvalidInput) as caught:
        check(
            [
                RawRecord(2, "wastewater", "330106", "2024-03-11", 1),
                RawRecord(3, "wastewater", "330106", "2024-03-13", 2),
            ]
        )
    error = caught.value.errors[0]
    assert (error.row, error.field) == (3, "date")
    assert "row 2" in error.message


def test_an_empty_batch_is_refused() -> None:
    assert errors_of([]) == [(1, "*")]


def test_headers_in_chinese_are_understood_and_rows_numbered_as_in_the_sheet() -> None:
    records = records_from_rows(
        ["渠道", "地区编码", "日期", "数值", "备注"],
        [
            ["case_reports", "330106", "2024-03-19", "3", "x"],
            [],
            ["case_reports", "330106", "2024-03-18", "2", ""],
        ],
    )
    assert [(r.row, r.channel, r.value) for r in records] == [
        (2, "case_reports", "3"),
        (4, "case_reports", "2"),
    ]


def test_a_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        records_from_rows(["channel", "date", "value"], [])
    assert [(e.row, e.field) for e in caught.value.errors] == [(1, "jurisdiction")]


def test_csv_and_excel_files_are_read() -> None:
    from openpyxl import Workbook

    csv_records = read_upload(
        "data.csv", "\ufeffchannel,jurisdiction,date,value\ncase_reports,330106,2024-03-19,3\n".encode()
    )
    assert [(r.row, r.jurisdiction, r.value) for r in csv_records] == [(2, "330106", "3")]
    book = Workbook()
    book.active.append(["channel", "jurisdiction", "date", "value"])
    book.active.append(["case_reports", 330106, dt.datetime(2024, 3, 19), 3])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx_records = read_upload("data.xlsx", buffer.getvalue())
    assert check(xlsx_records)[0].period_start == dt.date(2024, 3, 19)


def test_unreadable_files_are_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="UTF-8"):
        read_upload("data.csv", "channel\n".encode("utf-16"))
    with pytest.raises(InvalidInput, match="Excel"):
        read_upload("data.xlsx", b"not a zip file")
