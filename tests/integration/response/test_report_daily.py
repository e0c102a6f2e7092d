"""The daily report from a frozen closure: the PDF's first page shows Chinese text and a chart, the
workbook holds the figures, English has no Chinese headers, a day without closure is not found
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core.auth import Principal, principal_for
from fangkong.core.db import Database
from fangkong.core.errors import InvalidInput, NotFound
from fangkong.core.models import User
from fangkong.response.service import report
from response_report_support import DAY, closure_figures, publish

HAN = re.compile(r"[\u4e00-\u9fff]")
COMMAND = "home_command_centre"


@contextmanager
def reading_as(db: Database, username: str) -> Iterator[tuple[Session, Principal]]:
    with db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        yield session, principal_for(session, user, "token")


def county_id(world: World, code: str = HOME_COUNTY) -> int:
    return world.jurisdictions[code]


@pytest.fixture
def published(app, world: World) -> Database:  # type: ignore[no-untyped-def]
    db: Database = app.state.db
    publish(db, HOME_COUNTY, closure_figures())
    # Each test (and each database) renders its own PDF rather than the previous test's cached one.
    report._PDF_CACHE.clear()
    return db


def test_the_pdf_first_page_shows_chinese_text_and_a_chart(
    published: Database, world: World, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import pypdfium2 as pdfium
    from PIL import Image

    with reading_as(published, COMMAND) as (session, me):
        pdf = report.report_pdf(session, me, county_id(world), DAY)
    assert pdf.startswith(b"%PDF-")
    # A published version does not change: asked again, the same rendering is served from memory.
    with reading_as(published, COMMAND) as (session, me):
        assert report.report_pdf(session, me, county_id(world), DAY) is pdf
    document = pdfium.PdfDocument(pdf)
    # Summary pages only.
    assert 1 <= len(document) <= 3
    page = document[0]
    text = page.get_textpage().get_text_range()
    # The title as drawn with the CJK font (extracted back from the PDF, not just present in the HTML).
    assert "日报" in text and "西湖区" in text, text[:300]
    assert "按发病日期统计的数字为初步数字" in text.replace("\r", "").replace("\n", "")
    png = tmp_path / "first-page.png"
    page.render(scale=1).to_pil().save(png)
    image = Image.open(png).convert("RGB")
    width, height = image.size
    pixels = image.load()
    # The bars of the epidemic curve by report date are the report red (#b42318); nothing else on the
    # page is that colour, so red pixels spread over many columns are the chart itself.
    red_columns = {
        x
        for x in range(0, width, 2)
        for y in range(0, height, 2)
        if (lambda p: p[0] > 140 and p[1] < 90 and p[2] < 90)(pixels[x, y])
    }
    assert len(red_columns) > 40, len(red_columns)
    assert max(red_columns) - min(red_columns) > width // 3


def test_the_html_embeds_every_chart_as_svg(published: Database, world: World) -> None:
    with reading_as(published, COMMAND) as (session, me):
        html = report.report_html(session, me, county_id(world), DAY)
    assert html.count("<svg ") == 3
    assert 'aria-label="按报告日期的流行曲线"' in html
    assert 'aria-label="按发病日期的流行曲线（初步）"' in html
    # Self-contained: nothing to fetch, nothing to run.
    assert "<script" not in html and "/static/" not in html


def test_the_workbook_holds_the_figures_and_the_series(published: Database, world: World) -> None:
    from openpyxl import load_workbook

    with reading_as(published, COMMAND) as (session, me):
        data = report.report_xlsx(session, me, county_id(world), DAY)
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames[0] == "摘要"
    assert "任务" in book.sheetnames and "病例" in book.sheetnames
    tasks = {row[0]: row[1] for row in book["任务"].iter_rows(min_row=2, values_only=True)}
    assert tasks["应完成任务"] == 12 and tasks["超时任务"] == 3
    contacts = {row[0]: row[1] for row in book["接触者"].iter_rows(min_row=2, values_only=True)}
    assert contacts["管理中：密切接触者"] == 120 and contacts["管理中：密接的密接"] == 45
    sheets = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    everything = [cell for rows in sheets.values() for row in rows for cell in row]
    assert 120 in everything and 870 in everything and 1.5 in everything
    series = sheets["每日数据"]
    assert series[0][0] == "日期" and "初步" in str(series[0][2])
    assert len(series) == 29
    assert sum(row[1] for row in series[1:]) == sum(closure_figures()["series"]["report"].values())


def test_the_english_report_has_no_chinese_headers(published: Database, world: World) -> None:
    from openpyxl import load_workbook

    with reading_as(published, COMMAND) as (session, me):
        context = report.report_context(session, me, county_id(world), DAY, locale="en")
        data = report.context_xlsx(context)
        html = report.context_html(context)
    labels = [s["label"] for s in context["sections"]] + [
        f["label"] for s in context["sections"] for f in s["figures"]
    ]
    assert labels and not [label for label in labels if HAN.search(label)]
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert not [name for name in book.sheetnames if HAN.search(name)]
    for name in book.sheetnames:
        for row in book[name].iter_rows(values_only=True):
            label = row[0]
            # Only the place's own name (data) is Chinese.
            if isinstance(label, str) and HAN.search(label):
                assert "西湖区" in label, (name, label)
    assert "Epidemic curve by onset date (provisional)" in html
    assert not HAN.search(re.sub("西湖区", "", html))


def test_a_day_without_a_published_closure_is_not_found(published: Database, world: World) -> None:
    with reading_as(published, COMMAND) as (session, me):
        with pytest.raises(NotFound):
            report.report_context(session, me, county_id(world), DAY - dt.timedelta(days=1))
        with pytest.raises(NotFound):
            report.report_pdf(session, me, county_id(world), DAY + dt.timedelta(days=1))
        with pytest.raises(NotFound):
            report.report_context(session, me, county_id(world), DAY, version=2)
        with pytest.raises(InvalidInput):
            report.report_context(session, me, county_id(world), DAY, locale="fr")
    # Another county's command centre: not found, however the report is asked for.
    with reading_as(published, "away_command_centre") as (session, me):
        with pytest.raises(NotFound):
            report.report_context(session, me, county_id(world), DAY)
        with pytest.raises(NotFound):
            report.jurisdiction_id_for(session, me, HOME_COUNTY)
        assert report.jurisdiction_id_for(session, me, FOREIGN_COUNTY) == county_id(world, FOREIGN_COUNTY)


def test_the_latest_version_unless_one_is_asked_for(published: Database, world: World) -> None:
    publish(published, HOME_COUNTY, closure_figures(reported=5), version=2, reason="补报一例")
    with reading_as(published, COMMAND) as (session, me):
        latest = report.report_context(session, me, county_id(world), DAY)
        first = report.report_context(session, me, county_id(world), DAY, version=1)
    assert (latest["version"], latest["versions"], latest["reason"]) == (2, [1, 2], "补报一例")
    reported = {f["key"]: f["value"] for s in latest["sections"] for f in s["figures"] if s["key"] == "cases"}
    assert reported["reported"] == 5
    assert first["version"] == 1 and first["reason"] is None
    assert {f["key"]: f["value"] for f in first["headline"]}["reported"] == 4
    assert first["files"] == {
        "pdf": "fangkong-report-330106-2026-12-06-v1.pdf",
        "xlsx": "fangkong-report-330106-2026-12-06-v1.xlsx",
    }
