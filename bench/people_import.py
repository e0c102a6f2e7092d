"""Benchmark: importing residents from CSV, end to end, against a bare bulk insert of the same rows.

fangkong's figure is the whole path a user runs (`fangkong people import`): read the CSV, validate every
ID number and phone, encrypt and hash the personal data, build households, write everything in one
transaction into the real tables with their indexes. The baseline inserts the very rows that path
stores (already validated, encrypted and hashed, prepared before the clock starts) into the same tables
with their indexes dropped, with the backend's fastest plain path: ``COPY`` on PostgreSQL,
``executemany`` on SQLite. Target (issue 2): fangkong at least half the bare rate.

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
from fangkong.core.db import Database
from fangkong.core.demo.population import write_people_csv
from fangkong.core.demo.region import demo_region_spec
from fangkong.core.migrate import upgrade
from fangkong.core.national import rows_of
from fangkong.core.people import communities_in_scope
from fangkong.core.people_import import CHUNK_ROWS, HOUSEHOLD_COLUMNS, PEOPLE_COLUMNS, import_people_csv
from fangkong.core.people_rules import Keys, canonical_header, shape_chunk

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
    households: dict[str, tuple[object, ...]] = {}
    people: list[tuple[object, ...]] = []
    from fangkong.core.clock import utcnow

    now = utcnow()
    with csv_path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = [canonical_header(h) for h in next(reader)]
        rows = list(reader)
    for start in range(0, len(rows), CHUNK_ROWS):
        shaped, errors = shape_chunk(start + 2, rows[start : start + CHUNK_ROWS], header, keys, communities)
        assert not errors, errors[:3]
        for _, p in shaped:
            if p[2] not in households:
                households[p[2]] = (len(households) + 1, p[0], p[1], p[2], p[3], p[4])
            people.append(
                (
                    p[0],
                    p[1],
                    households[p[2]][0],
                    p[5],
                    p[6],
                    p[7],
                    p[8],
                    p[9],
                    p[10],
                    p[11],
                    p[12],
                    p[13],
                    now,
                )
            )
    return list(households.values()), people


def _drop_indexes(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in ("people", "households"):
            if db.is_postgres:
                for constraint in inspect(conn).get_unique_constraints(table):
                    conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint["name"]}"'))
            for index in inspect(conn).get_indexes(table):
                conn.execute(text(f'DROP INDEX "{index["name"]}"'))


def _bare_insert(
    db: Database, households: list[tuple[object, ...]], people: list[tuple[object, ...]]
) -> float:
    started = time.perf_counter()
    with db.engine.begin() as conn:
        raw = conn.connection.driver_connection
        for table, columns, rows in (
            ("households", HOUSEHOLD_COLUMNS, households),
            ("people", PEOPLE_COLUMNS, people),
        ):
            if db.is_postgres:
                with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    return time.perf_counter() - started


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
            url, pg_name = _fresh_database(backend, workdir)
            try:
                db = _prepare(url)
                started = time.perf_counter()
                with db.unit_of_work() as session:
                    report = import_people_csv(
                        session, keys, audit.SYSTEM, "/", csv_path, workers=args.workers
                    )
                fangkong_s = time.perf_counter() - started
                assert report.created == args.rows
                db.dispose()
            finally:
                _drop_database(pg_name)
            url, pg_name = _fresh_database(backend, workdir)
            try:
                db = _prepare(url)
                households, people = _stored_rows(csv_path, keys, db)
                _drop_indexes(db)
                bare_s = _bare_insert(db, households, people)
                db.dispose()
            finally:
                _drop_database(pg_name)
            results.append((backend, fangkong_s, bare_s))
    baseline_name = {"sqlite": "bare executemany", "postgresql": "bare COPY"}
    print(f"\n{'backend':<12}{'fangkong rows/s':>18}{'bare rows/s':>15}{'ratio':>8}   (target >= 0.5)")
    for backend, fangkong_s, bare_s in results:
        print(
            f"{backend:<12}{args.rows / fangkong_s:>18,.0f}{args.rows / bare_s:>15,.0f}"
            f"{bare_s / fangkong_s:>8.2f}"
        )
    for backend, fangkong_s, bare_s in results:
        print(
            json.dumps(
                {
                    "bench": "people_import",
                    "metric": "people_import_rows_per_s",
                    "backend": backend,
                    "value": round(args.rows / fangkong_s),
                    "unit": "rows/s",
                    "baseline": f"{baseline_name[backend]} of the stored rows, no indexes",
                    "baseline_value": round(args.rows / bare_s),
                    "ratio": round(bare_s / fangkong_s, 3),
                }
            )
        )


if __name__ == "__main__":
    main()
