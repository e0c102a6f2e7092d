"""Multi-point triggering: which signals, in which areas, become which alert. Pure; no database.

Each rule judges the areas of its level. A signal counts for the area whose path is a prefix of the
signal's path (a township's signal counts for its county). An area fires when it has a signal of its own
that no alert under the same key has used yet, and:

* ``single_channel``: always (any channel, or one of the rule's channels);
* ``multi_channel``: at least ``min_channels`` distinct channels signal within ``window_days`` in the
  area, or, with ``neighbours``, in the area and its neighbours;
* ``single_case``: the fresh signal is of a channel whose disease is on the rule's list.

An area gets at most one candidate per key: temporal rules share ``temporal:<area>``, single-case rules
use ``case:<area>:<disease>``, so a cholera case keeps its own 2-hour clock beside a multi-channel alert.
Where several rules fire under one key, the highest colour wins, then the one with more channels.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from fangkong.core.models import Level
from fangkong.surveillance.channels import RuleSpec
from fangkong.surveillance.models import AlertLevel, RuleKind
from fangkong.surveillance.rules import LEVEL_ORDER

WEEK_DAYS = 7


@dataclass(frozen=True)
class Area:
    id: int
    code: str
    name: str
    path: str
    parent_id: int | None
    level: Level


@dataclass(frozen=True)
class SignalFact:
    """One alarmed time point, as fusion sees it."""

    result_id: int
    channel_code: str
    disease: str | None
    weekly: bool
    jurisdiction_id: int
    jpath: str
    period_start: dt.date
    method: str
    observed: float
    expected: float | None
    threshold: float | None

    @property
    def period_end(self) -> dt.date:
        return self.period_start + dt.timedelta(days=WEEK_DAYS - 1 if self.weekly else 0)


@dataclass(frozen=True)
class Rule:
    id: int
    spec: RuleSpec


@dataclass
class Candidate:
    """An alert the rules ask for (or new evidence for an open alert with the same key)."""

    rule: Rule
    area: Area
    key: str
    level: AlertLevel
    signals: list[SignalFact] = field(default_factory=list)
    fresh: list[SignalFact] = field(default_factory=list)

    @property
    def channels(self) -> set[str]:
        return {s.channel_code for s in self.signals}

    @property
    def first_date(self) -> dt.date:
        return min(s.period_start for s in self.signals)

    @property
    def last_date(self) -> dt.date:
        return max(s.period_start for s in self.signals)


def prefixes(path: str) -> list[str]:
    """``/a/b/c/`` -> ``["/a/", "/a/b/", "/a/b/c/"]``."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def area_for(path: str, areas_by_path: Mapping[str, Area]) -> Area | None:
    """The area of ``areas_by_path`` whose path contains ``path`` (itself included)."""
    for prefix in prefixes(path):
        found = areas_by_path.get(prefix)
        if found is not None:
            return found
    return None


def neighbour_map(areas: Sequence[Area], adjacency: Iterable[tuple[int, int]]) -> dict[int, frozenset[int]]:
    """Each area's neighbours: the configured pairs where the area has any, else its siblings."""
    configured: dict[int, set[int]] = defaultdict(set)
    for a, b in adjacency:
        configured[a].add(b)
        configured[b].add(a)
    siblings: dict[tuple[int | None, Level], set[int]] = defaultdict(set)
    for area in areas:
        siblings[(area.parent_id, area.level)].add(area.id)
    result: dict[int, frozenset[int]] = {}
    for area in areas:
        chosen = configured.get(area.id) or siblings[(area.parent_id, area.level)]
        result[area.id] = frozenset(chosen - {area.id})
    return result


def _in_window(signal: SignalFact, start: dt.date, end: dt.date) -> bool:
    return signal.period_start <= end and signal.period_end >= start


def _key(spec: RuleSpec, area: Area, signal: SignalFact) -> str:
    if spec.kind is RuleKind.single_case:
        return f"case:{area.id}:{signal.disease}"
    return f"temporal:{area.id}"


def _rule_candidates(
    rule: Rule,
    signals: Sequence[SignalFact],
    areas_by_path: Mapping[str, Area],
    neighbours: Mapping[int, frozenset[int]],
    as_of: dt.date,
    used: Mapping[str, set[int]],
) -> list[Candidate]:
    spec = rule.spec
    start = as_of - dt.timedelta(days=spec.window_days - 1)
    relevant = [s for s in signals if _in_window(s, start, as_of)]
    if spec.channels:
        relevant = [s for s in relevant if s.channel_code in spec.channels]
    if spec.kind is RuleKind.single_case:
        relevant = [s for s in relevant if s.disease is not None and s.disease in spec.diseases]
    by_area: dict[int, list[SignalFact]] = defaultdict(list)
    area_of: dict[int, Area] = {}
    for s in relevant:
        area = area_for(s.jpath, areas_by_path)
        if area is not None:
            by_area[area.id].append(s)
            area_of[area.id] = area
    found: list[Candidate] = []
    for area_id, own in by_area.items():
        area = area_of[area_id]
        if spec.kind is RuleKind.single_case:
            groups: dict[str, list[SignalFact]] = defaultdict(list)
            for s in own:
                groups[_key(spec, area, s)].append(s)
            for key, group in groups.items():
                fresh = [s for s in group if s.result_id not in used.get(key, set())]
                if fresh:
                    found.append(Candidate(rule, area, key, spec.alert_level, list(group), fresh))
            continue
        key = f"temporal:{area.id}"
        fresh = [s for s in own if s.result_id not in used.get(key, set())]
        if not fresh:
            continue
        evidence = list(own)
        if spec.kind is RuleKind.multi_channel and spec.neighbours:
            for other in neighbours.get(area.id, frozenset()):
                evidence.extend(by_area.get(other, []))
        if len({s.channel_code for s in evidence}) < spec.min_channels:
            continue
        found.append(Candidate(rule, area, key, spec.alert_level, evidence, fresh))
    return found


def fuse(
    signals: Sequence[SignalFact],
    rules: Sequence[Rule],
    areas: Sequence[Area],
    neighbours: Mapping[int, frozenset[int]],
    as_of: dt.date,
    used: Mapping[str, set[int]] | None = None,
) -> list[Candidate]:
    """The alerts the rules ask for on ``as_of``; ``used``: alert key -> signals it already holds."""
    used = used or {}
    by_level: dict[Level, dict[str, Area]] = defaultdict(dict)
    for area in areas:
        by_level[area.level][area.path] = area
    best: dict[str, Candidate] = {}
    for rule in rules:
        for candidate in _rule_candidates(rule, signals, by_level[rule.spec.level], neighbours, as_of, used):
            current = best.get(candidate.key)
            if current is None or (LEVEL_ORDER[candidate.level], len(candidate.channels)) > (
                LEVEL_ORDER[current.level],
                len(current.channels),
            ):
                best[candidate.key] = candidate
    return sorted(best.values(), key=lambda c: (c.area.path, c.key))
