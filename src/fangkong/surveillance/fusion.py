"""Multi-point triggering: which signals, in which areas, become which alert. Pure; no database.

Each rule judges the areas of its level. A signal counts for the area whose path is a prefix of the
signal's path (a township's signal counts for its county). An area fires when it has a signal of its own
that no alert under the same key has used yet, and:

* ``single_channel``: always (any channel, or one of the rule's channels);
* ``multi_channel``: at least ``min_channels`` distinct channels signal within ``window_days`` in the
  area, or, with ``neighbours``, in the area and its neighbours;
* ``single_case``: the fresh signal is of a channel whose disease is on the rule's list.

An area gets at most one candidate per key: temporal rules share ``temporal:<area>``, single-case rules
use ``case:<area>:<disease>``. Where several rules fire under one key, the highest colour wins, then the
one with more channels, and the winner holds the evidence of all of them.

What a signal may be fused with:

* One case, one alert: a signal a single-case rule takes (a cholera case) raises that rule's red
  alert on its 2-hour clock and nothing else; temporal rules do not see it.
* A signal an alert already closed (confirmed as an event or dismissed) is spent: it is evidence of that
  alert only, and no new alert is raised on it or fused with it.
* An alert shows only what its readers may see: its evidence lies within its jurisdiction. When the
  channels an area needs come only with its neighbours' signals, the alert belongs to the lowest
  jurisdiction that holds them all (two sibling counties: their city), under that jurisdiction's
  ``temporal`` key, and is routed to its responders; no neighbour's signal ever joins an area's own
  alert.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
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


def common_path(paths: Iterable[str]) -> str:
    """The path of the lowest jurisdiction that holds every one of ``paths``."""
    split = [[p for p in path.split("/") if p] for path in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if any(part != parts[0] for part in parts):
            break
        common.append(parts[0])
    return "/" + "".join(f"{part}/" for part in common)


def _fresh(signals: Sequence[SignalFact], used: Mapping[str, set[int]], key: str) -> list[SignalFact]:
    return [s for s in signals if s.result_id not in used.get(key, set())]


def _rule_candidates(
    rule: Rule,
    signals: Sequence[SignalFact],
    areas_by_path: Mapping[str, Area],
    neighbours: Mapping[int, frozenset[int]],
    as_of: dt.date,
    used: Mapping[str, set[int]],
    places: Mapping[str, Area],
) -> list[Candidate]:
    spec = rule.spec
    start = as_of - dt.timedelta(days=spec.window_days - 1)
    relevant = [s for s in signals if _in_window(s, start, as_of) and _rule_takes(spec, s)]
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
                fresh = _fresh(group, used, key)
                if fresh:
                    found.append(Candidate(rule, area, key, spec.alert_level, list(group), fresh))
            continue
        if len({s.channel_code for s in own}) >= spec.min_channels:
            key = f"temporal:{area.id}"
            fresh = _fresh(own, used, key)
            if fresh:
                found.append(Candidate(rule, area, key, spec.alert_level, list(own), fresh))
            continue
        if not (spec.kind is RuleKind.multi_channel and spec.neighbours):
            continue
        # The area alone falls short: with its neighbours' signals the alert belongs to the lowest
        # jurisdiction that holds them all, so that everyone who reads it may see all of its evidence.
        nearby = [other for other in sorted(neighbours.get(area.id, frozenset())) if by_area.get(other)]
        evidence = list(own) + [s for other in nearby for s in by_area[other]]
        if len({s.channel_code for s in evidence}) < spec.min_channels:
            continue
        owner = places.get(common_path([area.path, *(area_of[other].path for other in nearby)]))
        if owner is None:
            continue
        key = f"temporal:{owner.id}"
        fresh = _fresh(own, used, key)
        if fresh:
            found.append(Candidate(rule, owner, key, spec.alert_level, evidence, fresh))
    return found


def _rule_takes(spec: RuleSpec, signal: SignalFact) -> bool:
    """Whether a rule reads this kind of signal at all (its channels, its diseases)."""
    if spec.channels and signal.channel_code not in spec.channels:
        return False
    if spec.kind is RuleKind.single_case:
        return signal.disease is not None and signal.disease in spec.diseases
    return True


def _claimed_by_single_cases(
    signals: Sequence[SignalFact], rules: Sequence[Rule], by_level: Mapping[Level, Mapping[str, Area]]
) -> set[int]:
    """Signals a single-case rule turns into its own alert (whatever the day): one case, one alert."""
    claimed: set[int] = set()
    for rule in rules:
        if rule.spec.kind is not RuleKind.single_case:
            continue
        for s in signals:
            if _rule_takes(rule.spec, s) and area_for(s.jpath, by_level[rule.spec.level]) is not None:
                claimed.add(s.result_id)
    return claimed


def _merged(winner: Candidate, other: Candidate) -> Candidate:
    """``winner`` holding the evidence of both (two rules, or two areas, asking for one alert)."""
    held = {s.result_id for s in winner.signals}
    fresh = {s.result_id for s in winner.fresh}
    return Candidate(
        winner.rule,
        winner.area,
        winner.key,
        winner.level,
        winner.signals + [s for s in other.signals if s.result_id not in held],
        winner.fresh + [s for s in other.fresh if s.result_id not in fresh],
    )


def fuse(
    signals: Sequence[SignalFact],
    rules: Sequence[Rule],
    areas: Sequence[Area],
    neighbours: Mapping[int, frozenset[int]],
    as_of: dt.date,
    used: Mapping[str, set[int]] | None = None,
    *,
    closed: Collection[int] = (),
    places: Iterable[Area] = (),
) -> list[Candidate]:
    """The alerts the rules ask for on ``as_of``.

    ``used``: alert key -> signals it already holds; ``closed``: signals held by alerts already
    confirmed or dismissed (spent: never fused again); ``places``: the jurisdictions that may own an
    alert spanning neighbouring areas (the ancestors of ``areas``; ``areas`` themselves always may).
    """
    used = used or {}
    spent = set(closed)
    live = [s for s in signals if s.result_id not in spent]
    by_level: dict[Level, dict[str, Area]] = defaultdict(dict)
    for area in areas:
        by_level[area.level][area.path] = area
    owners = {a.path: a for a in (*areas, *places)}
    claimed = _claimed_by_single_cases(live, rules, by_level)
    temporal = [s for s in live if s.result_id not in claimed]
    best: dict[str, Candidate] = {}
    for rule in rules:
        judged = live if rule.spec.kind is RuleKind.single_case else temporal
        for candidate in _rule_candidates(
            rule, judged, by_level[rule.spec.level], neighbours, as_of, used, owners
        ):
            current = best.get(candidate.key)
            if current is None:
                best[candidate.key] = candidate
            elif (LEVEL_ORDER[candidate.level], len(candidate.channels)) > (
                LEVEL_ORDER[current.level],
                len(current.channels),
            ):
                best[candidate.key] = _merged(candidate, current)
            else:
                best[candidate.key] = _merged(current, candidate)
    return sorted(best.values(), key=lambda c: (c.area.path, c.key))
