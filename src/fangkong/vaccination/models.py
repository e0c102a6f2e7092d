"""Tables of the vaccination capability: doses, contraindications, each person's evaluated status, the
stored coverage counts (numerators and denominators), outreach attempts and adverse events following
immunization (AEFI).

A dose belongs to a person of the registry and is counted where that person lives (``jpath``, copied
from the registry when the dose is recorded, so scope filters and coverage counts need no join). A
person's status (``vaccination_status``) is derived from their doses and contraindications by the rules
in ``vaccination/rules`` and rewritten whenever either changes or the rules change; coverage is counted
from it into ``vaccination_coverage`` with its denominator beside each numerator, so published rates
always reconcile with the counts behind them.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, Instant, PathString

_enum = {"native_enum": False, "length": 32}


class Platform(enum.StrEnum):
    """The vaccine's technology (the coverage pages and the AEFI rates break down by it)."""

    inactivated = "inactivated"
    vector = "vector"  # adenovirus vector
    protein = "protein"  # recombinant protein subunit
    mrna = "mrna"


class DoseKind(enum.StrEnum):
    primary = "primary"
    booster = "booster"
    second_booster = "second_booster"


class StatusState(enum.StrEnum):
    """Where a person stands, furthest first reached wins (a contraindication overrides the due dose)."""

    unvaccinated = "unvaccinated"
    primary_started = "primary_started"  # at least one dose, series not complete
    primary_complete = "primary_complete"
    boosted = "boosted"
    second_boosted = "second_boosted"


class ContraindicationReason(enum.StrEnum):
    """The only contraindications of the 2022 plan (protocols.md §8, vax.contraindications)."""

    severe_allergy = "severe_allergy"  # prior anaphylaxis or laryngeal oedema: permanent
    fever_acute_infection = "fever_acute_infection"  # postponed while it lasts
    chronic_flare = "chronic_flare"  # acute flare of a severe chronic disease: postponed
    end_stage = "end_stage"  # end-stage disease: permanent


class OutreachMethod(enum.StrEnum):
    phone = "phone"
    door = "door"  # door to door
    mobile_site = "mobile_site"  # a mobile vaccination vehicle or temporary site


class OutreachOutcome(enum.StrEnum):
    appointment = "appointment"
    refused = "refused"
    contraindicated = "contraindicated"
    moved = "moved"
    done_elsewhere = "done_elsewhere"
    no_answer = "no_answer"


class Severity(enum.StrEnum):
    mild = "mild"
    moderate = "moderate"
    severe = "severe"
    death = "death"


class AefiOutcome(enum.StrEnum):
    recovered = "recovered"
    recovering = "recovering"
    sequelae = "sequelae"
    died = "died"
    unknown = "unknown"


class Causality(enum.StrEnum):
    """WHO causality assessment of an AEFI (2nd edition, 2018), recorded after review."""

    a1 = "a1"  # vaccine product-related reaction
    a2 = "a2"  # vaccine quality defect-related reaction
    a3 = "a3"  # immunization error-related reaction
    a4 = "a4"  # immunization anxiety-related reaction
    b1 = "b1"  # indeterminate: temporal relationship consistent, insufficient evidence
    b2 = "b2"  # indeterminate: qualifying factors give conflicting trends
    c = "c"  # coincidental (inconsistent causal association)
    unclassifiable = "unclassifiable"


class Dose(Base):
    __tablename__ = "vaccination_doses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    product: Mapped[str] = mapped_column(String(60))
    platform: Mapped[Platform] = mapped_column(Enum(Platform, **_enum))
    # The person's dose count at this dose (1, 2, 3 ...), as the vaccination system numbers it.
    dose_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[DoseKind] = mapped_column(Enum(DoseKind, **_enum))
    given_on: Mapped[dt.date] = mapped_column(Date)
    site: Mapped[str] = mapped_column(String(100))
    lot: Mapped[str] = mapped_column(String(40))
    # Where the row came from: "import:<file>:<row>" or "api:<user>", for the audit trail.
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        # A person's dose number is recorded once: a re-imported file is refused row by row.
        UniqueConstraint("person_id", "dose_number", name="uq_vaccination_doses_person_number"),
        Index("ix_vaccination_doses_jpath_given_on", "jpath", "given_on"),
        Index("ix_vaccination_doses_lot", "lot"),
    )


