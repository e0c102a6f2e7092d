import csv

from fangkong.core.demo import demo_region_spec
from fangkong.core.divisions import build_paths, national_townships, national_tree, parse_lower_levels_csv


def test_region_is_one_real_province_two_cities_six_counties():
    region = demo_region_spec()
    tree = {d.code: d for d in national_tree()}
    assert region.province == tree["330000"]
    assert len(region.cities) == 2
    assert all(tree[c.code] == c and c.parent_code == "330000" for c in region.cities)
    assert len(region.counties) == 6
    for city in region.cities:
        counties = [c for c in region.counties if c.parent_code == city.code]
        assert len(counties) == 3
        assert all(tree[c.code] == c for c in counties)


def test_townships_are_the_official_ones_of_those_counties():
    region = demo_region_spec()
    counties = {c.code for c in region.counties}
    official = {t.code: t for t in national_townships() if t.parent_code in counties}
    assert {t.code: t for t in region.townships} == official
    assert any(t.name.endswith("街道") for t in region.townships)
    assert any(t.name.endswith("镇") for t in region.townships)


def test_communities_have_12_digit_codes_under_their_township():
    region = demo_region_spec()
    townships = {t.code: t for t in region.townships}
    codes = [c.code for c in region.communities]
    assert len(codes) == len(set(codes)) == 3 * len(townships)
    for community in region.communities:
        assert len(community.code) == 12
        assert community.code.startswith(community.parent_code)
        assert community.parent_code in townships
        assert community.name.endswith(("社区", "村"))
        # NBS layout: 001-199 residents' committees, 200-399 villages.
        assert (int(community.code[9:]) < 200) == community.name.endswith("社区")
    street_communities = [c for c in region.communities if townships[c.parent_code].name.endswith("街道")]
    assert all(c.name.endswith("社区") for c in street_communities)


def test_region_is_the_same_every_time_and_forms_one_tree():
    region = demo_region_spec()
    assert region == demo_region_spec()
    paths = build_paths(region.all_divisions())
    assert paths[region.communities[0].code].startswith("330000/")


def test_lower_levels_round_trip_through_the_csv_importer(tmp_path):
    region = demo_region_spec()
    path = tmp_path / "lower.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "parent_code"])
        for division in [*region.townships, *region.communities]:
            writer.writerow([division.code, division.name, division.parent_code])
    assert parse_lower_levels_csv(path) == [*region.townships, *region.communities]
