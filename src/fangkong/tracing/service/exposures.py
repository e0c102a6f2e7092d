"""Exposures: the line list of who was exposed to a case, how and when; removing a line.

Every line added or removed re-classifies the people it concerns (:mod:`.classifying`); a line naming
a known case the index case infected adds a chain link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.clock import from_local
from fangkong.core.crypto import Vault
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope
from fangkong.tracing import persons
from fangkong.tracing.models import (
    Case,
    Certainty,
    ChainLink,
    Classification,
    Contact,
    Exposure,
)
from fangkong.tracing.rules import (
    time_problem,
)
from fangkong.tracing.service.classifying import _subject_from_row, reclassify_contacts
from fangkong.tracing.service.links import add_link
from fangkong.tracing.service.progress import publish_investigated
from fangkong.tracing.service.reads import actor, get_case, get_contact


@dataclass(frozen=True)
class ExposureInput:
    """One line of the line list: who (a person, a known case, or via a close contact), how, when."""

    setting: str
    start: dt.datetime  # local wall-clock time
    person: persons.PersonInput | None = None
    contact_case_id: int | None = None
    via_contact_id: int | None = None
    end: dt.datetime | None = None
    protected: bool = False
    distance_m: float | None = None
    duration_minutes: float | None = None
    place: str = ""
    note: str = ""
    # The index case infected this person (a known case): a chain link with this certainty.
    infected: Certainty | None = None


def add_exposures(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    case_id: int,
    lines: Sequence[ExposureInput],
    *,
    ip: str = "",
) -> list[Contact]:
    """Record exposures found by the investigation and classify every person they concern.

    Publishes ``CaseInvestigated`` when at least one line was recorded.
    """
    from fangkong.tracing.rules import SETTINGS

    case = get_case(session, principal, case_id)
    errors: list[RowError] = []
    for row, line in enumerate(lines, start=1):
        for name, moment in (("start", line.start), ("end", line.end)):
            problem = time_problem(moment) if moment is not None else None
            if problem:
                errors.append(RowError(row, name, problem))
        if line.setting not in SETTINGS:
            errors.append(
                RowError(row, "setting", Message("“{value}” is not an exposure setting", value=line.setting))
            )
        if line.end is not None and line.end < line.start:
            errors.append(RowError(row, "end", "ends before it starts"))
        if (line.person is None) == (line.contact_case_id is None):
            errors.append(
                RowError(row, "person", "give either the person or the case number of a known case")
            )
        if line.infected is not None and line.contact_case_id is None:
            errors.append(
                RowError(row, "infected", "a transmission link needs the other person's case number")
            )
        if line.distance_m is not None and line.distance_m < 0:
            errors.append(RowError(row, "distance_m", "cannot be negative"))
        if line.duration_minutes is not None and line.duration_minutes < 0:
            errors.append(RowError(row, "duration_minutes", "cannot be negative"))
    if errors:
        raise InvalidInput(errors)
    subjects: dict[str, persons.Subject] = {}
    written: list[tuple[Exposure, ExposureInput]] = []
    for row, line in enumerate(lines, start=1):
        exposed_case: Case | None = None
        if line.contact_case_id is not None:
            exposed_case = get_case(session, principal, line.contact_case_id)
            if exposed_case.id == case.id:
                raise InvalidInput([RowError(row, "contact_case_ref", "a case cannot be exposed to itself")])
            subject = persons.subject_of_case(exposed_case)
        else:
            assert line.person is not None
            subject = persons.resolve(session, vault, bus, principal, line.person, row=row)
            exposed_case = session.scalar(
                select(Case).where(
                    Case.subject_key == subject.key, Case.classification != Classification.excluded
                )
            )
        if line.via_contact_id is not None:
            via = get_contact(session, principal, line.via_contact_id)
            if via.case_id != case.id:
                raise InvalidInput(
                    [
                        RowError(
                            row,
                            "via_contact_id",
                            Message("the chosen close contact is not a contact of this case"),
                        )
                    ]
                )
        subjects[subject.key] = subject
        exposure = Exposure(
            case_id=case.id,
            jpath=case.jpath,
            person_id=subject.person_id,
            unidentified_id=subject.unidentified_id,
            subject_key=subject.key,
            exposed_case_id=exposed_case.id if exposed_case else None,
            via_contact_id=line.via_contact_id,
            setting=line.setting,
            place=line.place.strip()[:200] or None,
            start=from_local(line.start),
            end=from_local(line.end) if line.end else None,
            protected=line.protected,
            distance_m=line.distance_m,
            duration_minutes=line.duration_minutes,
            note=line.note.strip()[:300] or None,
            created_by=principal.user_id,
        )
        session.add(exposure)
        written.append((exposure, line))
    session.flush()
    for exposure, line in written:
        if line.infected is not None and exposure.exposed_case_id is not None:
            add_link(
                session,
                principal,
                case.id,
                exposure.exposed_case_id,
                line.infected,
                exposure_id=exposure.id,
                note=exposure.note or "",
                ip=ip,
                audited=False,
            )
    contacts = reclassify_contacts(session, bus, case, subjects)
    audit.record(
        session,
        actor(principal, ip),
        "cases.exposures",
        "case",
        case.id,
        jpath=case.jpath,
        detail={"added": len(written), "people": len(subjects)},
    )
    if written:
        publish_investigated(session, bus, case)
    return contacts


def remove_exposure(
    session: Session, bus: EventBus, principal: Principal, exposure_id: int, *, ip: str = ""
) -> None:
    exposure = session.get(Exposure, exposure_id)
    if exposure is None or not path_in_scope(exposure.jpath, principal.jpath):
        raise NotFound(f"exposure {exposure_id} not found")
    case = get_case(session, principal, exposure.case_id)
    key = exposure.subject_key
    session.execute(update(ChainLink).where(ChainLink.exposure_id == exposure.id).values(exposure_id=None))
    session.delete(exposure)
    session.flush()
    subject = _subject_from_row(session, exposure.person_id, exposure.unidentified_id)
    reclassify_contacts(session, bus, case, {key: subject})
    audit.record(
        session, actor(principal, ip), "cases.exposure_removed", "exposure", exposure_id, jpath=case.jpath
    )


def exposures_of(session: Session, principal: Principal, case_id: int) -> list[Exposure]:
    case = get_case(session, principal, case_id)
    return list(session.scalars(select(Exposure).where(Exposure.case_id == case.id).order_by(Exposure.start)))
