"""Import templates and readers: the columns of each kind of file, in Chinese and English, CSV and Excel.

A file's header may use either language (or the canonical English names); row numbers count the header
as row 1, as a spreadsheet shows them. Excel files are read with openpyxl in read-only mode, so a
100,000-row sheet streams rather than loading whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from fangkong.core.csvtext import decode_text
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.workbooks import open_first_sheet
from fangkong.tracing.rules import SETTINGS

Kind = Literal["cases", "exposures", "contacts"]
KINDS: tuple[Kind, ...] = ("cases", "exposures", "contacts")
Language = Literal["zh", "en"]


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    required: bool
    help_en: str
    help_zh: str
    example: str


_PERSON = (
    Column("name", "姓名", False, "Name", "姓名", "王五"),
    Column(
        "id_number",
        "身份证号",
        False,
        "Resident ID number (18 characters, as text)",
        "18位身份证号（文本格式）",
        "330106199001011234",
    ),
    Column("phone", "手机号", False, "Mobile number", "手机号码", "13800138000"),
    Column(
        "sex",
        "性别",
        False,
        "M/F (男/女); taken from the ID number when given",
        "男/女；有身份证号时以其为准",
        "男",
    ),
    Column("age", "年龄", False, "Age in years", "周岁", "32"),
    Column(
        "community_code",
        "社区编码",
        False,
        "12-digit code of the community where they live, if in your jurisdiction",
        "现住社区12位编码（本辖区内）",
        "330106001001",
    ),
    Column("address", "住址", False, "Home address", "现住址", "保俶路1号"),
    Column(
        "residence_code",
        "现住地区划代码",
        False,
        "Code of the county or community where they live, if elsewhere (an assist request goes there)",
        "外地居住者的区县或社区代码（用于发协查）",
        "330203",
    ),
)

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "cases": (
        Column(
            "case_ref",
            "病例编号",
            True,
            "Your case number; other files refer to it",
            "病例编号，其他表以此关联",
            "XH-2022-001",
        ),
        Column(
            "classification",
            "病例分类",
            True,
            "suspected / confirmed / asymptomatic",
            "疑似/确诊/无症状",
            "确诊",
        ),
        *_PERSON,
        Column("onset_date", "发病日期", False, "Date of symptom onset", "症状出现日期", "2022-07-01"),
        Column(
            "sampling_date",
            "采样日期",
            False,
            "Date of the positive sample",
            "阳性样本采样日期",
            "2022-07-02",
        ),
        Column("diagnosis_date", "确诊日期", False, "Date of diagnosis", "诊断日期", "2022-07-03"),
        Column(
            "report_time", "报告时间", False, "When the case was reported", "报告时间", "2022-07-03 10:30"
        ),
        Column(
            "imported",
            "是否输入",
            False,
            "yes for an imported case, no for local",
            "输入病例填是，本土填否",
            "否",
        ),
        Column("origin", "输入来源", False, "Where an imported case came from", "输入来源地", ""),
        Column(
            "isolated_at", "隔离时间", False, "When the case was isolated", "隔离管控时间", "2022-07-03 09:00"
        ),
        Column("outcome", "转归", False, "under_treatment / recovered / died", "治疗中/治愈/死亡", "治疗中"),
        Column("outcome_date", "转归日期", False, "Date of the outcome", "转归日期", ""),
        Column(
            "infected_by",
            "传染来源病例",
            False,
            "Case numbers of the infector(s), separated by ;",
            "传染来源病例编号，多个用;分隔",
            "XH-2022-000",
        ),
        Column(
            "link_certainty",
            "关联确定性",
            False,
            "confirmed / probable / possible (default probable)",
            "确定/很可能/可能（默认很可能）",
            "很可能",
        ),
        Column("notes", "备注", False, "Notes", "备注", ""),
    ),
    "exposures": (
        Column("case_ref", "病例编号", True, "The index case's number", "指示病例编号", "XH-2022-001"),
        Column(
            "contact_case_ref",
            "接触者病例编号",
            False,
            "If the exposed person is a case: their case number (instead of the person's details)",
            "被暴露者若已是病例，填其病例编号",
            "",
        ),
        *_PERSON,
        Column(
            "via",
            "经由密接",
            False,
            "Second ring: ID or mobile number of the close contact they were exposed to",
            "密接的密接：所接触密接的身份证号或手机号",
            "",
        ),
        Column(
            "setting",
            "接触场景",
            True,
            "household, office, shared_meal, bus, ... (or 同住, 同事, 聚餐, 公交...)",
            "同住/同事/聚餐/公交等",
            "同住",
        ),
        Column(
            "start",
            "开始时间",
            True,
            "Start of the exposure (a date means the whole day)",
            "接触开始时间",
            "2022-06-30 18:00",
        ),
        Column("end", "结束时间", False, "End of the exposure", "接触结束时间", "2022-06-30 21:00"),
        Column("protected", "是否防护", False, "yes if effectively protected", "有有效防护填是", "否"),
        Column("distance_m", "距离米", False, "Distance in metres (vehicles)", "距离（米，交通工具）", ""),
        Column("duration_minutes", "时长分钟", False, "Duration in minutes", "时长（分钟）", ""),
        Column("place", "地点", False, "Where", "地点", "某餐厅"),
        Column(
            "infected",
            "传播确定性",
            False,
            "With contact_case_ref: the index case infected them (confirmed/probable/possible)",
            "与接触者病例编号同用：指示病例传染了该病例（确定/很可能/可能）",
            "",
        ),
        Column("note", "备注", False, "Notes", "备注", ""),
    ),
    "contacts": (
        Column("case_ref", "病例编号", True, "The index case's number", "指示病例编号", "XH-2022-001"),
        *_PERSON,
        Column(
            "category",
            "接触者类别",
            False,
            "close_contact / contact_of_contact / general_contact; blank: the protocol's classifier decides",
            "密接/密接的密接/一般接触者；空则按方案判定",
            "",
        ),
        Column("setting", "接触场景", False, "Needed when category is blank", "类别为空时必填", "同事"),
        Column("first_exposure", "首次接触时间", False, "First exposure", "首次接触时间", ""),
        Column(
            "last_exposure",
            "末次接触时间",
            True,
            "Last exposure (the plan counts from it)",
            "末次接触时间",
            "2022-06-30",
        ),
        Column("protected", "是否防护", False, "yes if effectively protected", "有有效防护填是", "否"),
        Column(
            "via",
            "经由密接",
            False,
            "Second ring: ID or mobile number of their close contact",
            "密接的密接：所接触密接的身份证号或手机号",
            "",
        ),
        Column("note", "备注", False, "Notes", "备注", ""),
    ),
}

_EXTRA_ALIASES = {
    "身份证号码": "id_number",
    "手机号码": "phone",
    "联系电话": "phone",
    "现住址": "address",
    "case number": "case_ref",
    "case id": "case_ref",
}
# Per kind, because one Chinese word may name different columns in different templates (备注: notes/note).
ALIASES: dict[Kind, dict[str, str]] = {
    kind: {**{c.name: c.name for c in columns}, **{c.zh: c.name for c in columns}, **_EXTRA_ALIASES}
    for kind, columns in COLUMNS.items()
}


def _as_written(header: object) -> str:
    """A header cell as the file wrote it (without spaces around it or a byte-order mark)."""
    return str(header or "").strip().lstrip("\ufeff")


def canonical(header: str, kind: Kind) -> str:
    cleaned = _as_written(header)
    aliases = ALIASES[kind]
    return aliases.get(cleaned, aliases.get(cleaned.lower(), cleaned.lower()))


Cell = str | int | float | dt.datetime | dt.date | None


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[Cell]]]
    # Each canonical column name as the file's header wrote it (发病日期, onset_date...): errors name
    # a column the way the user's file does.
    written: dict[str, str] = field(default_factory=dict)

    def column_names(self, errors: list[RowError]) -> list[RowError]:
        """``errors`` with each column named as this file names it."""
        return [e.renamed(self.written[e.field]) if e.field in self.written else e for e in errors]


def read_table(path: Path, kind: Kind) -> Table:
    """Open a CSV or Excel file and check its header against the kind's columns."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        written_header, rows = _read_xlsx(path, kind)
    elif suffix in (".csv", ".txt", ""):
        written_header, rows = _read_csv(path, kind)
    else:
        raise InvalidInput(
            [RowError(1, "*", Message("{name}: use a .csv or .xlsx file", name=path.name))], file=True
        )
    header = [canonical(h, kind) for h in written_header]
    written = {name: shown for name, shown in zip(header, written_header, strict=True) if name}
    known = {c.name for c in COLUMNS[kind]}
    # A missing column is named in the language the file's header is written in.
    chinese = any(not h.isascii() for h in written_header)
    missing = [(c.zh if chinese else c.name) for c in COLUMNS[kind] if c.required and c.name not in header]
    errors = [RowError(1, name, "column is missing from the header") for name in missing]
    unknown = [written[h] for h in header if h and h not in known]
    errors.extend(
        RowError(1, h, Message("is not a column of the {kind} template", kind=Message(f"{kind} template")))
        for h in unknown
    )
    if errors:
        raise InvalidInput(errors, file=True)
    return Table(header, rows, written)


