"""Classifying the people an exposure import names: one decision pass per index case with the protocol
of its jurisdiction (an investigator's category in the file kept, with the classifier's view as the
reason), contacts named again updated, new contacts written set-based, and one management event for the
whole import.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fangkong.core.clock import as_local, from_local, utcnow
from fangkong.core.events import EventBus, PeoplePlacedUnderManagement, PersonPlacedUnderManagement
from fangkong.core.i18n import Message, stored
from fangkong.tracing import persons, service
from fangkong.tracing.classification import Decision, ExposureFact, Via, decide
from fangkong.tracing.imports.common import CONTACT_COLUMNS, _Item, _reserve_ids, _write
from fangkong.tracing.models import Case, Classification, Contact, ContactStatus, Exposure
from fangkong.tracing.protocols import protocol_for
from fangkong.tracing.rules import MANAGED_CATEGORIES


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
