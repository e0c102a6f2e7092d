"""Import cases, exposures and contact lists from CSV or Excel: every row checked, all or nothing, set-based.

The pipeline: read and validate every row (every problem is collected, each naming its row and field);
if any, raise before writing. Then find the people (registry by keyed ID hash in bulk, new residents
registered through ``core.people_import``, everyone else as unidentified people), write the rows with
the backend's fast path (``COPY`` on PostgreSQL, one executemany on SQLite), classify every exposed
person with the protocol's classifier in one pass per index case, keep the cluster labels, publish the
management events, and audit the import once. It runs in the caller's transaction, so a failure anywhere
leaves nothing behind. A dry run does all of it inside a savepoint that is rolled back, so it reports
exactly what a real import would do.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from fangkong.core import audit, people
from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.clock import as_local, from_local, utcnow
from fangkong.core.crypto import Vault
from fangkong.core.db import Base
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.events import EventBus, PeoplePlacedUnderManagement, PersonPlacedUnderManagement
from fangkong.core.i18n import Message, stored
from fangkong.core.people_import import import_people_csv
from fangkong.core.people_rules import Keys
from fangkong.core.scope import path_in_scope, under
from fangkong.tracing import persons, service
from fangkong.tracing.classification import Decision, ExposureFact, Via, decide
from fangkong.tracing.clusters import recompute_clusters
from fangkong.tracing.models import (
    Case,
    CaseHistory,
    Certainty,
    ChainLink,
    Classification,
    Contact,
    ContactCategory,
    ContactStatus,
    Exposure,
    Outcome,
    UnidentifiedPerson,
)
from fangkong.tracing.protocols import protocol_for
from fangkong.tracing.rules import (
    MANAGED_CATEGORIES,
    RuleError,
    WallTime,
    date_problem,
    day_end,
    parse_category,
    parse_certainty,
    parse_classification,
    parse_date,
    parse_outcome,
    parse_setting,
    parse_wall_time,
    parse_yes_no,
    time_problem,
)
from fangkong.tracing.spreadsheets import Cell, Kind, cell_text, read_table

MAX_ERRORS = 1_000
_T = TypeVar("_T")
_REF_SPLIT = re.compile(r"[;；,，、\s]+")

# Column order of the rows the importer writes (and bench/tracing.py copies in) set-based.
CASE_COLUMNS = (
    "id",
    "case_ref",
    "person_id",
    "unidentified_id",
    "subject_key",
    "jurisdiction_id",
    "jpath",
    "classification",
    "onset_date",
    "sampling_date",
    "diagnosis_date",
    "reported_at",
    "imported",
    "origin",
    "isolated_at",
    "outcome",
    "outcome_date",
    "source_contact_id",
    "found_under_management",
    "cluster_id",
    "notes",
    "created_by",
    "created_at",
)
CHAIN_LINK_COLUMNS = (
    "id",
    "infector_case_id",
    "infectee_case_id",
    "certainty",
    "exposure_id",
    "jpath",
    "cluster_id",
    "note",
    "created_by",
    "created_at",
)
EXPOSURE_COLUMNS = (
    "id",
    "case_id",
    "jpath",
    "person_id",
    "unidentified_id",
    "subject_key",
    "exposed_case_id",
    "via_contact_id",
    "setting",
    "place",
    "visit_id",
    "start",
    "end",
    "protected",
    "distance_m",
    "duration_minutes",
    "note",
    "created_by",
    "created_at",
)
CONTACT_COLUMNS = (
    "id",
    "case_id",
    "person_id",
    "unidentified_id",
    "subject_key",
    "jurisdiction_id",
    "jpath",
    "category",
    "decided_by",
    "reason",
    "via_contact_id",
    "setting",
    "first_exposure",
    "last_exposure",
    "high_risk",
    "isolated_at",
    "status",
    "converted_case_id",
    "residence_jurisdiction_id",
    "protocol_id",
    "created_at",
    "updated_at",
)


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    dry_run: bool = False
    cases: int = 0
    exposures: int = 0
    links: int = 0
    contacts: dict[str, int] = field(default_factory=dict)
    people_matched: int = 0
    people_registered: int = 0
    unidentified: int = 0
    seconds: float = 0.0


class _Errors:
    def __init__(self) -> None:
        self.items: list[RowError] = []
        # One clock for the whole file: "in the future" means the same for every row.
        self.now = as_local(utcnow())
        # Each column as the file's header names it (发病日期 or onset_date), once the header is read.
        self.written: dict[str, str] = {}

    def add(self, row: int, column: str, message: str | Message) -> None:
        self.items.append(RowError(row, column, message))

    def check(self) -> None:
        if self.items:
            self.items.sort(key=lambda e: (e.row, e.field))
            named = [e.renamed(self.written[e.field]) if e.field in self.written else e for e in self.items]
            raise InvalidInput(named[:MAX_ERRORS], file=True)

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_ERRORS


# ------------------------------------------------------------------------------------------ cells


class _Row:
    """One data row's cells by canonical column name, with typed getters that record errors."""

    def __init__(self, number: int, header: list[str], values: list[Cell], errors: _Errors) -> None:
        self.number = number
        self.cells = dict(zip(header, values, strict=False))
        self.errors = errors

    def raw(self, name: str) -> Cell:
        return self.cells.get(name)

    def text(self, name: str, limit: int = 200) -> str:
        value = cell_text(self.cells.get(name))
        if len(value) > limit:
            self.errors.add(self.number, name, Message("longer than {limit} characters", limit=limit))
            return value[:limit]
        return value

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            self.errors.add(self.number, name, "is required")
        return value

    def parsed(self, name: str, parse: Callable[[str], _T]) -> _T | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return parse(value)
        except RuleError as exc:
            self.errors.add(self.number, name, exc.text)
            return None

    def _checked(
        self, name: str, parse: Callable[[object], _T], problem_of: Callable[[_T], Message | None]
    ) -> _T | None:
        """The raw cell parsed, then checked; a blank cell is None, a bad one is an error and None."""
        value = self.cells.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            parsed = parse(value)
        except RuleError as exc:
            self.errors.add(self.number, name, exc.text)
            return None
        problem = problem_of(parsed)
        if problem:
            self.errors.add(self.number, name, problem)
            return None
        return parsed

    def date(self, name: str) -> dt.date | None:
        return self._checked(name, parse_date, date_problem)

    def wall(self, name: str) -> WallTime | None:
        return self._checked(name, parse_wall_time, lambda wall: time_problem(wall.at, self.errors.now))

    def number_value(self, name: str) -> float | None:
        value = self.text(name)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            self.errors.add(self.number, name, Message("“{value}” is not a number", value=value))
            return None
        if number < 0:
            self.errors.add(self.number, name, "cannot be negative")
            return None
        return number

    def yes_no(self, name: str) -> bool:
        return bool(self.parsed(name, parse_yes_no))

    def person(self, label: str = "") -> persons.CleanPerson | None:
        raw_id = self.cells.get("id_number")
        if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
            self.errors.add(
                self.number, "id_number", "stored as a number, which Excel rounds: format the column as text"
            )
            return None
        age_text = self.text("age")
        age: int | None = None
        if age_text:
            try:
                age = int(float(age_text))
            except ValueError:
                self.errors.add(self.number, "age", Message("“{value}” is not a number", value=age_text))
        found: list[RowError] = []
        data = persons.PersonInput(
            name=self.text("name", 50),
            id_number=self.text("id_number", 18),
            phone=self.text("phone", 20),
            sex=self.text("sex", 6),
            age=age,
            community_code=self.text("community_code", 12),
            address=self.text("address"),
            residence_code=self.text("residence_code", 12),
            label=label,
        )
        clean = persons.clean(data, self.number, found)
        for e in found:
            self.errors.add(e.row, e.field, e.text)
        return clean


