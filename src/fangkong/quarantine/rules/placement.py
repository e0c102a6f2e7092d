"""Placement of close contacts in the free rooms of quarantine sites: the pure solver of issue 12.

No database and no web here: candidates and free rooms in, one room per placed unit and a reason for
everyone left out. The rules it keeps:

1. One person per single room. A household may share a family room, but only people of the same
   household who are contacts of exactly the same index cases; contacts of different cases never
   share a room.
2. Minors (under 18) and people flagged as needing care go with a carer into an accessible or family
   room. The carer is another person of the same household and the same cases being placed now, aged
   18 to 59, not chronically ill and not needing care themselves. With no such person the minor is
   left unplaced (``no_carer``).
3. Contacts of different cases are kept on different floors or ventilation zones where rooms allow
   (a soft rule: the virus crossed between rooms and floors in Hong Kong and Taiwan quarantine hotels).
4. A person's own county first, then the nearest site by the division tree (same city, same province,
   elsewhere), then the sites' own preference order (tier, then id).
5. Everyone is placed in one action; when rooms are short, people with the earliest transfer deadline
   go first and everyone left out gets a reason.

How: people are first cut into *groups* (a household with one case set, or a person alone), and each
group has a few *plans* for cutting it into rooms (all together; a carer with the dependents and the
others alone; the dependents shared between several carers; the dependents left out and the others
alone). Groups are counted by class (county, plans, urgency tier), the units their plans make by class
(county, need, size, tier) and rooms by class (site, kind, beds). A small integer program over these
classes (HiGHS through ``scipy.optimize``, see ``_Program``) chooses how many groups of each class take
each plan and how many units of each class go to each room class. Distance is routed through one hub
per city, province and "anywhere" for each unit shape, so a province-wide list of 20,000 contacts and
25,000 rooms makes a program of under 10,000 columns rather than millions. The counts are then handed
back to people: the most urgent groups of a class get the best plans, the most urgent units of a class
get the rooms, and each case's units get consecutive rooms of one floor and zone where the site allows
(``_fill_site``), away from air spaces already holding contacts of other cases.

Lone people may take a family or accessible room, and households an accessible room, at a cost, when
that is the only way to place them; rooms with fewer than one bed are ignored.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array

RoomKind = Literal["single", "family", "accessible"]
# What a unit of people needs from a room: one person alone, a household sharing, or people with a carer.
UnitNeed = Literal["single", "family", "care"]

# Rule 2 of issue 12: minors are under 18; carers are adults under 60 ("people aged 60+ ... are never
# carers"). A person of unknown age is neither treated as a minor nor trusted as a carer.
ADULT_AGE = 18  # years
CARER_MAX_AGE = 59  # years

# The objective, per person unless noted. Each term is far larger than everything below it, so the
# program decides in this order: how many are placed (earliest deadlines first), how many stay in their
# own county, how near the others go, and only then the small preferences.
PLACE_REWARD = 100.0  # per person placed
OUTSIDE_OWN_COUNTY = 10.0  # per person placed outside their own county
PER_DIVISION_STEP = 1.0  # per person and step of division_distance (1 same city, 2 province, 3 other)
SPLIT_HOUSEHOLD = 0.5  # per household that could share a room but is split over several
SPLIT_CARERS = 0.3  # per household whose dependents are spread over more than one carer (on top)
UNUSED_BED = 0.05  # per bed left empty in a room, so big rooms stay free for big households
SITE_ORDER_SPAN = 0.5  # per unit: the sites' preference order maps onto [0, 0.5)
# Which room kinds a unit may take and at what cost per unit: the right kind costs nothing; a lone
# person may take a family or accessible room rather than no room, a household an accessible room.
KIND_COST: dict[UnitNeed, dict[RoomKind, float]] = {
    "single": {"single": 0.0, "family": 2.0, "accessible": 3.0},
    "family": {"family": 0.0, "accessible": 2.0},
    "care": {"accessible": 0.0, "family": 0.0},
}
# When rooms are short, deadlines are ranked into at most this many tiers; each tier's reward per
# person exceeds the next tier's by more than the largest unit (so one urgent person outweighs any one
# unit of later ones). More tiers would make the rewards span too many orders of magnitude for HiGHS,
# so instead the tiers where placed and left-out people meet are cut finer and the program run again.
MAX_URGENCY_TIERS = 6
TIER_REFINEMENTS = 2
# Safety net for the integer program on the plan choices; it normally solves in well under a second.
SOLVER_TIME_LIMIT = 60.0  # seconds
INTEGRAL_TOLERANCE = 1e-6  # how far from an integer a solver's value may be and still count as one

UNPLACED_REASONS: dict[str, str] = {
    "no_carer": (
        "A minor or a person needing care has no carer: no other contact of the same household and the "
        "same cases is aged 18 to 59, not chronically ill and not needing care."
    ),
    "no_room_of_kind": (
        "No free room of the kind and size this person needs (an accessible or family room with enough "
        "beds for the person and their carer, or any room at all)."
    ),
    "no_capacity": (
        "Rooms of the right kind exist, but all of them went to people with earlier transfer deadlines."
    ),
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person to place."""

    person_id: int
    county_code: str  # 6-digit county of their home
    household: str | None  # household key (None: lives alone / unknown)
    case_ids: frozenset[int]  # index cases they are contacts of
    age: int | None
    needs_care: bool = False  # care need flagged (a minor needs care by age anyway)
    chronically_ill: bool = False
    deadline_rank: float = 0.0  # smaller = more urgent (e.g. seconds until the transfer deadline)


