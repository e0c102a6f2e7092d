"""Vectorised synthetic population: households, ages, names, ID numbers, phones and addresses.

Ages and sexes are drawn from China's 2020 census age pyramid and household sizes from the 2020 census
distribution of family households (both in ``fangkong/core/data``, sources in their headers). Every
household gets an adult head (20 or older); larger households get a spouse of the other sex close in
age, and the remaining members are matched to households by age so that children live with heads of
parental age and the very old with older heads. The marginal age and sex distribution is exactly the
drawn sample, so it follows the pyramid.

ID numbers agree with each person's birth date and sex and carry the county of registration (the
home county, or for migrants a random mainland county); the whole household shares one address.
The same seed gives the same population.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fangkong.core import clock
from fangkong.core.demo.names import compose_names, draw_surnames
from fangkong.core.divisions import HONG_KONG_MACAO, national_tree
from fangkong.core.idnumber import generate_id_numbers
from fangkong.core.phone import generate_mobile_number_ints

# Youngest age of a household head, years (modelling choice).
HEAD_MIN_AGE = 20
# Ages most likely to head a household, years, and the relative weight of other adults (modelling choice).
HEAD_PRIME_AGES = (25, 79)
HEAD_OTHER_AGE_WEIGHT = 0.3
# Typical age gap between a head and the other members, years, and its spread (modelling choice).
GENERATION_GAP_YEARS = 28.0
GENERATION_GAP_SPREAD_YEARS = 6.0
# Spread of the head/spouse age match, years (modelling choice).
SPOUSE_AGE_SPREAD_YEARS = 3.0
# Members younger than the head by at least this many years take the family surname (modelling choice).
CHILD_GAP_YEARS = 16
# Share of residents registered in a county other than where they live: the 2020 census counted
# 375.82 million migrants (流动人口) out of 1,411.78 million (Census Bulletin, 2021-05-11).
MIGRANT_SHARE = 375.82 / 1411.78
# Children under this age have no phone of their own; the household head's number is their contact
# (modelling choice).
OWN_PHONE_MIN_AGE = 14
# Community sizes vary between half and one and a half times the mean (modelling choice).
COMMUNITY_SIZE_SPREAD = 0.5
# A residential compound: buildings x units x floors x flats per floor (a typical six-storey estate,
# modelling choice).
BUILDINGS_PER_COMPOUND = 20
UNITS_PER_BUILDING = 3
FLOORS_PER_BUILDING = 6
FLATS_PER_FLOOR = 2
STREETS_PER_COMMUNITY = 3
# Open top band of the pyramid (100 and over) is drawn as 100-104 years.
BAND_WIDTH_YEARS = 5

STREET_ROOTS = (
    "人民", "解放", "建设", "中山", "和平", "新华", "文化", "胜利", "光明", "朝阳", "幸福", "长江",
    "青年", "团结", "振兴", "育才", "民主", "复兴", "兴业", "东风", "学院", "文一", "文二", "文三",
    "教工", "天目山", "莫干山", "体育场", "延安", "庆春", "凤起", "环城", "江南", "滨江", "丰潭",
    "古墩", "紫金港", "留和", "湖墅", "大关", "德胜", "秋涛", "望江", "中河", "钱江", "海曙", "鼓楼",
    "丹山", "石浦", "公园", "桥西", "北门", "南塘", "府前", "工人", "农科", "航海", "通商", "世纪",
)  # fmt: skip
STREET_SUFFIXES = ("路", "路", "路", "街", "大道", "巷")

# Rows converted to text per write when writing CSV (bounds memory to tens of megabytes).
CSV_CHUNK_ROWS = 100_000
CSV_COLUMNS = (
    "id_number",
    "name",
    "phone",
    "sex",
    "birth_date",
    "community_code",
    "address",
    "household_key",
)


@dataclass(frozen=True)
class AgePyramid:
    age_from: npt.NDArray[np.int64]
    male: npt.NDArray[np.int64]
    female: npt.NDArray[np.int64]

    def cell_shares(self) -> npt.NDArray[np.float64]:
        """Shares of (sex, band) cells, male bands first then female bands; sums to 1."""
        counts = np.concatenate([self.male, self.female]).astype(np.float64)
        shares: npt.NDArray[np.float64] = counts / counts.sum()
        return shares


def _data_lines(name: str) -> list[str]:
    text = resources.files("fangkong.core").joinpath("data", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@cache
def load_age_pyramid() -> AgePyramid:
    """The 2020 census pyramid: 21 five-year bands (0-4 ... 95-99, 100+) by sex."""
    rows = list(csv.DictReader(_data_lines("age_pyramid_2020.csv")))
    return AgePyramid(
        age_from=np.array([int(r["age_from"]) for r in rows], dtype=np.int64),
        male=np.array([int(r["male"]) for r in rows], dtype=np.int64),
        female=np.array([int(r["female"]) for r in rows], dtype=np.int64),
    )


@cache
def load_household_sizes() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Household sizes 1-10 (10 standing for 10 and more) and their shares (summing to 1)."""
    rows = list(csv.DictReader(_data_lines("household_size_2020.csv")))
    sizes = np.array([int(r["size"]) for r in rows], dtype=np.int64)
    shares = np.array([float(r["share_percent"]) for r in rows], dtype=np.float64)
    return sizes, shares / shares.sum()


