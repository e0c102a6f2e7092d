"""Benchmark: importing residents from CSV, end to end, against a bare bulk insert of the same rows.

fangkong's figure is the whole path a user runs (`fangkong people import`): read the CSV, validate every
ID number and phone, encrypt and hash the personal data, build households, write everything in one
transaction into the real tables with their indexes. The baseline inserts the very rows that path
stores (already validated, encrypted and hashed, prepared before the clock starts) into the same tables
with their indexes (and unique constraints) dropped, with the backend's fastest plain path: binary
``COPY`` on PostgreSQL (the format fangkong writes), ``executemany`` on SQLite. Target (issue 2):
fangkong at least half the bare rate.

On an initial load fangkong also drops the foreign keys of people and households on PostgreSQL and
checks them once at the end (the PostgreSQL manual's advice for bulk loads), which the baseline, keeping
the tables as they are, does not. So a second PostgreSQL baseline is printed beside it: the same bare
COPY with the foreign keys dropped as well, the cheapest storing there is; both ratios are reported.

    python bench/people_import.py [--rows 1000000] [--backends sqlite,postgresql] [--workers 2]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from fangkong.core import audit, jurisdictions
from fangkong.core.clock import utcnow
from fangkong.core.db import Database
from fangkong.core.demo.population import write_people_csv
from fangkong.core.demo.region import demo_region_spec
from fangkong.core.migrate import upgrade
from fangkong.core.national import rows_of
from fangkong.core.people import communities_in_scope
from fangkong.core.people_batch import HOUSEHOLD_COLUMNS, PEOPLE_COLUMNS, shape_rows
from fangkong.core.people_import import CHUNK_ROWS, import_people_csv, pg_column_types
from fangkong.core.people_rules import Keys, canonical_header

PG_ADMIN = os.environ.get("FANGKONG_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _fresh_database(backend: str, workdir: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}", None
    name = f"fangkong_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", name


def _drop_database(name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _prepare(url: str) -> Database:
    upgrade(url)
    db = Database(url)
    with db.unit_of_work() as session:
        jurisdictions.import_tree(session, audit.SYSTEM, rows_of(demo_region_spec().all_divisions()))
    return db


def _stored_rows(
    csv_path: Path, keys: Keys, db: Database
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The households and people rows exactly as the import stores them (untimed preparation)."""
    import csv

    with db.unit_of_work() as session:
        communities = communities_in_scope(session, "/")
    household_ids: dict[str, int] = {}
    households: list[tuple[object, ...]] = []
    people: list[tuple[object, ...]] = []
    with csv_path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = [canonical_header(h) for h in next(reader)]
        rows = list(reader)
    now = utcnow()
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = shape_rows(
            rows[start : start + CHUNK_ROWS], header, keys, communities, now, binary_copy=False
        )
        assert not chunk.errors, chunk.errors[:3]
        ids = []
        for household in chunk.households:
            if household[2] not in household_ids:
                household_ids[household[2]] = len(household_ids) + 1
                households.append((household_ids[household[2]], *household))
            ids.append(household_ids[household[2]])
        people.extend((ids[h], *p) for h, p in zip(chunk.household_of, chunk.people, strict=True))
    return households, people


def _drop_indexes(db: Database, *, foreign_keys: bool) -> None:
    """Drop secondary indexes and unique constraints (and, if asked, foreign keys); keep the primary keys."""
    with db.engine.begin() as conn:
        for table in ("people", "households"):
            if db.is_postgres:
                for constraint in inspect(conn).get_unique_constraints(table):
                    conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint["name"]}"'))
                if foreign_keys:
                    for key in inspect(conn).get_foreign_keys(table):
                        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{key["name"]}"'))
            for index in inspect(conn).get_indexes(table):
                conn.execute(text(f'DROP INDEX "{index["name"]}"'))


def _bare_insert(
    db: Database, households: list[tuple[object, ...]], people: list[tuple[object, ...]]
) -> float:
    """Insert the stored rows the fastest plain way: binary COPY (PostgreSQL), executemany (SQLite)."""
    started = time.perf_counter()
    with db.engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for table, columns, rows in (
            ("households", HOUSEHOLD_COLUMNS, households),
            ("people", PEOPLE_COLUMNS, people),
        ):
            if db.is_postgres:
                # Asked before the COPY starts: the connection takes no other query during one.
                types = pg_column_types(conn, table, columns)
                statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
                with raw.cursor() as cur, cur.copy(statement) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    return time.perf_counter() - started


