"""Multi-point triggering: which signals in which areas become which alert (pure fusion rules)."""

from __future__ import annotations

import datetime as dt
import itertools

from fangkong.core.models import Level
from fangkong.surveillance.channels import DEFAULT_RULES, RuleSpec
from fangkong.surveillance.fusion import Area, Rule, SignalFact, area_for, fuse, neighbour_map
from fangkong.surveillance.models import AlertLevel, RuleKind

DAY = dt.date(2024, 3, 20)
CITY = Area(1, "330100", "杭州市", "/330000/330100/", None, Level.city)
WEST_LAKE = Area(2, "330106", "西湖区", "/330000/330100/330106/", 1, Level.county)
SHANGCHENG = Area(3, "330102", "上城区", "/330000/330100/330102/", 1, Level.county)
BINJIANG = Area(4, "330108", "滨江区", "/330000/330100/330108/", 1, Level.county)
HAISHU = Area(5, "330203", "海曙区", "/330000/330200/330203/", 9, Level.county)
AREAS = [CITY, WEST_LAKE, SHANGCHENG, BINJIANG, HAISHU]
RULES = [Rule(i + 1, spec) for i, spec in enumerate(DEFAULT_RULES)]
_ids = itertools.count(1)


def signal(
    channel: str,
    area: Area,
    days_ago: int = 0,
    *,
    disease: str | None = None,
    suffix: str = "",
    weekly: bool = False,
) -> SignalFact:
    return SignalFact(
        result_id=next(_ids),
        channel_code=channel,
        disease=disease,
        weekly=weekly,
        jurisdiction_id=area.id,
        jpath=area.path + suffix,
        period_start=DAY - dt.timedelta(days=days_ago),
        method="ears_c1",
        observed=10.0,
        expected=3.0,
        threshold=6.0,
    )


def run(signals: list[SignalFact], rules: list[Rule] = RULES, adjacency=(), used=None):  # type: ignore[no-untyped-def]
    neighbours = neighbour_map(AREAS, adjacency)
    return fuse(signals, rules, AREAS, neighbours, DAY, used)


def by_area(candidates):  # type: ignore[no-untyped-def]
    return {c.area.code: c for c in candidates}


def test_a_signal_of_a_township_counts_for_its_county() -> None:
    township = signal("fever_clinic", WEST_LAKE, suffix="330106001/")
    found = by_area(run([township]))
    assert list(found) == ["330106"]
    assert found["330106"].level is AlertLevel.blue


def test_two_channels_in_one_area_within_seven_days_make_a_yellow_alert() -> None:
    found = by_area(run([signal("case_reports", WEST_LAKE), signal("pharmacy", WEST_LAKE, days_ago=6)]))
    assert found["330106"].level is AlertLevel.yellow
    assert found["330106"].channels == {"case_reports", "pharmacy"}


def test_channels_eight_days_apart_do_not_fuse() -> None:
    found = by_area(run([signal("case_reports", WEST_LAKE), signal("pharmacy", WEST_LAKE, days_ago=7)]))
    assert found["330106"].level is AlertLevel.blue
    assert found["330106"].channels == {"case_reports"}


def test_siblings_are_neighbours_when_no_adjacency_is_configured() -> None:
    found = by_area(run([signal("case_reports", WEST_LAKE), signal("pharmacy", SHANGCHENG, days_ago=2)]))
    # Each county keeps its own one-channel alert; the two channels together are the city's alert, so
    # that nobody reads a neighbour's signals in their own county's alert.
    assert found["330106"].level is AlertLevel.blue and found["330106"].channels == {"case_reports"}
    assert found["330102"].level is AlertLevel.blue and found["330102"].channels == {"pharmacy"}
    assert found["330100"].level is AlertLevel.yellow
    assert found["330100"].key == f"temporal:{CITY.id}"
    assert {s.jurisdiction_id for s in found["330100"].signals} == {WEST_LAKE.id, SHANGCHENG.id}


def test_areas_of_other_cities_are_not_neighbours() -> None:
    found = by_area(run([signal("case_reports", WEST_LAKE), signal("pharmacy", HAISHU)]))
    assert found["330106"].level is AlertLevel.blue
    assert found["330203"].level is AlertLevel.blue


def test_a_configured_adjacency_replaces_the_siblings() -> None:
    signals = [signal("case_reports", WEST_LAKE), signal("pharmacy", SHANGCHENG)]
    # Siblings by default: the two channels are the city's alert.
    assert by_area(run(signals))["330100"].channels == {"case_reports", "pharmacy"}
    # Configured to border only 滨江区 (which has no signal), 西湖区 and 上城区 no longer fuse.
    found = by_area(run(signals, adjacency=[(WEST_LAKE.id, BINJIANG.id), (SHANGCHENG.id, BINJIANG.id)]))
    assert "330100" not in found
    assert found["330106"].channels == {"case_reports"} and found["330102"].channels == {"pharmacy"}
    # With a signal in 滨江区 each fuses with it: one city alert holds the three channels.
    wastewater = signal("wastewater", BINJIANG)
    found = by_area(
        run([*signals, wastewater], adjacency=[(WEST_LAKE.id, BINJIANG.id), (SHANGCHENG.id, BINJIANG.id)])
    )
    assert found["330100"].channels == {"case_reports", "pharmacy", "wastewater"}