@dataclass(frozen=True)
class Population:
    """Columnar synthetic residents, one entry per person, households contiguous."""

    id_number: npt.NDArray[np.str_]
    name: npt.NDArray[np.str_]
    phone: npt.NDArray[np.str_]
    sex: npt.NDArray[np.str_]
    birth_date: npt.NDArray[np.datetime64]
    age: npt.NDArray[np.int64]
    community_code: npt.NDArray[np.str_]
    address: npt.NDArray[np.str_]
    household_key: npt.NDArray[np.str_]
    household_index: npt.NDArray[np.int64]
    role: npt.NDArray[np.str_]
    as_of: dt.date

    def __len__(self) -> int:
        return int(self.id_number.shape[0])

    def columns(self, start: int = 0, stop: int | None = None) -> dict[str, list[str]]:
        """The CSV columns of people ``start`` to ``stop`` as lists of strings."""
        part = slice(start, stop)
        return {
            "id_number": self.id_number[part].tolist(),
            "name": self.name[part].tolist(),
            "phone": self.phone[part].tolist(),
            "sex": self.sex[part].tolist(),
            "birth_date": self.birth_date[part].astype("<U10").tolist(),
            "community_code": self.community_code[part].tolist(),
            "address": self.address[part].tolist(),
            "household_key": self.household_key[part].tolist(),
        }

    def rows(self) -> Iterator[tuple[str, ...]]:
        """Plain tuples in ``CSV_COLUMNS`` order."""
        columns = self.columns()
        return zip(*(columns[c] for c in CSV_COLUMNS), strict=True)


