"""Import templates in both languages and formats read back as their own columns."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fangkong.core.errors import InvalidInput
from fangkong.tracing import spreadsheets


def test_templates_in_both_languages_read_back_as_their_columns(tmp_path: Path) -> None:
    for kind in spreadsheets.KINDS:
        for language in ("zh", "en"):
            for fmt in ("csv", "xlsx"):
                content, _media, name = spreadsheets.template(kind, fmt, language)  # type: ignore[arg-type]
                path = tmp_path / name
                path.write_bytes(content)
                table = spreadsheets.read_table(path, kind)
                assert table.header == [c.name for c in spreadsheets.COLUMNS[kind]]
                assert list(table.rows) == []
    notes = load_workbook(io.BytesIO(spreadsheets.template("exposures", "xlsx", "zh")[0])).worksheets[1]
    assert any(row[0] == "接触场景" for row in notes.iter_rows(values_only=True))


def test_a_header_missing_a_required_column_or_with_an_unknown_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("病例编号,姓名,血型\nXH-1,甲,A\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        spreadsheets.read_table(path, "contacts")
    # A header written in Chinese hears of its missing column in Chinese, as the template names it.
    assert [(e.row, e.field) for e in caught.value.errors] == [(1, "末次接触时间"), (1, "血型")]


def test_gb18030_csv_from_a_chinese_excel_is_read(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("病例编号,末次接触时间,接触场景\nXH-1,2022-07-04,同住\n".encode("gb18030"))
    table = spreadsheets.read_table(path, "contacts")
    assert table.header == ["case_ref", "last_exposure", "setting"]
    assert list(table.rows) == [(2, ["XH-1", "2022-07-04", "同住"])]
