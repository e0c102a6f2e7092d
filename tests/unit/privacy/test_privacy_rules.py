"""The pure rules of the personal-data lifecycle: which rules may be saved, where a period ends, which
reasons open a person outside one's jurisdiction, and where the glass may be broken at all."""

from __future__ import annotations

import datetime as dt

from fangkong.privacy.rules import access, retention


def test_a_rule_below_the_minimum_or_with_an_unknown_action_is_refused_field_by_field() -> None:
    assert retention.check_rule("cases", retention.MINIMUM_PERIOD_DAYS, "delete") == []
    assert [f for f, _ in retention.check_rule("cases", retention.MINIMUM_PERIOD_DAYS - 1, "delete")] == [
        "period_days"
    ]
    assert [f for f, _ in retention.check_rule("cases", 90, "shred")] == ["action"]
    assert [f for f, _ in retention.check_rule("selfies", 90, "delete")] == ["record_class"]
    assert [f for f, _ in retention.check_rule("cases", retention.MAXIMUM_PERIOD_DAYS + 1, "delete")] == [
        "period_days"
    ]


def test_the_cutoff_is_the_period_in_whole_days_and_never_shorter_than_the_minimum() -> None:
    today = dt.date(2026, 12, 7)
    assert retention.cutoff(today, 30) == dt.date(2026, 11, 7)
    # A stored rule below the minimum (written before the minimum was raised) still keeps the minimum.
    assert retention.cutoff(today, 1) == today - dt.timedelta(days=retention.MINIMUM_PERIOD_DAYS)


def test_every_record_class_names_its_table_and_date_and_the_defaults_are_valid() -> None:
    codes = [c.code for c in retention.RECORD_CLASSES]
    assert len(codes) == len(set(codes))
    for rule in retention.default_rules():
        assert retention.check_rule(rule.record_class, rule.period_days, rule.action) == []
    assert {"managed_people", "cases", "contacts", "exposures", "test_results", "arrivals"} <= set(codes)


def test_other_needs_a_typed_reason_and_a_chosen_one_does_not() -> None:
    assert access.check_reason("arrival", "") == []
    assert [f for f, _ in access.check_reason("other", "  ")] == ["reason_text"]
    assert access.check_reason("other", "协查电话核实") == []
    assert [f for f, _ in access.check_reason("curious", "")] == ["reason"]
    assert [f for f, _ in access.check_reason("arrival", "长" * 301)] == ["reason_text"]


def test_the_glass_may_be_broken_inside_the_province_only_and_never_into_a_drill() -> None:
    assert access.same_province("/330000/330100/330106/", "/330000/330200/330203/")
    assert not access.same_province("/330000/330100/", "/320000/320100/")
    assert not access.same_province("/~/330000/330100/330106/330106999/", "/330000/330200/")
    assert not access.same_province("/330000/330200/", "/~/330000/330100/330106/330106999/")
    # Inside one drill's sandbox the drill plays it (one community reads another's referred contact).
    sandbox = "/~/330000/330100/330106/330106999/"
    assert access.same_province(f"{sandbox}330106999001/", f"{sandbox}330106999002/")
    assert access.same_province(sandbox, f"{sandbox}330106999002/")
    assert not access.same_province(f"{sandbox}330106999001/", "/~/330000/330100/330106/330106998/")
