"""Bulk import of residents from real CSV files: all or nothing, every bad row named."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import World, token_for, valid_id
from fangkong.core import audit
from fangkong.core.demo.population import write_people_csv
from fangkong.core.errors import InvalidInput
from fangkong.core.models import Household, Person
from fangkong.core.people_import import import_people_csv
from fangkong.core.people_rules import Keys

COMMUNITIES = ["330106001001", "330106001002"]


def _count(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as session:
        return (
            session.scalar(select(func.count()).select_from(Person)) or 0,
            session.scalar(select(func.count()).select_from(Household)) or 0,
        )


def _corrupt(path: Path, edits: dict[int, tuple[str, str]]) -> None:
    """Rewrite some rows (row numbers as a spreadsheet shows them: header is row 1)."""
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    for row_number, (field, value) in edits.items():
        rows[row_number - 1][header.index(field)] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


@pytest.mark.slow
def test_100k_rows_with_3_bad_rows_writes_none_and_reports_all_3(
    app, world: World, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "people.csv"
    write_people_csv(path, 100_000, seed=7, community_codes=COMMUNITIES)
    _corrupt(
        path,
        {
            17: ("id_number", "330106199913320000"),
            50_001: ("phone", "12"),
            99_999: ("community_code", "330106009999"),
        },
    )
    before = _count(app.state.db)
    with pytest.raises(InvalidInput) as caught, app.state.db.unit_of_work() as session:
        import_people_csv(session, Keys(settings.encryption_key, settings.hash_key), audit.SYSTEM, "/", path)
    found = [(e.row, e.field) for e in caught.value.errors]
    assert found == [(17, "id_number"), (50_001, "phone"), (99_999, "community_code")]
    assert _count(app.state.db) == before


def test_clean_file_imports_people_and_households(app, world: World, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "people.csv"
    population = write_people_csv(path, 3_000, seed=3, community_codes=COMMUNITIES)
    before_people, before_households = _count(app.state.db)
    with app.state.db.unit_of_work() as session:
        report = import_people_csv(
            session, Keys(settings.encryption_key, settings.hash_key), audit.SYSTEM, "/", path
        )
    assert report.created == 3_000
    assert report.households_created == len(set(population.household_key.tolist()))
    assert _count(app.state.db) == (before_people + 3_000, before_households + report.households_created)


def test_duplicate_in_file_and_already_registered_are_row_errors(
    app, client, world: World, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    registered = world.id_numbers[world.people["330106"][0]]
    fresh = valid_id("330106", "20010203", 456)
    path = tmp_path / "dupes.csv"
    path.write_text(
        "身份证号,姓名,手机号,社区编码,住址\n"
        f"{fresh},周杰,13712345678,330106001001,保俶路1号\n"
        f"{fresh},周杰,13712345678,330106001001,保俶路1号\n"
        f"{registered},张伟,,330106001001,保俶路2号\n",
        encoding="utf-8",
    )
    headers = token_for(client, "home_community_worker")
    with path.open("rb") as fh:
        response = client.post(
            "/api/people/import", files={"file": ("dupes.csv", fh, "text/csv")}, headers=headers
        )
    assert response.status_code == 422
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(3, "id_number"), (4, "id_number")]


def test_dry_run_checks_but_writes_nothing(app, client, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "people.csv"
    write_people_csv(path, 200, seed=5, community_codes=COMMUNITIES)
    headers = token_for(client, "home_community_worker")
    before = _count(app.state.db)
    with path.open("rb") as fh:
        response = client.post(
            "/api/people/import",
            params={"dry_run": "true"},
            files={"file": ("p.csv", fh, "text/csv")},
            headers=headers,
        )
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 200 and response.json()["created"] == 0
    assert _count(app.state.db) == before


def test_missing_column_is_named(client, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_text("name,phone\n张三,13800138000\n", encoding="utf-8")
    headers = token_for(client, "home_community_worker")
    with path.open("rb") as fh:
        response = client.post(
            "/api/people/import", files={"file": ("bad.csv", fh, "text/csv")}, headers=headers
        )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"id_number", "community_code", "address"}


@pytest.mark.slow
def test_initial_load_rebuilds_every_index_and_constraint(
    app, client, world: World, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import inspect, text

    from fangkong.core import people_import

    db = app.state.db
    with db.unit_of_work() as session:  # an empty registry, so the import takes the initial-load path
        session.execute(text("DELETE FROM people"))
        session.execute(text("DELETE FROM households"))

    def shape() -> tuple[set[str], set[str], set[str]]:
        inspector = inspect(db.engine)
        tables = ("people", "households")
        indexes = {ix["name"] for t in tables for ix in inspector.get_indexes(t)}
        uniques = {c["name"] for t in tables for c in inspector.get_unique_constraints(t)}
        foreign = {str(k["name"]) for t in tables for k in inspector.get_foreign_keys(t)}
        return indexes, uniques, foreign

    before = shape()
    assert len(before[2]) == 3  # people → jurisdictions and households, households → jurisdictions
    path = tmp_path / "people.csv"
    population = write_people_csv(
        path, people_import.CHUNK_ROWS + 5_000, seed=13, community_codes=COMMUNITIES
    )
    with db.unit_of_work() as session:
        report = import_people_csv(
            session, Keys(settings.encryption_key, settings.hash_key), audit.SYSTEM, "/", path
        )
    assert report.created == people_import.CHUNK_ROWS + 5_000
    assert shape() == before
    headers = token_for(client, "home_investigator")
    duplicate = {
        "id_number": str(population.id_number[0]),
        "name": "重复",
        "phone": "",
        "community_code": COMMUNITIES[0],
        "address": "别处1号",
    }
    assert client.post("/api/people", json=duplicate, headers=headers).status_code == 409
    found = client.get("/api/people", params={"q": str(population.id_number[0])}, headers=headers).json()
    assert found["total"] == 1
    revealed = client.post(f"/api/people/{found['items'][0]['id']}/reveal", headers=headers).json()
    assert (revealed["id_number"], revealed["name"]) == (
        str(population.id_number[0]),
        str(population.name[0]),
    )
    assert revealed["birth_date"] == str(population.birth_date[0])
