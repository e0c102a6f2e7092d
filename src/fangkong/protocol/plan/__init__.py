"""Each person's management plan, computed from the protocol in force: pure, immutable and fast.

A protocol category turns into a :class:`PlanTemplate` once (stages and tests as plan-day numbers);
a person's :class:`ManagementPlan` is that template plus the date its clock counts from, so computing or
re-planning a plan costs one small object and dates are derived on demand. That is what lets a county
re-plan 100,000 people in well under a second when the protocol changes.

Day numbering: plan day ``n`` falls on ``clock_date + (n - clock_event_day)`` days, where the protocol's
``clock_event_day`` says whether the event itself (last exposure, arrival...) is day 0 or day 1. Stage
and test days in protocol files are numbered from 1 within their stage.

Dates assume every condition is met on schedule: a stage with exit rules (e.g. Ct >= 35 twice) or a plan
with release rules lasts longer when they are not met; a positive test is an upgrade, not an extension.

The package holds one module per use case; this module is its public face (callers import from
``fangkong.protocol.plan`` as before):

- :mod:`.model`: the facts, the templates, a person's plan and its dates;
- :mod:`.templates`: a protocol's categories compiled into templates, once per protocol;
- :mod:`.compute`: a person's plan computed, restarted on a later exposure, upgraded;
- :mod:`.schedule`: a plan's tests on a given day (done, missed, due, upcoming);
- :mod:`.switch`: re-planning everyone on a protocol switch, with what changed;
- :mod:`.wording`: release and exit rules in words.
"""

from __future__ import annotations

from fangkong.protocol.plan.compute import compute_plan, replan_on_exposure, upgrade_plan, upgrade_targets
from fangkong.protocol.plan.model import (
    DueTest,
    DueTestTemplate,
    ManagementPlan,
    PlanError,
    PlanFacts,
    PlannedStage,
    PlanStatus,
    PlanTemplate,
    StageTemplate,
)
from fangkong.protocol.plan.schedule import ScheduledState, ScheduledTest, ScheduleOnDay, schedule_on
from fangkong.protocol.plan.switch import PlanChange, count_changes, replan_for_protocol, replan_many
from fangkong.protocol.plan.templates import plan_templates
from fangkong.protocol.plan.wording import describe_rule, rule_message

__all__ = [
    "DueTest",
    "DueTestTemplate",
    "ManagementPlan",
    "PlanChange",
    "PlanError",
    "PlanFacts",
    "PlanStatus",
    "PlanTemplate",
    "PlannedStage",
    "ScheduleOnDay",
    "ScheduledState",
    "ScheduledTest",
    "StageTemplate",
    "compute_plan",
    "count_changes",
    "describe_rule",
    "plan_templates",
    "replan_for_protocol",
    "replan_many",
    "replan_on_exposure",
    "rule_message",
    "schedule_on",
    "upgrade_plan",
    "upgrade_targets",
]
