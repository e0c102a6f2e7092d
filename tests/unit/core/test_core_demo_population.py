import csv
import datetime as dt
import re

import numpy as np
import pytest

from fangkong.core.demo import demo_region_spec, generate_population, write_people_csv
from fangkong.core.demo.population import CSV_COLUMNS, load_age_pyramid, load_household_sizes
from fangkong.core.divisions import national_tree
from fangkong.core.idnumber import validate_id_number
from fangkong.core.phone import normalise_mobile

AS_OF = dt.date(2025, 6, 1)
N = 200_000


@pytest.fixture(scope="module")
def communities():
    return [c.code for c in demo_region_spec().communities]


@pytest.fixture(scope="module")
def people(communities):
    return generate_population(communities, N, np.random.default_rng(7), as_of=AS_OF)


def band_shares(ages, is_male, pyramid):
    bands = np.minimum(ages // 5, pyramid.age_from.shape[0] - 1)
    cells = np.where(is_male, bands, bands + pyramid.age_from.shape[0])
    return np.bincount(cells, minlength=2 * pyramid.age_from.shape[0]) / ages.shape[0]


def test_pyramid_table_agrees_with_the_census_bulletin():
    # Census Bulletin No. 5 (2021-05-11): 0-14 17.95%, 15-59 63.35%, 60+ 18.70%, 65+ 13.50%; men 51.24%.
    pyramid = load_age_pyramid()
    total = pyramid.male + pyramid.female
    share = lambda lo, hi: total[(pyramid.age_from >= lo) & (pyramid.age_from < hi)].sum() / total.sum()  # noqa: E731
    assert share(0, 15) == pytest.approx(0.1795, abs=0.001)
    assert share(15, 60) == pytest.approx(0.6335, abs=0.001)
    assert share(60, 200) == pytest.approx(0.1870, abs=0.001)
    assert share(65, 200) == pytest.approx(0.1350, abs=0.001)
    assert pyramid.male.sum() / total.sum() == pytest.approx(0.5124, abs=0.001)


def test_household_table_mean_is_the_published_2_62():
    sizes, shares = load_household_sizes()
    assert shares.sum() == pytest.approx(1.0)
    assert float(sizes @ shares) == pytest.approx(2.62, abs=0.02)


def test_size_is_exact(people):
    assert len(people) == N


def test_age_and_sex_follow_the_pyramid(people):
    pyramid = load_age_pyramid()
    observed = band_shares(people.age, people.sex == "M", pyramid)
    expected = pyramid.cell_shares()
    # The largest cell is under 5%: its sampling standard error at n=200,000 is about 0.05 points.
    assert np.abs(observed - expected).max() < 0.003
    assert np.mean(people.age < 15) == pytest.approx(0.1795, abs=0.005)
    assert np.mean(people.age >= 60) == pytest.approx(0.1870, abs=0.005)


def test_household_sizes_average_about_2_62(people):
    _, counts = np.unique(people.household_index, return_counts=True)
    assert counts.mean() == pytest.approx(2.62, abs=0.05)
    _, shares = load_household_sizes()
    observed = np.bincount(np.minimum(counts, 10), minlength=11)[1:] / counts.shape[0]
    assert np.abs(observed - shares).max() < 0.01


def test_every_household_has_one_adult_head_and_children_live_with_adults(people):
    heads = people.role == "head"
    assert np.bincount(people.household_index[heads]).max() == 1
    assert heads.sum() == np.unique(people.household_index).shape[0]
    assert people.age[heads].min() >= 20
    head_age = np.zeros(people.household_index.max() + 1, dtype=np.int64)
    head_age[people.household_index[heads]] = people.age[heads]
    children = people.age < 18
    assert (head_age[people.household_index[children]] - people.age[children]).mean() > 20
    spouses = people.role == "spouse"
    spouse_head_gap = people.age[spouses] - head_age[people.household_index[spouses]]
    assert abs(np.median(spouse_head_gap)) <= 3


def test_ids_are_unique_and_agree_with_birth_date_age_and_sex(people):
    assert len(set(people.id_number.tolist())) == N
    counties = {d.code for d in national_tree() if d.level == "county"}
    rng = np.random.default_rng(0)
    for i in rng.choice(N, 5_000, replace=False):
        info = validate_id_number(str(people.id_number[i]), today=AS_OF)
        birth = people.birth_date[i].astype(dt.date)
        assert info.birth_date == birth
        assert info.sex == people.sex[i]
        had_birthday = (AS_OF.month, AS_OF.day) >= (birth.month, birth.day)
        assert AS_OF.year - birth.year - (0 if had_birthday else 1) == people.age[i]
        assert info.region_code in counties


def test_most_are_registered_in_their_home_county(people):
    home = np.char.equal(
        np.char.ljust(people.id_number, 6).astype("<U6"), people.community_code.astype("<U6")
    )
    assert 0.65 < home.mean() < 0.80


def test_household_shares_one_address_and_addresses_are_distinct(people):
    keys = np.char.add(np.char.add(people.community_code, "|"), people.address)
    household_of_key = {}
    for key, household in zip(keys.tolist(), people.household_index.tolist(), strict=True):
        assert household_of_key.setdefault(key, household) == household
    assert len(household_of_key) == np.unique(people.household_index).shape[0]
    assert re.fullmatch(r"\D+\d+号\d+幢\d单元\d{3}室", str(people.address[0]))


def test_phones_are_valid_and_children_use_a_guardians(people):
    for phone in people.phone[:: N // 2_000].tolist():
        assert normalise_mobile(phone) == phone
    heads = people.role == "head"
    head_phone = dict(zip(people.household_index[heads].tolist(), people.phone[heads].tolist(), strict=True))
    young = np.flatnonzero(people.age < 14)[:500]
    assert all(people.phone[i] == head_phone[people.household_index[i]] for i in young)


def test_names_look_chinese(people):
    names = people.name.tolist()
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", name) for name in names[:20_000])
    assert np.mean([len(n) == 3 for n in names]) == pytest.approx(0.85, abs=0.02)
    assert len(set(names)) > N // 4


def test_same_seed_same_population_other_seed_other_population(communities):
    first = generate_population(communities, 5_000, np.random.default_rng(42), as_of=AS_OF)
    again = generate_population(communities, 5_000, np.random.default_rng(42), as_of=AS_OF)
    other = generate_population(communities, 5_000, np.random.default_rng(43), as_of=AS_OF)
    assert list(first.rows()) == list(again.rows())
    assert not np.array_equal(first.id_number, other.id_number)


def test_small_populations_still_get_a_head_per_household(communities):
    for n in (1, 2, 7):
        people = generate_population(communities, n, np.random.default_rng(n), as_of=AS_OF)
        assert len(people) == n
        assert (people.role == "head").sum() == np.unique(people.household_index).shape[0]


def test_bad_arguments_are_refused(communities):
    with pytest.raises(ValueError, match="at least 1"):
        generate_population(communities, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="12-digit"):
        generate_population(["330106"], 10, np.random.default_rng(0))


def test_csv_has_the_import_columns_and_round_trips(tmp_path):
    path = tmp_path / "people.csv"
    people = write_people_csv(path, 3_000, seed=5, as_of=AS_OF)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS == (
        "id_number", "name", "phone", "sex", "birth_date", "community_code", "address", "household_key",
    )  # fmt: skip
    assert [tuple(r) for r in rows[1:]] == list(people.rows())
    first = dict(zip(rows[0], rows[1], strict=True))
    info = validate_id_number(first["id_number"], today=AS_OF)
    assert (info.sex, info.birth_date.isoformat()) == (first["sex"], first["birth_date"])
    demo_communities = {c.code for c in demo_region_spec().communities}
    assert {r[5] for r in rows[1:]} <= demo_communities