# ------------------------------------------------------------------------------------------ writing


def _reserve_ids(session: Session, table: str, n: int) -> list[int]:
    """Ids for ``n`` new rows, taken from the table's sequence on PostgreSQL (safe beside other writers)."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"),
            {"n": n},
        )
        return [int(r[0]) for r in rows]
    start = (session.scalar(text(f"SELECT max(id) FROM {table}")) or 0) + 1
    return list(range(start, start + n))


def _write(
    session: Session, model: type[Base], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    # Binary COPY on PostgreSQL (the values are already of the columns' types), one executemany on SQLite.
    write_rows(session, cast(Table, model.__table__), columns, rows)


# ------------------------------------------------------------------------------------------ people


@dataclass
class _PersonNeed:
    row: int
    person: persons.CleanPerson


class _People:
    """Resolves the people named by many rows at once."""

    def __init__(
        self, session: Session, vault: Vault, keys: Keys, principal: Principal, report: ImportReport
    ) -> None:
        self.session, self.vault, self.keys, self.principal, self.report = (
            session,
            vault,
            keys,
            principal,
            report,
        )

    def resolve(self, needs: list[_PersonNeed], errors: _Errors) -> dict[int, persons.Subject]:
        """Subject per row number; the same person named by several rows gets one subject."""
        vault, scope = self.vault, self.principal.jpath
        hashes = {n.row: vault.keyed_hash(n.person.id_number) for n in needs if n.person.id_number}
        found = people.ids_by_id_hash(self.session, scope, list(hashes.values()))
        communities = people.communities_in_scope(self.session, scope)
        register: dict[str, _PersonNeed] = {}
        for n in needs:
            h = hashes.get(n.row)
            p = n.person
            if h and h not in found and p.community_code in communities and p.address and p.name:
                register.setdefault(h, n)
        if register:
            self._register(list(register.values()), hashes, errors)
            errors.check()
            found.update(people.ids_by_id_hash(self.session, scope, list(register)))
        subjects: dict[int, persons.Subject] = {}
        rest: list[_PersonNeed] = []
        for n in needs:
            h = hashes.get(n.row)
            if h and h in found:
                pid, jid, path = found[h]
                subjects[n.row] = persons.Subject(pid, None, jid, path)
            else:
                rest.append(n)
        self.report.people_matched = len({s.person_id for s in subjects.values()})
        subjects.update(self._unidentified(rest))
        return subjects

    def _register(self, needs: list[_PersonNeed], hashes: dict[int, str], errors: _Errors) -> None:
        """New residents go into the registry through its own bulk import (set-based, audited there)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "residents.csv"
            pending = list(needs)
            for _attempt in range(2):
                with path.open("w", encoding="utf-8", newline="") as fh:
                    out = csv.writer(fh)
                    out.writerow(["id_number", "name", "phone", "community_code", "address"])
                    for n in pending:
                        p = n.person
                        out.writerow([p.id_number, p.name, p.phone, p.community_code, p.address])
                nested = self.session.begin_nested()
                try:
                    result = import_people_csv(
                        self.session,
                        self.keys,
                        service.actor(self.principal),
                        self.principal.jpath,
                        path,
                        workers=1,
                    )
                except InvalidInput as exc:
                    nested.rollback()
                    elsewhere = {e.row for e in exc.errors if "already registered" in e.message}
                    for e in exc.errors:
                        if e.row not in elsewhere and 2 <= e.row < len(pending) + 2:
                            errors.add(pending[e.row - 2].row, e.field, e.text)
                    if errors.items or not elsewhere:
                        return
                    # Registered in another jurisdiction: kept here as unidentified people instead.
                    pending = [n for i, n in enumerate(pending, start=2) if i not in elsewhere]
                    if not pending:
                        return
                    continue
                nested.commit()
                self.report.people_registered += result.created
                return

    def _unidentified(self, needs: list[_PersonNeed]) -> dict[int, persons.Subject]:
        """One record per distinct person (same ID or same phone), reusing records already kept here."""
        if not needs:
            return {}
        vault, session, principal = self.vault, self.session, self.principal
        key_of: dict[int, str] = {}
        for n in needs:
            p = n.person
            if p.id_number:
                key_of[n.row] = "i" + vault.keyed_hash(p.id_number)
            elif p.phone:
                key_of[n.row] = "m" + vault.keyed_hash(p.phone)
        existing: dict[str, persons.Subject] = {}
        for column, prefix in ((UnidentifiedPerson.id_hash, "i"), (UnidentifiedPerson.phone_hash, "m")):
            wanted = sorted({k[1:] for k in key_of.values() if k[0] == prefix})
            for start in range(0, len(wanted), 1000):
                for rid, h, jid, path, residence in session.execute(
                    select(
                        UnidentifiedPerson.id,
                        column,
                        UnidentifiedPerson.jurisdiction_id,
                        UnidentifiedPerson.jpath,
                        UnidentifiedPerson.residence_jurisdiction_id,
                    ).where(
                        column.in_(wanted[start : start + 1000]),
                        UnidentifiedPerson.person_id.is_(None),
                        under(UnidentifiedPerson.jpath, principal.jpath),
                    )
                ):
                    if h is not None:
                        existing.setdefault(prefix + h, persons.Subject(None, rid, jid, path, residence))
        places = _places(
            session, {c for n in needs for c in (n.person.community_code, n.person.residence_code) if c}
        )
        result: dict[int, persons.Subject] = {}
        groups: dict[str, list[int]] = {}
        first: dict[str, _PersonNeed] = {}
        for n in needs:
            key = key_of.get(n.row) or f"#{n.row}"
            if key in existing:
                result[n.row] = existing[key]
                continue
            if key not in groups:
                groups[key], first[key] = [], n
            groups[key].append(n.row)
        ids = _reserve_ids(session, UnidentifiedPerson.__tablename__, len(groups))
        now = utcnow()
        columns = (
            "id",
            "jurisdiction_id",
            "jpath",
            "pii",
            "id_hash",
            "phone_hash",
            "name_hash",
            "label",
            "id_masked",
            "phone_masked",
            "sex",
            "age",
            "residence_jurisdiction_id",
            "created_at",
        )
        values = []
        for rid, key in zip(ids, groups, strict=True):
            person = first[key].person
            jid, path, residence = _responsible(principal, person, places)
            c = persons.unidentified_columns(vault, person)
            values.append(
                (
                    rid,
                    jid,
                    path,
                    c["pii"],
                    c["id_hash"],
                    c["phone_hash"],
                    c["name_hash"],
                    c["label"],
                    c["id_masked"],
                    c["phone_masked"],
                    c["sex"],
                    c["age"],
                    residence,
                    now,
                )
            )
            subject = persons.Subject(None, rid, jid, path, residence)
            for row in groups[key]:
                result[row] = subject
        _write(session, UnidentifiedPerson, columns, values)
        self.report.unidentified += len(values)
        return result


