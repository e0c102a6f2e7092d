"""The residents import page: a community worker uploads a CSV and sees the result or every bad row."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from conftest import PASSWORD, World, token_for
from fangkong.core.demo.population import write_people_csv

COMMUNITIES = ["330106001001", "330106001002"]


def _csrf(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]


def _log_in(client, username: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(client.get("/login").text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get("/people/import")
    assert page.status_code == 200
    return _csrf(page.text)


def _registered(client, id_number: str) -> int:  # type: ignore[no-untyped-def]
    found = client.get(
        "/api/people", params={"q": id_number}, headers=token_for(client, "home_investigator")
    ).json()
    return int(found["total"])


def test_upload_imports_residents_and_reports_counts(client, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "居民.csv"
    population = write_people_csv(path, 40, seed=21, community_codes=COMMUNITIES)
    csrf = _log_in(client, "home_community_worker")
    with path.open("rb") as fh:
        dry = client.post(
            "/people/import",
            data={"csrf_token": csrf, "dry_run": "true"},
            files={"file": (path.name, fh, "text/csv")},
        )
    assert dry.status_code == 200
    assert "试导入：未写入任何数据" in dry.text
    assert _registered(client, str(population.id_number[0])) == 0
    with path.open("rb") as fh:
        done = client.post(
            "/people/import", data={"csrf_token": csrf}, files={"file": (path.name, fh, "text/csv")}
        )
    assert done.status_code == 200
    report = re.search(r'data-testid="people-import-report".*?</div>', done.text, re.S).group(0)  # type: ignore[union-attr]
    assert "<td>40</td>" in report
    assert _registered(client, str(population.id_number[0])) == 1


def test_bad_rows_are_listed_and_nothing_is_written(client, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "people.csv"
    population = write_people_csv(path, 30, seed=22, community_codes=COMMUNITIES)
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[5][rows[0].index("phone")] = "12"
    rows[9][rows[0].index("community_code")] = "330203001001"  # the foreign county: not in scope
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    csrf = _log_in(client, "home_community_worker")
    with path.open("rb") as fh:
        response = client.post(
            "/people/import", data={"csrf_token": csrf}, files={"file": (path.name, fh, "text/csv")}
        )
    assert response.status_code == 422
    listed = re.findall(r"<tr><td>(\d+)</td><td class=\"mono\">(\w+)</td>", response.text)
    assert listed == [("6", "phone"), ("10", "community_code")]
    assert _registered(client, str(population.id_number[0])) == 0


def test_roles_without_the_right_do_not_see_the_page(client, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/login",
        data={
            "username": "home_viewer",
            "password": PASSWORD,
            "csrf_token": _csrf(client.get("/login").text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "/people/import" not in client.get("/").text
    assert client.get("/people/import").status_code == 403