class Contraindication(Base):
    __tablename__ = "vaccination_contraindications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    reason: Mapped[ContraindicationReason] = mapped_column(Enum(ContraindicationReason, **_enum))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    # A postponement ends on this day; permanent reasons have none.
    until: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="", info={"personal_text": True})
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class VaccinationStatus(Base):
    """One row per person of the registry, rewritten from their doses by the rules (never typed in)."""

    __tablename__ = "vaccination_status"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    jpath: Mapped[str] = mapped_column(PathString)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[StatusState] = mapped_column(Enum(StatusState, **_enum))
    doses: Mapped[int] = mapped_column(Integer, default=0)
    first_dose_on: Mapped[dt.date | None] = mapped_column(Date)
    primary_complete_on: Mapped[dt.date | None] = mapped_column(Date)
    booster_on: Mapped[dt.date | None] = mapped_column(Date)
    second_booster_on: Mapped[dt.date | None] = mapped_column(Date)
    # The next dose the rules allow and the first day it is due (none when nothing more is offered).
    next_kind: Mapped[DoseKind | None] = mapped_column(Enum(DoseKind, **_enum))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    # The reason a dose is withheld today, if any (the outreach list shows it instead of a due date).
    contraindication: Mapped[ContraindicationReason | None] = mapped_column(
        Enum(ContraindicationReason, **_enum)
    )
    rules_version: Mapped[str] = mapped_column(String(40))
    evaluated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        Index("ix_vaccination_status_jpath_state", "jpath", "state"),
        Index("ix_vaccination_status_due", "jpath", "due_on"),
    )


class CoverageCount(Base):
    """Coverage of one jurisdiction's whole subtree, one age band and one measure, as of a week's end:
    the numerator and the registry denominator it was counted against."""

    __tablename__ = "vaccination_coverage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jpath: Mapped[str] = mapped_column(PathString)
    # The last day counted (a Sunday for past weeks; the refresh day for the week in progress).
    as_of: Mapped[dt.date] = mapped_column(Date)
    band: Mapped[str] = mapped_column(String(8))  # "3-17", "18-59", "60-69", "70-79", "80+", "all"
    measure: Mapped[str] = mapped_column(String(24))  # at_least_one, primary_complete, booster, ...
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("jpath", "as_of", "band", "measure", name="uq_vaccination_coverage"),
        Index("ix_vaccination_coverage_as_of", "as_of"),
    )


class OutreachAttempt(Base):
    __tablename__ = "vaccination_outreach"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    attempted_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[OutreachMethod] = mapped_column(Enum(OutreachMethod, **_enum))
    outcome: Mapped[OutreachOutcome] = mapped_column(Enum(OutreachOutcome, **_enum))
    appointment_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="", info={"personal_text": True})
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class AdverseEvent(Base):
    """An AEFI report card and, after review, its causality."""

    __tablename__ = "vaccination_adverse_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("vaccination_doses.id"), index=True)
    lot: Mapped[str] = mapped_column(String(40), index=True)
    product: Mapped[str] = mapped_column(String(60))
    onset_on: Mapped[dt.date] = mapped_column(Date)
    symptoms: Mapped[str] = mapped_column(Text, info={"personal_text": True})
    severity: Mapped[Severity] = mapped_column(Enum(Severity, **_enum))
    outcome: Mapped[AefiOutcome] = mapped_column(Enum(AefiOutcome, **_enum))
    # Part of a cluster (two or more like events after the same lot or site): reported within 2 h.
    cluster: Mapped[bool] = mapped_column(Boolean, default=False)
    found_at: Mapped[dt.datetime] = mapped_column(Instant)
    # The county CDC must have the card by then (48 h; 2 h for a death or a cluster).
    report_due_at: Mapped[dt.datetime] = mapped_column(Instant)
    reported_to_county_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    causality: Mapped[Causality | None] = mapped_column(Enum(Causality, **_enum))
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reported_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
