"""The daily report (疫情防控日报): one jurisdiction's frozen daily closure as a page, a PDF and a workbook.

Everything the report says comes from one published ``DailyClosure`` version (the latest unless a
version is asked for), never from live records: a report printed for a day says the same thing
tomorrow. :func:`report_context` shapes that version for people (labels in the reader's language,
headline figures, the 28-day series); the page and the PDF are the same Jinja2 template
(``response/report.html``), laid out by ``base.html`` on the web and by ``response/report_print.html``
for WeasyPrint, with the charts drawn on the server as SVG (:mod:`.charts`). The workbook is written by
XlsxWriter in constant-memory mode, one sheet per section and one for the series.

Counts by report date are final once published; counts by onset are provisional (the figures'
``provisional`` list names them) and every rendering says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import LANGUAGES, Message, render_text, translations
from fangkong.response.service import closure
from fangkong.response.service.charts import report_charts

# The catalog's context for the report's words: "Version" or "Tasks due" here may be worded otherwise
# elsewhere, and a word the catalog has only without a context falls back to that entry.
CTX = "daily report"
TEMPLATE = "response/report.html"
PRINT_LAYOUT = "response/report_print.html"
PAGE_LAYOUT = "base.html"

# The sections of the closure figures in the order the report shows them, each with its figures and
# their labels (English msgids; messages.po words them in Chinese). A figure the closure holds that is
# not listed here is still shown, after these, under its key.
SECTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "tasks",
        "Tasks",
        (
            ("due", "Tasks due"),
            ("done", "Tasks done"),
            ("done_on_time", "Done on time"),
            ("late", "Late tasks"),
            ("carried_over", "Carried over"),
            ("opened", "Tasks opened"),
        ),
    ),
    (
        "cases",
        "Cases",
        (
            ("reported", "Cases reported today"),
            ("total", "Cases in total"),
            ("confirmed", "Confirmed cases"),
            ("asymptomatic", "Asymptomatic infections"),
            ("found_under_management", "Found under management"),
        ),
    ),
    ("contacts", "Contacts", (("identified", "Contacts identified today"),)),
    (
        "quarantine",
        "Centralised quarantine",
        (
            ("placed", "People placed"),
            ("released", "People released"),
            ("occupied", "Rooms occupied"),
            ("capacity", "Rooms in total"),
        ),
    ),
    (
        "testing",
        "Testing",
        (
            ("due", "Tests due"),
            ("done", "Tests done"),
            ("overdue", "Tests overdue"),
            ("positive", "Positive results"),
        ),
    ),
    (
        "alerts",
        "Alerts",
        (
            ("raised", "Alerts raised"),
            ("answered", "Alerts answered"),
            ("answered_in_time", "Answered in time"),
            ("open", "Alerts open"),
            ("median_response_hours", "Median response (hours)"),
        ),
    ),
    (
        "areas",
        "Risk areas",
        (
            ("high", "High-risk areas"),
            ("medium", "Medium-risk areas"),
            ("designated", "Areas designated today"),
            ("lifted", "Areas lifted today"),
        ),
    ),
)
# The figures on top of the report, as (section, figure).
HEADLINE = (
    ("cases", "reported"),
    ("cases", "total"),
    ("contacts", "identified"),
    ("quarantine", "occupied"),
    ("tasks", "late"),
    ("alerts", "open"),
)
# Rendered PDFs kept in memory, newest last (a report is a few hundred kB; rendering one takes seconds).
PDF_CACHE_SIZE = 32
_PDF_CACHE: OrderedDict[str, bytes] = OrderedDict()
_PDF_LOCK = threading.Lock()
# Characters a download's file name keeps (the rest become "_"): ASCII only, so that every browser and
# proxy takes the Content-Disposition header as written.
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
# Excel refuses these in a sheet name, and names past 31 characters.
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def _language(locale: str) -> str:
    if locale not in LANGUAGES:
        raise InvalidInput(
            [
                RowError(
                    1, "lang", Message("must be one of {values}", ctx="daily report", values=list(LANGUAGES))
                )
            ]
        )
    return locale


def jurisdiction_id_for(session: Session, principal: Principal, code: str) -> int:
    """The id of the jurisdiction with this code, if it lies in the reader's scope (else not found)."""
    return int(closure.place_by_code(session, principal, code).id)


