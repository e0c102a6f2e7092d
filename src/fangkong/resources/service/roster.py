"""The duty roster (排班): who is on duty (值班) or on call (备班) which day, for which team, entered a week
at a time for a jurisdiction, typed in one line at a time or imported from a spreadsheet.

A person has at most one line a day. The command's "staff on duty" and the teams' "on call today" read
the roster for the local day (``core.clock``). An import is all or nothing: every row is checked, each
problem names its row and the column as the file names it, and nothing is written unless all pass.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.csvtext import decode_text, read_csv_text
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope, under
from fangkong.core.workbooks import Cell, read_first_sheet
from fangkong.resources.models import Shift, ShiftKind, Staff, Team
from fangkong.resources.service.common import actor, bad, get_staff, get_team, jurisdiction_in_scope

DAYS = 7
PAGE_SIZE = 50
MAX_ROWS = 20_000
# How far from today a roster may be written: a quarter back (corrections), a quarter ahead.
REACH_DAYS = 92


# The import's columns: canonical name, Chinese header, required.
COLUMNS = (
    ("staff_id", "人员编号", True),
    ("name", "姓名", False),
    ("day", "日期", True),
    ("kind", "班次", True),
    ("team_id", "队伍编号", False),
)
_ALIASES = {
    **{name: name for name, _, _ in COLUMNS},
    **{zh: name for name, zh, _ in COLUMNS},
    "编号": "staff_id",
    "staff": "staff_id",
    "date": "day",
    "shift": "kind",
    "team": "team_id",
}
KIND_WORDS = {
    "on_duty": ShiftKind.on_duty,
    "on duty": ShiftKind.on_duty,
    "duty": ShiftKind.on_duty,
    "值班": ShiftKind.on_duty,
    "在岗": ShiftKind.on_duty,
    "on_call": ShiftKind.on_call,
    "on call": ShiftKind.on_call,
    "备班": ShiftKind.on_call,
    "备勤": ShiftKind.on_call,
}
KIND_ZH = {ShiftKind.on_duty: "值班", ShiftKind.on_call: "备班"}


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week (rosters are drawn Monday to Sunday)."""
    return day - dt.timedelta(days=day.weekday())


def _check_day(day: dt.date, field_name: str, row: int = 1) -> RowError | None:
    today = clock.today()
    if abs((day - today).days) > REACH_DAYS:
        return RowError(row, field_name, Message("a roster day is within {n} days of today", n=REACH_DAYS))
    return None


def parse_kind(text: str) -> ShiftKind | None:
    return KIND_WORDS.get(text.strip().lower())


# ---------------------------------------------------------------------------------------------- writes


def set_shift(
    session: Session,
    principal: Principal,
    staff_id: int,
    day: dt.date,
    kind: str,
    *,
    team_id: int | None = None,
    ip: str = "",
) -> Shift | None:
    """Put a person on duty or on call for a day (replacing that day's line); ``kind`` "off" clears it."""
    person = get_staff(session, principal, staff_id)
    problem = _check_day(day, "day")
    if problem is not None:
        raise InvalidInput([problem])
    wanted = None if kind.strip() == "off" else parse_kind(kind)
    if wanted is None and kind.strip() != "off":
        raise bad("kind", Message("a shift is on duty or on call"))
    if team_id is not None:
        get_team(session, principal, team_id)
    session.execute(delete(Shift).where(Shift.staff_id == person.id, Shift.day == day))
    row = None
    if wanted is not None:
        row = Shift(
            staff_id=person.id,
            jpath=person.jpath,
            day=day,
            kind=wanted,
            team_id=team_id,
            created_by=principal.username,
            created_at=clock.utcnow(),
        )
        session.add(row)
    session.flush()
    audit.record(
        session,
        actor(principal, ip),
        "resources.roster.set",
        "staff",
        person.id,
        jpath=person.jpath,
        detail={"day": day.isoformat(), "kind": wanted.value if wanted else "off", "team_id": team_id},
    )
    return row


