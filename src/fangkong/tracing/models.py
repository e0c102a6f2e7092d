"""Tables of the tracing capability: cases, visits, exposures, contacts, chain links, assist requests.

Every row that names a person carries ``jpath``, the jurisdiction responsible for it, and every query of
these rows goes through ``core.scope.under``. A person is either a registry person (``people.id``) or,
until the registry knows them, a tracing-local :class:`UnidentifiedPerson`; ``subject_key`` (``p:<id>``
or ``u:<id>``) names either kind in one column so that "the same person" is one equality test.

The case → source-contact link is a plain indexed integer rather than a foreign key: contacts point at
their index case, so a foreign key back would make a cycle that neither ``DELETE`` order nor Alembic's
table sort can satisfy.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, HashString, Instant, PathString


class Classification(enum.StrEnum):
    """What a case is; ``excluded`` keeps the record of a suspected case that turned out negative."""

    suspected = "suspected"
    confirmed = "confirmed"
    asymptomatic = "asymptomatic"
    excluded = "excluded"


class Outcome(enum.StrEnum):
    under_treatment = "under_treatment"
    recovered = "recovered"
    died = "died"


class Certainty(enum.StrEnum):
    """How sure the investigators are that one case infected another (Go.Data uses the same three)."""

    confirmed = "confirmed"
    probable = "probable"
    possible = "possible"


class ContactCategory(enum.StrEnum):
    """The protocol classifier's outcomes, in the users' words."""

    close_contact = "close_contact"
    contact_of_contact = "contact_of_contact"
    general_contact = "general_contact"
    not_a_contact = "not_a_contact"
    # The protocol in force does not identify this kind of contact, or the index case lacks a date.
    not_classified = "not_classified"


class ContactStatus(enum.StrEnum):
    active = "active"
    # Reclassified as not a contact: kept so that the exposures stay explained.
    dropped = "dropped"
    # Tested positive: a case now, linked through ``converted_case_id``.
    converted = "converted"
    # A contact of a contact whose close contact became a case: re-classified against that new case.
    superseded = "superseded"


class PlaceKind(enum.StrEnum):
    venue = "venue"
    address = "address"
    transport = "transport"


class AssistStatus(enum.StrEnum):
    """Steps of an assist request (协查), in order; ``declined`` ends it early."""

    sent = "sent"
    acknowledged = "acknowledged"
    located = "located"
    plan_applied = "plan_applied"
    reported = "reported"
    declined = "declined"


class UnidentifiedPerson(Base):
    """Someone tracing knows of but the registry does not (yet): no ID number, or living elsewhere.

    Personal data is held like the registry holds it: one AES-GCM ciphertext, keyed hashes for matching,
    masked display forms. ``person_id`` is set when the record is merged into the registry.
    """

    __tablename__ = "tracing_unidentified_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    pii: Mapped[bytes] = mapped_column(LargeBinary)
    id_hash: Mapped[str | None] = mapped_column(HashString, index=True)
    phone_hash: Mapped[str | None] = mapped_column(HashString, index=True)
    name_hash: Mapped[str | None] = mapped_column(HashString)
    label: Mapped[str] = mapped_column(String(60))
    id_masked: Mapped[str | None] = mapped_column(String(18))
    phone_masked: Mapped[str | None] = mapped_column(String(11))
    sex: Mapped[str | None] = mapped_column(String(1))
    age: Mapped[int | None] = mapped_column(Integer)
    # Where they live, as told (a county or community code); outside the recorder's scope → assist request.
    residence_jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    merged_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (Index("ix_tracing_unidentified_people_jpath_id", "jpath", "id"),)


class Case(Base):
    __tablename__ = "tracing_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    unidentified_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracing_unidentified_people.id"), index=True
    )
    subject_key: Mapped[str] = mapped_column(String(24), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    classification: Mapped[Classification] = mapped_column(Enum(Classification, native_enum=False, length=16))
    onset_date: Mapped[dt.date | None] = mapped_column(Date)
    sampling_date: Mapped[dt.date | None] = mapped_column(Date)
    diagnosis_date: Mapped[dt.date | None] = mapped_column(Date)
    reported_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str | None] = mapped_column(String(100))
    isolated_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    outcome: Mapped[Outcome | None] = mapped_column(Enum(Outcome, native_enum=False, length=16))
    outcome_date: Mapped[dt.date | None] = mapped_column(Date)
    source_contact_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The tracing KPI: the person was already a managed contact when this case was found.
    found_under_management: Mapped[bool] = mapped_column(Boolean, default=False)
    # The smallest case id of the connected component of chain links this case belongs to.
    cluster_id: Mapped[int] = mapped_column(Integer, index=True)
    notes: Mapped[str | None] = mapped_column(Text, info={"personal_text": True})
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        Index("ix_tracing_cases_jpath_id", "jpath", "id"),
        CheckConstraint("(person_id IS NULL) <> (unidentified_id IS NULL)", name="one_person"),
    )


class CaseHistory(Base):
    """Every classification a case has had (asymptomatic → confirmed keeps the earlier one)."""

    __tablename__ = "tracing_case_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    from_classification: Mapped[Classification | None] = mapped_column(
        Enum(Classification, native_enum=False, length=16)
    )
    to_classification: Mapped[Classification] = mapped_column(
        Enum(Classification, native_enum=False, length=16)
    )
    reason: Mapped[str] = mapped_column(String(300), info={"personal_text": True})
    by_user_id: Mapped[int | None] = mapped_column(Integer)


class Visit(Base):
    """A place and time slot in a case's account of where they were."""

    __tablename__ = "tracing_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString)
    kind: Mapped[PlaceKind] = mapped_column(Enum(PlaceKind, native_enum=False, length=12))
    place_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(200), info={"personal_text": True})
    transport_no: Mapped[str | None] = mapped_column(String(40))
    carriage: Mapped[str | None] = mapped_column(String(10))
    seat: Mapped[str | None] = mapped_column(String(10))
    start: Mapped[dt.datetime] = mapped_column(Instant)
    end: Mapped[dt.datetime | None] = mapped_column(Instant)
    # Normalised place (or vehicle) so that two cases' visits to the same place meet on one index.
    place_key: Mapped[str] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(String(300), info={"personal_text": True})
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class Contact(Base):
    """One person's standing towards one index case: the classifier's outcome over their exposures."""

    __tablename__ = "tracing_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Served by the (case_id, subject_key) unique index; people are found through subject_key.
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    unidentified_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_unidentified_people.id"))
    subject_key: Mapped[str] = mapped_column(String(24), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    category: Mapped[ContactCategory] = mapped_column(Enum(ContactCategory, native_enum=False, length=20))
    # Who decided: the protocol's classifier, or an investigator overriding it (their words in reason).
    decided_by: Mapped[str] = mapped_column(String(12), default="classifier")
    reason: Mapped[str] = mapped_column(Text, info={"personal_text": True})
    via_contact_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_contacts.id"), index=True)
    setting: Mapped[str | None] = mapped_column(String(30))
    first_exposure: Mapped[dt.datetime] = mapped_column(Instant)
    last_exposure: Mapped[dt.datetime] = mapped_column(Instant)
    high_risk: Mapped[bool] = mapped_column(Boolean, default=True)
    isolated_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    status: Mapped[ContactStatus] = mapped_column(Enum(ContactStatus, native_enum=False, length=12))
    converted_case_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_cases.id"))
    # Lives outside the recorder's jurisdiction: the jurisdiction an assist request goes to.
    residence_jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    protocol_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        Index("ix_tracing_contacts_jpath_id", "jpath", "id"),
        # The contact list's default filter counted from the index alone (a county's list answers fast).
        Index("ix_tracing_contacts_status_jpath", "status", "jpath", "category"),
        # A person's contacts (their history, a merge moving them, a purge finding them) by person.
        Index("ix_tracing_contacts_person_id", "person_id"),
        UniqueConstraint("case_id", "subject_key", name="uq_tracing_contacts_case_subject"),
        CheckConstraint("(person_id IS NULL) <> (unidentified_id IS NULL)", name="one_person"),
    )


