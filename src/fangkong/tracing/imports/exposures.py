"""Importing exposures and contact lists: every row checked (the index case, the person, the second-ring
contact it names, the transmission link it claims), the exposures and chain links written set-based, then
the exposed people classified (first ring, then second) and the import audited once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit, people
from fangkong.core.auth import Principal
from fangkong.core.clock import from_local, utcnow
from fangkong.core.crypto import Vault
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.people_rules import Keys
from fangkong.tracing import persons, service
from fangkong.tracing.clusters import recompute_clusters
from fangkong.tracing.imports.classify import _classify
from fangkong.tracing.imports.common import (
    CHAIN_LINK_COLUMNS,
    EXPOSURE_COLUMNS,
    ImportReport,
    _cases_by_ref,
    _Errors,
    _ExposureLine,
    _Item,
    _reserve_ids,
    _Row,
    _write,
)
from fangkong.tracing.imports.people import _check_places, _People, _PersonNeed
from fangkong.tracing.models import Case, ChainLink, Contact, Exposure, UnidentifiedPerson
from fangkong.tracing.rules import day_end, parse_category, parse_certainty, parse_setting
from fangkong.tracing.spreadsheets import Kind, read_table

# ------------------------------------------------------------------------------ exposures and contacts


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