@dataclass(frozen=True, slots=True)
class FreeRoom:
    """A free room of an open quarantine site."""

    room_id: int
    site_id: int
    county_code: str
    site_order: int  # preference among sites (tier, then id): lower first
    floor: str | None
    zone: str | None  # ventilation zone; floor+zone identify the air space
    kind: RoomKind
    beds: int
    cases_nearby: frozenset[int] = frozenset()  # index cases with contacts already on that floor/zone


@dataclass(frozen=True, slots=True)
class RoomPlacement:
    room_id: int
    person_ids: tuple[int, ...]
    carer_id: int | None  # who is the carer in that room, when one is needed


@dataclass(frozen=True, slots=True)
class Unplaced:
    person_id: int
    reason: str  # a key of UNPLACED_REASONS


@dataclass(frozen=True)
class PlacementResult:
    placed: tuple[RoomPlacement, ...]
    unplaced: tuple[Unplaced, ...]
    own_county_share: float  # share of placed people placed in their own county (0 when none is placed)
    objective: float  # optimum of the integer program (lower is better; 0 when it had nothing to decide)


def division_distance(a: str, b: str) -> int:
    """Steps between two 6-digit county codes: same county 0, same city 1, same province 2, else 3.

    Codes that are not six digits are only ever equal (0) or far apart (3).
    """
    if a == b:
        return 0
    if not (_is_county_code(a) and _is_county_code(b)):
        return 3
    if a[:4] == b[:4]:
        return 1
    if a[:2] == b[:2]:
        return 2
    return 3


