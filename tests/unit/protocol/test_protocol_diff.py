"""Comparing protocols side by side: categories × measures × days × tests."""

from __future__ import annotations

from collections.abc import Sequence

from fangkong.protocol.diff import ABSENT, DiffRow, diff_protocols, protocol_rows
from fangkong.protocol.loader import load_builtin


def _row(rows: Sequence[DiffRow], subject: str, item: str) -> DiffRow:
    return next(r for r in rows if r.subject == subject and r.item == item)


def test_cn9_against_the_20_measures_shows_the_close_contact_days_and_tests() -> None:
    rows = diff_protocols(load_builtin("cn-9"), load_builtin("cn-9-20"))

    first = _row(rows, "close_contact", "stage 1")
    assert (first.a.days, first.b.days) == (7, 5)
    assert first.a.tests == "PCR d1,2,3,5,7 (oropharyngeal)"
    assert first.b.tests == "PCR d1,2,3,5"
    second = _row(rows, "close_contact", "stage 2")
    assert second.a.measure.startswith("home health monitoring")
    assert second.b.measure.startswith("home isolation")
    assert (second.a.tests, second.b.tests) == ("PCR d3 (oropharyngeal)", "PCR d1,3")
    total = _row(rows, "close_contact", "total")
    assert (total.a.days, total.b.days) == (10, 8)
    assert all(r.changed for r in (first, second, total))


def test_rows_one_protocol_lacks_show_a_dash_and_stay_with_their_category() -> None:
    rows = diff_protocols(load_builtin("cn-9"), load_builtin("cn-9-20"))

    status = _row(rows, "contact_of_contact", "status")
    assert status.a == ABSENT
    assert status.b.measure == "not identified"
    medium = _row(rows, "medium", "downgrade 1")
    assert medium.b == ABSENT
    assert medium.a.days == 7
    subjects = [r.subject for r in rows if r.section == "categories"]
    positions = [i for i, s in enumerate(subjects) if s == "contact_of_contact"]
    assert positions == list(range(positions[0], positions[-1] + 1)), "a category's rows stay together"


def test_a_protocol_compared_with_itself_has_no_changed_rows() -> None:
    cn9 = load_builtin("cn-9")
    rows = diff_protocols(cn9, cn9)
    assert rows
    assert not any(r.changed for r in rows)
    assert diff_protocols(cn9, cn9, changed_only=True) == []
    assert len(rows) == len(protocol_rows(cn9))


def test_changed_only_keeps_exactly_the_rows_that_differ() -> None:
    a, b = load_builtin("cn-9-20"), load_builtin("cn-9-10")
    every = diff_protocols(a, b)
    changed = diff_protocols(a, b, changed_only=True)
    assert changed == [r for r in every if r.changed]
    regional = _row(changed, "regional testing", "enabled")
    assert (regional.a.measure, regional.b.measure) == ("yes", "no")