def _places(session: Session, codes: set[str]) -> dict[str, tuple[int, str]]:
    from fangkong.core.models import Jurisdiction

    if not codes:
        return {}
    rows = session.execute(
        select(Jurisdiction.code, Jurisdiction.id, Jurisdiction.path).where(
            Jurisdiction.code.in_(sorted(codes))
        )
    )
    return {code: (jid, path) for code, jid, path in rows}


def _check_places(
    session: Session, named: Sequence[tuple[int, persons.CleanPerson]], errors: _Errors
) -> None:
    """Every community and residence code of the file must exist, by the single-entry rule
    (``persons.place_problems``), all codes looked up at once."""
    codes = {code for _row, p in named for code in (p.community_code, p.residence_code) if code}
    if not codes:
        return
    places = persons.places_by_code(session, codes)
    for row, person in named:
        for e in persons.place_problems(person, places, row):
            errors.add(e.row, e.field, e.text)


def _responsible(
    principal: Principal, person: persons.CleanPerson, places: dict[str, tuple[int, str]]
) -> tuple[int, str, int | None]:
    for code in (person.community_code, person.residence_code):
        place = places.get(code) if code else None
        if place is None:
            continue
        if path_in_scope(place[1], principal.jpath):
            return place[0], place[1], None
        return principal.jurisdiction_id, principal.jpath, place[0]
    return principal.jurisdiction_id, principal.jpath, None


