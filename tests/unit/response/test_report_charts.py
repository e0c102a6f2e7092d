"""The daily report's server-side SVG charts: labelled in the reader's language with a CJK font,
self-contained (no style block, no metadata), ids unique across the charts of one document, onset
bars marked provisional."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from fangkong.response.service import charts

HAN = re.compile(r"[\u4e00-\u9fff]")


def figures(*, provisional: bool = True, days: int = 28) -> dict[str, Any]:
    first = dt.date(2026, 11, 9)
    series = {(first + dt.timedelta(days=i)).isoformat(): i % 4 for i in range(days)}
    return {
        "tasks": {"due": 5, "done": 4, "done_on_time": 3, "late": 1, "carried_over": 1, "opened": 6},
        "series": {"report": series, "onset": dict(series)},
        "provisional": ["series.onset"] if provisional else [],
    }


def test_every_chart_is_a_self_contained_svg_named_in_the_readers_language() -> None:
    drawn = charts.report_charts(figures(), "zh")
    assert set(drawn) == {"report", "onset", "tasks"}
    for svg in drawn.values():
        assert svg.startswith("<svg ") and svg.rstrip().endswith("</svg>")
        assert "<style" not in svg and "<metadata" not in svg and "<!--" not in svg and " style=" not in svg
        label = re.search(r'aria-label="([^"]+)"', svg)
        assert label is not None and HAN.search(label.group(1))
    assert 'aria-label="按发病日期的流行曲线（初步）"' in drawn["onset"]
    english = charts.report_charts(figures(), "en")
    assert 'aria-label="Epidemic curve by onset date (provisional)"' in english["onset"]
    assert 'aria-label="Tasks of the day"' in english["tasks"]


def test_ids_are_unique_across_the_charts_and_every_reference_resolves() -> None:
    drawn = charts.report_charts(figures(), "zh")
    seen: set[str] = set()
    for svg in drawn.values():
        ids = set(re.findall(r'\bid="([^"]+)"', svg))
        assert ids and not ids & seen
        seen |= ids
        references = set(re.findall(r'(?:href="#|url\(#)([^")]+)', svg))
        assert references and references <= ids


def test_onset_bars_are_hatched_only_while_provisional() -> None:
    assert "<pattern" in charts.epidemic_curve_svg(figures(provisional=True), "onset", "zh")
    final = charts.epidemic_curve_svg(figures(provisional=False), "onset", "en")
    assert "<pattern" not in final and "(provisional)" not in final
    assert "<pattern" not in charts.epidemic_curve_svg(figures(), "report", "zh")


def test_an_empty_series_still_draws_a_chart() -> None:
    svg = charts.epidemic_curve_svg({"series": {}}, "report", "en")
    assert svg.startswith("<svg ") and "Epidemic curve by report date" in svg
    assert charts.tasks_svg({}, "zh").startswith("<svg ")


@pytest.mark.skipif(
    not any(Path(p).exists() for p in charts.CJK_FILES), reason="no CJK font installed (fonts-noto-cjk)"
)
def test_a_cjk_font_is_found_for_chinese_labels() -> None:
    from matplotlib.ft2font import FT2Font

    font = charts.cjk_font()
    assert font is not None
    face = FT2Font(str(font.get_file()))
    assert face.get_char_index(ord("疫")) != 0


# Without the font, matplotlib warns of each Chinese glyph DejaVu Sans lacks: expected here.
@pytest.mark.filterwarnings("ignore:Glyph")
def test_without_a_cjk_font_the_charts_are_drawn_and_a_warning_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(charts.fontManager, "ttflist", [])
    monkeypatch.setattr(charts, "CJK_FILES", ())
    charts.cjk_font.cache_clear()
    try:
        with caplog.at_level("WARNING", logger=charts.__name__):
            assert charts.cjk_font() is None
            svg = charts.tasks_svg(figures(), "zh")
        assert svg.startswith("<svg ") and "fonts-noto-cjk" in caplog.text
    finally:
        charts.cjk_font.cache_clear()