class Exposure(Base):
    """One exposure between an index case (or one of its close contacts) and another person."""

    __tablename__ = "tracing_exposures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString)
    # People are found through subject_key (one index instead of two on the largest table).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    unidentified_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_unidentified_people.id"))
    subject_key: Mapped[str] = mapped_column(String(24), index=True)
    # The exposed person is a case too (case-to-case exposures, as in outbreak line lists).
    exposed_case_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_cases.id"))
    # Second ring: the exposure was to this close contact of the index case, not to the case itself.
    via_contact_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_contacts.id"), index=True)
    setting: Mapped[str] = mapped_column(String(30))
    place: Mapped[str | None] = mapped_column(String(200))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_visits.id"))
    start: Mapped[dt.datetime] = mapped_column(Instant)
    end: Mapped[dt.datetime | None] = mapped_column(Instant)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    distance_m: Mapped[float | None] = mapped_column(Float)
    duration_minutes: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(300), info={"personal_text": True})
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        Index("ix_tracing_exposures_jpath_id", "jpath", "id"),
        # A merge moves one person's exposures and a purge finds them: by person, not by a table scan.
        Index("ix_tracing_exposures_person_id", "person_id"),
        CheckConstraint("(person_id IS NULL) <> (unidentified_id IS NULL)", name="one_person"),
    )


