"""The fast .xlsx reader gives the same values as openpyxl, dates included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook, load_workbook

from fangkong.tracing.xlsx import read_rows


def _openpyxl_rows(path: Path) -> list[list[object]]:
    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    return rows


def test_values_match_openpyxl(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "接触者"
    sheet.append(["病例编号", "姓名", "年龄", "末次接触时间", "是否防护"])
    sheet.append(["XH-1", "王五", 32, dt.datetime(2022, 7, 4, 18, 30), True])
    sheet.append(["XH-1", None, 7.5, dt.date(2022, 7, 3), False])
    sheet.append([])
    sheet.append(["XH-2", "李四 ", None, "2022-07-01", None])
    sheet["G6"] = "far away"
    second = book.create_sheet("其他")
    second.append(["ignored"])
    path = tmp_path / "c.xlsx"
    book.save(path)
    ours = [list(r) for r in read_rows(path)]
    assert len(ours) == len(_openpyxl_rows(path))
    for mine, theirs in zip(ours, _openpyxl_rows(path), strict=True):
        while mine and mine[-1] is None:
            mine.pop()
        assert mine == theirs


def test_write_only_workbooks_with_inline_strings(tmp_path: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("c")
    sheet.append(["a", "b"])
    sheet.append(["1", 2])
    path = tmp_path / "w.xlsx"
    book.save(path)
    assert [list(r) for r in read_rows(path)] == [["a", "b"], ["1", 2.0]]