def _local(moment: dt.datetime | None) -> str | None:
    return clock.as_local(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else None


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or value is None:
        return None if value is None else int(value)
    if isinstance(value, int | float):
        return value
    return None


def _sections(figures: Mapping[str, Any], language: str) -> list[dict[str, Any]]:
    """Each section with its figures labelled, the known ones first, unknown scalar figures after."""
    shown: list[dict[str, Any]] = []
    known_sections = {key for key, _label, _figures in SECTIONS}
    for key, label, known in SECTIONS:
        values = figures.get(key)
        if not isinstance(values, Mapping):
            continue
        rows: list[dict[str, Any]] = []
        for figure, figure_label in known:
            if figure in values:
                rows.append(
                    {
                        "key": figure,
                        "label": Message(figure_label, ctx=CTX).render(language),
                        "value": _number(values[figure]),
                    }
                )
        if key == "contacts" and isinstance(values.get("under_measure"), Mapping):
            for category, count in sorted(values["under_measure"].items()):
                # The protocol's category ids are stored keys (close_contact ...), worded by the catalog.
                name = render_text(category, language)
                rows.append(
                    {
                        "key": f"under_measure.{category}",
                        "label": Message(
                            "Under management: {category}", ctx="daily report", category=name
                        ).render(language),
                        "value": _number(count),
                    }
                )
        listed = {figure for figure, _label in known} | {"under_measure"}
        for figure, value in values.items():
            if figure not in listed and not isinstance(value, Mapping | list):
                rows.append({"key": figure, "label": render_text(figure, language), "value": _number(value)})
        shown.append({"key": key, "label": Message(label, ctx=CTX).render(language), "figures": rows})
    for key, values in figures.items():
        if key in known_sections or key in ("schema", "day", "jurisdiction", "series", "provisional"):
            continue
        if isinstance(values, Mapping):
            rows = [
                {"key": k, "label": render_text(k, language), "value": _number(v)}
                for k, v in values.items()
                if not isinstance(v, Mapping | list)
            ]
            shown.append({"key": key, "label": render_text(key, language), "figures": rows})
    return shown


def _series(figures: Mapping[str, Any]) -> dict[str, list[Any]]:
    series = figures.get("series") or {}
    report = series.get("report") or {}
    onset = series.get("onset") or {}
    days = sorted({*report, *onset}, key=dt.date.fromisoformat)
    return {
        "days": days,
        "report": [int(report.get(d, 0)) for d in days],
        "onset": [int(onset.get(d, 0)) for d in days],
    }


def download_name(code: str, day: dt.date, version: int, extension: str) -> str:
    """The file name a download is saved under: ASCII only (``fangkong-report-330106-2026-12-06-v1.pdf``)."""
    return _UNSAFE_NAME.sub("_", f"fangkong-report-{code}-{day.isoformat()}-v{version}.{extension}")


def report_context(
    session: Session,
    principal: Principal,
    jurisdiction_id: int,
    day: dt.date,
    version: int | None = None,
    locale: str = "zh",
) -> dict[str, Any]:
    """The report of one published closure, as plain JSON-ready values worded in ``locale``.

    Raises ``NotFound`` when nothing is published for that day in the reader's scope (or that version
    does not exist), ``InvalidInput`` for a language the platform does not speak.
    """
    language = _language(locale)
    # The closure service's own read: the same scope rule and versions as the closure pages.
    row = closure.get_closure(session, principal, jurisdiction_id, day, version)
    figures = row.figures
    sections = _sections(figures, language)
    by_key = {(s["key"], f["key"]): f for s in sections for f in s["figures"]}
    headline = [by_key[key] for key in HEADLINE if key in by_key]
    provisional = [str(key) for key in figures.get("provisional") or []]
    reason = render_text(row.reason, language) if row.reason else None
    return {
        "locale": language,
        "title": Message("Daily report: {place}, {day}", ctx="daily report", place=row.name, day=day).render(
            language
        ),
        "jurisdiction": {"id": row.jurisdiction_id, "code": row.code, "name": row.name, "path": row.jpath},
        "day": day.isoformat(),
        "version": row.version,
        # Versions are numbered 1, 2, ... without gaps: a correction is the next number.
        "versions": list(range(1, row.latest_version + 1)),
        "latest_version": row.latest_version,
        "reason": reason,
        "published_at": _local(row.published_at),
        "published_by": row.published_by,
        "signed_off_at": _local(row.signed_off_at),
        "signed_off_by": row.signed_off_by,
        "objectives": row.objectives,
        "headline": headline,
        "sections": sections,
        "series": _series(figures),
        "provisional": provisional,
        "onset_provisional": "series.onset" in provisional,
        "files": {
            "pdf": download_name(row.code, day, row.version, "pdf"),
            "xlsx": download_name(row.code, day, row.version, "xlsx"),
        },
        # The frozen figures as published, for the charts and for programs that read the JSON.
        "figures": figures,
    }


# The templates write their <style> blocks with the page's nonce (request.state.csp_nonce), as every
# template must for the Content-Security-Policy. The PDF is rendered without a request, and WeasyPrint
# ignores the attribute, so the print layout gets a stand-in whose nonce is empty.
_PRINT_REQUEST = SimpleNamespace(state=SimpleNamespace(csp_nonce=""))


def template_context(context: Mapping[str, Any], *, layout: str) -> dict[str, Any]:
    """What the report template needs beyond the report itself: the charts, the layout and the words."""
    language = str(context["locale"])
    catalog = translations(language)
    return {
        "report": context,
        "charts": report_charts(context["figures"], language),
        "layout": layout,
        "_": catalog.gettext,
        "pgettext": catalog.pgettext,
        "lang": language,
    }


def report_html(
    session: Session,
    principal: Principal,
    jurisdiction_id: int,
    day: dt.date,
    version: int | None = None,
    locale: str = "zh",
) -> str:
    """The report as one self-contained HTML document (the print layout: no script, no navigation)."""
    return context_html(report_context(session, principal, jurisdiction_id, day, version, locale))


def context_html(context: Mapping[str, Any]) -> str:
    """:func:`report_html` of a context already read (the web's Jinja environment, print layout)."""
    from fangkong.web.templating import templates

    template = templates.env.get_template(TEMPLATE)
    return template.render({**template_context(context, layout=PRINT_LAYOUT), "request": _PRINT_REQUEST})


def report_pdf(
    session: Session,
    principal: Principal,
    jurisdiction_id: int,
    day: dt.date,
    version: int | None = None,
    locale: str = "zh",
) -> bytes:
    """The report as a PDF of summary pages, rendered by WeasyPrint from the page's own template."""
    return context_pdf(report_context(session, principal, jurisdiction_id, day, version, locale))


def context_pdf(context: Mapping[str, Any]) -> bytes:
    """:func:`report_pdf` of a context already read (no database needed while WeasyPrint works).

    A published version never changes (a sign-off changes its context, and so the key), so the same
    report asked again is served from a small in-process cache instead of rendered again.
    """
    key = hashlib.sha256(json.dumps(context, sort_keys=True, default=str).encode()).hexdigest()
    with _PDF_LOCK:
        cached = _PDF_CACHE.get(key)
        if cached is not None:
            _PDF_CACHE.move_to_end(key)
            return cached
    pdf = html_to_pdf(context_html(context))
    with _PDF_LOCK:
        _PDF_CACHE[key] = pdf
        while len(_PDF_CACHE) > PDF_CACHE_SIZE:
            _PDF_CACHE.popitem(last=False)
    return pdf


def html_to_pdf(html: str) -> bytes:
    """A PDF of a self-contained document: nothing is fetched (the charts are inline SVG), so a name in
    the figures can never make the server request a URL."""
    from weasyprint import HTML  # type: ignore[import-untyped]
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    fetcher = URLFetcher(allowed_protocols=("data",))
    pdf: bytes = HTML(string=html, url_fetcher=fetcher, base_url=".").write_pdf()
    return pdf


def _sheet_name(label: str, used: set[str]) -> str:
    name = _SHEET_UNSAFE.sub(" ", label)[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def report_xlsx(
    session: Session,
    principal: Principal,
    jurisdiction_id: int,
    day: dt.date,
    version: int | None = None,
    locale: str = "zh",
) -> bytes:
    """The report as an Excel workbook: a summary sheet, one sheet per section and the daily series,
    headers in ``locale``."""
    context = report_context(session, principal, jurisdiction_id, day, version, locale)
    return context_xlsx(context)


def context_xlsx(context: Mapping[str, Any]) -> bytes:
    """:func:`report_xlsx` of a context already read."""
    language = str(context["locale"])

    def say(text: str, **params: Any) -> str:
        return Message(text, ctx=CTX, **params).render(language)

    output = io.BytesIO()
    # Constant memory: each row goes to a temporary file as it is written, whatever the workbook's size.
    book = xlsxwriter.Workbook(output, {"constant_memory": True})
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    used: set[str] = set()

    summary = book.add_worksheet(_sheet_name(say("Summary"), used))
    summary.set_column(0, 0, 28)
    summary.set_column(1, 1, 36)
    summary.write(0, 0, str(context["title"]), title)
    facts: list[tuple[str, Any]] = [
        (say("Jurisdiction"), context["jurisdiction"]["name"]),
        (say("Jurisdiction code"), context["jurisdiction"]["code"]),
        (say("Day"), context["day"]),
        (say("Version"), context["version"]),
        (say("Published at"), context["published_at"]),
        (say("Published by"), context["published_by"]),
        (say("Reason for the correction"), context["reason"]),
        (say("Signed off at"), context["signed_off_at"]),
        (say("Signed off by"), context["signed_off_by"]),
        (say("Objectives for the next operational period"), context["objectives"]),
    ]
    row = 2
    for label, value in facts:
        summary.write(row, 0, label, bold)
        summary.write(row, 1, "" if value is None else value)
        row += 1
    row += 1
    summary.write(row, 0, say("Headline figures"), bold)
    row += 1
    for figure in context["headline"]:
        summary.write(row, 0, figure["label"])
        _write_value(summary, row, 1, figure["value"])
        row += 1
    if context["onset_provisional"]:
        summary.write(
            row + 1, 0, say("Counts by onset date are provisional: later reports still add to earlier days.")
        )

    for section in context["sections"]:
        sheet = book.add_worksheet(_sheet_name(section["label"], used))
        sheet.set_column(0, 0, 34)
        sheet.set_column(1, 1, 14)
        sheet.write(0, 0, say("Figure"), bold)
        sheet.write(0, 1, say("Value"), bold)
        for i, figure in enumerate(section["figures"], start=1):
            sheet.write(i, 0, figure["label"])
            _write_value(sheet, i, 1, figure["value"])

    series = context["series"]
    sheet = book.add_worksheet(_sheet_name(say("Daily series"), used))
    sheet.set_column(0, 2, 18)
    onset_header = say("Cases by onset date")
    if context["onset_provisional"]:
        onset_header = say("{title} (provisional)", title=onset_header)
    sheet.write_row(0, 0, [say("Day"), say("Cases by report date"), onset_header], bold)
    for i, (day, reported, onset) in enumerate(
        zip(series["days"], series["report"], series["onset"], strict=True)
    ):
        sheet.write_row(i + 1, 0, [day, reported, onset])
    book.close()
    return output.getvalue()


def _write_value(sheet: Any, row: int, column: int, value: Any) -> None:
    if value is None:
        sheet.write_blank(row, column, None)
    else:
        sheet.write_number(row, column, value)
