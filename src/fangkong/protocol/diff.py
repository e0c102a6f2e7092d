"""Two protocols side by side: categories × measures × days × tests, then the other rules, as table rows.

A protocol is flattened into rows keyed by ``(section, subject, item)``; comparing two protocols aligns
their rows on that key, so the same function serves ``protocol show`` (one column) and ``protocol diff``
and the web page that puts the protocol in force beside another. Keys and cells are English (the CLI and
the JSON API); ``Row.labels``/``DiffRow.labels`` and ``Cell.words`` give the same in the reader's language
(``core.i18n.Message``); text written in the protocol file itself is shown as its authors wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fangkong.core.i18n import Message, joined
from fangkong.protocol.plan import rule_message
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
    """What one protocol says for one row: the measure, its days and its tests (empty when absent).

    ``measure`` and ``tests`` are English; ``measure_words`` and ``tests_words`` the same as messages.
    """

    measure: str
    days: int | None = None
    tests: str = ""
    measure_words: Message | None = field(default=None, compare=False)
    tests_words: Message | None = field(default=None, compare=False)
    # The measure is the protocol file's own text, shown as its authors wrote it (pages mark it as such).
    quoted: bool = field(default=False, compare=False)

    @classmethod
    def of(
        cls,
        measure: Message | str,
        days: int | None = None,
        tests: Message | None = None,
        *,
        english: Message | None = None,
    ) -> Cell:
        """A cell from messages (a ``str`` measure is the protocol file's own text).

        ``english`` is the measure for the CLI and the API when it says more than the page does (the
        protocol file's notes, which the page leaves out: they are its authors' English).
        """
        words = measure if isinstance(measure, Message) else Message("{text}", text=measure)
        quoted = not isinstance(measure, Message)
        return cls(str(english or words), days, str(tests) if tests else "", words, tests, quoted)

    @property
    def text(self) -> str:
        return str(self.words)

    @property
    def words(self) -> Message:
        """The whole cell, for the reader's language."""
        measure = self.measure_words or Message("{text}", text=self.measure)
        parts = [measure] if self.measure else []
        if self.days is not None:
            parts.append(Message("{days} d", days=self.days))
        if self.tests:
            parts.append(Message("tests {tests}", tests=self.tests_words or self.tests))
        return joined(parts, "{first}, {rest}") if parts else Message("")


ABSENT = Cell("—")

# Items numbered per protocol ("stage 2"), worded with their number.
_NUMBERED = re.compile(r"(stage|criterion|downgrade) (\d+)")
_FIRST_TESTS = re.compile(r"(.+) \(first (\d+) tests\)")


def _label(key: str) -> Message:
    """A row's section, subject or item key in words (a category key, "stage 2", "case investigation")."""
    numbered = _NUMBERED.fullmatch(key)
    if numbered:
        return Message(f"{numbered.group(1)} {{n}}", ctx="protocol table", n=int(numbered.group(2)))
    first = _FIRST_TESTS.fullmatch(key)
    if first:
        return Message("{when} (first {n} tests)", when=_label(first.group(1)), n=int(first.group(2)))
    return Message(key, ctx="protocol table")


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    subject: str
    item: str
    cell: Cell

    @property
    def labels(self) -> tuple[Message, Message, Message]:
        return _label(self.section), _label(self.subject), _label(self.item)


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

    @property
    def labels(self) -> tuple[Message, Message, Message]:
        return _label(self.section), _label(self.subject), _label(self.item)


def _words(name: str) -> Message:
    """A key of the protocol's vocabulary (``centralized_quarantine``) in words."""
    return Message(name, ctx="protocol table")


def _any_of(names: tuple[str, ...] | list[str]) -> Message:
    return Message("{names}", names=[_words(n) for n in names])


def _tests_text(stage: Stage) -> Message | None:
    parts = []
    for schedule in stage.tests:
        method = schedule.method.upper() if schedule.method == "pcr" else schedule.method
        days = ",".join(str(day) for day in schedule.days)
        if schedule.specimen:
            parts.append(
                Message(
                    "{method} d{days} ({specimen})",
                    method=_words(method),
                    days=days,
                    specimen=_words(schedule.specimen),
                )
            )
        else:
            parts.append(Message("{method} d{days}", method=_words(method), days=days))
    return joined(parts) if parts else None


def _stage_cell(stage: Stage) -> Cell:
    place: Message = _words(stage.place)
    if stage.alternative_place:
        place = Message("{place} or {other}", place=place, other=_words(stage.alternative_place))
    leave = Message("may leave home" if stage.may_leave_home else "may not leave home")
    measure = Message("{stage} ({place}; {leave})", stage=_words(stage.type), place=place, leave=leave)
    if not stage.exit:
        return Cell.of(measure, stage.days, _tests_text(stage))
    words = Message("{measure}; until {rules}", measure=measure, rules=_rules(stage.exit))
    english = Message("{measure}; until {rules}", measure=measure, rules=_rules(stage.exit, notes=True))
    return Cell.of(words, stage.days, _tests_text(stage), english=english)


def _rules(rules: tuple[object, ...], *, notes: bool = False) -> Message:
    """Release rules in words; with ``notes``, each with the protocol file's note as its authors wrote it."""
    parts = []
    for rule in rules:
        words = rule_message(rule)  # type: ignore[arg-type]
        note = getattr(rule, "note", None)
        parts.append(Message("{rule} ({note})", rule=words, note=note) if notes and note else words)
    return joined(parts)


def _category_rows(name: str, category: Category) -> list[Row]:
    section = "categories"
    if not category.identified:
        return [Row(section, name, "status", Cell.of(Message("not identified")))]
    clock = _words(category.clock) if category.clock else "—"
    rows = [Row(section, name, "clock", Cell.of(clock))]
    for number, stage in enumerate(category.stages, start=1):
        rows.append(Row(section, name, f"stage {number}", _stage_cell(stage)))
    if category.stages:
        rows.append(Row(section, name, "total", Cell("", category.total_days)))
    else:
        rows.append(Row(section, name, "stages", Cell.of(Message("no management stages"))))
    if category.release:
        rows.append(
            Row(
                section,
                name,
                "release",
                Cell.of(_rules(category.release), english=_rules(category.release, notes=True)),
            )
        )
    if category.screening is not None:
        screening = category.screening
        text = Message(
            "{method} every {days} d", method=_words(screening.method.upper()), days=screening.every_days
        )
        if screening.supplementary:
            text = Message(
                "{screening}, {method} as a supplement",
                screening=text,
                method=_words(screening.supplementary),
            )
        rows.append(Row(section, name, "screening", Cell.of(text)))
    if category.pre_travel_test_hours is not None:
        within = Message("within {hours} h", hours=category.pre_travel_test_hours)
        rows.append(Row(section, name, "pre-travel test", Cell.of(within)))
    if category.positive_ct_below is not None:
        below = Message("Ct < {ct}", ct=float(category.positive_ct_below))
        rows.append(Row(section, name, "positive if", Cell.of(below)))
    return rows


def _criterion_text(criterion: ContactCriterion) -> Message:
    parts = [_any_of(criterion.settings)]
    if criterion.max_distance_m is not None:
        parts.append(Message("within {distance} m", distance=float(criterion.max_distance_m)))
    if criterion.min_minutes is not None:
        parts.append(Message("≥ {minutes} min", minutes=float(criterion.min_minutes)))
    if criterion.unprotected_only:
        parts.append(Message("without protection"))
    return joined(parts)


def _yes_no(value: bool) -> Message:
    return Message("yes" if value else "no")


def _tracing_rows(protocol: Protocol) -> list[Row]:
    section = "contact tracing"
    tracing = protocol.contact_tracing
    rows = [Row(section, "close contacts", "identified", Cell.of(_yes_no(tracing.identified)))]
    if tracing.window is not None:
        w = tracing.window
        end = Message("until the index is isolated")
        if w.end == "infectious_period":
            end = Message(
                "until {onset} d after onset / {sampling} d after sampling",
                onset=w.days_after_onset,
                sampling=w.days_after_sampling,
            )
        text = Message(
            "{onset} d before onset / {sampling} d before sampling, {end}",
            onset=w.days_before_onset,
            sampling=w.days_before_sampling,
            end=end,
        )
        rows.append(Row(section, "close contacts", "window", Cell.of(text)))
    if tracing.close_contact is not None:
        for i, criterion in enumerate(tracing.close_contact.criteria, start=1):
            rows.append(Row(section, "close contacts", f"criterion {i}", Cell.of(_criterion_text(criterion))))
    second = tracing.contact_of_contact
    if second is not None:
        text = (
            Message("identified: {settings}", settings=_any_of(second.settings))
            if second.identified
            else Message("not identified")
        )
        rows.append(Row(section, "contacts of close contacts", "rule", Cell.of(text)))
    if tracing.general_contact is not None:
        rows.append(
            Row(section, "general contacts", "settings", Cell.of(_any_of(tracing.general_contact.settings)))
        )
    if protocol.source_tracing is not None:
        text = Message("look back {days} d before onset", days=protocol.source_tracing.lookback_days)
        rows.append(Row(section, "source tracing", "incubation window", Cell.of(text)))
    return rows


def _upgrade_rows(protocol: Protocol) -> list[Row]:
    rows = []
    for rule in protocol.upgrades:
        when = rule.when.replace("_", " ")
        if rule.first_tests:
            when += f" (first {rule.first_tests} tests)"
        targets = Message("→ {targets}", targets=joined([_words(t) for t in rule.to], "{first} or {rest}"))
        for source in rule.from_:
            rows.append(Row("upgrades", source, when, Cell.of(targets)))
    return rows


def _risk_area_rows(areas: RiskAreas | None) -> list[Row]:
    section = "risk areas"
    if areas is None:
        return [Row(section, "risk areas", "designated", Cell.of(Message("not described")))]
    rows = [Row(section, "risk areas", "designated", Cell.of(_yes_no(areas.designated)))]
    if areas.designated:
        lockdown = Message("allowed" if areas.temporary_lockdown_allowed else "not allowed")
        rows.append(Row(section, "risk areas", "temporary lockdown", Cell.of(lockdown)))
    for tier, rule in areas.tiers.items():
        rows.append(Row(section, tier, "measures", Cell.of(rule.measures)))
        if rule.unit:
            rows.append(Row(section, tier, "unit", Cell.of(rule.unit)))
        for i, step in enumerate(rule.downgrade, start=1):
            text = Message(
                "→ {tier} after {days} d with no new infection",
                tier=_words(step.to),
                days=step.no_new_infection_days,
            )
            if step.final_day_screening_negative:
                text = Message("{text} and a negative screening of everyone on the last day", text=text)
            rows.append(Row(section, tier, f"downgrade {i}", Cell.of(text, step.no_new_infection_days)))
        if rule.first_screening_hours:
            within = Message("within {hours} h", hours=rule.first_screening_hours)
            rows.append(Row(section, tier, "first screening", Cell.of(within)))
        if rule.leave_requires_negative_test_hours:
            negative = Message(
                "negative test within {hours} h", hours=rule.leave_requires_negative_test_hours
            )
            rows.append(Row(section, tier, "leaving the city", Cell.of(negative)))
    return rows


def _regional_rows(testing: RegionalTesting | None) -> list[Row]:
    section = "regional testing"
    if testing is None:
        return [Row(section, "regional testing", "enabled", Cell.of(Message("not described")))]
    rows = [Row(section, "regional testing", "enabled", Cell.of(_yes_no(testing.enabled)))]
    if testing.completion:
        bands = []
        for band in testing.completion:
            scope = (
                Message("≤ {people} people", people=f"{band.up_to_population:,}")
                if band.up_to_population
                else Message("any size")
            )
            hours = Message("{hours} h", hours=band.hours)
            bands.append(
                Message("{hours} ({scope})", hours=hours, scope=scope)
                if len(testing.completion) > 1
                else hours
            )
        rows.append(Row(section, "regional testing", "completion", Cell.of(joined(bands))))
    if testing.people_per_site is not None:
        sites = testing.people_per_site
        text = Message("{low}–{high}", low=f"{sites.min:,}", high=f"{sites.max:,}")
        rows.append(Row(section, "regional testing", "people per site", Cell.of(text)))
    if testing.people_per_sampler is not None:
        rows.append(
            Row(section, "regional testing", "people per sampler", Cell(f"{testing.people_per_sampler}"))
        )
    if testing.pool_sizes:
        pools = ", ".join(f"{n}:1" for n in testing.pool_sizes)
        rows.append(Row(section, "regional testing", "pools", Cell(pools)))
    if testing.stop_rule is not None:
        stop = testing.stop_rule
        text = Message(
            "{clean} clean rounds, wait {days} d, {extra} more round(s)",
            clean=stop.clean_rounds,
            days=stop.wait_days,
            extra=stop.extra_rounds,
        )
        rows.append(Row(section, "regional testing", "stop rule", Cell.of(text)))
    return rows


def _deadline_rows(protocol: Protocol) -> list[Row]:
    rows = []
    for name, hours in protocol.deadlines.model_dump().items():
        if hours is not None:
            label = name.removesuffix("_hours").replace("_", " ")
            rows.append(Row("deadlines", label, "hours", Cell.of(Message("{hours} h", hours=hours))))
    return rows


def protocol_rows(protocol: Protocol) -> list[Row]:
    """The protocol as table rows: categories first, then contact tracing, upgrades, areas, testing."""
    rows = [
        Row("general", "protocol", "effective", Cell(protocol.effective.isoformat())),
        Row(
            "general",
            "protocol",
            "day of the clock event",
            Cell.of(Message("day {n}", n=protocol.clock_event_day)),
        ),
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
