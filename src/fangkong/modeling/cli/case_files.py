"""Reading the files ``rt`` is given: a daily case file (local and imported cases, or all cases, one row
per consecutive day) and a serial-interval distribution, every cell checked and a bad one named by
file, line and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

from fangkong.modeling.cli.common import InputFileError

# Accepted header names (compared case-insensitively) for each role in a case file; the I_* spellings
# are those of EpiEstim's own exports.
_DATE_NAMES = frozenset({"date", "dates"})
_LOCAL_NAMES = frozenset({"local", "i_local"})
_IMPORTED_NAMES = frozenset({"imported", "i_imported"})
_TOTAL_NAMES = frozenset({"i"})


@dataclass(frozen=True)
class Cases:
    """Daily cases read from a file: one entry per day, oldest first."""

    dates: list[str]
    local: list[float]
    imported: list[float]


def read_cases(path: Path) -> Cases:
    """Read a daily case file, checking every cell; raises :class:`InputFileError` naming the cell."""
    header, body = _read_csv(path)
    roles = _column_roles(path, header)
    if "date" not in roles:
        raise InputFileError(f"{path}: missing column 'date'")
    if "local" not in roles and "total" not in roles:
        raise InputFileError(f"{path}: missing column 'local' (or 'I' for all cases)")
    if "imported" in roles and "local" not in roles:
        raise InputFileError(f"{path}: column 'imported' needs a column 'local' beside it")

    dates: list[str] = []
    local: list[float] = []
    imported: list[float] = []
    for line, row in body:
        if len(row) != len(header):
            raise InputFileError(f"{path}, line {line}: {len(row)} fields, the header has {len(header)}")

        counts = {role: _count(path, line, header[i], row[i]) for role, i in roles.items() if role != "date"}
        dates.append(row[roles["date"]].strip())
        if "local" in roles:
            local.append(counts["local"])
            imported.append(counts.get("imported", 0.0))
            if "total" in roles and counts["total"] != local[-1] + imported[-1]:
                raise InputFileError(
                    f"{path}, line {line}, column '{header[roles['total']]}': "
                    f"{row[roles['total']].strip()} is not local + imported "
                    f"({local[-1]:g} + {imported[-1]:g})"
                )
        else:
            local.append(counts["total"])
            imported.append(0.0)
    if not dates:
        raise InputFileError(f"{path}: no rows of cases")
    _check_consecutive_days(path, header[roles["date"]], [line for line, _ in body], dates)
    return Cases(dates=dates, local=local, imported=imported)


def read_si_distr(path: Path) -> list[float]:
    """Read serial-interval probabilities for 0, 1, 2... days.

    One column, optionally under a header line. EpiEstim's export (columns ``t, si_distr``) is read
    as well, with ``t`` required to run 0, 1, 2...
    """
    lines = _read_rows(path)
    if not lines:
        raise InputFileError(f"{path}: empty file")
    first_line, first_row = lines[0]
    has_header = any(not _is_number(cell) for cell in first_row)
    width = len(first_row)
    day_column = has_header and width == 2 and first_row[0].strip().lower() == "t"
    if width != 1 and not day_column:
        raise InputFileError(
            f"{path}, line {first_line}: expected one column of probabilities, found {width}"
        )
    name = first_row[-1].strip() if has_header else "probability"
    probabilities: list[float] = []
    for line, row in lines[1:] if has_header else lines:
        if len(row) != width:
            raise InputFileError(f"{path}, line {line}: {len(row)} fields, expected {width}")
        if day_column and _number(path, line, first_row[0].strip(), row[0]) != len(probabilities):
            raise InputFileError(
                f"{path}, line {line}, column '{first_row[0].strip()}': expected day {len(probabilities)}"
            )
        value = _number(path, line, name, row[-1])
        if value < 0:
            raise InputFileError(f"{path}, line {line}, column '{name}': probability {value:g} is negative")
        probabilities.append(value)
    if not probabilities:
        raise InputFileError(f"{path}: no probabilities")
    data_lines = [line for line, _ in (lines[1:] if has_header else lines)]
    if probabilities[0] != 0:
        raise InputFileError(
            f"{path}, line {data_lines[0]}, column '{name}': the probability of a 0-day serial interval "
            f"must be 0, got {probabilities[0]:g}"
        )
    total = math.fsum(probabilities)
    # EpiEstim's tolerance (check_si_distr), also analytics.rt.SI_DISTR_SUM_TOLERANCE.
    if abs(total - 1.0) > 0.01:
        raise InputFileError(f"{path}, column '{name}': probabilities sum to {total:.6g}, not 1")
    return probabilities


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank CSV rows with their 1-based line numbers."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    reader = csv.reader(text.splitlines())
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise InputFileError(f"{path}, line {reader.line_num}: {exc}") from None
    return rows


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    rows = _read_rows(path)
    if not rows:
        raise InputFileError(f"{path}: empty file")
    return [name.strip() for name in rows[0][1]], rows[1:]


def _column_roles(path: Path, header: list[str]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.lower()
        for role, names in (
            ("date", _DATE_NAMES),
            ("local", _LOCAL_NAMES),
            ("imported", _IMPORTED_NAMES),
            ("total", _TOTAL_NAMES),
        ):
            if key in names:
                if role in roles:
                    raise InputFileError(
                        f"{path}: columns '{header[roles[role]]}' and '{name}' both give the {role} cases"
                        if role != "date"
                        else f"{path}: columns '{header[roles[role]]}' and '{name}' both give the date"
                    )
                roles[role] = index
    return roles


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(path: Path, line: int, column: str, text: str) -> float:
    stripped = text.strip()
    if not stripped:
        raise InputFileError(f"{path}, line {line}, column '{column}': empty")
    try:
        value = float(stripped)
    except ValueError:
        raise InputFileError(
            f"{path}, line {line}, column '{column}': '{stripped}' is not a number"
        ) from None
    if not math.isfinite(value):
        raise InputFileError(f"{path}, line {line}, column '{column}': '{stripped}' is not a finite number")
    return value


def _count(path: Path, line: int, column: str, text: str) -> float:
    value = _number(path, line, column, text)
    if value < 0:
        raise InputFileError(f"{path}, line {line}, column '{column}': negative count {text.strip()}")
    if value != int(value):
        raise InputFileError(f"{path}, line {line}, column '{column}': {text.strip()} is not a whole count")
    return value


def _check_consecutive_days(path: Path, column: str, lines: list[int], labels: list[str]) -> None:
    """Dates are ISO calendar dates or day numbers, one row per day with no gap or repeat."""
    first = _day_number(labels[0])
    if first is None:
        raise InputFileError(
            f"{path}, line {lines[0]}, column '{column}': '{labels[0]}' is neither a date (YYYY-MM-DD) "
            "nor a day number"
        )
    kind = _day_kind(labels[0])
    previous = first
    for line, label in zip(lines[1:], labels[1:], strict=True):
        day = _day_number(label) if _day_kind(label) == kind else None
        if day is None:
            expected = "a date (YYYY-MM-DD)" if kind == "date" else "a day number"
            raise InputFileError(f"{path}, line {line}, column '{column}': '{label}' is not {expected}")
        if day != previous + 1:
            raise InputFileError(
                f"{path}, line {line}, column '{column}': {label} does not follow the previous row's day "
                "(one row per consecutive day, oldest first)"
            )
        previous = day


def _day_kind(label: str) -> str:
    return "number" if label.lstrip("+-").isdigit() else "date"


def _day_number(label: str) -> int | None:
    if _day_kind(label) == "number":
        return int(label)
    try:
        return dt.date.fromisoformat(label).toordinal()
    except ValueError:
        return None
