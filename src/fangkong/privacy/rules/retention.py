"""Record classes and their retention rules, as data.

A record class is a kind of personal record (a management plan, a case, a test result...) named by its
table and the column it counts from; a capability's rule decides that date (a plan counts from its
release, a case from its closure, a test from its result). The privacy module never imports the
capability's models: it resolves the table by name in the metadata, so the list below is the one place
that says which date each class counts from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.core.i18n import Message

DELETE = "delete"
ANONYMISE = "anonymise"
ACTIONS = (DELETE, ANONYMISE)

# No rule may keep personal records for less than two incubation periods after the date it counts
# from: a person released today may still be linked to a case found within the next 14 days, whose
# tracing needs their record (maximum incubation 14 days, ../shared/reference/protocols.md).
MINIMUM_PERIOD_DAYS = 28

# The default period: the 2021 health-code measures keep logs for 6 months after the purpose is met
# (issue 19); records go at the same time.
DEFAULT_PERIOD_DAYS = 180

# Drill sandboxes hold synthetic people only; they go a month after the drill ends (its score stays).
DRILL_PERIOD_DAYS = 30

# After an emergency is closed its data waits this long before the purge, in case it flares up again
# (one incubation period, ../shared/reference/protocols.md).
CONFIRMATION_DAYS = 14

# A typed rule may not keep anything longer than ten years (a typo guard, not a policy).
MAXIMUM_PERIOD_DAYS = 3650


@dataclass(frozen=True)
class RecordClass:
    """One kind of personal record: its table, the column it counts from, the person column."""

    code: str
    table: str
    counts_from: str
    person_column: str
    default_period_days: int
    default_action: str
    # Acts on whole people (their identity everywhere) rather than on the rows of its table.
    whole_person: bool = False
    # Off by default (kept until an administrator turns the rule on).
    default_active: bool = True


RECORD_CLASSES: tuple[RecordClass, ...] = (
    # People under management count from their release (the plan's end date).
    RecordClass(
        "managed_people",
        "management_plans",
        "end_date",
        "person_id",
        DEFAULT_PERIOD_DAYS,
        ANONYMISE,
        whole_person=True,
    ),
    # Cases count from their closure (the outcome date: recovered, died, excluded).
    RecordClass("cases", "tracing_cases", "outcome_date", "person_id", DEFAULT_PERIOD_DAYS, ANONYMISE),
    # Contacts count from their last change (released, converted or closed).
    RecordClass("contacts", "tracing_contacts", "updated_at", "person_id", DEFAULT_PERIOD_DAYS, ANONYMISE),
    # Exposures count from their report.
    RecordClass("exposures", "tracing_exposures", "created_at", "person_id", DEFAULT_PERIOD_DAYS, DELETE),
    # Test results count from the result.
    RecordClass("test_results", "testing_orders", "resulted_at", "person_id", DEFAULT_PERIOD_DAYS, ANONYMISE),
    # Arrivals count from the arrival day.
    RecordClass("arrivals", "arrivals", "arrived_on", "person_id", DEFAULT_PERIOD_DAYS, ANONYMISE),
    # Doorstep requests count from their last change.
    RecordClass(
        "doorstep_requests", "doorstep_requests", "created_at", "person_id", DEFAULT_PERIOD_DAYS, DELETE
    ),
    # Doses are a person's lifelong immunisation record, not epidemic data: kept unless turned on.
    RecordClass(
        "doses",
        "vaccination_doses",
        "given_on",
        "person_id",
        DEFAULT_PERIOD_DAYS * 10,
        DELETE,
        default_active=False,
    ),
    # Drill sandboxes count from the drill's end; everything in the sandbox goes.
    RecordClass(
        "drill_sandboxes", "modeling_drills", "finished_at", "", DRILL_PERIOD_DAYS, DELETE, whole_person=True
    ),
)

BY_CODE = {c.code: c for c in RECORD_CLASSES}


@dataclass(frozen=True)
class Rule:
    """A record class's rule in force."""

    record_class: str
    period_days: int
    action: str
    active: bool


def default_rules() -> list[Rule]:
    return [Rule(c.code, c.default_period_days, c.default_action, c.default_active) for c in RECORD_CLASSES]


def check_rule(record_class: str, period_days: int, action: str) -> list[tuple[str, Message]]:
    """(field, message) for each problem with a proposed rule; empty when it may be saved."""
    problems: list[tuple[str, Message]] = []
    if record_class not in BY_CODE:
        problems.append(("record_class", Message("Unknown record class.")))
    if action not in ACTIONS:
        problems.append(("action", Message("Choose delete or anonymise.")))
    if period_days < MINIMUM_PERIOD_DAYS:
        problems.append(
            (
                "period_days",
                Message("The period may not be below the minimum of {days} days.", days=MINIMUM_PERIOD_DAYS),
            )
        )
    elif period_days > MAXIMUM_PERIOD_DAYS:
        problems.append(
            ("period_days", Message("The period may not exceed {days} days.", days=MAXIMUM_PERIOD_DAYS))
        )
    return problems


def cutoff(today: dt.date, period_days: int) -> dt.date:
    """Records whose date is before this day are past their period (the period is whole days after)."""
    return today - dt.timedelta(days=max(period_days, MINIMUM_PERIOD_DAYS))