def _household_sizes(n: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    sizes, shares = load_household_sizes()
    mean = float(sizes @ shares)
    drawn = sizes[rng.choice(sizes.shape[0], size=int(n / mean * 1.1) + 16, p=shares)]
    while drawn.sum() < n:
        drawn = np.concatenate([drawn, sizes[rng.choice(sizes.shape[0], size=16, p=shares)]])
    total = np.cumsum(drawn)
    count = int(np.searchsorted(total, n)) + 1
    result = drawn[:count].copy()
    result[-1] -= int(total[count - 1]) - n
    return result


def _weighted_pick(candidates: npt.NDArray[np.int64], weights: npt.NDArray[np.float64], k: int,
                   rng: np.random.Generator) -> npt.NDArray[np.int64]:  # fmt: skip
    """``k`` of ``candidates`` without replacement, chance proportional to weight (Efraimidis-Spirakis)."""
    if k >= candidates.shape[0]:
        return candidates
    keys = np.log(rng.random(candidates.shape[0])) / weights
    return candidates[np.argpartition(-keys, k - 1)[:k]]


def _match_by_rank(
    left_keys: npt.NDArray[np.float64], right_keys: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """For each left position, the right position of equal rank (both sides the same length)."""
    match = np.empty(left_keys.shape[0], dtype=np.int64)
    match[np.argsort(left_keys, kind="stable")] = np.argsort(right_keys, kind="stable")
    return match


def _assemble_households(
    ages: npt.NDArray[np.int64],
    male: npt.NDArray[np.bool_],
    sizes: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Seat every person in a household slot; returns (person of slot, household of slot, role of slot)."""
    n, households = ages.shape[0], sizes.shape[0]
    household_of_slot = np.repeat(np.arange(households), sizes)
    first_slot = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    person_of_slot = np.full(n, -1, dtype=np.int64)
    role = np.full(n, 2, dtype=np.int8)
    seated = np.zeros(n, dtype=bool)

    prime = (ages >= HEAD_PRIME_AGES[0]) & (ages <= HEAD_PRIME_AGES[1])
    weight = np.where(prime, 1.0, HEAD_OTHER_AGE_WEIGHT)
    adults = np.flatnonzero(ages >= HEAD_MIN_AGE)
    heads = _weighted_pick(adults, weight[adults], households, rng)
    if heads.shape[0] < households:
        # Tiny populations can lack adults: the oldest of the rest head the remaining households.
        rest = np.setdiff1d(np.arange(n), heads)
        heads = np.concatenate(
            [heads, rest[np.argsort(-ages[rest], kind="stable")][: households - heads.shape[0]]]
        )
    heads = rng.permutation(heads)
    person_of_slot[first_slot] = heads
    role[first_slot] = 0
    seated[heads] = True

    for head_is_male in (True, False):
        wanting = np.flatnonzero((sizes >= 2) & (male[heads] == head_is_male))
        partners = np.flatnonzero(~seated & (ages >= HEAD_MIN_AGE) & (male != head_is_male))
        k = min(wanting.shape[0], partners.shape[0])
        if k == 0:
            continue
        wanting = rng.choice(wanting, size=k, replace=False) if wanting.shape[0] > k else wanting
        partners = _weighted_pick(partners, weight[partners], k, rng)
        head_keys = ages[heads[wanting]] + rng.normal(0.0, SPOUSE_AGE_SPREAD_YEARS, k)
        chosen = partners[_match_by_rank(head_keys, ages[partners].astype(np.float64))]
        person_of_slot[first_slot[wanting] + 1] = chosen
        role[first_slot[wanting] + 1] = 1
        seated[chosen] = True

    open_slots = np.flatnonzero(person_of_slot < 0)
    others = np.flatnonzero(~seated)
    slot_keys = (
        ages[heads[household_of_slot[open_slots]]]
        - GENERATION_GAP_YEARS
        + rng.normal(0.0, GENERATION_GAP_SPREAD_YEARS, open_slots.shape[0])
    )
    person_of_slot[open_slots] = others[_match_by_rank(slot_keys, ages[others] + rng.random(others.shape[0]))]
    return person_of_slot, household_of_slot, role


def _birth_dates(
    ages: npt.NDArray[np.int64], as_of: dt.date, rng: np.random.Generator
) -> npt.NDArray[np.datetime64]:
    """A birth date for each age such that the person is exactly that old on ``as_of``."""
    anchor = as_of.replace(day=28) if (as_of.month, as_of.day) == (2, 29) else as_of

    def anniversary(years_back: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
        year = (anchor.year - years_back - 1970).astype("datetime64[Y]")
        month = year.astype("datetime64[M]") + np.timedelta64(anchor.month - 1, "M")
        day: npt.NDArray[np.datetime64] = (
            month.astype("datetime64[D]") + np.timedelta64(anchor.day - 1, "D")
        ).astype("datetime64[D]")
        return day

    latest = anniversary(ages)
    span = (latest - anniversary(ages + 1)).astype(np.int64)
    offset = (rng.random(ages.shape[0]) * span).astype(np.int64).astype("timedelta64[D]")
    births: npt.NDArray[np.datetime64] = latest - offset
    return births


def _rank_within(groups: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0, 1, 2 ... within each group value, in order of appearance."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    new = np.concatenate([[True], sorted_groups[1:] != sorted_groups[:-1]])
    starts = np.flatnonzero(new)
    rank_sorted = np.arange(groups.shape[0]) - starts[np.cumsum(new) - 1]
    rank: npt.NDArray[np.int64] = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    return rank


def _addresses(
    community_of_household: npt.NDArray[np.int64], community_count: int, rng: np.random.Generator
) -> tuple[list[str], npt.NDArray[np.int64]]:
    """A distinct flat per household within its community; returns (addresses, index within community)."""
    local = _rank_within(community_of_household)
    streets = [
        [f"{STREET_ROOTS[r]}{STREET_SUFFIXES[s]}" for r, s in zip(roots, suffixes, strict=True)]
        for roots, suffixes in zip(
            (
                rng.choice(len(STREET_ROOTS), STREETS_PER_COMMUNITY, replace=False)
                for _ in range(community_count)
            ),
            rng.integers(0, len(STREET_SUFFIXES), (community_count, STREETS_PER_COMMUNITY)),
            strict=True,
        )
    ]
    first_number = rng.integers(1, 60, community_count)
    per_compound = BUILDINGS_PER_COMPOUND * UNITS_PER_BUILDING * FLOORS_PER_BUILDING * FLATS_PER_FLOOR
    per_building = UNITS_PER_BUILDING * FLOORS_PER_BUILDING * FLATS_PER_FLOOR
    per_unit = FLOORS_PER_BUILDING * FLATS_PER_FLOOR
    compound, within = np.divmod(local, per_compound)
    building, within = np.divmod(within, per_building)
    unit, within = np.divmod(within, per_unit)
    floor, flat = np.divmod(within, FLATS_PER_FLOOR)
    street_index = compound % STREETS_PER_COMMUNITY
    number = first_number[community_of_household] + 2 * (compound // STREETS_PER_COMMUNITY) * 10
    addresses = [
        f"{streets[c][s]}{no}号{b + 1}幢{u + 1}单元{f + 1}{r + 1:02d}室"
        for c, s, no, b, u, f, r in zip(
            community_of_household.tolist(),
            street_index.tolist(),
            number.tolist(),
            building.tolist(),
            unit.tolist(),
            floor.tolist(),
            flat.tolist(),
            strict=True,
        )
    ]
    return addresses, local


@cache
def _mainland_county_codes() -> npt.NDArray[np.int64]:
    return np.array(
        [
            int(d.code)
            for d in national_tree()
            if d.level == "county" and d.code[:2] + "0000" not in HONG_KONG_MACAO
        ],
        dtype=np.int64,
    )


def generate_population(
    community_codes: Sequence[str],
    n: int,
    rng: np.random.Generator,
    *,
    as_of: dt.date | None = None,
) -> Population:
    """``n`` residents in households spread over ``community_codes`` (12-digit codes)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    communities = np.asarray(community_codes, dtype="<U12")
    if communities.shape[0] == 0 or any(len(c) != 12 or not c.isdigit() for c in communities.tolist()):
        raise ValueError("community codes must be 12-digit codes")
    today = as_of or clock.today()

    pyramid = load_age_pyramid()
    bands = pyramid.age_from.shape[0]
    cell = rng.choice(2 * bands, size=n, p=pyramid.cell_shares())
    is_male_drawn = cell < bands
    ages_drawn = pyramid.age_from[cell % bands] + rng.integers(0, BAND_WIDTH_YEARS, n)

    sizes = _household_sizes(n, rng)
    person_of_slot, household, role_code = _assemble_households(ages_drawn, is_male_drawn, sizes, rng)
    ages = ages_drawn[person_of_slot]
    is_male = is_male_drawn[person_of_slot]
    households = sizes.shape[0]
    first_slot = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    community_count = len(communities)
    community_weights = rng.uniform(
        1 - COMMUNITY_SIZE_SPREAD, 1 + COMMUNITY_SIZE_SPREAD, size=community_count
    )
    community_of_household = rng.choice(
        community_count, size=int(households), p=community_weights / community_weights.sum()
    )
    addresses, local_index = _addresses(community_of_household, community_count, rng)
    community_of_person = community_of_household[household]

    birth = _birth_dates(ages, today, rng)
    birth_years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    home_county = np.array([int(c[:6]) for c in communities.tolist()], dtype=np.int64)[community_of_person]
    counties = _mainland_county_codes()
    migrant = rng.random(n) < MIGRANT_SHARE
    region = np.where(migrant, counties[rng.integers(0, counties.shape[0], n)], home_county)
    ids = generate_id_numbers(region, birth, is_male, rng)

    surnames = draw_surnames(n, rng)
    head_slot = first_slot[household]
    spouse_slot = np.minimum(first_slot + 1, n - 1)
    has_male_spouse = (sizes >= 2) & (role_code[spouse_slot] == 1) & is_male[spouse_slot]
    family = np.where(
        is_male[first_slot] | ~has_male_spouse, surnames[first_slot], surnames[spouse_slot]
    )  # fmt: skip
    child = (role_code == 2) & (ages <= ages[head_slot] - CHILD_GAP_YEARS)
    surnames = np.where(child, family[household], surnames)
    names = compose_names(surnames, birth_years, is_male, rng)

    own_phones = generate_mobile_number_ints(n, rng)
    phones = np.where(ages < OWN_PHONE_MIN_AGE, own_phones[head_slot], own_phones).astype("<U11")

    household_keys = np.char.add(
        np.char.add(communities[community_of_household], "-"), np.char.zfill(local_index.astype("<U6"), 5)
    )
    return Population(
        id_number=ids,
        name=names,
        phone=phones,
        sex=np.where(is_male, "M", "F"),
        birth_date=birth,
        age=ages,
        community_code=communities[community_of_person],
        address=np.array(addresses)[household],
        household_key=household_keys[household],
        household_index=household,
        role=np.array(["head", "spouse", "member"])[role_code],
        as_of=today,
    )


def write_people_csv(
    path: str | Path,
    n: int,
    *,
    seed: int = 0,
    community_codes: Sequence[str] | None = None,
    as_of: dt.date | None = None,
) -> Population:
    """Write ``n`` synthetic residents as UTF-8 CSV (``CSV_COLUMNS``) and return them.

    Communities default to those of the demo region.
    """
    if community_codes is None:
        from fangkong.core.demo.region import demo_region_spec

        community_codes = [c.code for c in demo_region_spec().communities]
    population = generate_population(community_codes, n, np.random.default_rng(seed), as_of=as_of)
    # No field can hold a comma, quote or line break (digits, generated Chinese names and addresses), so
    # rows are joined directly, a chunk at a time to bound memory: faster than the csv module.
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(CSV_COLUMNS) + "\n")
        for start in range(0, len(population), CSV_CHUNK_ROWS):
            columns = population.columns(start, start + CSV_CHUNK_ROWS)
            lines = map(",".join, zip(*(columns[c] for c in CSV_COLUMNS), strict=True))
            handle.write("\n".join(lines) + "\n")
    return population