@dataclass(frozen=True)
class ShiftInput:
    row: int
    staff_id: int
    day: dt.date
    kind: ShiftKind
    team_id: int | None


@dataclass
class ImportReport:
    rows: int = 0
    dry_run: bool = False
    written: int = 0
    days: list[dt.date] = field(default_factory=list)


def _header(value: Cell) -> str:
    return str(value if value is not None else "").strip().lstrip("\ufeff")


def _text(value: Cell) -> str:
    """A cell as text; Excel's whole numbers lose their '.0', its dates their time."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_table(path: Path) -> list[list[Cell]]:
    """The first sheet of an .xlsx file or a CSV file (UTF-8 or GB18030) as rows of cells."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return [list(r) for r in read_csv_text(decode_text(path.read_bytes()))]
    if suffix in (".xlsx", ".xlsm"):
        # One row past the limit and the header: enough to say the file is too long.
        return read_first_sheet(path, path.name, limit=MAX_ROWS + 2)
    raise InvalidInput(
        [RowError(1, "*", Message("{name}: use a .csv or .xlsx file", name=path.name))], file=True
    )


def parse_rows(session: Session, principal: Principal, rows: list[list[Cell]]) -> list[ShiftInput]:
    """Check every row; raise InvalidInput with every problem (row numbers count the header as row 1,
    fields are the headers as the file wrote them)."""
    if not rows or not any(_header(c) for c in rows[0]):
        raise InvalidInput(
            [RowError(1, "*", "the file is empty: the first row names the columns")], file=True
        )
    headers = [_header(c) for c in rows[0]]
    where: dict[str, int] = {}
    written_as: dict[str, str] = {}
    errors: list[RowError] = []
    for i, header in enumerate(headers):
        name = _ALIASES.get(header, _ALIASES.get(header.lower(), ""))
        if name and name not in where:
            where[name], written_as[name] = i, header
    missing = [zh for name, zh, required in COLUMNS if required and name not in where]
    if missing:
        raise InvalidInput(
            [RowError(1, m, Message("the column {name} is missing", name=m)) for m in missing], file=True
        )
    body = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(_text(c) for c in r)]
    if len(body) > MAX_ROWS:
        raise InvalidInput([RowError(MAX_ROWS + 2, "*", Message("at most {n} rows", n=MAX_ROWS))], file=True)

    def cell(row: list[Cell], name: str) -> str:
        i = where.get(name)
        return _text(row[i]) if i is not None and i < len(row) else ""

    parsed: list[tuple[int, str, dt.date | None, ShiftKind | None, str]] = []
    for number, row in body:
        staff_text, day_text, kind_text, team_text = (
            cell(row, k) for k in ("staff_id", "day", "kind", "team_id")
        )
        day = None
        try:
            day = dt.date.fromisoformat(day_text.replace("/", "-"))
        except ValueError:
            errors.append(
                RowError(
                    number,
                    written_as["day"],
                    Message("“{value}” is not a date (write it as 2022-07-01)", value=day_text[:20]),
                )
            )
        if day is not None and (problem := _check_day(day, written_as["day"], number)) is not None:
            errors.append(problem)
        kind = parse_kind(kind_text)
        if kind is None:
            errors.append(
                RowError(
                    number,
                    written_as["kind"],
                    Message(
                        "“{value}” is not a shift: write on duty or on call",
                        value=kind_text[:20],
                    ),
                )
            )
        if not staff_text.isdigit():
            errors.append(
                RowError(
                    number,
                    written_as["staff_id"],
                    Message("“{value}” is not a staff number", value=staff_text[:20]),
                )
            )
        if team_text and not team_text.isdigit():
            errors.append(
                RowError(
                    number,
                    written_as["team_id"],
                    Message("“{value}” is not a team number", value=team_text[:20]),
                )
            )
        parsed.append((number, staff_text, day, kind, team_text))

    staff_ids = {int(s) for _, s, _, _, _ in parsed if s.isdigit() and len(s) < 10}
    known = {
        sid: path
        for sid, path in session.execute(select(Staff.id, Staff.jpath).where(Staff.id.in_(staff_ids)))
        if path_in_scope(path, principal.jpath)
    }
    team_ids = {int(t) for *_, t in parsed if t.isdigit() and len(t) < 10}
    teams = {
        tid
        for tid, path in session.execute(select(Team.id, Team.jpath).where(Team.id.in_(team_ids)))
        if path_in_scope(path, principal.jpath)
    }
    seen: dict[tuple[int, dt.date], int] = {}
    found: list[ShiftInput] = []
    for number, staff_text, day, kind, team_text in parsed:
        sid = int(staff_text) if staff_text.isdigit() and len(staff_text) < 10 else None
        if staff_text.isdigit() and sid not in known:
            errors.append(
                RowError(
                    number,
                    written_as["staff_id"],
                    Message("no staff member {value} in your area", value=staff_text[:20]),
                )
            )
        tid = int(team_text) if team_text.isdigit() and len(team_text) < 10 else None
        if team_text.isdigit() and tid not in teams:
            errors.append(
                RowError(
                    number,
                    written_as["team_id"],
                    Message("no team {value} in your area", value=team_text[:20]),
                )
            )
        if sid is not None and day is not None:
            first = seen.setdefault((sid, day), number)
            if first != number:
                errors.append(
                    RowError(
                        number, written_as["day"], Message("the same person and day as row {row}", row=first)
                    )
                )
        if sid in known and day is not None and kind is not None:
            found.append(ShiftInput(number, sid, day, kind, tid))
    if errors:
        raise InvalidInput(sorted(errors, key=lambda e: e.row), file=True)
    return found