def test_an_area_needs_a_fresh_signal_of_its_own() -> None:
    old = signal("case_reports", WEST_LAKE, days_ago=3)
    fresh = signal("pharmacy", WEST_LAKE)
    found = by_area(run([old], used={f"temporal:{WEST_LAKE.id}": {old.result_id}}))
    assert "330106" not in found
    found = by_area(run([old, fresh], used={f"temporal:{WEST_LAKE.id}": {old.result_id}}))
    assert found["330106"].channels == {"case_reports", "pharmacy"}
    assert found["330106"].fresh == [fresh]


def test_single_case_diseases_get_their_own_red_alert_beside_the_temporal_one() -> None:
    cholera = signal("cases.cholera", WEST_LAKE, disease="cholera")
    measles = signal("cases.measles", WEST_LAKE, disease="measles")
    found = run([cholera, measles, signal("pharmacy", WEST_LAKE)])
    keys = {c.key: c for c in found}
    assert keys[f"case:{WEST_LAKE.id}:cholera"].level is AlertLevel.red
    assert keys[f"case:{WEST_LAKE.id}:cholera"].rule.spec.response_hours == 2
    assert f"case:{WEST_LAKE.id}:measles" not in keys  # measles is not a single-case disease
    assert keys[f"temporal:{WEST_LAKE.id}"].level is AlertLevel.yellow


def test_a_rule_limited_to_channels_ignores_the_others() -> None:
    spec = RuleSpec(
        "cases and tests",
        RuleKind.multi_channel,
        Level.county,
        AlertLevel.orange,
        24,
        min_channels=2,
        channels=("case_reports", "test_positives"),
    )
    found = run([signal("case_reports", WEST_LAKE), signal("pharmacy", WEST_LAKE)], rules=[Rule(9, spec)])
    assert found == []
    found = run(
        [signal("case_reports", WEST_LAKE), signal("test_positives", WEST_LAKE)], rules=[Rule(9, spec)]
    )
    assert [c.level for c in found] == [AlertLevel.orange]


def test_a_weekly_signal_covers_its_whole_week() -> None:
    # Filed under the Monday 12 days back, the week runs to 6 days back: inside a 7-day window.
    weekly = signal("wastewater", WEST_LAKE, days_ago=12, weekly=True)
    found = by_area(run([signal("case_reports", WEST_LAKE), weekly]))
    assert found["330106"].channels == {"case_reports", "wastewater"}


def test_rules_judge_only_their_own_level() -> None:
    city_rule = Rule(7, RuleSpec("city", RuleKind.single_channel, Level.city, AlertLevel.blue, 24))
    found = run([signal("case_reports", WEST_LAKE)], rules=[city_rule])
    assert [c.area.code for c in found] == ["330100"]


def test_area_lookup_walks_up_the_path() -> None:
    table = {a.path: a for a in AREAS if a.level is Level.county}
    assert area_for("/330000/330100/330106/330106001/330106001001/", table) is WEST_LAKE
    assert area_for("/330000/330100/", table) is None


# ------------------------------------------------ one case, one alert; spent signals; scope (issue 11)


def test_one_case_raises_one_alert_and_nothing_else() -> None:
    cholera = signal("cases.cholera", WEST_LAKE, disease="cholera")
    fever = signal("fever_clinic", SHANGCHENG, days_ago=1)
    found = run([cholera, fever])
    alerts_with_the_case = [c for c in found if cholera in c.signals]
    assert [(c.key, c.level) for c in alerts_with_the_case] == [
        (f"case:{WEST_LAKE.id}:cholera", AlertLevel.red)
    ]
    # The fever signal keeps its own county's alert; no temporal alert of 西湖区 or 杭州市 at all.
    assert {c.key for c in found} == {f"case:{WEST_LAKE.id}:cholera", f"temporal:{SHANGCHENG.id}"}


def test_signals_of_closed_alerts_are_never_fused_again() -> None:
    fever = signal("fever_clinic", SHANGCHENG, days_ago=2)
    cases = signal("case_reports", WEST_LAKE)
    # 上城区's fever signal went into an alert that was then confirmed as an event (or dismissed).
    found = by_area(run([fever, cases], used={f"temporal:{SHANGCHENG.id}": {fever.result_id}}))
    assert found["330100"].channels == {"fever_clinic", "case_reports"}  # still open: it fuses
    neighbours = neighbour_map(AREAS, ())
    found = by_area(fuse([fever, cases], RULES, AREAS, neighbours, DAY, closed={fever.result_id}))
    assert set(found) == {"330106"}
    assert found["330106"].channels == {"case_reports"} and found["330106"].level is AlertLevel.blue
    # A spent signal raises nothing by itself either.
    assert fuse([fever], RULES, AREAS, neighbours, DAY, closed={fever.result_id}) == []


def test_no_alert_holds_a_signal_from_outside_its_jurisdiction() -> None:
    signals = [
        signal("case_reports", WEST_LAKE),
        signal("pharmacy", SHANGCHENG, days_ago=1),
        signal("wastewater", BINJIANG, days_ago=2),
        signal("test_positives", HAISHU),
        signal("fever_clinic", WEST_LAKE, days_ago=3, suffix="330106001/"),
    ]
    found = run(signals)
    assert found
    for candidate in found:
        for s in candidate.signals:
            assert s.jpath.startswith(candidate.area.path), (candidate.key, s.jpath)
    # Without a place to own it (the city is not among the places), no cross-county alert is raised.
    counties = [a for a in AREAS if a.level is Level.county]
    lonely = fuse(signals[:2], RULES, counties, neighbour_map(counties, ()), DAY)
    assert {c.area.code for c in lonely} == {"330106", "330102"}