def _read_csv(path: Path, kind: Kind) -> tuple[list[str], Iterator[tuple[int, list[Cell]]]]:
    text = decode_text(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [_as_written(h) for h in next(reader)]
    except StopIteration:
        raise InvalidInput([RowError(1, "*", "the file is empty")], file=True) from None
    except csv.Error as exc:
        raise InvalidInput(
            [RowError(1, "*", Message("not readable as CSV: {reason}", reason=str(exc)))], file=True
        ) from None

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        number = 1
        try:
            for number, values in enumerate(reader, start=2):
                if any(v.strip() for v in values):
                    yield number, list(values)
        except csv.Error as exc:
            raise InvalidInput(
                [RowError(number + 1, "*", Message("not readable as CSV: {reason}", reason=str(exc)))],
                file=True,
            ) from None

    return header, rows()


def _read_xlsx(path: Path, kind: Kind) -> tuple[list[str], Iterator[tuple[int, list[Cell]]]]:
    from fangkong.tracing import xlsx

    try:
        values = xlsx.read_rows(path)
        first = next(values, None)
    except (xlsx.UnreadableWorkbook, KeyError, ValueError, SyntaxError):
        return _read_xlsx_openpyxl(path, kind)
    if first is None:
        raise InvalidInput([RowError(1, "*", "the sheet is empty")], file=True)
    header = [_as_written(cell_text(h)) for h in first]
    while header and not header[-1]:
        header.pop()

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        for number, row in enumerate(values, start=2):
            if any(v is not None and str(v).strip() for v in row):
                yield number, list(row[: len(header)])

    return header, rows()


def _read_xlsx_openpyxl(path: Path, kind: Kind) -> tuple[list[str], Iterator[tuple[int, list[Cell]]]]:
    """openpyxl's reader: for workbooks the fast reader does not follow."""
    sheet = open_first_sheet(path, path.name)
    values = sheet.rows
    try:
        header = [_as_written(h) for h in next(values)]
    except StopIteration:
        sheet.close()
        raise InvalidInput([RowError(1, "*", "the sheet is empty")], file=True) from None
    while header and not header[-1]:
        header.pop()

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        try:
            for number, row in enumerate(values, start=2):
                if any(v is not None and str(v).strip() for v in row):
                    yield number, list(row[: len(header)])
        finally:
            sheet.close()

    return header, rows()


def template(kind: Kind, fmt: Literal["csv", "xlsx"], language: Language) -> tuple[bytes, str, str]:
    """A blank template: (content, media type, file name)."""
    columns = COLUMNS[kind]
    labels = [c.zh if language == "zh" else c.name for c in columns]
    name = f"{kind}_template_{language}.{fmt}"
    if fmt == "csv":
        text_buffer = io.StringIO()
        csv.writer(text_buffer).writerow(labels)
        return text_buffer.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", name
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = (
        {"cases": "病例", "exposures": "暴露", "contacts": "接触者"}[kind] if language == "zh" else kind
    )
    sheet.append(labels)
    for i, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font = Font(bold=True, color="B42318" if column.required else "000000")
        sheet.column_dimensions[get_column_letter(i)].width = max(12, len(labels[i - 1]) * 2 + 2)
        # ID and phone numbers must stay text: as numbers Excel rounds an 18-digit ID.
        if column.name in ("id_number", "phone", "community_code", "residence_code", "case_ref"):
            for row in range(2, 2002):
                sheet.cell(row=row, column=i).number_format = "@"
    notes = book.create_sheet("说明" if language == "zh" else "notes")
    notes.append(
        ["列名", "必填", "说明", "示例"] if language == "zh" else ["column", "required", "meaning", "example"]
    )
    for column in columns:
        notes.append(
            [
                labels[columns.index(column)],
                ("是" if language == "zh" else "yes") if column.required else "",
                column.help_zh if language == "zh" else column.help_en,
                column.example,
            ]
        )
    if kind != "cases":
        notes.append([])
        notes.append(["接触场景可选值" if language == "zh" else "settings", "", ", ".join(SETTINGS), ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name


def cell_text(value: Cell) -> str:
    """A cell as text; whole numbers lose Excel's '.0' (ID and phone numbers typed into number cells)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()
