"""Room placement of close contacts (issue 12): the rules one by one, then invariants on random lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.quarantine.rules.placement import (
    UNPLACED_REASONS,
    Candidate,
    FreeRoom,
    PlacementResult,
    RoomKind,
    division_distance,
    is_dependent,
    may_care,
    plan_placement,
)

HOME = "330102"  # 上城区, Hangzhou
SAME_CITY = "330105"  # 拱墅区, Hangzhou
SAME_PROVINCE = "330203"  # 海曙区, Ningbo
OTHER_PROVINCE = "310101"  # 黄浦区, Shanghai


def person(
    person_id: int,
    age: int | None = 35,
    *,
    county: str = HOME,
    household: str | None = None,
    cases: Sequence[int] = (1,),
    needs_care: bool = False,
    ill: bool = False,
    deadline: float = 0.0,
) -> Candidate:
    return Candidate(
        person_id=person_id,
        county_code=county,
        household=household,
        case_ids=frozenset(cases),
        age=age,
        needs_care=needs_care,
        chronically_ill=ill,
        deadline_rank=deadline,
    )


def room(
    room_id: int,
    kind: RoomKind = "single",
    beds: int = 1,
    *,
    site: int = 1,
    county: str = HOME,
    order: int | None = None,
    floor: str | None = "1",
    zone: str | None = None,
    nearby: Sequence[int] = (),
) -> FreeRoom:
    return FreeRoom(
        room_id=room_id,
        site_id=site,
        county_code=county,
        site_order=site if order is None else order,
        floor=floor,
        zone=zone,
        kind=kind,
        beds=beds,
        cases_nearby=frozenset(nearby),
    )


def room_of(result: PlacementResult) -> dict[int, int]:
    return {p: r.room_id for r in result.placed for p in r.person_ids}


def reasons(result: PlacementResult) -> dict[int, str]:
    return {u.person_id: u.reason for u in result.unplaced}


# ------------------------------------------------------------------------------------------ distance


@pytest.mark.parametrize(
    ("a", "b", "steps"),
    [
        (HOME, HOME, 0),
        (HOME, SAME_CITY, 1),
        (HOME, SAME_PROVINCE, 2),
        (HOME, OTHER_PROVINCE, 3),
        (SAME_PROVINCE, HOME, 2),
        ("3301", "330102", 3),
        ("abc", "abc", 0),
    ],
)
def test_division_distance_follows_the_division_tree(a: str, b: str, steps: int) -> None:
    assert division_distance(a, b) == steps


# ------------------------------------------------------------------------------------------ rule 1


def test_people_alone_get_one_single_room_each() -> None:
    people = [person(i) for i in (1, 2, 3)]
    rooms = [room(i) for i in (10, 11, 12, 13)]
    result = plan_placement(people, rooms)
    assert not result.unplaced
    assert sorted(len(r.person_ids) for r in result.placed) == [1, 1, 1]
    assert len(set(room_of(result).values())) == 3
    assert all(r.carer_id is None for r in result.placed)


def test_a_household_with_the_same_cases_shares_a_family_room() -> None:
    people = [person(1, 40, household="h1"), person(2, 38, household="h1"), person(3, 70, household="h1")]
    rooms = [room(10), room(11), room(12), room(20, "family", 3)]
    result = plan_placement(people, rooms)
    assert [(r.room_id, r.person_ids) for r in result.placed] == [(20, (1, 2, 3))]


def test_a_household_is_split_over_single_rooms_when_no_family_room_fits() -> None:
    people = [person(1, 40, household="h1"), person(2, 38, household="h1"), person(3, 41, household="h1")]
    rooms = [room(10), room(11), room(12), room(20, "family", 2)]
    result = plan_placement(people, rooms)
    assert not result.unplaced
    assert sorted(room_of(result).values()) == [10, 11, 12]


def test_household_members_of_different_cases_never_share_a_room() -> None:
    people = [
        person(1, 40, household="h1", cases=(1,)),
        person(2, 38, household="h1", cases=(2,)),
        person(3, 12, household="h1", cases=(1, 2)),
        person(4, 45, household="h1", cases=(1, 2)),
    ]
    rooms = [room(20, "family", 4), room(21, "family", 4), room(22, "family", 4), room(10), room(11)]
    result = plan_placement(people, rooms)
    assert not result.unplaced
    together = {r.room_id: set(r.person_ids) for r in result.placed}
    assert {frozenset(s) for s in together.values()} == {frozenset({1}), frozenset({2}), frozenset({3, 4})}
    shared = next(r for r in result.placed if 3 in r.person_ids)
    assert shared.carer_id == 4


def test_people_of_different_households_never_share_a_room() -> None:
    people = [person(1, 40, household="h1"), person(2, 38, household="h2")]
    result = plan_placement(people, [room(20, "family", 4)])
    assert len(result.placed) == 1
    assert len(result.placed[0].person_ids) == 1
    assert reasons(result) == {2: "no_capacity"} or reasons(result) == {1: "no_capacity"}


# ------------------------------------------------------------------------------------------ rule 2


@pytest.mark.parametrize("kind", ["accessible", "family"])
def test_a_minor_goes_with_a_carer_into_an_accessible_or_family_room(kind: RoomKind) -> None:
    people = [person(1, 6, household="h1"), person(2, 34, household="h1"), person(3, 36, household="h1")]
    rooms = [room(10), room(11), room(12), room(20, kind, 2)]
    result = plan_placement(people, rooms)
    assert not result.unplaced
    with_child = next(r for r in result.placed if 1 in r.person_ids)
    assert with_child.room_id == 20
    assert with_child.carer_id in (2, 3)
    assert with_child.carer_id in with_child.person_ids
    assert len(with_child.person_ids) == 2


def test_a_person_needing_care_goes_with_a_carer_too() -> None:
    people = [person(1, 82, household="h1", needs_care=True), person(2, 55, household="h1")]
    rooms = [room(10), room(11), room(20, "accessible", 2)]
    result = plan_placement(people, rooms)
    assert [(r.room_id, r.person_ids, r.carer_id) for r in result.placed] == [(20, (1, 2), 2)]


def test_a_whole_family_with_children_shares_one_family_room_when_it_fits() -> None:
    people = [
        person(1, 40, household="h1"),
        person(2, 38, household="h1"),
        person(3, 9, household="h1"),
        person(4, 4, household="h1"),
    ]
    rooms = [room(10), room(11), room(20, "family", 4), room(21, "accessible", 2), room(22, "accessible", 2)]
    result = plan_placement(people, rooms)
    assert [(r.room_id, r.person_ids, r.carer_id) for r in result.placed] == [(20, (1, 2, 3, 4), 1)]


def test_children_are_shared_between_two_carers_when_only_small_rooms_are_left() -> None:
    people = [
        person(1, 40, household="h1"),
        person(2, 38, household="h1"),
        person(3, 9, household="h1"),
        person(4, 4, household="h1"),
    ]
    rooms = [room(21, "accessible", 2), room(22, "accessible", 2), room(10)]
    result = plan_placement(people, rooms)
    assert not result.unplaced
    assert sorted(r.room_id for r in result.placed) == [21, 22]
    for r in result.placed:
        assert r.carer_id in (1, 2)
        assert len(r.person_ids) == 2


@pytest.mark.parametrize(
    "grown_up",
    [
        person(2, 66, household="h1"),  # 60+
        person(2, 60, household="h1"),  # 60 exactly
        person(2, 40, household="h1", ill=True),  # chronically ill
        person(2, 40, household="h1", needs_care=True),  # needs care themselves
        person(2, 17, household="h1"),  # a minor
        person(2, None, household="h1"),  # age unknown
        person(2, 40, household="h2"),  # another household
        person(2, 40, household="h1", cases=(2,)),  # a contact of another case
    ],
)
def test_a_minor_without_an_eligible_carer_is_left_unplaced(grown_up: Candidate) -> None:
    people = [person(1, 7, household="h1"), grown_up]
    rooms = [room(10), room(11), room(20, "family", 3), room(21, "accessible", 2)]
    result = plan_placement(people, rooms)
    assert reasons(result)[1] == "no_carer"
    assert 1 not in room_of(result)
    if not is_dependent(grown_up):
        assert grown_up.person_id in room_of(result)


def test_carer_eligibility_by_age_and_health() -> None:
    assert may_care(person(1, 18))
    assert may_care(person(1, 59))
    assert not may_care(person(1, 60))
    assert not may_care(person(1, 17))
    assert not may_care(person(1, 30, ill=True))
    assert not may_care(person(1, None))
    assert is_dependent(person(1, 17))
    assert is_dependent(person(1, 70, needs_care=True))
    assert not is_dependent(person(1, 18))


def test_a_minor_with_a_carer_but_no_accessible_or_family_room_has_no_room_of_kind() -> None:
    people = [person(1, 7, household="h1"), person(2, 35, household="h1")]
    rooms = [room(10), room(11), room(12)]
    result = plan_placement(people, rooms)
    assert reasons(result) == {1: "no_room_of_kind"}
    assert 2 in room_of(result)


def test_a_minor_whose_room_is_taken_has_no_capacity() -> None:
    people = [
        person(1, 7, household="h1", deadline=10),
        person(2, 35, household="h1", deadline=10),
        person(3, 8, household="h2", deadline=1),
        person(4, 36, household="h2", deadline=1),
    ]
    rooms = [room(10), room(11), room(20, "accessible", 2)]
    result = plan_placement(people, rooms)
    assert reasons(result) == {1: "no_capacity"}
    assert room_of(result)[3] == room_of(result)[4] == 20
    assert room_of(result)[2] in (10, 11)


# ------------------------------------------------------------------------------------------ rule 3


def test_contacts_of_different_cases_go_to_different_floors_when_rooms_allow() -> None:
    people = [person(1, cases=(1,)), person(2, cases=(2,)), person(3, cases=(1,)), person(4, cases=(2,))]
    rooms = [room(1, floor="1"), room(2, floor="1"), room(3, floor="2"), room(4, floor="2")]
    result = plan_placement(people, rooms)
    floor = {p: "1" if r <= 2 else "2" for p, r in room_of(result).items()}
    assert floor[1] == floor[3]
    assert floor[2] == floor[4]
    assert floor[1] != floor[2]


def test_contacts_keep_away_from_air_spaces_holding_other_cases_already() -> None:
    people = [person(1, cases=(7,))]
    rooms = [room(1, floor="1", zone="east", nearby=(3,)), room(2, floor="1", zone="west")]
    assert room_of(plan_placement(people, rooms)) == {1: 2}


def test_contacts_join_an_air_space_holding_their_own_case() -> None:
    people = [person(1, cases=(3,))]
    rooms = [room(1, floor="2"), room(2, floor="1", nearby=(3,))]
    assert room_of(plan_placement(people, rooms)) == {1: 2}


def test_cases_share_an_air_space_only_when_there_is_no_other_room() -> None:
    people = [person(1, cases=(1,)), person(2, cases=(2,))]
    rooms = [room(1, floor="1"), room(2, floor="1")]
    result = plan_placement(people, rooms)
    assert sorted(room_of(result).values()) == [1, 2]


# ------------------------------------------------------------------------------------------ rule 4


def test_own_county_comes_first_even_before_a_preferred_site() -> None:
    people = [person(1)]
    rooms = [room(1, site=1, county=SAME_CITY, order=0), room(2, site=2, county=HOME, order=9)]
    result = plan_placement(people, rooms)
    assert room_of(result) == {1: 2}
    assert result.own_county_share == 1.0


def test_the_nearest_county_by_the_division_tree_comes_next() -> None:
    people = [person(1), person(2), person(3)]
    rooms = [
        room(1, site=1, county=OTHER_PROVINCE, order=0),
        room(2, site=2, county=SAME_PROVINCE, order=1),
        room(3, site=3, county=SAME_CITY, order=2),
        room(4, site=4, county=OTHER_PROVINCE, order=3),
    ]
    result = plan_placement(people, rooms)
    assert sorted(room_of(result).values()) == [1, 2, 3]
    assert result.own_county_share == 0.0


def test_within_the_same_distance_the_site_order_decides() -> None:
    people = [person(1)]
    rooms = [room(1, site=1, county=SAME_CITY, order=5), room(2, site=2, county="330106", order=2)]
    assert room_of(plan_placement(people, rooms)) == {1: 2}


def test_each_person_goes_to_their_own_county() -> None:
    people = [person(1, county=HOME), person(2, county=SAME_CITY)]
    rooms = [room(1, site=1, county=SAME_CITY), room(2, site=2, county=HOME)]
    result = plan_placement(people, rooms)
    assert room_of(result) == {1: 2, 2: 1}
    assert result.own_county_share == 1.0


def test_own_county_rooms_go_to_those_who_can_use_them() -> None:
    # The one free own-county single room goes to the person alone, not to a household that could
    # share a family room elsewhere, so two people stay at home rather than one.
    people = [person(1, household="h1"), person(2, household="h1"), person(3)]
    rooms = [
        room(1, site=1, county=HOME),
        room(2, "family", 2, site=1, county=HOME),
        room(3, site=2, county=SAME_CITY),
    ]
    result = plan_placement(people, rooms)
    assert room_of(result) == {1: 2, 2: 2, 3: 1}


# ------------------------------------------------------------------------------------------ rule 5


def test_when_rooms_are_short_the_earliest_deadlines_go_first() -> None:
    deadlines = [50.0, 10.0, 40.0, 20.0, 30.0]
    people = [person(i + 1, deadline=d, cases=(i + 1,)) for i, d in enumerate(deadlines)]
    result = plan_placement(people, [room(1), room(2), room(3)])
    assert set(room_of(result)) == {2, 4, 5}
    assert reasons(result) == {1: "no_capacity", 3: "no_capacity"}


def test_deadlines_beat_numbers_when_rooms_are_short() -> None:
    # One family room: a household of three due later, or a person alone due now.
    people = [
        person(1, household="h1", deadline=100),
        person(2, household="h1", deadline=100),
        person(3, household="h1", deadline=100),
        person(4, deadline=1, cases=(2,)),
    ]
    result = plan_placement(people, [room(1, "family", 3)])
    assert room_of(result) == {4: 1}
    assert reasons(result) == {1: "no_capacity", 2: "no_capacity", 3: "no_capacity"}


def test_the_earliest_deadlines_go_first_across_many_deadlines() -> None:
    people = [person(i, deadline=float(20 - i), cases=(i,)) for i in range(1, 21)]
    result = plan_placement(people, [room(r) for r in range(1, 8)])
    assert set(room_of(result)) == set(range(14, 21))


def test_deadlines_come_before_the_own_county_when_rooms_are_short() -> None:
    # A hundred distinct deadlines, half of them from another county than the only site's: the rooms
    # still go to the 37 earliest, not to the locals among the earliest tiers.
    people = [
        person(i, county=HOME if i % 2 else SAME_CITY, deadline=float(i), cases=(i,)) for i in range(1, 101)
    ]
    result = plan_placement(people, [room(r) for r in range(1, 38)])
    assert set(room_of(result)) == set(range(1, 38))
    assert set(reasons(result)) == set(range(38, 101))


def test_no_room_at_all_gives_no_room_of_kind() -> None:
    result = plan_placement([person(1), person(2, 5, household="h"), person(3, 30, household="h")], [])
    assert reasons(result) == {1: "no_room_of_kind", 2: "no_room_of_kind", 3: "no_room_of_kind"}
    assert result.placed == ()
    assert result.own_county_share == 0.0


def test_a_person_alone_takes_a_bigger_room_rather_than_none() -> None:
    result = plan_placement([person(1)], [room(1, "family", 3)])
    assert room_of(result) == {1: 1}


def test_nothing_to_place() -> None:
    result = plan_placement([], [room(1)])
    assert result.placed == ()
    assert result.unplaced == ()


def test_the_same_person_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="person_id 1"):
        plan_placement([person(1), person(1)], [room(1)])
    with pytest.raises(ValueError, match="room_id 1"):
        plan_placement([person(1)], [room(1), room(1)])


def test_every_reason_has_a_sentence() -> None:
    assert set(UNPLACED_REASONS) == {"no_carer", "no_room_of_kind", "no_capacity"}
    assert all(s.endswith(".") for s in UNPLACED_REASONS.values())


# ------------------------------------------------------------------------------------------ invariants

COUNTIES = (HOME, SAME_CITY, SAME_PROVINCE, OTHER_PROVINCE)
ROOM_KINDS: tuple[RoomKind, ...] = ("single", "single", "family", "accessible")


@st.composite
def placement_inputs(draw: st.DrawFn) -> tuple[list[Candidate], list[FreeRoom]]:
    n_people = draw(st.integers(0, 14))
    people = [
        Candidate(
            person_id=100 + i,
            county_code=draw(st.sampled_from(COUNTIES)),
            household=draw(st.sampled_from([None, "a", "b", "c"])),
            case_ids=frozenset(draw(st.sets(st.integers(1, 3), min_size=1, max_size=2))),
            age=draw(st.one_of(st.none(), st.integers(0, 95))),
            needs_care=draw(st.booleans()),
            chronically_ill=draw(st.booleans()),
            deadline_rank=float(draw(st.integers(0, 5))),
        )
        for i in range(n_people)
    ]
    n_rooms = draw(st.integers(0, 12))
    rooms = []
    for r in range(n_rooms):
        kind = draw(st.sampled_from(ROOM_KINDS))
        site = draw(st.integers(1, 3))
        rooms.append(
            FreeRoom(
                room_id=r + 1,
                site_id=site,
                county_code=COUNTIES[site - 1],
                site_order=site,
                floor=draw(st.sampled_from(["1", "2"])),
                zone=draw(st.sampled_from([None, "A"])),
                kind=kind,
                beds=1 if kind == "single" else draw(st.integers(1, 4)),
                cases_nearby=frozenset(draw(st.sets(st.integers(1, 4), max_size=1))),
            )
        )
    return people, rooms


@settings(max_examples=80, deadline=None)
@given(placement_inputs())
def test_every_placement_keeps_the_rules(data: tuple[list[Candidate], list[FreeRoom]]) -> None:
    people, rooms = data
    result = plan_placement(people, rooms)
    by_id = {p.person_id: p for p in people}
    room_by_id = {r.room_id: r for r in rooms}

    # Everyone is either placed once or unplaced once, with a known reason.
    seen = Counter([p for r in result.placed for p in r.person_ids] + [u.person_id for u in result.unplaced])
    assert seen == Counter(list(by_id))
    assert all(u.reason in UNPLACED_REASONS for u in result.unplaced)

    # Each room used once, never beyond its beds; single rooms hold one person.
    assert len({r.room_id for r in result.placed}) == len(result.placed)
    for placement in result.placed:
        free = room_by_id[placement.room_id]
        assert 1 <= len(placement.person_ids) <= free.beds
        if free.kind == "single":
            assert len(placement.person_ids) == 1
        members = [by_id[p] for p in placement.person_ids]
        # Only one household and one case set share a room.
        if len(members) > 1:
            assert len({m.household for m in members}) == 1
            assert members[0].household is not None
            assert len({m.case_ids for m in members}) == 1
        # Anyone needing care has an eligible carer in the room, in an accessible or family room.
        if any(is_dependent(m) for m in members):
            assert placement.carer_id in placement.person_ids
            assert may_care(by_id[placement.carer_id])
            assert free.kind in ("accessible", "family")
        elif placement.carer_id is not None:
            assert placement.carer_id in placement.person_ids

    # No one who could take a room alone is left out while a room stays free.
    used = {r.room_id for r in result.placed}
    if any(r.room_id not in used and r.beds >= 1 for r in rooms):
        for u in result.unplaced:
            assert u.reason != "no_capacity" or is_dependent(by_id[u.person_id])
    for u in result.unplaced:
        if u.reason == "no_carer":
            assert is_dependent(by_id[u.person_id])

    placed_people = [p for r in result.placed for p in r.person_ids]
    at_home = sum(
        1
        for r in result.placed
        for p in r.person_ids
        if by_id[p].county_code == room_by_id[r.room_id].county_code
    )
    assert result.own_county_share == pytest.approx(at_home / len(placed_people) if placed_people else 0.0)
