"""Computing a person's plan: from the facts, restarted by a later exposure, replaced on an upgrade to
another category.
"""

from __future__ import annotations

import datetime as dt

from fangkong.protocol.plan.model import ManagementPlan, PlanError, PlanFacts, PlanTemplate
from fangkong.protocol.plan.templates import _book
from fangkong.protocol.schema import Protocol, Trigger


def _plan_from_template(template: PlanTemplate, facts: PlanFacts) -> ManagementPlan:
    if not template.stages:
        clock = facts.clock_date(template.clock) if template.clock else None
        return ManagementPlan(template, clock)
    assert template.clock is not None  # checks.py: a category with stages names its clock
    clock_date = facts.clock_date(template.clock)
    if clock_date is None:
        raise PlanError(
            f"{template.category} under {template.protocol_id} counts from "
            f"{template.clock.replace('_', ' ')}, which the facts do not give"
        )
    return ManagementPlan(template, clock_date)


def compute_plan(
    protocol: Protocol, category: str, facts: PlanFacts, existing: ManagementPlan | None = None
) -> ManagementPlan:
    """The plan for a person of ``category`` under ``protocol``.

    With ``existing`` (the person's current plan for the same category and protocol), a later clock date
    restarts the clock and an earlier one changes nothing, so re-planning never shortens a plan.
    """
    if category not in protocol.categories:
        raise PlanError(f"protocol {protocol.id} has no category {category!r}")
    plan = _plan_from_template(_book(protocol).get(category), facts)
    if existing is None:
        return plan
    if existing.category != category or existing.protocol_id != protocol.id:
        raise PlanError(
            "the existing plan is for another category or protocol; use upgrade_plan or replan_for_protocol"
        )
    if existing.clock_date is not None and (
        plan.clock_date is None or plan.clock_date <= existing.clock_date
    ):
        return existing
    return plan


def replan_on_exposure(plan: ManagementPlan, exposure: dt.date) -> ManagementPlan:
    """A new exposure: a later one restarts the clock, an earlier or same-day one changes nothing."""
    if isinstance(exposure, dt.datetime):
        exposure = exposure.date()
    if plan.template.clock != "last_exposure":
        raise PlanError(
            f"the plan for {plan.category} counts from {plan.template.clock}, not from exposure: "
            "classify the new exposure and upgrade instead"
        )
    if plan.clock_date is not None and exposure <= plan.clock_date:
        return plan
    return ManagementPlan(plan.template, exposure)


def upgrade_targets(protocol: Protocol, category: str, trigger: Trigger) -> tuple[str, ...]:
    """Categories a person of ``category`` may become when ``trigger`` happens under ``protocol``."""
    targets: list[str] = []
    for rule in protocol.upgrades:
        if rule.when == trigger and category in rule.from_:
            targets.extend(name for name in rule.to if name not in targets)
    return tuple(targets)


def upgrade_plan(
    protocol: Protocol, plan: ManagementPlan, to: str, facts: PlanFacts, trigger: Trigger
) -> ManagementPlan:
    """Replace ``plan`` by the plan of the category the person is upgraded to.

    Nothing of the old plan is kept: the new category's stages count from its own clock (the last
    exposure to the linked contact for a contact of a contact, the diagnosis for a new case).
    """
    allowed = upgrade_targets(protocol, plan.category, trigger)
    if to not in allowed:
        choices = ", ".join(allowed) or "none"
        raise PlanError(
            f"{protocol.id} has no upgrade from {plan.category} to {to} on {trigger} (allowed: {choices})"
        )
    return compute_plan(protocol, to, facts)
