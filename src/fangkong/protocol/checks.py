"""Rules that look across a protocol document, each problem tied to the key it is about.

Pydantic checks each value on its own; these checks need the whole document: a test day must fall
inside its stage, an upgrade must name categories that exist and must not loop, a risk-area downgrade
must go to a lower tier the protocol defines. Each problem is returned with the key path it concerns so
the loader can name the line.
"""

from __future__ import annotations

from collections.abc import Iterator

from fangkong.protocol.schema import (
    TIER_RANK,
    Category,
    ContactTracing,
    Protocol,
    RegionalTesting,
    RiskAreas,
    ShortenWithNegativeTest,
)

Path = tuple[str | int, ...]
Problem = tuple[Path, str]


def document_problems(protocol: Protocol) -> list[Problem]:
    """Every cross-document problem of ``protocol``, in file order."""
    problems: list[Problem] = []
    for name, category in protocol.categories.items():
        problems.extend(_category_problems(("categories", name), category))
    problems.extend(_upgrade_problems(protocol))
    problems.extend(_tracing_problems(protocol.contact_tracing))
    if protocol.risk_areas is not None:
        problems.extend(_risk_area_problems(protocol.risk_areas))
    if protocol.regional_testing is not None:
        problems.extend(_regional_testing_problems(protocol.regional_testing))
    return problems


def _category_problems(path: Path, category: Category) -> Iterator[Problem]:
    if not category.identified and category.stages:
        yield (*path, "stages"), "a category that is not identified cannot have management stages"
    if category.stages and category.clock is None:
        yield (*path, "clock"), "a category with management stages must say which clock it counts from"
    for i, stage in enumerate(category.stages):
        for j, tests in enumerate(stage.tests):
            for k, day in enumerate(tests.days):
                if day > stage.days:
                    yield (
                        (*path, "stages", i, "tests", j, "days", k),
                        f"test day {day} is outside its stage (days 1..{stage.days} of {stage.type})",
                    )
    for i, rule in enumerate(category.release):
        if isinstance(rule, ShortenWithNegativeTest) and rule.day > category.total_days:
            yield (
                (*path, "release", i, "day"),
                f"early-release day {rule.day} is after the end of the plan (day {category.total_days})",
            )


def _upgrade_problems(protocol: Protocol) -> Iterator[Problem]:
    known = protocol.categories
    edges: dict[str, list[tuple[str, int]]] = {}
    for i, rule in enumerate(protocol.upgrades):
        for key, names in (("from", rule.from_), ("to", rule.to)):
            for k, name in enumerate(names):
                if name not in known:
                    yield ("upgrades", i, key, k), f"unknown category {name!r} (not under categories)"
        if rule.when == "linked_positive_in_first_tests" and rule.first_tests is None:
            yield ("upgrades", i, "first_tests"), "an upgrade on the linked contact's tests needs first_tests"
        for source in rule.from_:
            for target in rule.to:
                edges.setdefault(source, []).append((target, i))
    cycle = _find_cycle(edges)
    if cycle is not None:
        loop, rule_index = cycle
        yield ("upgrades", rule_index, "to"), "cycle in upgrade rules: " + " → ".join(loop)


def _find_cycle(edges: dict[str, list[tuple[str, int]]]) -> tuple[list[str], int] | None:
    """The first cycle found by depth-first search, with the index of the rule that closes it."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> tuple[list[str], int] | None:
        state[node] = 1
        stack.append(node)
        for target, rule_index in edges.get(node, []):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target], rule_index
            if target not in state:
                found = visit(target)
                if found is not None:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in edges:
        if start not in state:
            found = visit(start)
            if found is not None:
                return found
    return None


def _tracing_problems(tracing: ContactTracing) -> Iterator[Problem]:
    path: Path = ("contact_tracing",)
    if (tracing.window is None) != (tracing.close_contact is None):
        missing = "window" if tracing.window is None else "close_contact"
        yield (*path, missing), "the exposure window and the close-contact criteria go together"
    if not tracing.identified and tracing.close_contact is not None:
        yield (*path, "close_contact"), "contacts are not identified, so no close-contact criteria apply"
    window = tracing.window
    if window is not None and window.end == "infectious_period":
        if window.days_after_onset is None:
            yield (*path, "window", "days_after_onset"), "an infectious-period window needs days_after_onset"
        if window.days_after_sampling is None:
            yield (
                (*path, "window", "days_after_sampling"),
                "an infectious-period window needs days_after_sampling",
            )
    second = tracing.contact_of_contact
    if second is not None and second.identified and not second.settings:
        yield (*path, "contact_of_contact", "settings"), "identified contacts of contacts need settings"


def _risk_area_problems(areas: RiskAreas) -> Iterator[Problem]:
    if not areas.designated and areas.tiers:
        yield ("risk_areas", "tiers"), "risk areas are not designated, so no tiers may be defined"
    for tier, rule in areas.tiers.items():
        current = TIER_RANK[tier]
        for i, step in enumerate(rule.downgrade):
            step_path: Path = ("risk_areas", "tiers", tier, "downgrade", i, "to")
            if step.to not in areas.tiers:
                yield step_path, f"downgrade to tier {step.to!r}, which this protocol does not define"
            if TIER_RANK[step.to] >= current:
                yield step_path, f"a downgrade must go to a lower tier ({tier} → {step.to} does not)"
            current = TIER_RANK[step.to]


def _regional_testing_problems(testing: RegionalTesting) -> Iterator[Problem]:
    path: Path = ("regional_testing",)
    if testing.enabled and not testing.completion:
        yield (*path, "completion"), "regional testing is enabled, so completion hours are required"
    bands = testing.completion
    for i, band in enumerate(bands):
        last = i == len(bands) - 1
        if band.up_to_population is None and not last:
            yield (*path, "completion", i), "only the last completion band may be open-ended"
        if i and band.up_to_population is not None:
            previous = bands[i - 1].up_to_population
            if previous is not None and band.up_to_population <= previous:
                yield (*path, "completion", i, "up_to_population"), "population bands must increase"
    sites = testing.people_per_site
    if sites is not None and sites.max < sites.min:
        yield (*path, "people_per_site", "max"), f"max {sites.max} is below min {sites.min}"


__all__ = ["Path", "Problem", "document_problems"]
