"""The daily report's charts, drawn on the server as SVG with matplotlib.

The report is one HTML template for the page and the PDF; WeasyPrint runs no script, so the charts
cannot be ECharts drawn in the browser. They are drawn here from the frozen closure figures (the
``figures`` JSON of a ``DailyClosure``) and embedded inline in the page and the PDF alike.

matplotlib is used through ``Figure`` objects and its SVG canvas only: no ``pyplot``, so no
global figure registry that a worker thread could leak into another request. Labels that may be
Chinese are drawn with a CJK font found through matplotlib's font manager (Noto Sans CJK SC from
Debian's ``fonts-noto-cjk``, or WenQuanYi Zen Hei); without one the charts are still drawn, with a
logged warning, and Chinese labels show as boxes.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.ticker import MaxNLocator

from fangkong.core.i18n import Message

log = logging.getLogger(__name__)
# matplotlib is not thread-safe even with a Figure per drawing (its font objects are shared and
# cached), and the web app's worker threads may draw two reports at once: one drawing at a time.
_DRAWING = threading.Lock()

# Families tried in turn for Chinese labels: Debian's fonts-noto-cjk, then fonts-wqy-zenhei/microhei.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")
# Where those Debian packages put the files, for a matplotlib font cache built before they were installed.
CJK_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)

# Chart size in inches (matplotlib's unit): the width of an A4 page's text block, and low enough that
# the headline figures and all three charts fit the PDF's first page.
WIDTH_IN = 7.0
HEIGHT_IN = 2.2
TASKS_HEIGHT_IN = 1.7
# Colours: the platform's brand red for reports (final), a lighter hatched tone for provisional onsets.
REPORT_COLOUR = "#b42318"
ONSET_COLOUR = "#f4a7a0"
DONE_COLOUR = "#2f855a"
LATE_COLOUR = "#b42318"
DUE_COLOUR = "#616e7c"
# matplotlib writes a <style> block into each SVG; the pages' Content-Security-Policy refuses inline
# styles without a nonce, and the block only repeats matplotlib's defaults for line joins and caps.
# The RDF metadata and the comments (each text's words in English) are dropped too: they are not part of
# the picture, and the Chinese page must hold no English.
_DROPPED = re.compile(r"<style[^>]*>.*?</style>|<metadata>.*?</metadata>|<!--.*?-->", re.DOTALL)
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
# matplotlib numbers its elements the same way in every figure (patch_1, DejaVuSans-30 ...); several charts
# in one document need ids of their own, and the references to them (href="#...", url(#...)) with them.
_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(href="#|url\(#)([^")]+)')
# Style attributes become presentation attributes (fill="..."): the same drawing, which WeasyPrint's SVG
# renderer reads without logging each declaration as an unknown CSS property.
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')


@cache
def cjk_font() -> FontProperties | None:
    """A font that draws Chinese, found once per process (None, with a warning, when there is none)."""
    for family in CJK_FAMILIES:
        faces = [entry for entry in fontManager.ttflist if entry.name == family]
        if faces:
            # The regular face (a family lists its bold file too, in no particular order).
            regular = min(faces, key=lambda entry: abs(_weight(entry.weight) - 400))
            return FontProperties(fname=regular.fname)
    for path in CJK_FILES:
        if Path(path).exists():
            return FontProperties(fname=path)
    log.warning(
        "no CJK font found for the report's charts (install fonts-noto-cjk): Chinese labels show as boxes"
    )
    return None


def _weight(value: int | str) -> int:
    return value if isinstance(value, int) else {"normal": 400, "regular": 400, "bold": 700}.get(value, 400)


def _text_font(size: float) -> dict[str, Any]:
    font = cjk_font()
    if font is None:
        return {"fontsize": size}
    sized = font.copy()
    sized.set_size(size)
    return {"fontproperties": sized}


def _presentation_attributes(match: re.Match[str]) -> str:
    declarations = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in declarations)


def _to_svg(figure: Figure, title: str, name: str) -> str:
    """The figure as an inline ``<svg>`` element named ``title`` for screen readers, its ids prefixed
    with ``name`` (no XML prologue, style block, style attributes or metadata)."""
    FigureCanvasSVG(figure)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _DROPPED.sub("", _PROLOGUE.sub("", buffer.getvalue(), count=1))
    svg = _STYLE_ATTRIBUTE.sub(_presentation_attributes, svg)
    ids = set(_ID.findall(svg))
    svg = _ID.sub(lambda m: f'id="{name}-{m.group(1)}"', svg)
    svg = _REFERENCE.sub(lambda m: m.group(1) + (f"{name}-" if m.group(2) in ids else "") + m.group(2), svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(title)}" class="chart-svg" ', 1)


def _new_figure() -> Figure:
    return Figure(figsize=(WIDTH_IN, HEIGHT_IN), layout="constrained")


def _day_labels(days: Sequence[str]) -> list[str]:
    """Month-day for the x axis, every seventh day labelled so that 28 labels do not overlap."""
    return [day[5:] if i % 7 == (len(days) - 1) % 7 else "" for i, day in enumerate(days)]


def _series(figures: Mapping[str, Any], name: str) -> tuple[list[str], list[int]]:
    raw = (figures.get("series") or {}).get(name) or {}
    days = sorted(raw, key=dt.date.fromisoformat)
    return days, [int(raw[d]) for d in days]


def epidemic_curve_svg(figures: Mapping[str, Any], by: str, language: str) -> str:
    """New cases per day over the series window, by report date (``by="report"``, final once
    published) or by onset (``by="onset"``: hatched, titled provisional, because later reports still
    fill in earlier onset days)."""
    days, counts = _series(figures, by)
    provisional = f"series.{by}" in (figures.get("provisional") or [])
    if by == "onset":
        title = Message("Epidemic curve by onset date", ctx="daily report").render(language)
    else:
        title = Message("Epidemic curve by report date", ctx="daily report").render(language)
    if provisional:
        title = Message("{title} (provisional)", ctx="daily report", title=title).render(language)
    figure = _new_figure()
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    if provisional:
        axes.bar(positions, counts, color=ONSET_COLOUR, edgecolor=REPORT_COLOUR, hatch="//", linewidth=0.5)
    else:
        axes.bar(positions, counts, color=REPORT_COLOUR)
    axes.set_xticks(positions, _day_labels(days), fontsize=8)
    axes.tick_params(axis="y", labelsize=8)
    axes.set_title(title, loc="left", **_text_font(10))
    axes.set_ylabel(Message("New cases").render(language), **_text_font(8))
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if not days:
        axes.text(
            0.5, 0.5, Message("No data", ctx="daily report").render(language), ha="center", va="center",
            transform=axes.transAxes, **_text_font(9),
        )  # fmt: skip
    return _to_svg(figure, title, f"chart-{by}")


def tasks_svg(figures: Mapping[str, Any], language: str) -> str:
    """The day's tasks: due, done (on time and late) and late, as horizontal bars with their counts."""
    tasks = figures.get("tasks") or {}
    rows = [
        (Message("Tasks due", ctx="daily report").render(language), int(tasks.get("due", 0)), DUE_COLOUR),
        (Message("Tasks done", ctx="daily report").render(language), int(tasks.get("done", 0)), DONE_COLOUR),
        (
            Message("Done on time", ctx="daily report").render(language),
            int(tasks.get("done_on_time", 0)),
            DONE_COLOUR,
        ),
        (Message("Late tasks", ctx="daily report").render(language), int(tasks.get("late", 0)), LATE_COLOUR),
        (
            Message("Carried over", ctx="daily report").render(language),
            int(tasks.get("carried_over", 0)),
            DUE_COLOUR,
        ),
    ]
    figure = Figure(figsize=(WIDTH_IN, TASKS_HEIGHT_IN), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(rows)))[::-1]
    values = [value for _label, value, _colour in rows]
    bars = axes.barh(positions, values, color=[colour for _label, _value, colour in rows], height=0.6)
    axes.set_yticks(positions, [label for label, _value, _colour in rows])
    for label in axes.get_yticklabels():
        font = _text_font(8)
        if "fontproperties" in font:
            label.set_fontproperties(font["fontproperties"])
    axes.bar_label(bars, labels=[str(v) for v in values], padding=3, fontsize=8)
    axes.set_xlim(0, max([*values, 1]) * 1.15)
    axes.tick_params(axis="x", labelsize=8)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    title = Message("Tasks of the day", ctx="daily report").render(language)
    axes.set_title(title, loc="left", **_text_font(10))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _to_svg(figure, title, "chart-tasks")


def report_charts(figures: Mapping[str, Any], language: str) -> dict[str, str]:
    """Every chart of the daily report as inline SVG, by name (``report``, ``onset``, ``tasks``)."""
    with _DRAWING:
        return {
            "report": epidemic_curve_svg(figures, "report", language),
            "onset": epidemic_curve_svg(figures, "onset", language),
            "tasks": tasks_svg(figures, language),
        }
