from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from fangkong.core.divisions import (
    HONG_KONG_MACAO,
    DivisionDataError,
    LowerLevelCsvError,
    build_paths,
    check_national_tree,
    national_townships,
    national_tree,
    national_tree_source,
    parse_lower_levels_csv,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "divisions"


@pytest.fixture(scope="module")
def tree():
    return {d.code: d for d in national_tree()}


@pytest.mark.parametrize(
    ("code", "name", "level", "parent"),
    [
        ("110000", "北京市", "province", None),
        ("330000", "浙江省", "province", None),
        ("330100", "杭州市", "city", "330000"),
        ("330106", "西湖区", "county", "330100"),
        ("110101", "东城区", "county", "110000"),
        ("429004", "仙桃市", "county", "420000"),
        ("441900", "东莞市", "city", "440000"),
        ("330114", "钱塘区", "county", "330100"),
    ],
)
def test_known_divisions_sit_under_the_right_parent(tree, code, name, level, parent):
    division = tree[code]
    assert (division.name, division.level, division.parent_code) == (name, level, parent)


def test_abolished_codes_are_gone(tree):
    # 下城区 and 江干区 were merged away in 2021, 莱芜市 in 2019.
    assert "330103" not in tree
    assert "330104" not in tree
    assert "371200" not in tree


def test_sizes_are_plausible(tree):
    levels = Counter(d.level for d in tree.values())
    mainland = [d for d in tree.values() if d.level == "province" and d.code not in HONG_KONG_MACAO]
    assert len(mainland) == 31
    assert 330 <= levels["city"] <= 345
    assert 2800 <= levels["county"] <= 2900


def test_codes_are_unique_and_every_parent_exists(tree):
    divisions = national_tree()
    assert len(tree) == len(divisions)
    for division in divisions:
        if division.level != "province":
            assert division.parent_code in tree
            assert division.code[:2] == division.parent_code[:2]


def test_tree_lists_parents_before_children():
    seen = set()
    for division in national_tree():
        assert division.parent_code is None or division.parent_code in seen
        seen.add(division.code)


def test_check_refuses_broken_tables():
    divisions = national_tree()
    with pytest.raises(DivisionDataError, match="used by both"):
        check_national_tree([*divisions, replace(divisions[-1], name="重复")])
    county = next(d for d in divisions if d.code == "330106")
    with pytest.raises(DivisionDataError, match="cannot sit under"):
        check_national_tree([*divisions, replace(county, code="330199", parent_code="330106")])
    with pytest.raises(DivisionDataError, match="missing"):
        check_national_tree([d for d in divisions if d.code != "330100"])


def test_paths_make_everything_under_a_city_a_prefix_match(tree):
    paths = build_paths(national_tree())
    assert paths["330106"] == "330000/330100/330106/"
    assert paths["110101"] == "110000/110101/"
    under_hangzhou = {code for code, path in paths.items() if path.startswith(paths["330100"])}
    assert under_hangzhou == {"330100"} | {d.code for d in tree.values() if d.parent_code == "330100"}


def test_source_is_the_ministry_table():
    source = national_tree_source()
    assert source["source_table"] == "Xzqh20251231"
    assert source["data_as_of"] == "2025-12-31"


def test_townships_hang_under_counties_or_cities_without_counties(tree):
    townships = national_townships()
    assert len(townships) > 38_000
    assert {"330106005", "441900003"} <= {t.code for t in townships}
    for township in townships[::50]:
        assert len(township.code) == 9
        assert township.code.startswith(township.parent_code)
        assert tree[township.parent_code].level in ("county", "city")


def test_good_lower_level_file_parses():
    divisions = parse_lower_levels_csv(FIXTURES / "lower_levels_good.csv")
    by_code = {d.code: d for d in divisions}
    assert [d.level for d in divisions].count("township") == 3
    assert by_code["330106005001"].level == "community"
    assert by_code["330106005001"].parent_code == "330106005"
    assert by_code["441900003"].parent_code == "441900"
    assert [len(d.code) for d in divisions] == sorted(len(d.code) for d in divisions)


def test_excel_bom_and_crlf_are_fine():
    (division,) = parse_lower_levels_csv(FIXTURES / "lower_levels_bom.csv")
    assert (division.code, division.name) == ("330106005", "翠苑街道")


def test_bad_lower_level_file_names_row_and_field_of_every_problem():
    with pytest.raises(LowerLevelCsvError) as caught:
        parse_lower_levels_csv(FIXTURES / "lower_levels_bad.csv")
    found = {(p.row, p.field): p.message for p in caught.value.problems}
    assert "bad code length 10" in found[(3, "code")]
    assert "duplicate code 330106005001 (first on row 4)" in found[(5, "code")]
    assert "parent missing" in found[(6, "parent_code")]
    assert "parent missing" in found[(7, "parent_code")]
    assert "digits only" in found[(8, "code")]
    assert found[(9, "name")] == "is required"
    assert "330106010" in found[(10, "parent_code")]
    assert set(found) == {(3, "code"), (5, "code"), (6, "parent_code"), (7, "parent_code"), (8, "code"),
                          (9, "name"), (10, "parent_code")}  # fmt: skip
    assert "row 3, code" in str(caught.value)


def test_missing_column_is_reported_on_the_header(tmp_path):
    path = tmp_path / "no_parent.csv"
    path.write_text("code,name\n330106005,翠苑街道\n", encoding="utf-8")
    with pytest.raises(LowerLevelCsvError) as caught:
        parse_lower_levels_csv(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "header")]


def test_known_divisions_can_supply_parents_and_catch_reimports(tmp_path):
    township = parse_lower_levels_csv(FIXTURES / "lower_levels_bom.csv")
    path = tmp_path / "communities.csv"
    path.write_text("code,name,parent_code\n330106005009,新社区,330106005\n", encoding="utf-8")
    (community,) = parse_lower_levels_csv(path, known=[*national_tree(), *township])
    assert community.parent_code == "330106005"
    with pytest.raises(LowerLevelCsvError, match="already exists"):
        parse_lower_levels_csv(path, known=[*national_tree(), *township, community])
