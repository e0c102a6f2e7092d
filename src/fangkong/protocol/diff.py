"""Two protocols side by side: categories × measures × days × tests, then the other rules, as table rows.

A protocol is flattened into rows keyed by ``(section, subject, item)``; comparing two protocols aligns
their rows on that key, so the same function serves ``protocol show`` (one column) and ``protocol diff``
and the web page that puts the protocol in force beside another.
"""

from __future__ import annotations

from dataclasses import dataclass

from fangkong.protocol.plan import describe_rule
from fangkong.protocol.schema import (
    Category,
    ContactCriterion,
    Protocol,
    RegionalTesting,
    RiskAreas,
    Stage,
)


@dataclass(frozen=True, slots=True)
class Cell:
    """What one protocol says for one row: the measure, its days and its tests (empty when absent)."""

    measure: str
    days: int | None = None
    tests: str = ""

    @property
    def text(self) -> str:
        parts = [self.measure] if self.measure else []
        if self.days is not None:
            parts.append(f"{self.days} d")
        if self.tests:
            parts.append(f"tests {self.tests}")
        return ", ".join(parts)


ABSENT = Cell("—")


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    subject: str
    item: str
    cell: Cell


@dataclass(frozen=True, slots=True)
class DiffRow:
    section: str
    subject: str
    item: str
    a: Cell
    b: Cell

    @property
    def changed(self) -> bool:
        return self.a != self.b


def _words(name: str) -> str:
    return name.replace("_", " ")


def _tests_text(stage: Stage) -> str:
    parts = []
    for schedule in stage.tests:
        text = f"{schedule.method.upper() if schedule.method == 'pcr' else schedule.method} "
        text += "d" + ",".join(str(day) for day in schedule.days)
        if schedule.specimen:
            text += f" ({schedule.specimen})"
        parts.append(text)
    return "; ".join(parts)


def _stage_cell(stage: Stage) -> Cell:
    place = _words(stage.place)
    if stage.alternative_place:
        place += f" or {_words(stage.alternative_place)}"
    leave = "may leave home" if stage.may_leave_home else "may not leave home"
    measure = f"{_words(stage.type)} ({place}; {leave})"
    if stage.exit:
        measure += "; until " + "; ".join(describe_rule(rule) for rule in stage.exit)
    return Cell(measure, stage.days, _tests_text(stage))


def _category_rows(name: str, category: Category) -> list[Row]:
    section = "categories"
    if not category.identified:
        return [Row(section, name, "status", Cell("not identified"))]
    rows = [Row(section, name, "clock", Cell(_words(category.clock) if category.clock else "—"))]
    for number, stage in enumerate(category.stages, start=1):
        rows.append(Row(section, name, f"stage {number}", _stage_cell(stage)))
    if category.stages:
        rows.append(Row(section, name, "total", Cell("", category.total_days)))
    else:
        rows.append(Row(section, name, "stages", Cell("no management stages")))
    if category.release:
        release = "; ".join(describe_rule(rule) for rule in category.release)
        rows.append(Row(section, name, "release", Cell(release)))
    if category.screening is not None:
        screening = category.screening
        text = f"{screening.method.upper()} every {screening.every_days} d"
        if screening.supplementary:
            text += f", {screening.supplementary} as a supplement"
        rows.append(Row(section, name, "screening", Cell(text)))
    if category.pre_travel_test_hours is not None:
        rows.append(Row(section, name, "pre-travel test", Cell(f"within {category.pre_travel_test_hours} h")))
    if category.positive_ct_below is not None:
        rows.append(Row(section, name, "positive if", Cell(f"Ct < {category.positive_ct_below:g}")))
    return rows


def _criterion_text(criterion: ContactCriterion) -> str:
    text = ", ".join(_words(s) for s in criterion.settings)
    if criterion.max_distance_m is not None:
        text += f"; within {criterion.max_distance_m:g} m"
    if criterion.min_minutes is not None:
        text += f"; ≥ {criterion.min_minutes:g} min"
    if criterion.unprotected_only:
        text += "; without protection"
    return text


def _tracing_rows(protocol: Protocol) -> list[Row]:
    section = "contact tracing"
    tracing = protocol.contact_tracing
    rows = [Row(section, "close contacts", "identified", Cell("yes" if tracing.identified else "no"))]
    if tracing.window is not None:
        w = tracing.window
        end = "until the index is isolated"
        if w.end == "infectious_period":
            end = f"until {w.days_after_onset} d after onset / {w.days_after_sampling} d after sampling"
        text = f"{w.days_before_onset} d before onset / {w.days_before_sampling} d before sampling, {end}"
        rows.append(Row(section, "close contacts", "window", Cell(text)))
    if tracing.close_contact is not None:
        for i, criterion in enumerate(tracing.close_contact.criteria, start=1):
            rows.append(Row(section, "close contacts", f"criterion {i}", Cell(_criterion_text(criterion))))
    second = tracing.contact_of_contact
    if second is not None:
        text = (
            "identified: " + ", ".join(_words(s) for s in second.settings)
            if second.identified
            else "not identified"
        )
        rows.append(Row(section, "contacts of close contacts", "rule", Cell(text)))
    if tracing.general_contact is not None:
        text = ", ".join(_words(s) for s in tracing.general_contact.settings)
        rows.append(Row(section, "general contacts", "settings", Cell(text)))
    if protocol.source_tracing is not None:
        text = f"look back {protocol.source_tracing.lookback_days} d before onset"
        rows.append(Row(section, "source tracing", "incubation window", Cell(text)))
    return rows


