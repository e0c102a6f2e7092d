"""The daily report over HTTP: the page in Chinese with no English word (and in English with no Chinese
one), its download links answering a PDF and a workbook with ASCII file names, the JSON API, 404 for a
day without closure, the CLI writing both files."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest
from test_testing_pages import chinese_left, english_left
from typer.testing import CliRunner

from conftest import HOME_COUNTY, PASSWORD, World, token_for
from fangkong.core import config
from response_report_support import DAY, closure_figures, publish

PAGE = f"/reports/{HOME_COUNTY}/{DAY.isoformat()}"
API = f"/api/response/reports/{HOME_COUNTY}/{DAY.isoformat()}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def login(client, username: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/login").status_code == 200
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": client.cookies.get("fk_login_csrf")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def test_the_chinese_page_and_its_downloads(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    publish(app.state.db, HOME_COUNTY, closure_figures())
    login(client, "home_command_centre")
    page = client.get(PAGE)
    assert page.status_code == 200, page.text[:2000]
    html = page.text
    assert english_left(html) == []
    assert "疫情防控日报" in html and "西湖区" in html
    assert html.count("<svg ") == 3 and 'data-testid="provisional"' in html
    # The chart styles ride on the page's nonce (the Content-Security-Policy refuses any other <style>).
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
    assert nonce is not None and f'<style nonce="{nonce.group(1)}">' in html
    links = dict(re.findall(r'href="([^"]+)" data-testid="download-(pdf|xlsx)"', html))
    assert set(links.values()) == {"pdf", "xlsx"}
    by_kind = {kind: href.replace("&amp;", "&") for href, kind in links.items()}

    xlsx = client.get(by_kind["xlsx"])
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"] == XLSX
    assert xlsx.headers["content-disposition"] == (
        'attachment; filename="fangkong-report-330106-2026-12-06-v1.xlsx"'
    )
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert book.sheetnames[0] == "摘要"

    pdf = client.get(by_kind["pdf"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert (
        pdf.headers["content-disposition"]
        == 'attachment; filename="fangkong-report-330106-2026-12-06-v1.pdf"'
    )
    assert pdf.content.startswith(b"%PDF-")


def test_the_english_page_has_no_chinese_word_but_the_places_name(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    publish(app.state.db, HOME_COUNTY, closure_figures())
    login(client, "home_command_centre")
    client.cookies.set("fk_lang", "en")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert chinese_left(page.text) == []
    assert "Epidemic curve by onset date (provisional)" in page.text
    assert "lang=en" in page.text


def test_the_api_answers_json_and_not_found(client, app, world: World) -> None:  # type: ignore[no-untyped-def]
    publish(app.state.db, HOME_COUNTY, closure_figures())
    headers = token_for(client, "home_command_centre")
    answer = client.get(API, headers=headers, params={"lang": "en"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == 1 and body["day"] == "2026-12-06"
    assert body["figures"]["tasks"]["late"] == 3
    assert {s["key"] for s in body["sections"]} >= {"tasks", "cases", "contacts", "quarantine", "testing"}
    missing = f"/api/response/reports/{HOME_COUNTY}/2026-12-05"
    assert client.get(missing, headers=headers).status_code == 404
    assert client.get(missing + ".pdf", headers=headers).status_code == 404
    assert client.get(missing + ".xlsx", headers=headers).status_code == 404
    # Another county's command centre does not see it; a role without response.read is refused.
    away = token_for(client, "away_command_centre")
    assert client.get(API, headers=away).status_code == 404
    assert client.get(API, headers=token_for(client, "home_laboratory")).status_code == 403
    assert client.get(API, headers=headers, params={"lang": "fr"}).status_code == 422
    login(client, "home_command_centre")
    assert client.get(f"/reports/{HOME_COUNTY}/2026-12-05").status_code == 404


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World) -> Iterator[None]:  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_the_cli_writes_the_workbook_and_refuses_a_day_without_closure(cli_env, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fangkong.response.cli import app as cli

    publish(app.state.db, HOME_COUNTY, closure_figures())
    pdf, xlsx = tmp_path / "report.pdf", tmp_path / "report.xlsx"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["report", HOME_COUNTY, DAY.isoformat(), "-u", "home_command_centre",
         "--xlsx", str(xlsx), "--lang", "en", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["written"] == {"xlsx": str(xlsx)} and body["locale"] == "en"
    assert xlsx.read_bytes().startswith(b"PK")
    result = runner.invoke(
        cli, ["report", HOME_COUNTY, "2026-12-05", "-u", "home_command_centre", "--pdf", str(pdf)]
    )
    assert result.exit_code == 2 and not pdf.exists()