def _cases_by_ref(session: Session, principal: Principal, refs: set[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    wanted = sorted(refs)
    for start in range(0, len(wanted), 1000):
        # By the unique case number alone, the scope checked here: with the scope's range in the query,
        # PostgreSQL's generic plan for this prepared statement scans the whole jurisdiction's cases
        # once per 1,000 numbers (1.3 s a batch at 100,000 cases instead of 2 ms).
        for case in session.scalars(select(Case).where(Case.case_ref.in_(wanted[start : start + 1000]))):
            if path_in_scope(case.jpath, principal.jpath):
                found[case.case_ref] = case
    return found


def _refs_anywhere(session: Session, refs: set[str]) -> set[str]:
    wanted = sorted(refs)
    taken: set[str] = set()
    for start in range(0, len(wanted), 1000):
        taken.update(
            session.scalars(select(Case.case_ref).where(Case.case_ref.in_(wanted[start : start + 1000])))
        )
    return taken


# ------------------------------------------------------------------------------------------ cases


@dataclass
class _CaseLine:
    row: int
    case_ref: str
    classification: Classification
    person: persons.CleanPerson
    onset: dt.date | None
    sampling: dt.date | None
    diagnosis: dt.date | None
    reported: dt.datetime | None
    imported: bool
    origin: str
    isolated: dt.datetime | None
    outcome: Outcome | None
    outcome_date: dt.date | None
    infected_by: list[str]
    certainty: Certainty
    notes: str


def _import_cases(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    keys: Keys,
    path: Path,
    report: ImportReport,
) -> None:
    table = read_table(path, "cases")
    errors = _Errors()
    errors.written = table.written
    lines: list[_CaseLine] = []
    for number, values in table.rows:
        report.rows += 1
        r = _Row(number, table.header, values, errors)
        ref = r.required("case_ref")
        classification = r.parsed("classification", parse_classification)
        if not r.text("classification"):
            errors.add(number, "classification", "is required")
        person = r.person(label=ref)
        reported = r.wall("report_time")
        isolated = r.wall("isolated_at")
        certainty = r.parsed("link_certainty", parse_certainty) or Certainty.probable
        line = _CaseLine(
            number,
            ref,
            classification or Classification.suspected,
            person or persons.CleanPerson("", "", "", None, None, "", "", "", ref),
            r.date("onset_date"),
            r.date("sampling_date"),
            r.date("diagnosis_date"),
            reported.at if reported else None,
            r.yes_no("imported"),
            r.text("origin", 100),
            isolated.at if isolated else None,
            r.parsed("outcome", parse_outcome),
            r.date("outcome_date"),
            list(dict.fromkeys(x for x in _REF_SPLIT.split(r.text("infected_by", 400)) if x)),
            certainty,
            r.text("notes", 2000),
        )
        lines.append(line)
        if errors.full:
            break
    if report.rows == 0:
        errors.add(2, "*", "the file has a header but no rows")
    seen: dict[str, int] = {}
    for line in lines:
        first = seen.setdefault(line.case_ref, line.row)
        if line.case_ref and first != line.row:
            errors.add(line.row, "case_ref", Message("same case number as row {row}", row=first))
    taken = _refs_anywhere(session, set(seen))
    for line in lines:
        if line.case_ref in taken:
            errors.add(line.row, "case_ref", Message("case {ref} is already registered", ref=line.case_ref))
    known = _cases_by_ref(session, principal, {ref for line in lines for ref in line.infected_by} - set(seen))
    pairs: dict[tuple[str, str], int] = {}
    for line in lines:
        for ref in line.infected_by:
            if ref == line.case_ref:
                errors.add(line.row, "infected_by", "a case cannot infect itself")
            elif ref not in seen and ref not in known:
                errors.add(
                    line.row,
                    "infected_by",
                    Message("{ref} is not a case in this file or in your jurisdiction", ref=ref),
                )
            elif (line.case_ref, ref) in pairs:
                errors.add(
                    line.row,
                    "infected_by",
                    Message(
                        "row {row} already says {infector} infected {infectee}",
                        row=pairs[(line.case_ref, ref)],
                        infector=line.case_ref,
                        infectee=ref,
                    ),
                )
            pairs.setdefault((ref, line.case_ref), line.row)
    _check_places(session, [(line.row, line.person) for line in lines], errors)
    errors.check()

    subjects = _People(session, vault, keys, principal, report).resolve(
        [_PersonNeed(line.row, line.person) for line in lines], errors
    )
    errors.check()
    by_subject: dict[str, int] = {}
    for line in lines:
        key = subjects[line.row].key
        first = by_subject.setdefault(key, line.row)
        if first != line.row:
            errors.add(line.row, "id_number", Message("same person as row {row}", row=first))
    existing = service._case_ids_by_subject(session, list(by_subject))
    for key, row in by_subject.items():
        if key in existing:
            errors.add(row, "id_number", "this person is already a case")
    errors.check()

    ids = _reserve_ids(session, Case.__tablename__, len(lines))
    id_of = {line.case_ref: cid for line, cid in zip(lines, ids, strict=True)}
    id_of.update({ref: case.id for ref, case in known.items()})
    now = utcnow()
    rows = []
    for line, cid in zip(lines, ids, strict=True):
        s = subjects[line.row]
        rows.append(
            (
                cid,
                line.case_ref,
                s.person_id,
                s.unidentified_id,
                s.key,
                s.jurisdiction_id,
                s.jpath,
                line.classification.value,
                line.onset,
                line.sampling,
                line.diagnosis,
                from_local(line.reported) if line.reported else now,
                line.imported,
                line.origin or None,
                from_local(line.isolated) if line.isolated else None,
                line.outcome.value if line.outcome else None,
                line.outcome_date,
                None,
                False,
                cid,
                line.notes or None,
                principal.user_id,
                now,
            )
        )
    _write(session, Case, CASE_COLUMNS, rows)
    history_ids = _reserve_ids(session, CaseHistory.__tablename__, len(ids))
    _write(
        session,
        CaseHistory,
        (
            "id",
            "case_id",
            "at",
            "from_classification",
            "to_classification",
            "reason",
            "by_user_id",
        ),
        [
            (hid, cid, now, None, line.classification.value, "imported", principal.user_id)
            for hid, cid, line in zip(history_ids, ids, lines, strict=True)
        ],
    )
    report.cases = len(ids)
    links = [
        (id_of[ref], id_of[line.case_ref], line.certainty.value, line)
        for line in lines
        for ref in line.infected_by
    ]
    link_ids = _reserve_ids(session, ChainLink.__tablename__, len(links))
    jpath_of = {cid: subjects[line.row].jpath for line, cid in zip(lines, ids, strict=True)}
    _write(
        session,
        ChainLink,
        CHAIN_LINK_COLUMNS,
        [
            (lid, a, b, cert, None, jpath_of[b], b, None, principal.user_id, now)
            for lid, (a, b, cert, _line) in zip(link_ids, links, strict=True)
        ],
    )
    report.links = len(links)
    session.expire_all()
    if links:
        clusters = {cid for a, b, _c, _l in links for cid in (a, b)}
        touched = set(session.scalars(select(Case.cluster_id).where(Case.id.in_(sorted(clusters)))))
        recompute_clusters(session, touched)
    _after_cases(session, bus, principal, ids)
    audit.record(
        session,
        service.actor(principal),
        "cases.import",
        "case",
        "*",
        jpath=principal.jpath,
        detail={"file": path.name, "rows": report.rows, "links": report.links},
    )


def _after_cases(session: Session, bus: EventBus, principal: Principal, ids: list[int]) -> None:
    """New cases whose people were contacts become converted contacts; every case is announced."""
    from fangkong.tracing.events import CaseReported

    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        cases = list(session.scalars(select(Case).where(Case.id.in_(batch)).order_by(Case.id)))
        keys = [c.subject_key for c in cases]
        with_contacts = set(session.scalars(select(Contact.subject_key).where(Contact.subject_key.in_(keys))))
        for case in cases:
            if case.subject_key in with_contacts:
                managing = service._managing_contacts(session, case.subject_key, service.found_day(case))
                source = managing[0] if managing else None
                case.found_under_management = source is not None
                if source is not None and case.isolated_at is None:
                    # As for a case entered on its own: isolated as a contact, her own contacts'
                    # window closed then, not at the report (before absorbing re-classifies them).
                    case.isolated_at = service.first_isolation(session, managing, case.reported_at)
                service._absorb_contacts(session, bus, principal, case, prefer=source)
            bus.publish(
                session,
                CaseReported(
                    case.id,
                    case.jpath,
                    case.classification.value,
                    case.person_id,
                    case.imported,
                    case.found_under_management,
                ),
            )
        session.flush()


# ------------------------------------------------------------------------------ exposures and contacts


@dataclass
class _ExposureLine:
    row: int
    case_ref: str
    person: persons.CleanPerson | None
    contact_case_ref: str
    via: str
    setting: str
    start: dt.datetime
    end: dt.datetime | None
    protected: bool
    distance_m: float | None
    duration_minutes: float | None
    place: str
    infected: Certainty | None
    note: str
    category: ContactCategory | None = None


def _read_exposures(path: Path, kind: Kind, report: ImportReport, errors: _Errors) -> list[_ExposureLine]:
    table = read_table(path, kind)
    errors.written = table.written
    lines: list[_ExposureLine] = []
    for number, values in table.rows:
        report.rows += 1
        r = _Row(number, table.header, values, errors)
        ref = r.required("case_ref")
        contact_ref = r.text("contact_case_ref", 40) if kind == "exposures" else ""
        person = None if contact_ref else r.person()
        category = r.parsed("category", parse_category) if kind == "contacts" else None
        setting = r.parsed("setting", parse_setting)
        if kind == "exposures" and not r.text("setting"):
            errors.add(number, "setting", "is required")
        if kind == "contacts" and setting is None and category is None and not r.text("setting"):
            errors.add(number, "setting", "is required when the category is blank")
        if kind == "exposures":
            first, last = r.wall("start"), r.wall("end")
            if first is None and r.text("start") == "":
                errors.add(number, "start", "is required")
        else:
            first, last = r.wall("first_exposure"), r.wall("last_exposure")
            if last is None and r.text("last_exposure") == "":
                errors.add(number, "last_exposure", "is required")
            first = first or last
        if first is None:
            continue
        end = (
            (last.at if not last.whole_day else day_end(last.at.date()))
            if last
            else (day_end(first.at.date()) if first.whole_day else None)
        )
        if end is not None and end < first.at:
            errors.add(number, "end" if kind == "exposures" else "last_exposure", "is before the start")
        infected = r.parsed("infected", parse_certainty) if kind == "exposures" else None
        if infected is not None and not contact_ref:
            errors.add(number, "infected", "a transmission link needs the contact's case number")
        lines.append(
            _ExposureLine(
                number,
                ref,
                person,
                contact_ref,
                r.text("via", 20),
                setting or "other",
                first.at,
                end,
                r.yes_no("protected"),
                r.number_value("distance_m") if kind == "exposures" else None,
                r.number_value("duration_minutes") if kind == "exposures" else None,
                r.text("place") if kind == "exposures" else "",
                infected,
                r.text("note", 300),
                category,
            )
        )
        if errors.full:
            break
    if report.rows == 0:
        errors.add(2, "*", "the file has a header but no rows")
    return lines


@dataclass
class _Item:
    line: _ExposureLine
    case: Case
    subject: persons.Subject
    exposed_case_id: int | None
    via_key: str | None
    exposure_id: int = 0


def _import_exposures(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    keys: Keys,
    path: Path,
    kind: Kind,
    report: ImportReport,
) -> None:
    errors = _Errors()
    lines = _read_exposures(path, kind, report, errors)
    refs = {line.case_ref for line in lines} | {
        line.contact_case_ref for line in lines if line.contact_case_ref
    }
    cases = _cases_by_ref(session, principal, refs)
    for line in lines:
        if line.case_ref and line.case_ref not in cases:
            errors.add(
                line.row, "case_ref", Message("{ref} is not a case in your jurisdiction", ref=line.case_ref)
            )
        if line.contact_case_ref and line.contact_case_ref not in cases:
            errors.add(
                line.row,
                "contact_case_ref",
                Message("{ref} is not a case in your jurisdiction", ref=line.contact_case_ref),
            )
        if line.contact_case_ref and line.contact_case_ref == line.case_ref:
            errors.add(line.row, "contact_case_ref", "a case cannot be exposed to itself")
    _check_places(session, [(line.row, line.person) for line in lines if line.person is not None], errors)
    errors.check()
    needs = [_PersonNeed(line.row, line.person) for line in lines if line.person is not None]
    subjects = _People(session, vault, keys, principal, report).resolve(needs, errors)
    errors.check()
    items: list[_Item] = []
    for line in lines:
        case = cases[line.case_ref]
        if line.contact_case_ref:
            other = cases[line.contact_case_ref]
            subject = persons.subject_of_case(other)
            items.append(_Item(line, case, subject, other.id, None))
        else:
            items.append(_Item(line, case, subjects[line.row], None, None))
    for item in items:
        if item.subject.key == item.case.subject_key:
            errors.add(
                item.line.row,
                "id_number",
                Message("this is the index case {ref} itself", ref=item.case.case_ref),
            )
    _resolve_vias(session, vault, principal, items, errors)
    _check_links(session, items, errors)
    errors.check()
    case_of_subject = service._case_ids_by_subject(session, sorted({i.subject.key for i in items}))
    for item in items:
        if item.exposed_case_id is None:
            item.exposed_case_id = case_of_subject.get(item.subject.key)
    _write_exposures(session, principal, items)
    report.exposures = len(items)
    links = _write_links(session, principal, items)
    report.links = links
    first = [i for i in items if i.via_key is None]
    second = [i for i in items if i.via_key is not None]
    counts: Counter[str] = Counter()
    for group in (first, second):
        if group:
            counts.update(_classify(session, bus, group, case_of_subject))
    report.contacts = dict(counts)
    audit.record(
        session,
        service.actor(principal),
        f"cases.import_{kind}",
        "case",
        "*",
        jpath=principal.jpath,
        detail={"file": path.name, "rows": report.rows, "contacts": report.contacts},
    )


def _resolve_vias(
    session: Session, vault: Vault, principal: Principal, items: list[_Item], errors: _Errors
) -> None:
    """A second-ring row names its close contact by ID or mobile number: find that contact's subject."""
    wanted = [i for i in items if i.line.via]
    if not wanted:
        return
    by_number: dict[tuple[int, str], str] = {}
    for item in items:
        p = item.line.person
        if p is None or item.line.via:
            continue
        for number in (p.id_number, p.phone):
            if number:
                by_number.setdefault((item.case.id, number), item.subject.key)
    vias = {i.line.via.upper() for i in wanted}
    hashes = {vault.keyed_hash(v): v for v in vias}
    registry = people.ids_by_id_hash(session, principal.jpath, list(hashes))
    keyed: dict[str, set[str]] = defaultdict(set)
    for h, (pid, _jid, _path) in registry.items():
        keyed[hashes[h]].add(f"p:{pid}")
    for column in (UnidentifiedPerson.id_hash, UnidentifiedPerson.phone_hash):
        for rid, found in session.execute(
            select(UnidentifiedPerson.id, column).where(column.in_(list(hashes)))
        ):
            if found is not None:
                keyed[hashes[found]].add(f"u:{rid}")
    contacts: dict[tuple[int, str], int] = {}
    case_ids = sorted({i.case.id for i in wanted})
    for cid, key, contact_id in session.execute(
        select(Contact.case_id, Contact.subject_key, Contact.id).where(Contact.case_id.in_(case_ids))
    ):
        contacts[(cid, key)] = contact_id
    for item in wanted:
        via = item.line.via.upper()
        found_key: str | None = by_number.get((item.case.id, via))
        if found_key is None:
            found_key = next((k for k in keyed.get(via, set()) if (item.case.id, k) in contacts), None)
        if found_key is None:
            errors.add(
                item.line.row,
                "via",
                Message(
                    "{via} is not a close contact of {ref} (in this file or recorded before)",
                    via=via,
                    ref=item.case.case_ref,
                ),
            )
        elif found_key == item.subject.key:
            errors.add(item.line.row, "via", "a person cannot be their own close contact")
        else:
            item.via_key = found_key


def _check_links(session: Session, items: list[_Item], errors: _Errors) -> None:
    wanted = [i for i in items if i.line.infected is not None and i.exposed_case_id is not None]
    if not wanted:
        return
    pairs = {(i.case.id, i.exposed_case_id) for i in wanted}
    existing: set[tuple[int, int]] = set()
    ids = sorted({x for p in pairs for x in p if x is not None})
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        existing.update(
            (a, b)
            for a, b in session.execute(
                select(ChainLink.infector_case_id, ChainLink.infectee_case_id).where(
                    ChainLink.infector_case_id.in_(batch)
                )
            )
        )
    seen: dict[tuple[int, int], int] = {}
    for item in wanted:
        assert item.exposed_case_id is not None
        pair = (item.case.id, item.exposed_case_id)
        if (pair[1], pair[0]) in existing or (pair[1], pair[0]) in seen:
            errors.add(
                item.line.row,
                "infected",
                Message(
                    "{other} is already recorded as the infector of {ref}",
                    other=item.line.contact_case_ref,
                    ref=item.line.case_ref,
                ),
            )
        seen.setdefault(pair, item.line.row)


def _write_exposures(session: Session, principal: Principal, items: list[_Item]) -> None:
    ids = _reserve_ids(session, Exposure.__tablename__, len(items))
    now = utcnow()
    rows = []
    for eid, item in zip(ids, items, strict=True):
        item.exposure_id = eid
        line, s = item.line, item.subject
        rows.append(
            (
                eid,
                item.case.id,
                item.case.jpath,
                s.person_id,
                s.unidentified_id,
                s.key,
                item.exposed_case_id,
                None,
                line.setting,
                line.place or None,
                None,
                from_local(line.start),
                from_local(line.end) if line.end else None,
                line.protected,
                line.distance_m,
                line.duration_minutes,
                line.note or None,
                principal.user_id,
                now,
            )
        )
    _write(session, Exposure, EXPOSURE_COLUMNS, rows)


def _write_links(session: Session, principal: Principal, items: list[_Item]) -> int:
    wanted = [i for i in items if i.line.infected is not None and i.exposed_case_id is not None]
    if not wanted:
        return 0
    seen: set[tuple[int, int]] = set()
    for start in range(0, len(wanted), 1000):
        batch = [i.case.id for i in wanted[start : start + 1000]]
        seen.update(
            (a, b)
            for a, b in session.execute(
                select(ChainLink.infector_case_id, ChainLink.infectee_case_id).where(
                    ChainLink.infector_case_id.in_(batch)
                )
            )
        )
    fresh = []
    for item in wanted:
        pair = (item.case.id, item.exposed_case_id or 0)
        if pair not in seen:
            seen.add(pair)
            fresh.append(item)
    ids = _reserve_ids(session, ChainLink.__tablename__, len(fresh))
    now = utcnow()
    infectee_paths = dict(
        session.execute(
            select(Case.id, Case.jpath).where(
                Case.id.in_(sorted({i.exposed_case_id for i in fresh if i.exposed_case_id is not None}))
            )
        ).all()
    )
    rows = [
        (
            lid,
            i.case.id,
            i.exposed_case_id,
            i.line.infected.value if i.line.infected else None,
            i.exposure_id,
            infectee_paths[i.exposed_case_id or 0],
            i.exposed_case_id,
            i.line.note or None,
            principal.user_id,
            now,
        )
        for lid, i in zip(ids, fresh, strict=True)
    ]
    _write(
        session,
        ChainLink,
        CHAIN_LINK_COLUMNS,
        rows,
    )
    clusters = set(
        session.scalars(
            select(Case.cluster_id).where(
                Case.id.in_(
                    sorted({x for i in fresh for x in (i.case.id, i.exposed_case_id) if x is not None})
                )
            )
        )
    )
    recompute_clusters(session, clusters)
    return len(fresh)


def _classify(
    session: Session, bus: EventBus, items: list[_Item], case_of_subject: dict[str, int]
) -> Counter[str]:
    """Classify the people these rows expose, one decision pass per index case; write contacts set-based."""
    counts: Counter[str] = Counter()
    by_case: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        by_case[item.case.id].append(item)
    now = as_local(utcnow())
    existing: dict[tuple[int, str], Contact] = {}
    # Ids first (cheap rows), whole contacts only for the people this file names again.
    wanted = _contacts_named_again(session, {(i.case.id, i.subject.key) for i in items})
    for start_ids in range(0, len(wanted), 1000):
        chunk = wanted[start_ids : start_ids + 1000]
        for contact in session.scalars(select(Contact).where(Contact.id.in_(chunk))):
            existing[(contact.case_id, contact.subject_key)] = contact
    vias = _via_contacts(session, items)
    _set_exposure_vias(session, items, vias)
    protocols: dict[str, Any] = {}
    pending: list[tuple[Case, persons.Subject, Decision, str]] = []
    replaced: list[Contact] = []
    for case_id, group in by_case.items():
        case = group[0].case
        if case.classification is Classification.excluded:
            continue
        if case.jpath not in protocols:
            protocols[case.jpath] = protocol_for(session, case.jpath)
        protocol = protocols[case.jpath]
        reload = {i.subject.key for i in group if (case_id, i.subject.key) in existing}
        facts = service._facts(session, case, reload) if reload else []
        for item in group:
            if item.subject.key in reload:
                continue
            line = item.line
            via = vias[(case_id, item.via_key)].via if item.via_key else None
            facts.append(
                ExposureFact(
                    item.subject.key,
                    line.setting,
                    line.start,
                    line.end,
                    line.protected,
                    line.distance_m,
                    line.duration_minutes,
                    via,
                )
            )
        subject_of = {i.subject.key: i for i in group}
        for decision in decide(protocol, service.index_timing(case), facts, now):
            item = subject_of[decision.subject_key]
            override, decided = item.line.category, "classifier"
            if override is not None and override is not decision.category:
                decided = "investigator"
                decision = Decision(
                    decision.subject_key,
                    override,
                    stored(
                        Message(
                            "imported as {category}; the classifier says {decided}: {reason}",
                            category=Message(override.value),
                            decided=Message(decision.category.value),
                            reason=Message.loads(decision.reason),
                        )
                    ),
                    decision.setting,
                    decision.first_exposure,
                    decision.last_exposure,
                    decision.via_contact_id,
                )
            known = existing.get((case_id, decision.subject_key))
            if known is not None:
                changed = service._update_contact(session, bus, known, decision, protocol.id)
                if changed and known.status is ContactStatus.active and known.person_id is not None:
                    # Re-placed with the import's new contacts, in its one event (not one each).
                    replaced.append(known)
                counts[known.category.value] += 1
                continue
            pending.append((case, item.subject, decision, decided))
    ids = _reserve_ids(session, Contact.__tablename__, len(pending))
    stamp = utcnow()
    via_person = {v.id: v.person_id for v in vias.values()}
    rows: list[tuple[Any, ...]] = []
    publish: list[tuple[int, int, str, str, dt.date, int | None]] = []
    for cid, (case, subject, decision, decided) in zip(ids, pending, strict=True):
        status = ContactStatus.active if decision.category in MANAGED_CATEGORIES else ContactStatus.dropped
        converted = case_of_subject.get(subject.key)
        if converted is not None and converted != case.id and status is ContactStatus.active:
            status = ContactStatus.converted
        else:
            converted = None
        rows.append(
            (
                cid,
                case.id,
                subject.person_id,
                subject.unidentified_id,
                subject.key,
                subject.jurisdiction_id,
                subject.jpath,
                decision.category.value,
                decided,
                decision.reason,
                decision.via_contact_id,
                decision.setting,
                from_local(decision.first_exposure),
                from_local(decision.last_exposure),
                True,
                None,
                status.value,
                converted,
                subject.residence_jurisdiction_id,
                protocols[case.jpath].id,
                stamp,
                stamp,
            )
        )
        counts[decision.category.value] += 1
        if status is ContactStatus.active and subject.person_id is not None:
            publish.append(
                (
                    subject.person_id,
                    cid,
                    subject.jpath,
                    decision.category.value,
                    decision.last_exposure.date(),
                    via_person.get(decision.via_contact_id or -1),
                )
            )
    _write(session, Contact, CONTACT_COLUMNS, rows)
    for known in replaced:
        assert known.person_id is not None
        linked = None
        if known.via_contact_id is not None:
            linked = via_person.get(known.via_contact_id)
            if known.via_contact_id not in via_person:
                through = session.get(Contact, known.via_contact_id)
                linked = through.person_id if through is not None else None
        publish.append(
            (
                known.person_id,
                known.id,
                known.jpath,
                known.category.value,
                as_local(known.last_exposure).date(),
                linked,
            )
        )
    placements = tuple(
        PersonPlacedUnderManagement(
            person_id=person_id,
            jpath=jpath,
            category=category,
            clock_date=clock,
            source=f"contact:{cid}",
            linked_person_id=linked,
        )
        for person_id, cid, jpath, category, clock, linked in publish
    )
    if placements:
        # One event for the whole import: the plans are then written set-based.
        bus.publish(session, PeoplePlacedUnderManagement(placements))
    return counts


def _contacts_named_again(session: Session, pairs: set[tuple[int, str]]) -> list[int]:
    """Ids of the contacts already recorded for these (case, person) pairs."""
    if not pairs:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # One probe of the (case, person) unique index per pair, in one statement.
        cases, keys = zip(*sorted(pairs), strict=True)
        return list(
            session.scalars(
                text(
                    "SELECT c.id FROM tracing_contacts c JOIN unnest(CAST(:cases AS integer[]),"
                    " CAST(:keys AS varchar[])) AS w(case_id, subject_key)"
                    " ON c.case_id = w.case_id AND c.subject_key = w.subject_key"
                ),
                {"cases": list(cases), "keys": list(keys)},
            )
        )
    keys_by_case: dict[int, set[str]] = defaultdict(set)
    for case_id, key in pairs:
        keys_by_case[case_id].add(key)
    case_ids = sorted(keys_by_case)
    found: list[int] = []
    for start in range(0, len(case_ids), 200):
        batch = case_ids[start : start + 200]
        found.extend(
            contact_id
            for contact_id, case_id, key in session.execute(
                select(Contact.id, Contact.case_id, Contact.subject_key).where(Contact.case_id.in_(batch))
            )
            if key in keys_by_case[case_id]
        )
    return found


@dataclass(frozen=True)
class _ViaContact:
    id: int
    person_id: int | None
    via: Via


def _via_contacts(session: Session, items: list[_Item]) -> dict[tuple[int, str], _ViaContact]:
    """The close contacts that second-ring rows name, as the classifier needs them."""
    wanted = {(i.case.id, i.via_key) for i in items if i.via_key}
    found: dict[tuple[int, str], _ViaContact] = {}
    if not wanted:
        return found
    case_ids = sorted({c for c, _k in wanted})
    for contact in session.scalars(select(Contact).where(Contact.case_id.in_(case_ids))):
        if (contact.case_id, contact.subject_key) in wanted:
            found[(contact.case_id, contact.subject_key)] = _ViaContact(
                contact.id,
                contact.person_id,
                Via(
                    contact.id,
                    f"contact {contact.id}",
                    as_local(contact.first_exposure),
                    as_local(contact.isolated_at) if contact.isolated_at else None,
                    contact.high_risk,
                ),
            )
    return found


def _set_exposure_vias(
    session: Session, items: list[_Item], vias: dict[tuple[int, str], _ViaContact]
) -> None:
    from sqlalchemy import update

    rows = [
        {"id": i.exposure_id, "via_contact_id": vias[(i.case.id, i.via_key)].id}
        for i in items
        if i.via_key and (i.case.id, i.via_key) in vias
    ]
    if rows:
        session.execute(update(Exposure), rows)


# ------------------------------------------------------------------------------------------ entry point


def import_file(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    keys: Keys,
    kind: Kind,
    path: Path,
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Import one file of ``kind``; raises InvalidInput naming every bad row, and then nothing is written."""
    import time

    started = time.perf_counter()
    report = ImportReport(kind=kind, dry_run=dry_run)
    run = _import_cases if kind == "cases" else None

    def work(target_bus: EventBus) -> None:
        if run is not None:
            run(session, vault, target_bus, principal, keys, path, report)
        else:
            _import_exposures(session, vault, target_bus, principal, keys, path, kind, report)
        session.flush()

    if dry_run:
        nested = session.begin_nested()
        try:
            # Handlers must not see rows that are about to vanish: a dry run publishes to nobody.
            work(EventBus())
        finally:
            nested.rollback()
            session.expire_all()
    else:
        work(bus)
    report.seconds = round(time.perf_counter() - started, 3)
    return report