def write_shifts(session: Session, principal: Principal, shifts: list[ShiftInput]) -> int:
    """Replace the lines of the staff-days given (set-based: one delete and one batched insert a chunk)."""
    paths = dict(
        session.execute(select(Staff.id, Staff.jpath).where(Staff.id.in_({s.staff_id for s in shifts}))).all()
    )
    now = clock.utcnow()
    for start in range(0, len(shifts), 500):
        part = shifts[start : start + 500]
        session.execute(
            delete(Shift).where(tuple_(Shift.staff_id, Shift.day).in_([(s.staff_id, s.day) for s in part]))
        )
        session.execute(
            insert(Shift),
            [
                {
                    "staff_id": s.staff_id,
                    "jpath": paths[s.staff_id],
                    "day": s.day,
                    "kind": s.kind.value,
                    "team_id": s.team_id,
                    "created_by": principal.username,
                    "created_at": now,
                }
                for s in part
            ],
        )
    session.flush()
    return len(shifts)


def import_roster(
    session: Session, principal: Principal, path: Path, *, dry_run: bool = False, ip: str = ""
) -> ImportReport:
    """Check every row of the file and, unless ``dry_run``, write the shifts it lists (all or nothing)."""
    shifts = parse_rows(session, principal, read_table(path))
    report = ImportReport(rows=len(shifts), dry_run=dry_run, days=sorted({s.day for s in shifts}))
    if dry_run or not shifts:
        return report
    report.written = write_shifts(session, principal, shifts)
    audit.record(
        session,
        actor(principal, ip),
        "resources.roster.import",
        "roster",
        report.days[0].isoformat(),
        jpath=principal.jpath,
        detail={"file": path.name, "shifts": report.written},
    )
    return report


# ----------------------------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class WeekRow:
    staff: Staff
    days: list[Shift | None]


