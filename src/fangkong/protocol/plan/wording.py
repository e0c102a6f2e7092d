"""Release and exit rules in words: a message for the reader's language, and English text with the
protocol file's note.
"""

from __future__ import annotations

from fangkong.core.i18n import Message
from fangkong.protocol.schema import (
    AllTestsNegative,
    CtAtLeast,
    DoubleSampleDoubleTest,
    FinalTestNegative,
    LinkedFirstTestsNegative,
    NegativeTestIfSymptoms,
    ReleaseRule,
    ShortenWithNegativeTest,
)


def rule_message(rule: ReleaseRule) -> Message:
    """A release or exit rule in words, for the reader's language (the protocol file's note aside)."""
    match rule:
        case AllTestsNegative():
            return Message("all tests negative")
        case FinalTestNegative():
            return Message("final test negative")
        case LinkedFirstTestsNegative(count=count):
            return Message("the linked close contact's first {count} tests negative", count=count)
        case CtAtLeast():
            return Message(
                "{consecutive} consecutive tests with Ct ≥ {threshold} ({genes}), ≥ {hours} h apart",
                consecutive=rule.consecutive,
                threshold=float(rule.threshold),
                genes=", ".join(rule.genes),
                hours=rule.min_interval_hours,
            )
        case DoubleSampleDoubleTest(institutions=institutions):
            return Message(
                "double sample, double test by {institutions} institutions", institutions=institutions
            )
        case ShortenWithNegativeTest(day=day):
            return Message("may end on day {day} with a negative test", day=day)
        case NegativeTestIfSymptoms():
            return Message("if symptoms appear, stay until a negative test")


def describe_rule(rule: ReleaseRule) -> str:
    """A release or exit rule in English words, with the protocol file's note."""
    text = str(rule_message(rule))
    return f"{text} ({rule.note})" if rule.note else text
