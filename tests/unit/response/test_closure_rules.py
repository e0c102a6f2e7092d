"""The daily closure's pure rules: the figures' shape, flattening, the version diff, provisional keys."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from fangkong.response.rules import closure as rules

DAY = dt.date(2026, 12, 6)


def _document() -> dict[str, Any]:
    first, last = rules.series_window(DAY)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    sections: dict[str, dict[str, Any]] = {
        section: dict.fromkeys(figures, 0) for section, figures in rules.SECTIONS.items()
    }
    sections["contacts"]["under_measure"] = {"close_contact": 3, "contact_of_contact": 1}
    sections["alerts"]["median_response_hours"] = None
    sections["cases"].update(reported=2, total=5, confirmed=1, asymptomatic=1)
    series = {"report": dict.fromkeys(days, 0), "onset": dict.fromkeys(days, 0)}
    series["report"][DAY] = 2
    series["onset"][DAY - dt.timedelta(days=2)] = 1
    return rules.assemble(DAY, {"code": "330106", "name": "西湖区", "path": "/330000/"}, sections, series)


def test_an_assembled_document_has_the_shape_and_28_days_of_each_curve() -> None:
    document = _document()
    assert rules.problems(document) == []
    assert document["day"] == "2026-12-06" and document["schema"] == 1
    assert len(document["series"]["report"]) == 28
    assert min(document["series"]["onset"]) == "2026-11-09"
    assert document["provisional"] == ["series.onset"]


def test_flatten_joins_sections_and_figures_with_dots_and_leaves_the_description_out() -> None:
    flat = rules.flatten(_document())
    assert flat["tasks.due"] == 0
    assert flat["contacts.under_measure.close_contact"] == 3
    assert flat["series.report.2026-12-06"] == 2
    assert flat["alerts.median_response_hours"] is None
    assert not any(k.startswith(("schema", "day", "jurisdiction", "provisional")) for k in flat)
    with pytest.raises(ValueError, match=r"tasks\.due"):
        rules.flatten({"tasks": {"due": "many"}})


def test_the_diff_lists_each_changed_figure_with_old_new_and_change() -> None:
    old = _document()
    new = copy.deepcopy(old)
    new["cases"]["total"] = 6
    new["contacts"]["under_measure"]["general_contact"] = 4
    del new["contacts"]["under_measure"]["contact_of_contact"]
    new["alerts"]["median_response_hours"] = 1.5
    changes = {c.key: c for c in rules.diff(old, new)}
    assert set(changes) == {
        "cases.total",
        "contacts.under_measure.general_contact",
        "contacts.under_measure.contact_of_contact",
        "alerts.median_response_hours",
    }
    assert (changes["cases.total"].old, changes["cases.total"].new, changes["cases.total"].change) == (
        5,
        6,
        1,
    )
    assert changes["contacts.under_measure.general_contact"].old is None
    assert changes["contacts.under_measure.contact_of_contact"].new is None
    assert changes["alerts.median_response_hours"].change is None
    assert changes["cases.total"].section == "cases"
    assert rules.diff(old, copy.deepcopy(old)) == []


def test_only_the_onset_curve_is_provisional() -> None:
    assert rules.is_provisional("series.onset")
    assert rules.is_provisional("series.onset.2026-12-06")
    assert not rules.is_provisional("series.report.2026-12-06")
    assert not rules.is_provisional("series.onsetx")
    old = _document()
    new = copy.deepcopy(old)
    new["series"]["onset"]["2026-12-05"] = 3
    (change,) = rules.diff(old, new)
    assert change.provisional and change.change == 3


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda d: d.pop("tasks"), "tasks: missing"),
        (lambda d: d["tasks"].pop("late"), "tasks.late: missing"),
        (lambda d: d["cases"].update(total=-1), "cases.total: not a count"),
        (lambda d: d["cases"].update(total=True), "cases.total: not a count"),
        (lambda d: d["cases"].update(total=None), "cases.total: missing"),
        (
            lambda d: d["alerts"].update(median_response_hours="x"),
            "alerts.median_response_hours: not a number",
        ),
        (
            lambda d: d["contacts"].update(under_measure={"x": -2}),
            "contacts.under_measure: not a map of counts",
        ),
        (lambda d: d["series"]["report"].popitem(), "series.report: not 28 days"),
        (lambda d: d.update(day="yesterday"), "day: not a date"),
        (lambda d: d.update(schema=2), "schema: not 1"),
        (lambda d: d.update(jurisdiction={}), "jurisdiction: needs code, name and path"),
        (lambda d: d.update(provisional=[]), "provisional: not series.onset"),
    ],
)
def test_problems_name_what_is_out_of_shape(damage: Any, problem: str) -> None:
    document = _document()
    damage(document)
    assert problem in rules.problems(document)


def test_the_curve_must_end_on_the_day() -> None:
    document = _document()
    document["day"] = "2026-12-07"
    assert "series.report: does not end on the day" in rules.problems(document)