def _fangkong_run(backend: str, workdir: Path, csv_path: Path, keys: Keys, rows: int, workers: int) -> float:
    url, pg_name = _fresh_database(backend, workdir)
    try:
        db = _prepare(url)
        started = time.perf_counter()
        with db.unit_of_work() as session:
            report = import_people_csv(session, keys, audit.SYSTEM, "/", csv_path, workers=workers)
        elapsed = time.perf_counter() - started
        assert report.created == rows
        db.dispose()
    finally:
        _drop_database(pg_name)
    return elapsed


def _bare_run(
    backend: str,
    workdir: Path,
    stored: tuple[list[tuple[object, ...]], list[tuple[object, ...]]],
    *,
    foreign_keys: bool,
) -> float:
    url, pg_name = _fresh_database(backend, workdir)
    try:
        db = _prepare(url)
        _drop_indexes(db, foreign_keys=foreign_keys)
        elapsed = _bare_insert(db, *stored)
        db.dispose()
    finally:
        _drop_database(pg_name)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    keys = Keys(*(base64.urlsafe_b64encode(os.urandom(32)).decode() for _ in range(2)))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "people.csv"
        communities = [c.code for c in demo_region_spec().communities]
        t0 = time.perf_counter()
        write_people_csv(csv_path, args.rows, seed=11, community_codes=communities)
        print(
            f"generated {args.rows:,} residents in {time.perf_counter() - t0:.1f} s "
            f"({csv_path.stat().st_size / 1e6:.0f} MB)"
        )
        for backend in [b for b in args.backends.split(",") if b]:
            fangkong_s = _fangkong_run(backend, workdir, csv_path, keys, args.rows, args.workers)
            url, pg_name = _fresh_database(backend, workdir)
            try:
                stored = _stored_rows(csv_path, keys, _prepare(url))
            finally:
                _drop_database(pg_name)
            bare_s = _bare_run(backend, workdir, stored, foreign_keys=False)
            # fangkong drops the foreign keys of people and households during an initial load on
            # PostgreSQL and checks them once at the end; this second baseline goes without them too.
            no_fk_s = None
            if backend == "postgresql":
                no_fk_s = _bare_run(backend, workdir, stored, foreign_keys=True)
            results.append((backend, fangkong_s, bare_s, no_fk_s))
    baseline_name = {"sqlite": "bare executemany", "postgresql": "bare binary COPY"}
    print(f"\n{'backend':<12}{'fangkong rows/s':>18}{'bare rows/s':>15}{'ratio':>8}   (target >= 0.5)")
    for backend, fangkong_s, bare_s, no_fk_s in results:
        print(
            f"{backend:<12}{args.rows / fangkong_s:>18,.0f}{args.rows / bare_s:>15,.0f}"
            f"{bare_s / fangkong_s:>8.2f}"
        )
        if no_fk_s is not None:
            print(
                f"{'':<12}{'':>18}{args.rows / no_fk_s:>15,.0f}{no_fk_s / fangkong_s:>8.2f}"
                "   (bare COPY without foreign keys as well)"
            )
    for backend, fangkong_s, bare_s, no_fk_s in results:
        line: dict[str, object] = {
            "bench": "people_import",
            "metric": "people_import_rows_per_s",
            "backend": backend,
            "value": round(args.rows / fangkong_s),
            "unit": "rows/s",
            "baseline": f"{baseline_name[backend]} of the stored rows into the same tables without indexes",
            "baseline_value": round(args.rows / bare_s),
            "ratio": round(bare_s / fangkong_s, 3),
        }
        if no_fk_s is not None:
            line["baseline_no_foreign_keys_value"] = round(args.rows / no_fk_s)
            line["ratio_no_foreign_keys"] = round(no_fk_s / fangkong_s, 3)
        print(json.dumps(line))


if __name__ == "__main__":
    main()