@dataclass(frozen=True)
class Week:
    jurisdiction_code: str
    jurisdiction_name: str
    monday: dt.date
    rows: list[WeekRow]
    total: int
    page: int
    on_duty_by_day: list[int]
    on_call_by_day: list[int]

    @property
    def days(self) -> list[dt.date]:
        return [self.monday + dt.timedelta(days=i) for i in range(DAYS)]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def week(
    session: Session, principal: Principal, jurisdiction_code: str, monday: dt.date, page: int = 1
) -> Week:
    """The roster of a jurisdiction's staff (its subtree) for the week starting ``monday``, a page of
    people at a time, with each day's totals over all of them."""
    node = jurisdiction_in_scope(session, principal, jurisdiction_code, "jurisdiction")
    monday = week_start(monday)
    sunday = monday + dt.timedelta(days=DAYS - 1)
    total = int(session.scalar(select(func.count(Staff.id)).where(under(Staff.jpath, node.path))) or 0)
    page = max(1, min(page, max(1, -(-total // PAGE_SIZE))))
    people = list(
        session.scalars(
            select(Staff)
            .where(under(Staff.jpath, node.path))
            .order_by(Staff.jpath, Staff.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    lines: dict[tuple[int, dt.date], Shift] = {
        (s.staff_id, s.day): s
        for s in session.scalars(
            select(Shift).where(
                Shift.staff_id.in_([p.id for p in people]), Shift.day >= monday, Shift.day <= sunday
            )
        )
    }
    counts = session.execute(
        select(Shift.day, Shift.kind, func.count(Shift.id))
        .where(under(Shift.jpath, node.path), Shift.day >= monday, Shift.day <= sunday)
        .group_by(Shift.day, Shift.kind)
    ).all()
    by = {(d, ShiftKind(k)): int(n) for d, k, n in counts}
    days = [monday + dt.timedelta(days=i) for i in range(DAYS)]
    return Week(
        jurisdiction_code=node.code,
        jurisdiction_name=node.name,
        monday=monday,
        rows=[WeekRow(p, [lines.get((p.id, d)) for d in days]) for p in people],
        total=total,
        page=page,
        on_duty_by_day=[by.get((d, ShiftKind.on_duty), 0) for d in days],
        on_call_by_day=[by.get((d, ShiftKind.on_call), 0) for d in days],
    )


@dataclass(frozen=True)
class OnCallRow:
    team: Team | None
    staff: Staff
    kind: ShiftKind


def today_lines(session: Session, jpath: str, day: dt.date | None = None) -> list[OnCallRow]:
    """Who is on duty or on call today in a subtree, by team (people rostered without a team last)."""
    day = day or clock.today()
    found = session.execute(
        select(Shift, Staff, Team)
        .join(Staff, Staff.id == Shift.staff_id)
        .outerjoin(Team, Team.id == Shift.team_id)
        .where(Shift.day == day, under(Shift.jpath, jpath))
        .order_by(Team.id.is_(None), Team.id, Shift.kind.desc(), Staff.name)
    ).all()
    return [OnCallRow(team, person, shift.kind) for shift, person, team in found]


def on_call_by_team(session: Session, jpath: str, day: dt.date | None = None) -> dict[int, list[Staff]]:
    """Each team's people on call today (its contact list besides the leader)."""
    out: dict[int, list[Staff]] = {}
    for line in today_lines(session, jpath, day):
        if line.team is not None and line.kind is ShiftKind.on_call:
            out.setdefault(line.team.id, []).append(line.staff)
    return out


def week_csv(
    session: Session, principal: Principal, jurisdiction_code: str, monday: dt.date, language: str = "zh"
) -> bytes:
    """The week as the import reads it (one line per rostered day), UTF-8 with a byte-order mark so Excel
    opens the Chinese; an empty week gives the header alone, a template to fill in."""
    node = jurisdiction_in_scope(session, principal, jurisdiction_code, "jurisdiction")
    monday = week_start(monday)
    out = io.StringIO()
    writer = csv.writer(out)
    chinese = language.startswith("zh")
    writer.writerow([zh if chinese else name for name, zh, _ in COLUMNS])
    for shift, person in session.execute(
        select(Shift, Staff)
        .join(Staff, Staff.id == Shift.staff_id)
        .where(
            under(Shift.jpath, node.path),
            Shift.day >= monday,
            Shift.day <= monday + dt.timedelta(days=DAYS - 1),
        )
        .order_by(Shift.day, Staff.id)
    ):
        kind = KIND_ZH[shift.kind] if chinese else shift.kind.value
        writer.writerow([person.id, person.name, shift.day.isoformat(), kind, shift.team_id or ""])
    return out.getvalue().encode("utf-8-sig")
