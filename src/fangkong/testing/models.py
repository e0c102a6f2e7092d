"""Tables of the testing capability: test orders, regional campaigns and rounds, sampling sites, tubes,
their members (the scanner's bindings), lab results with their versions, and recalls of positive pools.

The mass-testing tables are written set-based (``COPY`` on PostgreSQL): a round of a city of ten million
is a million tubes and ten million bindings. Idempotency lives in unique keys, not in code:

* a binding is unique by ``(device_id, device_seq)`` (a handheld re-sending its queue changes nothing)
  and by ``(round_id, person_id)`` (a person scanned twice in a round is refused);
* a lab result is unique by ``(barcode, version)`` with a content digest, so the same file loaded twice
  writes nothing and a killed load re-run picks up where it stopped;
* a test order is unique by ``(person_id, source, plan_day)``: re-planning updates it in place.
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, Instant, PathString

_enum = {"native_enum": False, "length": 16}


class OrderState(enum.StrEnum):
    open = "open"
    sampled = "sampled"
    resulted = "resulted"
    cancelled = "cancelled"


class TestPlace(enum.StrEnum):
    """Where the sample is taken."""

    __test__ = False  # not a pytest test class

    quarantine_site = "quarantine_site"
    home = "home"
    community_site = "community_site"


class TestResult(enum.StrEnum):
    __test__ = False  # not a pytest test class

    positive = "positive"
    negative = "negative"
    invalid = "invalid"


class CampaignState(enum.StrEnum):
    active = "active"
    stopped = "stopped"


class RoundState(enum.StrEnum):
    open = "open"
    closed = "closed"


class TubeKind(enum.StrEnum):
    pooled = "pooled"  # k people, 1/5/10/20
    single = "single"  # high-risk groups, recall retests
    household = "household"  # one tube per household in sealed areas


class RecallState(enum.StrEnum):
    flagged = "flagged"  # member of a positive pool, to be located
    located = "located"  # found and under the temporary measure
    retested = "retested"  # single-tube retest resulted


class TestOrder(Base):
    """A test a person's plan says is due on a day (a plan's test day becomes an order)."""

    __tablename__ = "testing_orders"
    __test__ = False  # not a pytest test class

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString)
    # The plan's source (e.g. ``contact:42``) and the plan day the test falls on.
    source: Mapped[str] = mapped_column(String(64))
    plan_day: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(10), default="pcr")
    specimen: Mapped[str | None] = mapped_column(String(20))
    place: Mapped[TestPlace] = mapped_column(Enum(TestPlace, **_enum))
    state: Mapped[OrderState] = mapped_column(Enum(OrderState, **_enum), default=OrderState.open)
    # Whether this is the plan's last test (its negative result lets the plan release on time).
    last_test: Mapped[bool] = mapped_column(Boolean, default=False)
    tube_barcode: Mapped[str | None] = mapped_column(String(40), index=True)
    sampled_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    result: Mapped[TestResult | None] = mapped_column(Enum(TestResult, **_enum))
    resulted_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    cancelled_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("person_id", "source", "plan_day", name="uq_testing_orders_plan_day"),
        Index("ix_testing_orders_jpath_due", "jpath", "due_date"),
    )


class Campaign(Base):
    """A regional testing campaign over an area (jurisdictions; risk areas once they exist)."""

    __tablename__ = "testing_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The area's root for scope; the area itself is the campaign's jurisdictions (CampaignArea).
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    pool_size: Mapped[int] = mapped_column(Integer, default=10)
    deadline_hours: Mapped[int] = mapped_column(Integer, default=24)
    state: Mapped[CampaignState] = mapped_column(Enum(CampaignState, **_enum), default=CampaignState.active)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(Instant)

    __table_args__ = (CheckConstraint("pool_size IN (1, 5, 10, 20)", name="ck_testing_campaigns_pool"),)


class CampaignArea(Base):
    """A jurisdiction (usually a community or township) inside a campaign's area."""

    __tablename__ = "testing_campaign_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("testing_campaigns.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    # Sealed (封控) areas take one tube per household.
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("campaign_id", "jurisdiction_id", name="uq_testing_campaign_areas"),)


class CampaignRound(Base):
    """One round of a campaign, to be finished by its deadline."""

    __tablename__ = "testing_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("testing_campaigns.id"), index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    number: Mapped[int] = mapped_column(Integer)
    day: Mapped[dt.date] = mapped_column(Date)
    starts_at: Mapped[dt.datetime] = mapped_column(Instant)
    deadline_at: Mapped[dt.datetime] = mapped_column(Instant)
    state: Mapped[RoundState] = mapped_column(Enum(RoundState, **_enum), default=RoundState.open)
    closed_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    # Community infections (社会面) found by the round, set when it closes: the stop rule reads it.
    community_positives: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("campaign_id", "number", name="uq_testing_rounds_number"),)


