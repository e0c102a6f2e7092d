"""The protocol model: what a control-protocol file may say, as frozen Pydantic models.

A protocol file (YAML, see ``docs/protocols.md``) is validated against these models. Structural rules
(unknown keys, types, negative days) live here; rules that look across the document (test days inside
their stage, upgrade cycles, references to categories and tiers) live in :mod:`.checks`, so that the
loader can point each problem at its own key and line. Constructing a :class:`Protocol` directly in
Python runs both.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

DEFER_CHECKS = "defer_document_checks"
"""Validation-context flag: the loader runs :mod:`.checks` itself to report lines."""

Tag = Literal["C", "S", "L", "U", "G"]
"""Evidence tags of ``protocols.md``: confirmed, secondary, local, not found, unverified recollection."""

ClockEvent = Literal["last_exposure", "arrival", "area_departure", "diagnosis", "duty_end"]
"""The event a management period counts from."""

StageType = Literal[
    "centralized_quarantine",  # 集中隔离医学观察
    "home_isolation",  # 居家隔离医学观察
    "home_health_monitoring",  # 居家健康监测
    "medical_isolation",  # isolation of an infected person (方舱 or designated hospital)
    "quarantine",  # quarantine where the guidance does not fix the place (WHO, US CDC)
    "self_monitoring",  # free to move, with masks and symptom watch
    "testing_only",  # no restriction beyond the tests (e.g. "3天2检")
]

Place = Literal["quarantine_site", "home", "makeshift_hospital", "designated_hospital", "community"]

TestMethod = Literal["pcr", "antigen"]

Specimen = Literal["oropharyngeal", "nasopharyngeal", "nasal", "any"]

Setting = Literal[
    "any",
    "household",
    "caregiving",
    "clinical_care",
    "aerosol_procedure",
    "physical_contact",
    "face_to_face",
    "office",
    "workshop",
    "lift",
    "canteen",
    "classroom",
    "shared_meal",
    "entertainment",
    "visit",
    "contaminated_environment",
    "aircraft",
    "train",
    "ship",
    "bus",
    "car",
    "mall",
    "market",
    "bus_stop",
    "metro",
    "other",
]
"""Exposure settings the contact rules and the classifier speak of."""

Trigger = Literal["own_positive", "linked_positive_in_first_tests"]
"""What sets off an upgrade: the person's own positive test, or the linked close contact's."""

Tier = Literal["high", "medium", "low"]

TIER_RANK: dict[str, int] = {"high": 3, "medium": 2, "low": 1}

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
ProtocolId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
ParamValue = StrictBool | StrictInt | StrictFloat | StrictStr | list[StrictInt]


def _one_or_many(value: Any) -> Any:
    """Let a file write ``to: close_contact`` for a one-item list."""
    return [value] if isinstance(value, str) else value


Categories = Annotated[tuple[Identifier, ...], BeforeValidator(_one_or_many), Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Parameter(_Model):
    """A value the sources leave open (tag U or G, or a local practice), with its default."""

    default: ParamValue
    value: ParamValue | None = None
    unit: str | None = None
    tag: Tag
    source: str | None = None
    note: str

    @property
    def effective(self) -> ParamValue:
        return self.default if self.value is None else self.value


class StageTests(_Model):
    """Tests due on given days of a stage (day 1 is the stage's first day)."""

    method: TestMethod = "pcr"
    specimen: Specimen | None = None
    days: tuple[Annotated[int, Field(ge=1)], ...] = Field(min_length=1)
    note: str | None = None

    @field_validator("days")
    @classmethod
    def _increasing(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if any(b <= a for a, b in itertools.pairwise(days)):
            raise ValueError(f"test days must be strictly increasing, got {list(days)}")
        return days


class AllTestsNegative(_Model):
    rule: Literal["all_tests_negative"]
    note: str | None = None


class FinalTestNegative(_Model):
    rule: Literal["final_test_negative"]
    note: str | None = None


class LinkedFirstTestsNegative(_Model):
    """The linked close contact's first ``count`` tests are all negative."""

    rule: Literal["linked_first_tests_negative"]
    count: int = Field(ge=1)
    note: str | None = None


class CtAtLeast(_Model):
    """Consecutive tests whose Ct values are at or above a threshold, some hours apart."""

    rule: Literal["ct_at_least"]
    threshold: float = Field(gt=0)
    genes: tuple[str, ...] = Field(min_length=1)
    consecutive: int = Field(ge=1)
    min_interval_hours: int = Field(ge=0)
    note: str | None = None


class DoubleSampleDoubleTest(_Model):
    """Two samples tested by different institutions before release (cn-8 "双采双检")."""

    rule: Literal["double_sample_double_test"]
    institutions: int = Field(ge=2)
    note: str | None = None


class ShortenWithNegativeTest(_Model):
    """Optional early release on a plan day with a negative test."""

    rule: Literal["shorten_with_negative_test"]
    day: int = Field(ge=1)
    note: str | None = None


class NegativeTestIfSymptoms(_Model):
    """A person who develops symptoms stays until a negative test."""

    rule: Literal["negative_test_if_symptoms"]
    note: str | None = None


ReleaseRule = Annotated[
    AllTestsNegative
    | FinalTestNegative
    | LinkedFirstTestsNegative
    | CtAtLeast
    | DoubleSampleDoubleTest
    | ShortenWithNegativeTest
    | NegativeTestIfSymptoms,
    Field(discriminator="rule"),
]


class Stage(_Model):
    """One management stage: what, where, how long, and the tests on its days."""

    type: StageType
    days: int = Field(ge=1)
    place: Place
    alternative_place: Place | None = None
    may_leave_home: bool
    daily_health_check: bool = False
    tests: tuple[StageTests, ...] = ()
    exit: tuple[ReleaseRule, ...] = ()
    note: str | None = None


class RoutineScreening(_Model):
    """Standing tests for people under routine screening (no management period)."""

    every_days: int = Field(ge=1)
    method: TestMethod = "pcr"
    supplementary: TestMethod | None = None
    note: str | None = None


class Category(_Model):
    """How people of one category are managed."""

    label: str
    identified: bool = True
    clock: ClockEvent | None = None
    stages: tuple[Stage, ...] = ()
    release: tuple[ReleaseRule, ...] = ()
    screening: RoutineScreening | None = None
    pre_travel_test_hours: int | None = Field(default=None, ge=1)
    positive_ct_below: float | None = Field(default=None, gt=0)
    on_release: str | None = None
    note: str | None = None

    @property
    def total_days(self) -> int:
        return sum(stage.days for stage in self.stages)


class UpgradeRule(_Model):
    """People of the ``from`` categories become one of ``to`` when ``when`` happens."""

    from_: Categories = Field(alias="from")
    to: Categories
    when: Trigger
    first_tests: int | None = Field(default=None, ge=1)
    note: str | None = None


class ContactWindow(_Model):
    """When exposures to an index case count."""

    days_before_onset: int = Field(ge=0)
    days_before_sampling: int = Field(ge=0)
    end: Literal["index_isolated", "infectious_period"]
    days_after_onset: int | None = Field(default=None, ge=0)
    days_after_sampling: int | None = Field(default=None, ge=0)
    symptom_free_days: int | None = Field(default=None, ge=0)
    min_days_after_onset: int | None = Field(default=None, ge=0)
    note: str | None = None


class ContactCriterion(_Model):
    """An exposure that makes a close contact: setting, and distance or duration when they matter."""

    settings: tuple[Setting, ...] = Field(min_length=1)
    max_distance_m: float | None = Field(default=None, gt=0)
    min_minutes: float | None = Field(default=None, gt=0)
    unprotected_only: bool = True
    note: str | None = None


class CloseContactRule(_Model):
    criteria: tuple[ContactCriterion, ...] = Field(min_length=1)
    note: str | None = None


class ContactOfContactRule(_Model):
    identified: bool
    settings: tuple[Setting, ...] = ()
    high_risk_contacts_only: bool = False
    unprotected_only: bool = True
    note: str | None = None


class GeneralContactRule(_Model):
    settings: tuple[Setting, ...] = ()
    protected_close_exposure_is_general: bool = True
    note: str | None = None


class ContactTracing(_Model):
    """Who is a close contact, a contact of a contact, or a general contact."""

    identified: bool
    window: ContactWindow | None = None
    close_contact: CloseContactRule | None = None
    contact_of_contact: ContactOfContactRule | None = None
    general_contact: GeneralContactRule | None = None
    note: str | None = None


class DowngradeStep(_Model):
    to: Tier
    no_new_infection_days: int = Field(ge=1)
    final_day_screening_negative: bool = False


class RiskTier(_Model):
    unit: str | None = None
    criteria: str
    measures: str
    downgrade: tuple[DowngradeStep, ...] = ()
    first_screening_hours: int | None = Field(default=None, ge=1)
    leave_requires_negative_test_hours: int | None = Field(default=None, ge=1)
    note: str | None = None


class RiskAreas(_Model):
    designated: bool
    tiers: dict[Tier, RiskTier] = Field(default_factory=dict)
    temporary_lockdown_allowed: bool = True
    all_clear: str | None = None
    note: str | None = None


class CompletionBand(_Model):
    """Hours to finish a round for places up to a population (the last band is open-ended)."""

    up_to_population: int | None = Field(default=None, ge=1)
    hours: int = Field(ge=1)


class PeopleRange(_Model):
    min: int = Field(ge=1)
    max: int = Field(ge=1)


class StopRule(_Model):
    clean_rounds: int = Field(ge=1)
    wait_days: int = Field(ge=0)
    extra_rounds: int = Field(ge=0)


class RegionalTesting(_Model):
    enabled: bool
    completion: tuple[CompletionBand, ...] = ()
    people_per_site: PeopleRange | None = None
    people_per_sampler: int | None = Field(default=None, ge=1)
    pool_sizes: tuple[Annotated[int, Field(ge=1)], ...] = ()
    stop_rule: StopRule | None = None
    note: str | None = None

    def completion_hours(self, population: int) -> int | None:
        for band in self.completion:
            if band.up_to_population is None or population <= band.up_to_population:
                return band.hours
        return None


class Deadlines(_Model):
    """Hours the response tasks are given; ``None`` where the protocol sets none."""

    case_report_hours: int | None = Field(default=None, ge=1)
    report_verification_hours: int | None = Field(default=None, ge=1)
    case_investigation_hours: int | None = Field(default=None, ge=1)
    event_report_hours: int | None = Field(default=None, ge=1)
    team_on_site_hours: int | None = Field(default=None, ge=1)
    core_information_hours: int | None = Field(default=None, ge=1)
    preliminary_report_hours: int | None = Field(default=None, ge=1)
    close_contact_transfer_hours: int | None = Field(default=None, ge=1)
    contact_of_contact_transfer_hours: int | None = Field(default=None, ge=1)
    lab_turnaround_hours: int | None = Field(default=None, ge=1)


class SourceTracing(_Model):
    lookback_days: int = Field(ge=1)
    note: str | None = None


class Protocol(_Model):
    """A whole control protocol, as one administrator-switchable document."""

    id: ProtocolId
    name: str
    jurisdiction: str
    effective: dt.date
    supersedes: ProtocolId | None = None
    summary: str
    clock_event_day: Literal[0, 1]
    sources: dict[str, str] = Field(default_factory=dict)
    parameters: dict[Identifier, Parameter] = Field(default_factory=dict)
    categories: dict[Identifier, Category] = Field(min_length=1)
    contact_tracing: ContactTracing
    upgrades: tuple[UpgradeRule, ...] = ()
    risk_areas: RiskAreas | None = None
    regional_testing: RegionalTesting | None = None
    deadlines: Deadlines = Field(default_factory=Deadlines)
    source_tracing: SourceTracing | None = None

    @model_validator(mode="after")
    def _document_checks(self, info: ValidationInfo) -> Protocol:
        if info.context and info.context.get(DEFER_CHECKS):
            return self
        from fangkong.protocol.checks import document_problems

        problems = document_problems(self)
        if problems:
            raise ValueError("; ".join(f"{'.'.join(map(str, path))}: {msg}" for path, msg in problems))
        return self

    def category(self, name: str) -> Category:
        try:
            return self.categories[name]
        except KeyError:
            raise KeyError(f"protocol {self.id} has no category {name!r}") from None
