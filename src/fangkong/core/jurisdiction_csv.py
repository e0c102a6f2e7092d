"""Reading jurisdiction rows (code, name, level, parent_code) from CSV text, with row-numbered errors."""

from __future__ import annotations

from fangkong.core.csvtext import read_csv_text
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.jurisdictions import JurisdictionRow

COLUMNS = ("code", "name", "level", "parent_code")
_ALIASES = {"编码": "code", "名称": "name", "级别": "level", "上级编码": "parent_code"}


def parse_jurisdiction_csv(content: str) -> list[JurisdictionRow]:
    table = read_csv_text(content)
    if not table:
        raise InvalidInput([RowError(1, "*", "the file is empty")])
    header = [_ALIASES.get(h.strip(), h.strip().lower()) for h in table[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidInput([RowError(1, c, "column is missing from the header") for c in missing])
    index = {c: header.index(c) for c in COLUMNS}
    rows: list[JurisdictionRow] = []
    errors: list[RowError] = []
    for number, values in enumerate(table[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            errors.append(
                RowError(
                    number,
                    "*",
                    Message("has {got} columns, the header has {width}", got=len(values), width=len(header)),
                )
            )
            continue
        rows.append(JurisdictionRow(*(values[index[c]].strip() for c in COLUMNS)))
    if errors:
        raise InvalidInput(errors)
    return rows
