"""Tracing's answers to other capabilities' events (listed in ``fangkong.wiring``).

* A person checked into a quarantine room is isolated from that moment: the contact record that asked
  for their plan gets its isolation time (the KPIs and the source-tracing windows read it).
* Roommates of someone found positive in a shared room become that case's close contacts, through the
  same exposure use case an investigator uses, so the classifier, the plans and the audit all apply.
* A positive single-person test opens a case for the person (unless they already are one), through the
  same use case a case report takes: a contact found positive is converted, with their links.
"""

from __future__ import annotations

import base64
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.clock import as_local, local_day
from fangkong.core.crypto import Vault
from fangkong.core.events import DomainEvent, bus_of
from fangkong.core.models import Jurisdiction, Role
from fangkong.quarantine.events import PersonCheckedIntoQuarantine, RoommatesExposed
from fangkong.testing.events import PersonTestedPositive
from fangkong.tracing import persons
from fangkong.tracing.models import Case, Contact
from fangkong.tracing.rules import subject_key

# The account names these records carry: the change came from a quarantine site or a laboratory, not
# from a person at a desk.
QUARANTINE_ACTOR = "system:quarantine"
LABORATORY_ACTOR = "system:laboratory"


def record_isolation(session: Session, event: DomainEvent) -> None:
    """Handler of ``PersonCheckedIntoQuarantine``: the contact behind the plan is isolated from now on."""
    assert isinstance(event, PersonCheckedIntoQuarantine)
    kind, _, number = event.source.partition(":")
    if kind != "contact" or not number.isdigit():
        return
    session.execute(
        update(Contact)
        .where(Contact.id == int(number), Contact.isolated_at.is_(None))
        .values(isolated_at=event.at)
    )


def _throwaway_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _system_principal(session: Session, jurisdiction_id: int, username: str) -> Principal:
    jurisdiction = session.get(Jurisdiction, jurisdiction_id)
    # People in a site or a lab's run may live anywhere (a site takes people from several counties): the
    # whole tree is in scope.
    return Principal(
        user_id=0,
        username=username,
        display_name=username,
        role=Role.investigator,
        jurisdiction_id=jurisdiction_id,
        jpath="/",
        jurisdiction_name=jurisdiction.name if jurisdiction else "",
        via="event",
    )


def roommates_exposed(session: Session, event: DomainEvent) -> None:
    """Handler of ``RoommatesExposed``: each roommate is exposed to the case in a shared room."""
    assert isinstance(event, RoommatesExposed)
    from fangkong.tracing import service

    case = session.scalar(select(Case).where(Case.id == event.case_id))
    if case is None or not event.roommate_person_ids:
        return
    # Roommates are registry people named by id: ``persons.resolve`` takes them as they are and never
    # asks the vault to encrypt or match anything, so a key pair of this call's own is enough.
    vault = Vault(_throwaway_key(), _throwaway_key())
    lines = [
        service.ExposureInput(
            setting="household",
            start=as_local(event.since).replace(tzinfo=None),
            end=as_local(event.until).replace(tzinfo=None),
            person=persons.PersonInput(person_id=person_id),
            place=f"{event.site_name} {event.room_number}",
            note="shared quarantine room",
        )
        for person_id in event.roommate_person_ids
    ]
    principal = _system_principal(session, case.jurisdiction_id, QUARANTINE_ACTOR)
    service.add_exposures(session, vault, bus_of(session), principal, case.id, lines)


def case_from_positive_test(session: Session, event: DomainEvent) -> None:
    """Handler of ``PersonTestedPositive``: the person becomes a case unless they already are one."""
    assert isinstance(event, PersonTestedPositive)
    from fangkong.core.models import Person
    from fangkong.tracing import service
    from fangkong.tracing.models import Classification

    person = session.get(Person, event.person_id)
    if person is None:
        return
    known = session.scalar(
        select(Case.id).where(
            Case.subject_key == subject_key(event.person_id, None),
            Case.classification != Classification.excluded,
        )
    )
    if known is not None:
        return
    vault = Vault(_throwaway_key(), _throwaway_key())
    service.register_case(
        session,
        vault,
        bus_of(session),
        _system_principal(session, person.jurisdiction_id, LABORATORY_ACTOR),
        service.CaseInput(
            # Symptoms are not known from a lab result: investigators reclassify once they are.
            classification=Classification.asymptomatic,
            person=persons.PersonInput(person_id=event.person_id),
            sampling_date=event.sampled_on,
            diagnosis_date=local_day(event.resulted_at),
            reported_at=as_local(event.resulted_at).replace(tzinfo=None),
            notes=f"positive test {event.barcode} ({event.origin})",
        ),
        ip="laboratory",
    )