def _upgrade_rows(protocol: Protocol) -> list[Row]:
    rows = []
    for rule in protocol.upgrades:
        when = _words(rule.when)
        if rule.first_tests:
            when += f" (first {rule.first_tests} tests)"
        for source in rule.from_:
            rows.append(Row("upgrades", source, when, Cell("→ " + " or ".join(rule.to))))
    return rows


def _risk_area_rows(areas: RiskAreas | None) -> list[Row]:
    section = "risk areas"
    if areas is None:
        return [Row(section, "risk areas", "designated", Cell("not described"))]
    rows = [Row(section, "risk areas", "designated", Cell("yes" if areas.designated else "no"))]
    if areas.designated:
        lockdown = "allowed" if areas.temporary_lockdown_allowed else "not allowed"
        rows.append(Row(section, "risk areas", "temporary lockdown", Cell(lockdown)))
    for tier, rule in areas.tiers.items():
        rows.append(Row(section, tier, "measures", Cell(rule.measures)))
        if rule.unit:
            rows.append(Row(section, tier, "unit", Cell(rule.unit)))
        for i, step in enumerate(rule.downgrade, start=1):
            text = f"→ {step.to} after {step.no_new_infection_days} d with no new infection"
            if step.final_day_screening_negative:
                text += " and a negative screening of everyone on the last day"
            rows.append(Row(section, tier, f"downgrade {i}", Cell(text, step.no_new_infection_days)))
        if rule.first_screening_hours:
            rows.append(Row(section, tier, "first screening", Cell(f"within {rule.first_screening_hours} h")))
        if rule.leave_requires_negative_test_hours:
            hours = rule.leave_requires_negative_test_hours
            rows.append(Row(section, tier, "leaving the city", Cell(f"negative test within {hours} h")))
    return rows


def _regional_rows(testing: RegionalTesting | None) -> list[Row]:
    section = "regional testing"
    if testing is None:
        return [Row(section, "regional testing", "enabled", Cell("not described"))]
    rows = [Row(section, "regional testing", "enabled", Cell("yes" if testing.enabled else "no"))]
    if testing.completion:
        bands = []
        for band in testing.completion:
            scope = f"≤ {band.up_to_population:,} people" if band.up_to_population else "any size"
            bands.append(f"{band.hours} h ({scope})" if len(testing.completion) > 1 else f"{band.hours} h")
        rows.append(Row(section, "regional testing", "completion", Cell("; ".join(bands))))
    if testing.people_per_site is not None:
        sites = testing.people_per_site
        rows.append(Row(section, "regional testing", "people per site", Cell(f"{sites.min:,}–{sites.max:,}")))
    if testing.people_per_sampler is not None:
        rows.append(
            Row(section, "regional testing", "people per sampler", Cell(f"{testing.people_per_sampler}"))
        )
    if testing.pool_sizes:
        pools = ", ".join(f"{n}:1" for n in testing.pool_sizes)
        rows.append(Row(section, "regional testing", "pools", Cell(pools)))
    if testing.stop_rule is not None:
        stop = testing.stop_rule
        text = f"{stop.clean_rounds} clean rounds, wait {stop.wait_days} d, {stop.extra_rounds} more round(s)"
        rows.append(Row(section, "regional testing", "stop rule", Cell(text)))
    return rows


def _deadline_rows(protocol: Protocol) -> list[Row]:
    rows = []
    for name, hours in protocol.deadlines.model_dump().items():
        if hours is not None:
            label = _words(name.removesuffix("_hours"))
            rows.append(Row("deadlines", label, "hours", Cell(f"{hours} h")))
    return rows


def protocol_rows(protocol: Protocol) -> list[Row]:
    """The protocol as table rows: categories first, then contact tracing, upgrades, areas, testing."""
    rows = [
        Row("general", "protocol", "effective", Cell(protocol.effective.isoformat())),
        Row("general", "protocol", "day of the clock event", Cell(f"day {protocol.clock_event_day}")),
    ]
    for name, category in protocol.categories.items():
        rows.extend(_category_rows(name, category))
    rows.extend(_tracing_rows(protocol))
    rows.extend(_upgrade_rows(protocol))
    rows.extend(_risk_area_rows(protocol.risk_areas))
    rows.extend(_regional_rows(protocol.regional_testing))
    rows.extend(_deadline_rows(protocol))
    return rows


def diff_protocols(a: Protocol, b: Protocol, changed_only: bool = False) -> list[DiffRow]:
    """Rows of ``a`` and ``b`` aligned; a row one protocol lacks shows ``—`` on that side."""
    rows_a = {(r.section, r.subject, r.item): r.cell for r in protocol_rows(a)}
    rows_b = {(r.section, r.subject, r.item): r.cell for r in protocol_rows(b)}
    order = _merged_order(list(rows_a), list(rows_b))
    result = [DiffRow(*key, a=rows_a.get(key, ABSENT), b=rows_b.get(key, ABSENT)) for key in order]
    return [row for row in result if row.changed] if changed_only else result


_SECTIONS = [
    "general",
    "categories",
    "contact tracing",
    "upgrades",
    "risk areas",
    "regional testing",
    "deadlines",
]


def _merged_order(
    first: list[tuple[str, str, str]], second: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    # Rows of ``b`` that ``a`` lacks go right after the last row of the same section and subject, so a
    # category's stages stay together.
    order = list(first)
    seen = set(first)
    for key in second:
        if key in seen:
            continue
        position = len(order)
        for i in range(len(order) - 1, -1, -1):
            if order[i][:2] == key[:2]:
                position = i + 1
                break
        else:
            for i in range(len(order) - 1, -1, -1):
                if _SECTIONS.index(order[i][0]) <= _SECTIONS.index(key[0]):
                    position = i + 1
                    break
            else:
                position = 0
        order.insert(position, key)
        seen.add(key)
    return order
