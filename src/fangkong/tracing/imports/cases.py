"""Importing a case list: every row checked (case numbers, who infected whom, the person), the cases,
their history and their chain links written set-based, then each new case announced and the contacts
of people who became cases converted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import from_local, utcnow
from fangkong.core.crypto import Vault
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.people_rules import Keys
from fangkong.tracing import persons, service
from fangkong.tracing.clusters import recompute_clusters
from fangkong.tracing.imports.common import (
    CASE_COLUMNS,
    CHAIN_LINK_COLUMNS,
    ImportReport,
    _cases_by_ref,
    _Errors,
    _reserve_ids,
    _Row,
    _write,
)
from fangkong.tracing.imports.people import _check_places, _People, _PersonNeed
from fangkong.tracing.models import Case, CaseHistory, Certainty, ChainLink, Classification, Contact, Outcome
from fangkong.tracing.rules import parse_certainty, parse_classification, parse_outcome
from fangkong.tracing.spreadsheets import read_table

_REF_SPLIT = re.compile(r"[;；,，、\s]+")


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