class ChainLink(Base):
    """An edge of the transmission graph: the infector case infected the infectee case."""

    __tablename__ = "tracing_chain_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Served by the (infector, infectee) unique index.
    infector_case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id"))
    infectee_case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id"), index=True)
    certainty: Mapped[Certainty] = mapped_column(Enum(Certainty, native_enum=False, length=12))
    exposure_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_exposures.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    cluster_id: Mapped[int] = mapped_column(Integer, index=True)
    note: Mapped[str | None] = mapped_column(String(300), info={"personal_text": True})
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        UniqueConstraint("infector_case_id", "infectee_case_id", name="uq_tracing_chain_links_pair"),
        CheckConstraint("infector_case_id <> infectee_case_id", name="not_self"),
    )


class AssistRequest(Base):
    """A request to another jurisdiction to manage a contact who lives there (协查).

    It carries only what the receiver needs (who, which category, the last exposure); the receiver sees
    the person through it, the sender sees its state and outcome.
    """

    __tablename__ = "tracing_assist_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("tracing_contacts.id"), index=True)
    sender_jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    sender_jpath: Mapped[str] = mapped_column(PathString)
    receiver_jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    receiver_jpath: Mapped[str] = mapped_column(PathString)
    category: Mapped[ContactCategory] = mapped_column(Enum(ContactCategory, native_enum=False, length=20))
    last_exposure: Mapped[dt.date] = mapped_column(Date)
    setting: Mapped[str | None] = mapped_column(String(30))
    pii: Mapped[bytes] = mapped_column(LargeBinary)
    id_hash: Mapped[str | None] = mapped_column(HashString)
    name_masked: Mapped[str] = mapped_column(String(60))
    id_masked: Mapped[str | None] = mapped_column(String(18))
    phone_masked: Mapped[str | None] = mapped_column(String(11))
    sex: Mapped[str | None] = mapped_column(String(1))
    age: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(500), info={"personal_text": True})
    status: Mapped[AssistStatus] = mapped_column(Enum(AssistStatus, native_enum=False, length=16))
    sent_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    sent_by: Mapped[int | None] = mapped_column(Integer)
    acknowledge_due: Mapped[dt.datetime] = mapped_column(Instant)
    locate_due: Mapped[dt.datetime] = mapped_column(Instant)
    plan_due: Mapped[dt.datetime] = mapped_column(Instant)
    report_due: Mapped[dt.datetime] = mapped_column(Instant)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    located_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    plan_applied_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    reported_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    handled_by: Mapped[int | None] = mapped_column(Integer)
    # The receiver's registry person: never shown to the sender.
    located_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    plan_summary: Mapped[str | None] = mapped_column(String(300), info={"personal_text": True})
    outcome: Mapped[str | None] = mapped_column(String(300), info={"personal_text": True})
    declined_reason: Mapped[str | None] = mapped_column(String(300), info={"personal_text": True})

    __table_args__ = (
        Index("ix_tracing_assist_requests_sender_jpath_id", "sender_jpath", "id"),
        Index("ix_tracing_assist_requests_receiver_jpath_id", "receiver_jpath", "id"),
        Index("ix_tracing_assist_requests_located_person_id", "located_person_id"),
    )
