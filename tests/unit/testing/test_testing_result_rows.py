"""The results file's rows as a load stages them: each checked row says what a ``ResultLine`` of the same
content says (its digest, its Ct values as stored, its smallest Ct, its instant), whatever the cells look
like (spaces, a missing trailing cell, blank rows, Ct words); a row repeating an earlier row of its tube is
marked; bad rows are named by row and column in the template's column order."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fangkong.core.errors import InvalidInput
from fangkong.testing.models import TestResult
from fangkong.testing.service.results import ResultLine, check_rows, parse_rows

HEADER = ["条码", "结果", "Ct ORF1ab", "Ct N", "检测时间", "版本"]
# 14:00 in Shanghai (the suite's zone; its clock stands at 20:19 UTC that day).
AT = dt.datetime(2026, 12, 6, 6, 0, tzinfo=dt.UTC)


def _expected(
    row: int, barcode: str, result: TestResult, cts: dict[str, float], version: int | None
) -> tuple:  # type: ignore[type-arg]
    line = ResultLine(row, barcode, result, cts, AT, version)
    stored = json.dumps(cts, ensure_ascii=False) if cts else "{}"
    return (row, barcode, result.value, stored, line.min_ct, AT, version, line.digest)


def test_checked_rows_say_what_result_lines_of_the_same_content_say() -> None:
    checked = check_rows(
        [
            ["\ufeff条码", " 结果 ", "Ct ORF1ab", "Ct N", "检测时间", "版本"],
            ["R1T00000001", "阴性", "", "", "2026-12-06 14:00", ""],
            [" R1T00000002 ", " Positive ", "31.2", "30.8", "2026/12/06 14:00:00", "1"],
            ["R1T00000003", "阳性", "未检出", " 29.999 ", "2026-12-06T06:00:00+00:00"],
            [],
            ["", " ", "", "", "", ""],
            ["R1T00000004", "无效", "ND", "-", "2026-12-06 14:00", "2"],
        ]
    )
    assert [row[:8] for row in checked.rows] == [
        _expected(2, "R1T00000001", TestResult.negative, {}, None),
        _expected(3, "R1T00000002", TestResult.positive, {"ORF1ab": 31.2, "N": 30.8}, 1),
        _expected(4, "R1T00000003", TestResult.positive, {"N": 29.999}, None),
        _expected(7, "R1T00000004", TestResult.invalid, {}, 2),
    ]
    assert [row[8] for row in checked.rows] == [0, 0, 0, 0]
    assert (checked.barcode_column(3), checked.version_column(3)) == ("条码", "版本")


def test_a_row_repeating_an_earlier_version_of_its_tube_is_marked() -> None:
    rows = check_rows(
        [
            HEADER,
            ["R1T1", "阴性", "", "", "2026-12-06 14:00", "1"],
            ["R1T2", "阴性", "", "", "2026-12-06 14:00", "1"],
            ["R1T1", "阳性", "30", "", "2026-12-06 14:00", "2"],
            ["R1T1", "阴性", "", "", "2026-12-06 14:00", "3"],
        ]
    ).rows
    assert [(row[0], row[6], row[8]) for row in rows] == [(2, 1, 0), (3, 1, 0), (4, 2, 0), (5, 3, 1)]


def test_an_excel_table_checks_like_its_csv() -> None:
    excel = parse_rows(
        [
            ["barcode", "result", "Ct ORF1ab", "Ct N", "tested_at"],
            ["P-001", "negative", None, None, dt.datetime(2026, 12, 6, 14, 0)],
            ["S-001", "positive", 31.5, 30.0, dt.datetime(2026, 12, 6, 14, 0)],
        ]
    )
    assert [(line.barcode, dict(line.ct_values), line.tested_at, line.min_ct) for line in excel] == [
        ("P-001", {}, AT, None),
        ("S-001", {"ORF1ab": 31.5, "N": 30.0}, AT, 30.0),
    ]


def test_bad_rows_are_named_by_row_and_column_in_the_templates_order() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_rows(
            [
                HEADER,
                ["R1T1", "阴性", "", "", "2026-12-06 14:00", ""],
                ["", "maybe", "abc", "60", "2030-01-01 00:00", "x"],
                ["R1T1", "阴性", "", "", "2026-12-06", ""],
                ["R1T2", "阴性", "", "", "", "1"],
                ["R1T2"],
            ]
        )
    assert [(e.row, e.field) for e in refused.value.errors] == [
        (3, "条码"),
        (3, "结果"),
        (3, "Ct ORF1ab"),
        (3, "Ct N"),
        (3, "检测时间"),
        (3, "版本"),
        (4, "检测时间"),
        (4, "条码"),
        (5, "检测时间"),
        (6, "结果"),
        (6, "检测时间"),
        (6, "条码"),
    ]
    assert "row 2" in refused.value.errors[7].message
    assert "row 5" in refused.value.errors[-1].message
