"""Proposals of risk areas from cases (pure): which places, at which level, as which unit.

By the protocol in force (protocols.md §4): a case's home and the places it frequents are high (cn-9,
cn-9-20, cn-9-10), the places where it stayed for some time are medium where the protocol has a medium
tier (cn-9 only); cn-10 designates none, and says so. The unit an area may be is read from the words of
the tier's ``unit`` in the protocol file, so that an uploaded protocol is read the same way: the units it
names (before any "never"), the units it forbids (after "never"), and whether the investigation may adjust
them ("adjustable"). cn-9-10 allows only a building, unit, floor or household.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from fangkong.areas.models import RiskLevel, UnitKind
from fangkong.core.i18n import Message, joined
from fangkong.protocol.schema import RiskAreas

# Units from the smallest to the largest: a protocol that names some units allows any smaller one
# (narrower is never "enlarged arbitrarily"), and never a larger one unless it says "adjustable".
UNIT_SIZE: dict[UnitKind, int] = {
    UnitKind.household: 1,
    UnitKind.floor: 2,
    UnitKind.unit: 3,
    UnitKind.building: 4,
    UnitKind.compound: 5,
    UnitKind.village: 5,
    UnitKind.community: 6,
    UnitKind.township: 7,
}

# The words of a protocol file's ``unit`` that name each unit (English and Chinese as the files write them).
_UNIT_WORDS: tuple[tuple[str, UnitKind], ...] = (
    (r"\bcompound\b|小区", UnitKind.compound),
    (r"\bvillage\b|村", UnitKind.village),
    (r"\bbuilding\b|楼栋|幢", UnitKind.building),
    (r"\bunit\b|单元", UnitKind.unit),
    (r"\bfloor\b|楼层", UnitKind.floor),
    (r"\bhousehold\b|户", UnitKind.household),
    (r"\bcommunity\b|社区", UnitKind.community),
    (r"\btownship\b|\bstreet\b|街道|乡镇", UnitKind.township),
)
_NEVER = re.compile(r"\bnever\b|不得|不能")
_ADJUSTABLE = re.compile(r"\badjustable\b|可调整")

# Kinds of link between a case and an area (``RiskAreaCase.link``).
HOME = "home"
FREQUENT = "frequent"
STAYED = "stayed"

# A place a case went to on this many different days is one it frequents (a workplace, a market):
# cn-9 names "workplaces or activity places with frequent activity" high (protocols.md §4, S3, S4).
FREQUENT_PLACE_DAYS = 2


def _named(text: str) -> list[UnitKind]:
    """Units named in ``text``, in the order the text names them."""
    found: list[tuple[int, UnitKind]] = []
    for pattern, kind in _UNIT_WORDS:
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if match is not None:
            found.append((match.start(), kind))
    return [kind for _, kind in sorted(found, key=lambda pair: pair[0])]


@dataclass(frozen=True)
class UnitRule:
    """The units an area of one tier may be, and the one a proposal from a case's home takes."""

    allowed: frozenset[UnitKind]
    home_unit: UnitKind
    # The unit a proposal from a place (a workplace, a shop) takes.
    place_unit: UnitKind


_ALL_UNITS = frozenset(UnitKind)


def unit_rule(unit_text: str | None) -> UnitRule:
    """Read a tier's ``unit`` words: what it names, what it forbids, whether it may be adjusted."""
    if not unit_text or not _named(unit_text):
        # The extent is set by the investigation (cn-9 medium): any unit, a building by default.
        return UnitRule(_ALL_UNITS, UnitKind.building, UnitKind.building)
    never = _NEVER.search(unit_text)
    named = _named(unit_text[: never.start()] if never else unit_text)
    forbidden = set(_named(unit_text[never.end() :])) if never else set()
    if _ADJUSTABLE.search(unit_text):
        allowed = set(_ALL_UNITS)
    else:
        largest = max(UNIT_SIZE[k] for k in named) if named else 0
        allowed = {k for k, size in UNIT_SIZE.items() if size <= largest} | set(named)
    allowed -= forbidden
    home = named[0] if named and named[0] in allowed else min(allowed, key=lambda k: UNIT_SIZE[k])
    place = UnitKind.building if UnitKind.building in allowed else home
    return UnitRule(frozenset(allowed), home, place)


def tier_unit_rule(rules: RiskAreas | None, level: str) -> UnitRule | None:
    """The unit rule of ``level`` under ``rules``; None where the protocol designates no such area."""
    if rules is None or not rules.designated:
        return None
    tier = rules.tiers.get(level)  # type: ignore[call-overload]
    if tier is None or level == RiskLevel.low.value:
        return None
    return unit_rule(tier.unit)


def designates(rules: RiskAreas | None) -> bool:
    return rules is not None and rules.designated


def no_designation_notice(protocol_id: str) -> Message:
    """What a proposal run says under a protocol that designates no risk areas (cn-10)."""
    return Message("the protocol in force ({protocol}) designates no risk areas", protocol=protocol_id)


# ------------------------------------------------------------------------------------------------ places


@dataclass(frozen=True)
class VisitFact:
    """A case's stay at a place, as tracing recorded it (transport excluded by the caller)."""

    visit_id: int
    place_key: str
    place_name: str
    day: dt.date


@dataclass(frozen=True)
class PlaceProposal:
    """A place a case's visits make an area: frequent (high) or a place it stayed (medium)."""

    place_key: str
    place_name: str
    level: str
    link: str
    visit_id: int
    first_day: dt.date


def place_proposals(rules: RiskAreas | None, visits: Sequence[VisitFact]) -> list[PlaceProposal]:
    """One proposal per place of a case's visits, by the protocol: frequented places are high, places it
    stayed at are medium where the protocol has a medium tier (none otherwise)."""
    if not designates(rules):
        return []
    by_place: dict[str, list[VisitFact]] = {}
    for visit in visits:
        by_place.setdefault(visit.place_key, []).append(visit)
    proposals: list[PlaceProposal] = []
    for key, stays in by_place.items():
        stays = sorted(stays, key=lambda v: (v.day, v.visit_id))
        frequent = len({v.day for v in stays}) >= FREQUENT_PLACE_DAYS
        level, link = ("high", FREQUENT) if frequent else ("medium", STAYED)
        if tier_unit_rule(rules, level) is None:
            continue
        first = stays[0]
        proposals.append(PlaceProposal(key, first.place_name, level, link, first.visit_id, first.day))
    return sorted(proposals, key=lambda p: (p.first_day, p.place_name))


# ------------------------------------------------------------------------------------------------ reasons


@dataclass(frozen=True)
class LinkFact:
    """A case behind an area: its number, how it is linked, and the day it was found."""

    case_ref: str
    link: str
    found_on: dt.date


_LINK_WORDS = {
    HOME: "home of {cases}",
    FREQUENT: "frequent place of {cases}",
    STAYED: "{cases} stayed here",
}


def reason_for(links: Sequence[LinkFact]) -> Message:
    """The reason an area shows: the cases behind it, grouped by how each is linked."""
    parts: list[Message] = []
    for link, words in _LINK_WORDS.items():
        refs = sorted({f.case_ref for f in links if f.link == link})
        if refs:
            parts.append(Message(words, cases=refs))
    return joined(parts)