class RoundExpected(Base):
    """The population a round expects per community, from the registry when the round opens."""

    __tablename__ = "testing_round_expected"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("testing_rounds.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    expected: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("round_id", "jurisdiction_id", name="uq_testing_round_expected"),)


class SamplingSite(Base):
    """A sampling point (采样点) of a campaign in a community, sized by the rule."""

    __tablename__ = "testing_sampling_sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("testing_campaigns.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    name: Mapped[str] = mapped_column(String(120))
    samplers: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class Laboratory(Base):
    """A laboratory that tests tubes and reports results, with its capacity."""

    __tablename__ = "testing_laboratories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    tests_per_hour: Mapped[int] = mapped_column(Integer, default=0)
    # Results due within this many hours of receiving the samples (protocols.md §7 epi.lab_turnaround).
    turnaround_hours: Mapped[int] = mapped_column(Integer, default=12)


class Tube(Base):
    """A sampling tube by its barcode: pooled, single or one per household."""

    __tablename__ = "testing_tubes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    barcode: Mapped[str] = mapped_column(String(40), unique=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("testing_rounds.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("testing_sampling_sites.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    kind: Mapped[TubeKind] = mapped_column(Enum(TubeKind, **_enum))
    pool_size: Mapped[int] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    received_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    # The latest result version (the history is in testing_lab_results).
    result: Mapped[TestResult | None] = mapped_column(Enum(TestResult, **_enum))
    result_version: Mapped[int] = mapped_column(Integer, default=0)
    resulted_at: Mapped[dt.datetime | None] = mapped_column(Instant)

    __table_args__ = (
        CheckConstraint("members >= 0 AND members <= pool_size", name="ck_testing_tubes_members"),
        CheckConstraint("pool_size IN (1, 5, 10, 20)", name="ck_testing_tubes_pool"),
        # Half of each page free, so that a result or a new count rewrites the row in place without
        # touching the indexes (migration 0021).
        {"postgresql_with": {"fillfactor": 50}},
    )


class TubeMember(Base):
    """A person's sample in a tube: one scan of the handheld (idempotent by device and sequence).

    Ten million rows a round: ``tube_id``, ``round_id`` and ``person_id`` carry no foreign key (each would
    cost a trigger and a row lock per binding, about half the insert; migration 0019 says why that is
    safe), and one unique key ``(person_id, round_id)`` both refuses a person twice in a round and finds a
    person's tests.
    """

    __tablename__ = "testing_tube_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tube_id: Mapped[int] = mapped_column(Integer, index=True)
    round_id: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(Integer)
    jpath: Mapped[str] = mapped_column(PathString)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("testing_orders.id"))
    device_id: Mapped[str] = mapped_column(String(40))
    device_seq: Mapped[int] = mapped_column(Integer)
    scanned_at: Mapped[dt.datetime] = mapped_column(Instant)
    received_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (
        UniqueConstraint("device_id", "device_seq", name="uq_testing_tube_members_device_seq"),
        UniqueConstraint("person_id", "round_id", name="uq_testing_tube_members_person_round"),
        Index("ix_testing_tube_members_round_jpath", "round_id", "jpath"),
    )


class LabResult(Base):
    """One version of a lab's result for a tube; a correction is a new version, never an overwrite."""

    __tablename__ = "testing_lab_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    barcode: Mapped[str] = mapped_column(String(40))
    # No foreign keys (a million rows a round; each key a trigger and a row lock per row): the loader
    # takes both ids from the rows it has just read in the same transaction, and neither tubes nor
    # laboratories are ever deleted (migration 0019). Not indexed: versions are found by barcode
    # (migration 0022).
    tube_id: Mapped[int | None] = mapped_column(Integer)
    laboratory_id: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    result: Mapped[TestResult] = mapped_column(Enum(TestResult, **_enum))
    # Ct values by gene as JSON ({"ORF1ab": 31.2, "N": 29.8}); none for antigen tests.
    ct_values: Mapped[str] = mapped_column(Text, default="{}")
    min_ct: Mapped[float | None] = mapped_column(Float)
    tested_at: Mapped[dt.datetime] = mapped_column(Instant)
    loaded_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    # What was loaded (file name, FHIR report id) and a digest of the row: a reload writes nothing.
    origin: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("barcode", "version", name="uq_testing_lab_results_version"),)


class Recall(Base):
    """A member of a positive pool: flagged, located, retested in a single tube."""

    __tablename__ = "testing_recalls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign keys and no index of its own on tube_id (the unique key below leads with it): a round
    # flags a hundred thousand members, written from the bindings just read in the same transaction;
    # tubes are never deleted and the privacy purge deletes a person's rows by ``person_id`` (0022).
    tube_id: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    state: Mapped[RecallState] = mapped_column(Enum(RecallState, **_enum), default=RecallState.flagged)
    flagged_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    deadline_at: Mapped[dt.datetime] = mapped_column(Instant)
    located_at: Mapped[dt.datetime | None] = mapped_column(Instant)
    retest_barcode: Mapped[str | None] = mapped_column(String(40))
    result: Mapped[TestResult | None] = mapped_column(Enum(TestResult, **_enum))

    __table_args__ = (UniqueConstraint("tube_id", "person_id", name="uq_testing_recalls_member"),)
