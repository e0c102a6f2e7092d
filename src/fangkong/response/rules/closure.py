"""Pure rules of the daily closure (日清日结): the shape of its figures, flattening them to
"section.figure" keys, the figure-by-figure diff between two versions and which figures are provisional.

The figures of one jurisdiction's day are a JSON document (``DailyClosure.figures``)::

    {"schema": 1, "day": "2026-12-06", "jurisdiction": {"code", "name", "path"},
     "tasks": {...}, "cases": {...}, "contacts": {"identified", "under_measure": {category: n}},
     "quarantine": {...}, "testing": {...}, "alerts": {...}, "areas": {...},
     "series": {"report": {day: n} x 28, "onset": {day: n} x 28}, "provisional": ["series.onset"]}

Counts by report date are final once published; counts by onset date are provisional, because a case
reported tomorrow may have had its onset today (the UK dashboard's releases marked them the same way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SCHEMA = 1
# Days of the epidemic curve a closure carries, ending on the closure's day.
SERIES_DAYS = 28
# Figures that may still change after publication: the curve by onset date.
PROVISIONAL: tuple[str, ...] = ("series.onset",)

# Every section with its figures, in the order a page shows them. ``contacts.under_measure`` and the
# two series are open maps (protocol category → people, day → cases) and are checked apart.
SECTIONS: dict[str, tuple[str, ...]] = {
    "tasks": ("due", "done", "done_on_time", "late", "carried_over", "opened"),
    "cases": ("reported", "total", "confirmed", "asymptomatic", "found_under_management"),
    "contacts": ("identified", "under_measure"),
    "quarantine": ("placed", "released", "occupied", "capacity"),
    "testing": ("due", "done", "overdue", "positive"),
    "alerts": ("raised", "answered", "answered_in_time", "open", "median_response_hours"),
    "areas": ("high", "medium", "designated", "lifted"),
}
SERIES = ("report", "onset")
# Figures that are not counts (a median may be missing when nothing was answered).
NULLABLE = frozenset({"alerts.median_response_hours"})
FLOATS = frozenset({"alerts.median_response_hours"})
# Keys of the document that describe it rather than count anything.
META = ("schema", "day", "jurisdiction", "provisional")

Value = int | float | None


@dataclass(frozen=True)
class Change:
    """One figure that differs between two versions; ``old``/``new`` are ``None`` where it was absent."""

    key: str
    old: Value
    new: Value

    @property
    def change(self) -> Value:
        if self.old is None or self.new is None:
            return None
        delta = self.new - self.old
        return round(delta, 2) if isinstance(delta, float) else delta

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def provisional(self) -> bool:
        return is_provisional(self.key)


def series_window(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the curve a closure of ``day`` carries (``SERIES_DAYS`` days)."""
    return day - dt.timedelta(days=SERIES_DAYS - 1), day


def is_provisional(key: str) -> bool:
    """True for a flattened key (or a section) that may still change after publication."""
    return any(key == p or key.startswith(p + ".") for p in PROVISIONAL)


def flatten(figures: Mapping[str, Any]) -> dict[str, Value]:
    """The figures as ``{"section.figure": value}``, nested maps joined with dots
    (``contacts.under_measure.close_contact``, ``series.report.2026-12-06``), the document's own
    description (schema, day, jurisdiction, provisional) left out; sections in the order they came."""
    flat: dict[str, Value] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for name, inner in value.items():
                walk(f"{prefix}.{name}" if prefix else str(name), inner)
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            flat[prefix] = value
        else:
            raise ValueError(f"{prefix}: not a number ({value!r})")

    for section, value in figures.items():
        if section not in META:
            walk(section, value)
    return flat


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """The figures that differ between two versions, in the order of the newer version (then the
    figures only the older one had)."""
    before, after = flatten(old), flatten(new)
    # A figure only one version has is a change too (None on the other side): a category of people
    # under measure that appeared, a day of the curve that the window no longer covers.
    changes = [Change(k, before.get(k), v) for k, v in after.items() if k not in before or before[k] != v]
    changes += [Change(k, v, None) for k, v in before.items() if k not in after]
    return changes


def _problems_of_section(section: str, value: Any) -> Iterable[str]:
    if not isinstance(value, Mapping):
        yield f"{section}: not a map"
        return
    for figure in SECTIONS[section]:
        key = f"{section}.{figure}"
        if figure not in value:
            yield f"{key}: missing"
            continue
        item = value[figure]
        if key == "contacts.under_measure":
            if not isinstance(item, Mapping) or not all(_is_count(n) for n in item.values()):
                yield f"{key}: not a map of counts"
        elif item is None:
            if key not in NULLABLE:
                yield f"{key}: missing"
        elif key in FLOATS:
            if not isinstance(item, int | float) or isinstance(item, bool):
                yield f"{key}: not a number"
        elif not _is_count(item):
            yield f"{key}: not a count"


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def problems(figures: Mapping[str, Any]) -> list[str]:
    """What is wrong with a figures document (empty when it has the closure's shape)."""
    found: list[str] = []
    if figures.get("schema") != SCHEMA:
        found.append(f"schema: not {SCHEMA}")
    try:
        day = dt.date.fromisoformat(str(figures.get("day")))
    except ValueError:
        found.append("day: not a date")
        day = None
    place = figures.get("jurisdiction")
    if not isinstance(place, Mapping) or not all(
        isinstance(place.get(k), str) for k in ("code", "name", "path")
    ):
        found.append("jurisdiction: needs code, name and path")
    for section in SECTIONS:
        if section not in figures:
            found.append(f"{section}: missing")
        else:
            found.extend(_problems_of_section(section, figures[section]))
    series = figures.get("series")
    if not isinstance(series, Mapping):
        found.append("series: missing")
    else:
        for basis in SERIES:
            curve = series.get(basis)
            if not isinstance(curve, Mapping) or not all(_is_count(n) for n in curve.values()):
                found.append(f"series.{basis}: not a map of counts")
            elif len(curve) != SERIES_DAYS:
                found.append(f"series.{basis}: not {SERIES_DAYS} days")
            elif day is not None and max(curve) != day.isoformat():
                found.append(f"series.{basis}: does not end on the day")
    if list(figures.get("provisional") or []) != list(PROVISIONAL):
        found.append("provisional: not " + ", ".join(PROVISIONAL))
    return found


def assemble(
    day: dt.date,
    jurisdiction: Mapping[str, str],
    sections: Mapping[str, Mapping[str, Any]],
    series: Mapping[str, Mapping[dt.date, int]],
) -> dict[str, Any]:
    """The figures document from its parts (series keyed by date, written as ISO days in order)."""
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "day": day.isoformat(),
        "jurisdiction": {k: jurisdiction[k] for k in ("code", "name", "path")},
    }
    for section, figures in SECTIONS.items():
        document[section] = {figure: sections[section][figure] for figure in figures}
    document["contacts"]["under_measure"] = dict(sorted(sections["contacts"]["under_measure"].items()))
    document["series"] = {
        basis: {d.isoformat(): int(n) for d, n in sorted(series[basis].items())} for basis in SERIES
    }
    document["provisional"] = list(PROVISIONAL)
    return document
