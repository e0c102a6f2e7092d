"""Pure tracing rules: the words of a line list, reclassification, assist deadlines, windows, time."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.clock import as_local, from_local
from fangkong.protocol.loader import load_builtin
from fangkong.tracing.models import Certainty, Classification, ContactCategory, PlaceKind
from fangkong.tracing.rules import (
    ASSIST_PLAN_HOURS_CLOSE,
    INCUBATION_MIN_DAYS,
    AssistDeadlines,
    RuleError,
    assist_deadlines,
    check_reclassification,
    incubation_window,
    parse_category,
    parse_certainty,
    parse_classification,
    parse_setting,
    parse_subject_key,
    parse_wall_time,
    parse_yes_no,
    place_key,
    subject_key,
)


@pytest.mark.parametrize(
    ("word", "setting"),
    [
        ("同住", "household"),
        ("聚餐", "shared_meal"),
        ("shared meal", "shared_meal"),
        ("Flight", "aircraft"),
        ("高铁", "train"),
        (" office ", "office"),
        ("ＫＴＶ", "entertainment"),
    ],
)
def test_setting_words_in_both_languages(word: str, setting: str) -> None:
    assert parse_setting(word) == setting


def test_an_unknown_setting_lists_the_known_ones() -> None:
    with pytest.raises(RuleError, match="household"):
        parse_setting("sauna")


def test_classification_certainty_and_category_words() -> None:
    assert parse_classification("无症状感染者") is Classification.asymptomatic
    assert parse_classification("Confirmed") is Classification.confirmed
    assert parse_certainty("很可能") is Certainty.probable
    assert parse_category("密接的密接") is ContactCategory.contact_of_contact
    assert (parse_yes_no("是"), parse_yes_no("本土"), parse_yes_no("")) == (True, False, False)
    with pytest.raises(RuleError):
        parse_yes_no("maybe")


def test_asymptomatic_may_become_confirmed_but_not_back() -> None:
    check_reclassification(Classification.asymptomatic, Classification.confirmed)
    check_reclassification(Classification.suspected, Classification.excluded)
    with pytest.raises(RuleError, match="can become excluded, not asymptomatic"):
        check_reclassification(Classification.confirmed, Classification.asymptomatic)
    with pytest.raises(RuleError, match="already"):
        check_reclassification(Classification.confirmed, Classification.confirmed)


def test_assist_deadlines_follow_the_protocols_transfer_hours() -> None:
    sent = dt.datetime(2022, 7, 5, 8, tzinfo=dt.UTC)
    cn9 = load_builtin("cn-9")
    close = assist_deadlines(sent, ContactCategory.close_contact, cn9)
    second = assist_deadlines(sent, ContactCategory.contact_of_contact, cn9)

    def hours(d: AssistDeadlines) -> list[float]:
        return [(x - sent).total_seconds() / 3600 for x in (d.acknowledge, d.locate, d.apply_plan, d.report)]

    assert cn9.deadlines.close_contact_transfer_hours == 8
    assert hours(close) == [2, 4, 8, 24]
    assert hours(second) == [2, 4, cn9.deadlines.contact_of_contact_transfer_hours, 24]
    assert hours(assist_deadlines(sent, ContactCategory.close_contact, None))[2] == ASSIST_PLAN_HOURS_CLOSE


def test_the_incubation_window_comes_from_the_protocol() -> None:
    window = incubation_window(load_builtin("cn-9"))
    assert (window.min_days, window.max_days) == (INCUBATION_MIN_DAYS, 14)
    assert "source_tracing.lookback_days" in window.source
    assert incubation_window(None).max_days == 14


def test_wall_times_are_stored_in_utc_and_read_back_local() -> None:
    local = dt.datetime(2022, 7, 1, 8, 30)
    stored = from_local(local)
    assert stored == dt.datetime(2022, 7, 1, 0, 30, tzinfo=dt.UTC)
    assert as_local(stored) == local
    assert as_local(stored.replace(tzinfo=None)) == local  # SQLite hands back naive UTC
    assert parse_wall_time("2022年7月1日 08:30").at == local
    whole = parse_wall_time("2022/7/1")
    assert (whole.at, whole.whole_day) == (dt.datetime(2022, 7, 1), True)
    with pytest.raises(RuleError, match="not a time"):
        parse_wall_time("yesterday")


def test_one_place_key_whatever_the_spelling() -> None:
    a = place_key(PlaceKind.venue, "老王 面馆", "保俶路 1号", None)
    b = place_key(PlaceKind.venue, "老王面馆", "保俶路1号", None)
    assert a == b
    assert place_key(PlaceKind.transport, "高铁", None, "G 1234") == place_key(
        PlaceKind.transport, "x", None, "g1234"
    )
    assert a != place_key(PlaceKind.venue, "老李面馆", "保俶路1号", None)


def test_subject_keys_round_trip() -> None:
    assert parse_subject_key(subject_key(7, None)) == (7, None)
    assert parse_subject_key(subject_key(None, 9)) == (None, 9)
    with pytest.raises(RuleError):
        subject_key(None, None)
