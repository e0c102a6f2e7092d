"""Messages kept as an English msgid and parameters, worded in the reader's language when shown."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message, field_label, joined, render_text, stored, translations


def test_a_message_with_parameters_reads_in_chinese_and_in_english() -> None:
    message = Message("{value} is in the future", value=dt.date(2099, 1, 1))
    assert message.render("zh") == "2099-01-01 是将来的时间"
    assert message.render("en") == "2099-01-01 is in the future"
    assert str(message) == "2099-01-01 is in the future"


def test_parameters_that_are_keys_or_lists_read_in_the_same_language() -> None:
    message = Message(
        "a {current} case can become {allowed}, not {new}",
        current=Message("suspected"),
        allowed=[Message("confirmed"), Message("excluded")],
        new=Message("asymptomatic"),
    )
    zh = message.render("zh")
    assert zh.startswith("疑似病例只能改为确诊病例、")
    assert "confirmed" not in zh and "suspected" not in zh
    assert message.render("en") == "a suspected case can become confirmed, excluded, not asymptomatic"


def test_a_context_picks_the_word_a_place_needs() -> None:
    assert Message("confirmed", ctx="certainty").render("zh") == "确定"
    assert Message("confirmed").render("zh") == "确诊病例"
    assert translations("zh").pgettext("assist request", "From") == "发起方"
    assert translations("zh").gettext("From") != "来源"  # a date "from", not a source


def test_a_stored_message_comes_back_and_old_plain_text_is_shown_as_written() -> None:
    message = Message(
        "investigator: {reason} (classifier said {category})",
        reason="同桌吃饭",
        category=Message("general_contact"),
    )
    text = stored(message)
    assert Message.loads(text) == message
    assert render_text(text, "zh") == "流调人员判定：同桌吃饭（系统判定为一般接触者）"
    assert render_text(text, None) == "investigator: 同桌吃饭 (classifier said general contact)"
    assert render_text("written before messages had keys", "zh") == "written before messages had keys"
    assert render_text("close_contact", "zh") == "密切接触者"
    assert render_text("reported", "zh", "case history") == "报告"


def test_english_pages_read_stored_keys_as_words() -> None:
    assert render_text("command_centre", "en") == "Command centre"
    assert render_text("close_contact", "en") == "close contact"
    assert Message("{what}", what=Message("shared_meal")).render("en") == "shared meal"


def test_an_untranslated_message_or_a_broken_translation_falls_back_to_english() -> None:
    assert Message("no catalog knows this {x}", x=1).render("zh") == "no catalog knows this 1"
    assert Message("").render("zh") == ""
    assert str(joined([Message("a"), Message("b"), Message("c")])) == "a; b; c"


def test_errors_keep_english_for_the_api_and_the_message_for_pages() -> None:
    error = RowError(2, "onset_date", Message("{value} is in the future", value="2099-01-01"))
    assert error.message == "2099-01-01 is in the future"
    assert error.text.render("zh") == "2099-01-01 是将来的时间"
    assert error == RowError(2, "onset_date", "2099-01-01 is in the future")
    assert error.renamed("发病日期").field == "发病日期"
    exc = InvalidInput([error])
    assert exc.message == "1 error(s): row 2, onset_date: 2099-01-01 is in the future"


@pytest.mark.parametrize(
    ("field", "zh", "en"),
    [("onset_date", "发病日期", "Onset date"), ("发病日期", "发病日期", "发病日期"), ("x_internal", "", "")],
)
def test_a_field_is_named_by_its_label_never_by_its_programmers_name(field: str, zh: str, en: str) -> None:
    assert field_label(field, "zh") == zh
    assert field_label(field, "en") == en