def _is_county_code(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def is_dependent(person: Candidate) -> bool:
    """A minor, or anyone flagged as needing care: goes into a room only with a carer."""
    return (person.age is not None and person.age < ADULT_AGE) or person.needs_care


def may_care(person: Candidate) -> bool:
    """Whether this person may be the carer in a room: 18-59, not chronically ill, not needing care."""
    return (
        person.age is not None
        and ADULT_AGE <= person.age <= CARER_MAX_AGE
        and not person.chronically_ill
        and not person.needs_care
    )


# ------------------------------------------------------------------------------------------ groups

Shape = tuple[UnitNeed, int]  # what a unit needs, and how many people it is
Signature = tuple[tuple[Shape, ...], int, float]  # a plan's shapes, people it leaves out, its penalty
GroupKey = tuple[str, tuple[Signature, ...], int]  # county, plans, urgency tier
UnitKey = tuple[str, Shape, int]  # county, shape, urgency tier
HubKey = tuple[int, str, Shape]  # division step, code prefix of the region, shape


@dataclass(frozen=True, slots=True)
class _Unit:
    need: UnitNeed
    people: tuple[int, ...]  # indexes into the candidate list, in input order
    carer: int | None

    @property
    def shape(self) -> Shape:
        return (self.need, len(self.people))


@dataclass(frozen=True, slots=True)
class _Plan:
    units: tuple[_Unit, ...]
    dropped: tuple[int, ...]  # dependents this plan leaves out (their carer's room is not to be had)
    penalty: float

    def signature(self) -> Signature:
        return (tuple(sorted(u.shape for u in self.units)), len(self.dropped), self.penalty)


@dataclass(slots=True)
class _Group:
    first: int  # index of its first member, for a stable order
    county: str
    cases: tuple[int, ...]  # sorted case ids: the key that keeps cases apart
    urgency: float  # the earliest deadline rank of its members
    plans: list[_Plan]
    dropped_reason: str = "no_capacity"


def _singles(members: Iterable[int]) -> tuple[_Unit, ...]:
    return tuple(_Unit("single", (i,), None) for i in members)


def _plans(members: list[int], people: Sequence[Candidate]) -> tuple[list[_Plan], list[int]]:
    """The ways of cutting one group (a household with one case set, or a person) into rooms.

    Returns the plans, best first, and the members who cannot be placed at all for want of a carer.
    """
    dependents = [i for i in members if is_dependent(people[i])]
    carers = [i for i in members if may_care(people[i])]
    no_carer: list[int] = []
    if dependents and not carers:
        no_carer = dependents
        members = [i for i in members if not is_dependent(people[i])]
        dependents = []
    if not members:
        return [], no_carer
    if not dependents:
        if len(members) == 1:
            return [_Plan(_singles(members), (), 0.0)], no_carer
        together = _Plan((_Unit("family", tuple(members), None),), (), 0.0)
        return [together, _Plan(_singles(members), (), SPLIT_HOUSEHOLD)], no_carer
    carer = carers[0]
    plans = [_Plan((_Unit("care", tuple(members), carer),), (), 0.0)]
    with_carer = set(dependents) | {carer}
    if len(members) > len(with_carer):
        care = _Unit("care", tuple(i for i in members if i in with_carer), carer)
        rest = _singles(i for i in members if i not in with_carer)
        plans.append(_Plan((care, *rest), (), SPLIT_HOUSEHOLD))
    k = min(len(carers), len(dependents))
    if k >= 2:
        units = []
        for c, mine in zip(carers[:k], (dependents[j::k] for j in range(k)), strict=True):
            units.append(_Unit("care", tuple(sorted([c, *mine])), c))
        busy = set(dependents) | set(carers[:k])
        rest = _singles(i for i in members if i not in busy)
        plans.append(_Plan((*units, *rest), (), SPLIT_HOUSEHOLD + SPLIT_CARERS))
    cared_for = set(dependents)
    others = [i for i in members if i not in cared_for]
    plans.append(_Plan(_singles(others), tuple(dependents), 0.0))
    return plans, no_carer


# ------------------------------------------------------------------------------------------ rooms


@dataclass(slots=True)
class _RoomClass:
    site_id: int
    county: str
    kind: RoomKind
    beds: int
    site_rank: float  # in [0, 1): the site's place in the preference order
    rooms: list[FreeRoom] = field(default_factory=list)


def _fit_cost(shape: Shape, room: _RoomClass) -> float | None:
    """Cost per unit of putting a unit of this shape in a room of this class, None if it may not go."""
    need, size = shape
    kind_cost = KIND_COST[need].get(room.kind)
    if kind_cost is None or room.beds < size:
        return None
    return kind_cost + UNUSED_BED * (room.beds - size) + SITE_ORDER_SPAN * room.site_rank


# ------------------------------------------------------------------------------------------ program


class _Program:
    """A sparse integer program built column by column: min c·x, A_eq x = b_eq, A_ub x <= b_ub, x >= 0.

    Columns are either *choices* (how many groups of a class take a plan) or *flows* (units from a class
    to a hub or a room class). With the choices fixed, the flows form a network with integer supplies,
    whose matrix is totally unimodular: every vertex is integral. The choices couple a household to
    ``n`` single rooms or one family room, which is not a network, so the relaxation may be fractional
    there (a few dozen of thousands of columns in the benchmark). Hence, in turn:

    1. the LP relaxation (dual simplex, a vertex); integral: done;
    2. else an integer program on the choices only, each between the floor and the ceiling of its
       relaxed value, flows continuous (small: the fractional choices are few);
    3. flows re-solved as an LP with the choices fixed, if step 2 left them fractional (a vertex of a
       network with integer supplies is integral);
    4. the integer solution checked against every row, never assumed.
    """

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.choice: list[bool] = []
        self.rhs: list[float] = []
        self.equal: list[bool] = []
        self.entries: tuple[list[int], list[int], list[float]] = ([], [], [])

    def var(self, cost: float, upper: float = np.inf, choice: bool = False) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.choice.append(choice)
        return len(self.cost) - 1

    def row(self, rhs: float, equal: bool) -> int:
        self.rhs.append(rhs)
        self.equal.append(equal)
        return len(self.rhs) - 1

    def put(self, row: int, col: int, value: float) -> None:
        self.entries[0].append(row)
        self.entries[1].append(col)
        self.entries[2].append(value)

    def solve(self) -> tuple[np.ndarray, float]:
        n = len(self.cost)
        if n == 0:
            return np.zeros(0, dtype=np.int64), 0.0
        rows, cols, vals = self.entries
        matrix = coo_array((vals, (rows, cols)), shape=(len(self.rhs), n)).tocsr()
        cost, upper, rhs = np.array(self.cost), np.array(self.upper), np.array(self.rhs)
        choice, equal = np.array(self.choice), np.array(self.equal)
        a_eq, a_ub = matrix[equal], matrix[~equal]

        def relaxation(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
            result = linprog(
                cost,
                A_ub=a_ub,
                b_ub=rhs[~equal],
                A_eq=a_eq,
                b_eq=rhs[equal],
                bounds=np.column_stack([lower, upper]),
                method="highs-ds",
            )
            if result.x is None:
                raise RuntimeError(f"placement program not solved: {result.message}")
            return np.asarray(result.x, dtype=float)

        x = relaxation(np.zeros(n), upper)
        if not _integral(x):
            lower = np.where(choice, np.floor(x + INTEGRAL_TOLERANCE), 0.0)
            upper_now = np.where(choice, np.ceil(x - INTEGRAL_TOLERANCE), upper)
            lb_rows = np.where(equal, rhs, -np.inf)
            result = milp(
                cost,
                constraints=LinearConstraint(matrix, lb_rows, rhs),
                integrality=choice.astype(np.int8),
                bounds=Bounds(lower, upper_now),
                # The objective mixes rewards of 100 per person with tie-breaks of hundredths, so the
                # default relative gap (1e-4) would stop long before the tie-breaks are settled.
                options={"mip_rel_gap": 0.0, "time_limit": SOLVER_TIME_LIMIT},
            )
            if result.x is None:
                raise RuntimeError(f"placement program not solved: {result.message}")
            x = np.asarray(result.x, dtype=float)
            if not _integral(x):
                fixed = np.where(choice, np.rint(x), 0.0)
                x = relaxation(fixed, np.where(choice, fixed, upper))
        solution = np.rint(x)
        activity = matrix @ solution
        if (
            not _integral(x)
            or np.any(solution < 0)
            or np.any(solution > upper)
            or np.any(np.abs(activity - rhs)[equal] > INTEGRAL_TOLERANCE)
            or np.any(activity[~equal] > rhs[~equal] + INTEGRAL_TOLERANCE)
        ):
            raise RuntimeError("placement program returned no integral feasible solution")
        return solution.astype(np.int64), float(cost @ solution)


def _integral(x: np.ndarray) -> bool:
    return bool(np.abs(x - np.rint(x)).max(initial=0.0) <= INTEGRAL_TOLERANCE)


# ------------------------------------------------------------------------------------------ solver


def plan_placement(candidates: Sequence[Candidate], rooms: Sequence[FreeRoom]) -> PlacementResult:
    """Place everyone who can be placed, each in one room, and give a reason for each person left out."""
    people = list(candidates)
    _check_unique([p.person_id for p in people], "person_id")
    _check_unique([r.room_id for r in rooms], "room_id")
    unplaced: dict[int, str] = {}

    classes = _room_classes(rooms)
    groups = _groups(people, unplaced)
    shape_rooms = _shape_rooms(groups, classes)
    for group in groups:
        feasible = [p for p in group.plans if all(u.shape in shape_rooms for u in p.units)]
        if not any(not p.dropped for p in feasible):
            group.dropped_reason = "no_room_of_kind"
        if not feasible:
            for plan in group.plans:
                for unit in plan.units:
                    unplaced.update((i, "no_room_of_kind") for i in unit.people)
        group.plans = feasible
    groups = [g for g in groups if g.plans]

    solution = _solve(groups, classes, shape_rooms, people, cuts=[])
    urgencies = [g.urgency for g in groups]
    if solution.left_out_tiers and len(set(urgencies)) > 1:
        # Rooms are short: decide again with earlier deadlines worth more, then again with finer tiers
        # where the line between placed and left out runs.
        cuts = _cuts(urgencies, MAX_URGENCY_TIERS)
        solution = _solve(groups, classes, shape_rooms, people, cuts)
        for _ in range(TIER_REFINEMENTS):
            mixed = solution.left_out_tiers & solution.placed_tiers
            if not mixed:
                break
            edges = [-np.inf, *cuts, np.inf]
            start, end = edges[min(mixed)], edges[max(mixed) + 1]
            inside = _cuts([u for u in urgencies if start <= u < end], MAX_URGENCY_TIERS - 2)
            finer = sorted({*inside, *(e for e in (start, end) if np.isfinite(e))})
            if finer == cuts:
                break
            cuts = finer
            solution = _solve(groups, classes, shape_rooms, people, cuts)

    placements: list[RoomPlacement] = []
    by_site: dict[int, list[tuple[int, _Unit, tuple[int, ...]]]] = defaultdict(list)
    for class_index, unit, cases in solution.assigned:
        by_site[classes[class_index].site_id].append((class_index, unit, cases))
    site_classes: dict[int, list[int]] = defaultdict(list)
    for k, room_class in enumerate(classes):
        site_classes[room_class.site_id].append(k)
    for site_id in sorted(by_site):
        for room, unit in _fill_site(by_site[site_id], [(k, classes[k]) for k in site_classes[site_id]]):
            placements.append(
                RoomPlacement(
                    room.room_id, tuple(people[i].person_id for i in unit.people), _carer(people, unit)
                )
            )
    for i, reason in solution.unplaced.items():
        unplaced.setdefault(i, reason)

    placements.sort(key=lambda p: p.room_id)
    room_county = {r.room_id: r.county_code for r in rooms}
    county_of = {p.person_id: p.county_code for p in people}
    placed_people = sum(len(p.person_ids) for p in placements)
    at_home = sum(
        1 for p in placements for person in p.person_ids if county_of[person] == room_county[p.room_id]
    )
    return PlacementResult(
        placed=tuple(placements),
        unplaced=tuple(Unplaced(people[i].person_id, unplaced[i]) for i in sorted(unplaced)),
        own_county_share=at_home / placed_people if placed_people else 0.0,
        objective=solution.objective,
    )


def _carer(people: Sequence[Candidate], unit: _Unit) -> int | None:
    return people[unit.carer].person_id if unit.carer is not None else None


def _check_unique(ids: Sequence[int], name: str) -> None:
    seen: set[int] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"{name} {i} appears more than once")
        seen.add(i)


def _room_classes(rooms: Sequence[FreeRoom]) -> list[_RoomClass]:
    sites = sorted({(r.site_order, r.site_id) for r in rooms})
    rank = {site_id: k / len(sites) for k, (_order, site_id) in enumerate(sites)}
    by_key: dict[tuple[int, str, int], _RoomClass] = {}
    for room in rooms:
        if room.beds < 1:
            continue
        key = (room.site_id, room.kind, room.beds)
        if key not in by_key:
            by_key[key] = _RoomClass(room.site_id, room.county_code, room.kind, room.beds, rank[room.site_id])
        by_key[key].rooms.append(room)
    return [by_key[k] for k in sorted(by_key)]


def _groups(people: Sequence[Candidate], unplaced: dict[int, str]) -> list[_Group]:
    members: dict[tuple[str, frozenset[int]] | int, list[int]] = {}
    for i, person in enumerate(people):
        key = (person.household, person.case_ids) if person.household is not None else i
        members.setdefault(key, []).append(i)
    groups: list[_Group] = []
    for indexes in members.values():
        plans, no_carer = _plans(indexes, people)
        unplaced.update((i, "no_carer") for i in no_carer)
        if not plans:
            continue
        first = people[indexes[0]]
        groups.append(
            _Group(
                first=indexes[0],
                county=first.county_code,
                cases=tuple(sorted(first.case_ids)),
                urgency=min(people[i].deadline_rank for i in indexes),
                plans=plans,
            )
        )
    return groups


def _shape_rooms(
    groups: Sequence[_Group], classes: Sequence[_RoomClass]
) -> dict[Shape, list[tuple[int, float]]]:
    """For each unit shape in use: the room classes it may take, with the cost per unit of each."""
    shapes = {u.shape for g in groups for p in g.plans for u in p.units}
    found: dict[Shape, list[tuple[int, float]]] = {}
    for shape in sorted(shapes):
        fits = [(k, cost) for k, c in enumerate(classes) if (cost := _fit_cost(shape, c)) is not None]
        if fits:
            found[shape] = fits
    return found


@dataclass
class _Solution:
    assigned: list[tuple[int, _Unit, tuple[int, ...]]]  # (room class, unit, its cases)
    unplaced: dict[int, str]
    objective: float
    left_out_tiers: set[int]  # tiers where someone placeable was left out for want of rooms
    placed_tiers: set[int]  # tiers where someone was placed


def _cuts(urgencies: Sequence[float], tiers: int) -> list[float]:
    """Deadline ranks that open each tier after the first, so each tier has as many distinct deadlines."""
    distinct = sorted(set(urgencies))
    tiers = min(tiers, len(distinct))
    return [distinct[k * len(distinct) // tiers] for k in range(1, tiers)]


def _solve(
    groups: Sequence[_Group],
    classes: Sequence[_RoomClass],
    shape_rooms: dict[Shape, list[tuple[int, float]]],
    people: Sequence[Candidate],
    cuts: Sequence[float],
) -> _Solution:
    """Decide with the groups cut into urgency tiers at ``cuts`` (none: all alike)."""
    tier_of = [bisect_right(cuts, g.urgency) for g in groups]
    n_tiers = len(cuts) + 1
    biggest = max((len(u.people) for g in groups for p in g.plans for u in p.units), default=1)
    reward = [PLACE_REWARD * (biggest + 1) ** (n_tiers - 1 - t) for t in range(n_tiers)]

    program = _Program()
    # Group classes: groups of one county, one set of plans and one tier are interchangeable.
    group_classes: dict[GroupKey, list[int]] = defaultdict(list)
    for g, group in enumerate(groups):
        key = (group.county, tuple(p.signature() for p in group.plans), tier_of[g])
        group_classes[key].append(g)
    unit_rows: dict[UnitKey, int] = {}
    plan_vars: dict[GroupKey, list[int]] = {}
    for key, members in group_classes.items():
        county, _signature, tier = key
        row = program.row(len(members), equal=True)
        plans = groups[members[0]].plans
        cols = []
        for plan in plans:
            col = program.var(plan.penalty, upper=len(members), choice=True)
            program.put(row, col, 1.0)
            cols.append(col)
            per_shape: dict[Shape, int] = defaultdict(int)
            for unit in plan.units:
                per_shape[unit.shape] += 1
            for shape, count in per_shape.items():
                unit_key = (county, shape, tier)
                if unit_key not in unit_rows:
                    unit_rows[unit_key] = program.row(0.0, equal=False)
                program.put(unit_rows[unit_key], col, -float(count))
        plan_vars[key] = cols

    # Room classes, and one hub per (region, shape) for each step of division distance.
    room_rows = [program.row(float(len(c.rooms)), equal=False) for c in classes]
    hubs: dict[HubKey, int] = {}
    hub_outs: dict[HubKey, list[tuple[int, int]]] = {}
    # unit class -> its arcs: (column, room class) straight to a room class of its county, or
    # (column, None, hub) to a hub
    unit_arcs: dict[UnitKey, list[tuple[int, int | None, HubKey | None]]] = {}

    def hub(step: int, prefix: str, shape: Shape) -> HubKey | None:
        key = (step, prefix, shape)
        if key not in hubs:
            outs = [
                (k, cost)
                for k, cost in shape_rooms[shape]
                if (step == 3 or _is_county_code(classes[k].county)) and classes[k].county.startswith(prefix)
            ]
            if not outs:
                hubs[key] = -1
                return None
            hubs[key] = program.row(0.0, equal=True)
            hub_outs[key] = []
            for k, cost in outs:
                col = program.var(cost)
                program.put(hubs[key], col, -1.0)
                program.put(room_rows[k], col, 1.0)
                hub_outs[key].append((col, k))
        return key if hubs[key] >= 0 else None

    for unit_key, row in unit_rows.items():
        county, shape, tier = unit_key
        size = shape[1]
        arcs: list[tuple[int, int | None, HubKey | None]] = []
        for k, cost in shape_rooms[shape]:
            if classes[k].county == county:
                col = program.var(cost - reward[tier] * size)
                program.put(row, col, 1.0)
                program.put(room_rows[k], col, 1.0)
                arcs.append((col, k, None))
        prefixes = [(1, county[:4]), (2, county[:2])] if _is_county_code(county) else []
        for step, prefix in [*prefixes, (3, "")]:
            target = hub(step, prefix, shape)
            if target is None:
                continue
            col = program.var((OUTSIDE_OWN_COUNTY + PER_DIVISION_STEP * step - reward[tier]) * size)
            program.put(row, col, 1.0)
            program.put(hubs[target], col, 1.0)
            arcs.append((col, None, target))
        unit_arcs[unit_key] = arcs

    x, objective = program.solve()

    # Hand the counts back to groups: the most urgent groups of a class get the best plans.
    units_of: dict[UnitKey, list[tuple[float, int, _Unit, tuple[int, ...]]]] = defaultdict(list)
    unplaced: dict[int, str] = {}
    left_out_tiers: set[int] = set()
    for key, members in group_classes.items():
        tier = tier_of[members[0]]
        ordered = sorted(members, key=lambda g: (groups[g].urgency, groups[g].first))
        plans = groups[members[0]].plans
        by_quality = sorted(range(len(plans)), key=lambda p: (len(plans[p].dropped), plans[p].penalty, p))
        counts = [int(x[plan_vars[key][p]]) for p in by_quality]
        position = 0
        for p, count in zip(by_quality, counts, strict=True):
            for g in ordered[position : position + count]:
                group = groups[g]
                plan = group.plans[p]
                for i in plan.dropped:
                    unplaced[i] = group.dropped_reason
                    if group.dropped_reason == "no_capacity":
                        left_out_tiers.add(tier)
                for unit in plan.units:
                    urgency = min(people[i].deadline_rank for i in unit.people)
                    units_of[(group.county, unit.shape, tier)].append(
                        (urgency, unit.people[0], unit, group.cases)
                    )
            position += count

    # Hubs pass flow on without saying whose: split each hub's outflow over its inflows in county order,
    # so that one county's units land in as few room classes as possible.
    hub_in: dict[HubKey, list[tuple[UnitKey, int]]] = defaultdict(list)
    sends: dict[UnitKey, list[tuple[int, int]]] = defaultdict(list)
    for unit_key, arcs in sorted(unit_arcs.items()):
        for col, room_class, target in arcs:
            if x[col] == 0:
                continue
            if room_class is not None:
                sends[unit_key].append((room_class, int(x[col])))
            else:
                assert target is not None
                hub_in[target].append((unit_key, int(x[col])))
    for target, inflows in hub_in.items():
        outs = [(k, int(x[col])) for col, k in hub_outs[target] if x[col] > 0]
        outs.sort(key=lambda o: (classes[o[0]].site_rank, o[0]))
        j = 0
        for unit_key, amount in inflows:
            while amount > 0:
                k, available = outs[j]
                take = min(amount, available)
                sends[unit_key].append((k, take))
                amount -= take
                if take == available:
                    j += 1
                else:
                    outs[j] = (k, available - take)

    assigned: list[tuple[int, _Unit, tuple[int, ...]]] = []
    placed_tiers: set[int] = set()
    for unit_key, units in units_of.items():
        units.sort(key=lambda u: (u[0], u[1]))
        total = sum(n for _k, n in sends.get(unit_key, []))
        placed, rest = units[:total], units[total:]
        if placed:
            placed_tiers.add(unit_key[2])
        if rest:
            left_out_tiers.add(unit_key[2])
            for _urgency, _first, unit, _cases in rest:
                unplaced.update((i, "no_capacity") for i in unit.people)
        # Each case's units side by side, so they end up on the same floor where the site allows.
        placed.sort(key=lambda u: (u[3], u[1]))
        position = 0
        for k, n in sends.get(unit_key, []):
            for _urgency, _first, unit, cases in placed[position : position + n]:
                assigned.append((k, unit, cases))
            position += n
    return _Solution(assigned, unplaced, objective, left_out_tiers, placed_tiers)


# ------------------------------------------------------------------------------------------ floors


@dataclass(slots=True)
class _AirSpace:
    key: tuple[str, str]
    present: set[int]  # index cases whose contacts are in it (before and during this placement)
    keys: set[tuple[int, ...]]  # case sets placed in it now
    free: dict[int, list[FreeRoom]]  # room class -> free rooms, highest room id first (pop takes lowest)


def _preference(
    space: _AirSpace, k: int, need: int, mine: set[int], cases: tuple[int, ...]
) -> tuple[object, ...]:
    """Order of air spaces for ``need`` more rooms of class ``k`` for contacts of ``cases``: smaller first.

    Fewest other cases present; then where these cases already are; then a space that had nobody; then
    the space the remaining units fill best (else the biggest); then floor and zone.
    """
    free = len(space.free[k])
    fit = (0, free - need) if free >= need else (1, -free)
    return (len(space.present - mine), cases not in space.keys, not space.present, fit, space.key)


def _fill_site(
    assigned: Sequence[tuple[int, _Unit, tuple[int, ...]]], classes: Sequence[tuple[int, _RoomClass]]
) -> list[tuple[FreeRoom, _Unit]]:
    """Give the units sent to one site their rooms, keeping different cases in different air spaces.

    Greedy, case by case, the biggest first: a case goes where its own cases already are, else to an
    empty floor/zone it fills best, and only when none is left to where the fewest other cases are.
    """
    spaces: dict[tuple[str, str], _AirSpace] = {}
    for k, room_class in classes:
        for room in room_class.rooms:
            key = (room.floor or "", room.zone or "")
            space = spaces.setdefault(key, _AirSpace(key, set(), set(), {}))
            space.present.update(room.cases_nearby)
            space.free.setdefault(k, []).append(room)
    for space in spaces.values():
        for rooms in space.free.values():
            rooms.sort(key=lambda r: r.room_id, reverse=True)

    demand: dict[tuple[int, ...], dict[int, list[_Unit]]] = defaultdict(lambda: defaultdict(list))
    for k, unit, cases in assigned:
        demand[cases][k].append(unit)
    order = sorted(demand, key=lambda c: (-sum(len(u) for u in demand[c].values()), c))

    result: list[tuple[FreeRoom, _Unit]] = []
    for cases in order:
        mine = set(cases)
        for k in sorted(demand[cases]):
            units = demand[cases][k]
            while units:
                need = len(units)
                space = min(
                    (s for s in spaces.values() if s.free.get(k)),
                    key=lambda s: _preference(s, k, need, mine, cases),
                )
                take = min(need, len(space.free[k]))
                for unit in units[:take]:
                    result.append((space.free[k].pop(), unit))
                del units[:take]
                space.present |= mine
                space.keys.add(cases)
    return result
