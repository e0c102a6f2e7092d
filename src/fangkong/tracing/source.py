"""Source tracing: rank the cases that may have infected a case whose source is unknown.

Pure: the evidence (exposures between the case and other cases, and places both visited) and each
candidate's timing come in; a ranked list with the reasons comes out. An item of evidence counts when its
time lies in the incubation window before the case's onset (or sampling, for an infection without
symptoms) and the candidate could have been infectious then: from the protocol's contact-window days
before their own onset or sampling until they were isolated.

The weights order candidates for an investigator; they are not probabilities. Inside the window an item
is weighed by the incubation-period density at its lag (lognormal, see ``rules.INCUBATION_LOG_MEAN``)
relative to the density's peak, times a factor for its kind below; items of one candidate combine as
independent chances (1 - Π(1 - w)).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from fangkong.tracing.rules import IncubationWindow

EvidenceKind = Literal["exposure", "shared_place_same_time", "shared_place_same_day"]

# A recorded exposure between the two people is the strongest evidence an investigation yields.
WEIGHT_EXPOSURE = 1.0
# Both at the same place in overlapping time slots: co-presence, but not known to have been close.
WEIGHT_SHARED_TIME = 0.6
# Same place on the same day without overlapping slots: only environmental or unrecorded contact.
WEIGHT_SHARED_DAY = 0.25
# A candidate not yet in their infectious window at the time (before the protocol's days-before-onset):
# longer pre-symptomatic shedding is rare but not excluded.
WEIGHT_BEFORE_INFECTIOUS = 0.2

KIND_WEIGHT: dict[EvidenceKind, float] = {
    "exposure": WEIGHT_EXPOSURE,
    "shared_place_same_time": WEIGHT_SHARED_TIME,
    "shared_place_same_day": WEIGHT_SHARED_DAY,
}


@dataclass(frozen=True, slots=True)
class Timing:
    """What source tracing needs to know about a case's course (local wall-clock times)."""

    case_id: int
    onset: dt.date | None
    sampling: dt.date | None
    isolated_at: dt.datetime | None

    @property
    def anchor(self) -> dt.date | None:
        return self.onset or self.sampling


@dataclass(frozen=True, slots=True)
class Evidence:
    candidate_case_id: int
    kind: EvidenceKind
    at: dt.datetime
    label: str


@dataclass(frozen=True, slots=True)
class Candidate:
    case_id: int
    score: float
    reasons: tuple[str, ...]
    best_lag_days: int | None = None


@dataclass
class _Tally:
    miss: float = 1.0
    reasons: list[str] = field(default_factory=list)
    best: float = 0.0
    best_lag: int | None = None


def incubation_density(days: float, window: IncubationWindow) -> float:
    """Lognormal density of the incubation period at ``days``."""
    if days <= 0:
        return 0.0
    z = (math.log(days) - window.log_mean) / window.log_sd
    return math.exp(-0.5 * z * z) / (days * window.log_sd * math.sqrt(2 * math.pi))


def _peak_density(window: IncubationWindow) -> float:
    mode = math.exp(window.log_mean - window.log_sd**2)
    return incubation_density(mode, window)


def rank_candidates(
    case: Timing,
    evidence: Iterable[Evidence],
    candidates: dict[int, Timing],
    window: IncubationWindow,
    infectious_days_before: int,
    *,
    limit: int = 20,
) -> list[Candidate]:
    """Candidates with at least one item of evidence inside the window, best first."""
    anchor = case.anchor
    if anchor is None:
        return []
    anchor_word = "onset" if case.onset is not None else "sampling"
    peak = _peak_density(window)
    tallies: dict[int, _Tally] = {}
    for item in evidence:
        other = candidates.get(item.candidate_case_id)
        if other is None or other.case_id == case.case_id:
            continue
        # Lag measured to the middle of the anchor day, so a same-day item is half a day before.
        lag = (dt.datetime.combine(anchor, dt.time(12)) - item.at).total_seconds() / 86400
        if lag < window.min_days or lag > window.max_days + 1:
            continue
        if other.isolated_at is not None and item.at > other.isolated_at:
            continue
        weight = KIND_WEIGHT[item.kind] * min(1.0, incubation_density(lag, window) / peak)
        note = ""
        other_anchor = other.anchor
        if other_anchor is not None:
            starts = dt.datetime.combine(
                other_anchor - dt.timedelta(days=infectious_days_before), dt.time.min
            )
            if item.at < starts:
                weight *= WEIGHT_BEFORE_INFECTIOUS
                note = f", before their infectious window (from {starts.date()})"
        tally = tallies.setdefault(item.candidate_case_id, _Tally())
        tally.miss *= 1.0 - weight
        days = math.floor(lag)
        tally.reasons.append(f"{item.label} on {item.at:%Y-%m-%d %H:%M}, {days} d before {anchor_word}{note}")
        if weight > tally.best:
            tally.best, tally.best_lag = weight, days
    ranked = [
        Candidate(case_id, round(1.0 - t.miss, 4), tuple(t.reasons), t.best_lag)
        for case_id, t in tallies.items()
        if t.miss < 1.0
    ]
    ranked.sort(key=lambda c: (-c.score, c.case_id))
    return ranked[:limit]


def overlap(
    a_start: dt.datetime, a_end: dt.datetime | None, b_start: dt.datetime, b_end: dt.datetime | None
) -> tuple[dt.datetime, bool] | None:
    """When two visits to one place meet: the start of the overlap and True, or the later start and False
    when they are on the same day without overlapping; None when on different days."""
    a_last = a_end or a_start
    b_last = b_end or b_start
    start = max(a_start, b_start)
    if start <= min(a_last, b_last):
        return start, True
    if a_start.date() == b_start.date() or a_last.date() == b_last.date():
        return start, False
    return None
