"""Benchmark: one full round of regional mass testing on PostgreSQL (or SQLite), each step beside a bare
COPY.

Builds its own PostgreSQL database (dropped at the end; with ``--sqlite`` a SQLite file) holding a city
of ``--people`` residents (default 10,000,000, the issue's size) in ``--communities`` communities,
written straight into ``people`` with COPY. The registry rows are synthetic: ``pii`` holds a few
placeholder bytes instead of an AES-GCM ciphertext and the keyed-hash columns hold unique made-up hex
strings, because nothing in a round decrypts or matches personal data and real encryption would only
make the set-up slower. Then it plays one round through the testing services, timing each step:

1. open the round: the population expected per community from the registry (one grouped query);
2. sampling records: every resident's scan bound to a tube of ``--pool`` (1,000,000 tubes of 10 by
   default) through ``scanning.ingest_records``, the site systems' upload path (set-based: staged by
   COPY, checked by joins, written by INSERT ... SELECT), in uploads of ``--ingest-batch`` rows, each its
   own transaction, ``--uploaders`` (2) of them sent at once, as a city's sites send theirs
   (``--ingest-via-bind`` uses ``scanning.bind``, the handheld's path, instead);
3. lab results: one result per tube (``--positive-pools`` of them positive) in one CSV file per
   laboratory (``--uploaders`` laboratories, each a run of the round's tubes, loading at once) through
   ``results.load_results``, which also flags the positive pools and their members for recall;
4. coverage per community, turnaround against the lab's deadline and the progress curve.

Each step's floor is a bare binary COPY of the same rows, made before the clock starts, into an unindexed
table on one connection (for the coverage step, a COPY out of the rows it reads): the least PostgreSQL can
do with that data on this machine. (A text COPY, which formats every value in Python, took four times as
long for the same rows: a floor made with it, as this benchmark's was until 2026-12-07, flatters every
ratio fourfold.) Beside it, the same COPY into a fresh table keeping the real table's indexes and checks:
the least any system keeping those keys could do, so a step's ratio to it is fangkong's own work.

On SQLite the floor is a bare executemany into an unindexed table (and a plain read of the rows), uploads
go one at a time (SQLite has one writer), and the target is a round of 1,000,000 people under 60 s
(``--sqlite`` defaults to 1,000,000 people).

Every step and floor starts after a CHECKPOINT, so none pays for the writes of the work before it. After
steps 2 and 3 the bench runs ANALYZE on the tables they filled, as autovacuum would in the background
(this machine's server runs without it): timed on a line of its own, outside the steps, inside the round.
``round_seconds`` is steps 2–4 with those ANALYZEs and its ratio is the round time ÷ the summed floors
(the issue's target: each step within 3× its floor, the round under 5 minutes).

Last, the scanner's live path on a second round: ``--handheld-scans`` calls of ``--handheld-batch`` (1)
scan from 64 handhelds at once through the service's group commit (``service.scanning.live``), in
threads in-process (``bindings_per_s_service``), and over HTTP against a served fangkong
(``http_bindings``: JSON metric ``bindings_per_s`` for one scan per call, beside the same client's
``/healthz`` calls a second and both sides' CPU; offline queues are a separate figure).

    python bench/mass_testing.py [--people 10000000] [--pool 10] [--communities 0 (people/5000)]
                                 [--positive-pools 1000] [--ingest-batch 100000] [--uploaders 2]
                                 [--ingest-via-bind]
                                 [--handheld-batch 1] [--handheld-scans 10000] [--offline-batch 50]
                                 [--seed 13] [--sqlite] [--no-http] [--http-only]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get("FANGKONG_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-42"
# The targets.
STEP_RATIO_TARGET = 3.0
ROUND_TARGET_SECONDS = 300.0
SQLITE_ROUND_TARGET_SECONDS = 60.0
BINDINGS_TARGET = 2_000.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------------ database


def _admin() -> Any:
    return create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


def fresh_database(use_sqlite: bool = False) -> tuple[str, str]:
    if use_sqlite:
        path = Path(tempfile.mkdtemp(prefix="fangkong-bench-")) / "mass_testing.db"
        return f"sqlite:///{path}", str(path)
    name = f"fangkong_bench_mass_testing_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", name


def drop_database(name: str) -> None:
    if name.endswith(".db"):
        import shutil

        shutil.rmtree(Path(name).parent, ignore_errors=True)
        return
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _sqlite_value(value: object) -> object:
    from fangkong.core.db import sqlite_instant

    if isinstance(value, dt.datetime):
        return sqlite_instant(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def copy_rows(db: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with db.engine.begin() as conn:
        raw = conn.connection.driver_connection
        if not db.is_postgres:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                (tuple(_sqlite_value(v) for v in row) for row in rows),
            )
            return
        from fangkong.core.people_import import pg_column_types

        # Binary COPY: psycopg packs the values in C. Text COPY formats each value in Python first, which
        # took four times as long for the same rows (3.6–4.7 s against 0.9 s for a million bindings), so
        # a floor made with it would be four times too lenient.
        types = pg_column_types(conn, table, columns)
        quoted = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({quoted}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)


def floor_copy(
    db: Any, like: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> tuple[float, float | None]:
    """Seconds for a bare COPY of ``rows`` into a fresh unindexed table shaped like ``like``'s columns, and
    (PostgreSQL) for the same COPY into a fresh table with ``like``'s indexes and checks.

    One COPY on one connection, of rows made before the clock starts (as the step's uploads are). Two
    binary COPY streams at once were no faster on this 2-core machine (0.66–0.79 s against 0.58–0.85 s for
    1,000,000 bindings, four runs each), so one stream is the floor. The second
    figure is the least any system keeping the same keys could do (the indexes' upkeep alone); a step's
    ratio to it is fangkong's own work: checks, look-ups, staging."""

    def copy_into(create: str, label: str, made: list[Sequence[object]]) -> float:
        scratch = f"floor_{uuid.uuid4().hex[:8]}"
        with db.engine.begin() as conn:
            conn.execute(text(create.format(scratch=scratch)))
        settle(db)
        before = cpu_now(db)
        started = time.perf_counter()
        copy_rows(db, scratch, columns, made)
        seconds = time.perf_counter() - started
        note = cpu_note(db, before, seconds)
        log(f"  floor: {len(made):,} rows like {like} {label} in {seconds:.1f} s; {note}")
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {scratch}"))
        return seconds

    made = list(rows)
    no_data = "WITH NO DATA" if db.is_postgres else "WHERE 0"
    bare = copy_into(
        f"CREATE TABLE {{scratch}} AS SELECT {', '.join(columns)} FROM {like} {no_data}", "bare", made
    )
    indexed = None
    if db.is_postgres:
        # LIKE ... INCLUDING ALL: the columns' defaults, the checks, the indexes and the storage settings
        # (the tubes' fill factor); foreign keys are never copied.
        indexed = copy_into(f"CREATE TABLE {{scratch}} (LIKE {like} INCLUDING ALL)", "with its indexes", made)
    del made
    return bare, indexed


def _summed(*seconds: float | None) -> float | None:
    return None if any(s is None for s in seconds) else sum(s for s in seconds if s is not None)


def floor_copy_out(db: Any, query: str) -> float:
    """Seconds for a bare COPY of a query's rows out to the client (the floor of a step that reads them)."""
    settle(db)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        raw = conn.connection.driver_connection
        if not db.is_postgres:
            cursor = raw.execute(query)
            while cursor.fetchmany(10_000):
                pass
            return time.perf_counter() - started
        with raw.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT") as copy:
            for _block in copy:
                pass
    return time.perf_counter() - started


def settle(db: Any) -> None:
    """Write out what earlier work left in PostgreSQL's buffers before a step or a floor is timed, so that
    neither pays for another's writes (building ten million people leaves gigabytes for the checkpointer,
    which would otherwise land on whichever step runs when it starts)."""
    if db.is_postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CHECKPOINT"))


def analyze(db: Any, *tables: str) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if db.is_postgres:
            conn.execute(text(f"ANALYZE {', '.join(tables)}"))
        else:
            for table in tables:
                conn.execute(text(f"ANALYZE {table}"))


# ------------------------------------------------------------------------------------------ the city


def build_city(db: Any, communities: int) -> tuple[list[int], list[str], int]:
    """A city of ``communities`` communities in 10 counties: (community ids, paths, city id)."""
    from sqlalchemy import select

    from fangkong.core import audit, jurisdictions
    from fangkong.core.jurisdictions import JurisdictionRow
    from fangkong.core.models import Jurisdiction

    rows = [
        JurisdictionRow("330000", "浙江省", "province", ""),
        JurisdictionRow("330100", "杭州市", "city", "330000"),
    ]
    codes: list[str] = []
    per_county = -(-communities // 10)
    for c in range(10):
        county = f"3301{c + 1:02d}"
        rows.append(JurisdictionRow(county, f"区{county}", "county", "330100"))
        towns = -(-per_county // 100)
        made = 0
        for t in range(towns):
            town = f"{county}{t + 1:03d}"
            rows.append(JurisdictionRow(town, f"街道{town}", "township", county))
            for m in range(min(100, per_county - made, communities - len(codes))):
                code = f"{town}{m + 1:03d}"
                rows.append(JurisdictionRow(code, f"社区{code}", "community", town))
                codes.append(code)
                made += 1
    with db.unit_of_work() as session:
        jurisdictions.import_tree(session, audit.SYSTEM, rows)
        found = {j.code: (j.id, j.path) for j in session.scalars(select(Jurisdiction))}
    return [found[c][0] for c in codes], [found[c][1] for c in codes], found["330100"][0]


def build_people(db: Any, n: int, community_ids: list[int], community_paths: list[str]) -> np.ndarray:
    """``n`` residents spread evenly over the communities (person i lives in community i mod k)."""
    from fangkong.core.people_batch import PEOPLE_COLUMNS

    k = len(community_ids)
    now = dt.datetime(2022, 4, 1, tzinfo=dt.UTC)
    birth = dt.date(1980, 1, 1)
    placeholder = b"synthetic-pii"

    def rows() -> Iterable[tuple[object, ...]]:
        for i in range(n):
            c = i % k
            yield (
                i + 1, None, community_ids[c], community_paths[c], placeholder,
                f"{i + 1:032x}", None, f"{i + 1:031x}n", "330101********0012", None, "张*",
                "M" if i % 2 else "F", birth, now,
            )  # fmt: skip

    copy_rows(db, "people", ("id", *PEOPLE_COLUMNS), rows())
    if not db.is_postgres:
        return np.arange(n, dtype=np.int64) % k
    with db.engine.begin() as conn:
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('people', 'id'), (SELECT max(id) FROM people))")
        )
    return np.arange(n, dtype=np.int64) % k


def coordinator(db: Any, code: str) -> None:
    from fangkong.core import audit, users

    with db.unit_of_work() as session:
        users.create_user(
            session, audit.SYSTEM, "/", username="bench_coordinator", display_name="bench",
            role="testing_coordinator", jurisdiction_code=code, password=PASSWORD,
        )  # fmt: skip


def acting(db: Any) -> Any:
    from contextlib import contextmanager

    from sqlalchemy import select

    from fangkong.core.auth import principal_for
    from fangkong.core.models import User

    @contextmanager
    def run() -> Any:
        with db.unit_of_work() as session:
            user = session.scalar(select(User).where(User.username == "bench_coordinator"))
            yield session, principal_for(session, user, "token")

    return run


# ------------------------------------------------------------------------------------------ measuring


def cpu_now(db: Any) -> tuple[float, float, float]:
    """CPU seconds so far of this process (every thread) and of PostgreSQL's processes, and the bytes of
    write-ahead log PostgreSQL has written (0 on SQLite)."""
    wal = 0.0
    if db.is_postgres:
        with db.engine.connect() as conn:
            wal = float(conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar_one())
    return time.process_time(), _database_cpu_seconds(), wal


def cpu_note(db: Any, since: tuple[float, float, float], wall: float) -> str:
    """Where a step's CPU went since ``since``: this process (the services), PostgreSQL, how busy that
    kept the machine's cores, and the write-ahead log it wrote."""
    mine, database, wal = (now - then for now, then in zip(cpu_now(db), since, strict=True))
    busy = (mine + database) / (wall * (os.cpu_count() or 1)) if wall else 0.0
    note = f"CPU: fangkong {mine:.1f} s, PostgreSQL {database:.1f} s, cores {busy:.0%} busy"
    return note + (f"; WAL {wal / 2**20:,.0f} MB" if db.is_postgres else "")


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=0, help="default 10,000,000 (SQLite: 1,000,000)")
    parser.add_argument("--pool", type=int, default=10, choices=(1, 5, 10, 20))
    parser.add_argument("--communities", type=int, default=0, help="default: one per 5,000 people")
    parser.add_argument("--positive-pools", type=int, default=1_000)
    parser.add_argument("--ingest-batch", type=int, default=100_000, help="rows per site-system upload")
    parser.add_argument(
        "--uploaders",
        type=int,
        default=2,
        help="site systems (and laboratories) sending their uploads at once, each its own connection;"
        " PostgreSQL only",
    )
    parser.add_argument("--ingest-via-bind", action="store_true", help="sampling records through bind")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--no-http", action="store_true", help="skip the scanner over HTTP")
    parser.add_argument("--http-only", action="store_true", help="only the scanner over HTTP")
    parser.add_argument("--handheld-batch", type=int, default=1, help="scans per handheld call")
    parser.add_argument("--handheld-scans", type=int, default=10_000)
    parser.add_argument(
        "--offline-batch", type=int, default=50, help="scans per offline upload (a separate HTTP figure)"
    )
    parser.add_argument(
        "--http-workers", type=int, default=HTTP_WORKERS, help="uvicorn worker processes serving the scanner"
    )
    parser.add_argument(
        "--wrk",
        action="store_true",
        help="also load the scanner with wrk (Debian package wrk), a load generator in C, one scan per call",
    )
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if args.http_only:
        http_bindings(args)
        return

    from fangkong.core.db import Database
    from fangkong.core.events import EventBus
    from fangkong.core.migrate import upgrade
    from fangkong.testing.models import Laboratory
    from fangkong.testing.rules.codes import ScanCodes
    from fangkong.testing.service import coverage, results, rounds, scanning
    from fangkong.testing.service.scanning import Scan

    rng = np.random.default_rng(args.seed)
    people, pool = args.people or (1_000_000 if args.sqlite else 10_000_000), args.pool
    backend = "SQLite" if args.sqlite else "PostgreSQL"
    tubes = -(-people // pool)
    # SQLite takes one writer at a time: its uploads are sent one after another.
    uploaders = 1 if args.sqlite else max(1, args.uploaders)
    communities = args.communities or max(10, people // 5_000)
    hash_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    codes = ScanCodes(hash_key)
    url, name = fresh_database(args.sqlite)
    log(f"database {name}")
    figures: dict[str, tuple[float, float]] = {}
    # The same COPYs into tables with the real ones' indexes (PostgreSQL).
    indexed_floors: dict[str, float | None] = {}
    try:
        upgrade(url)
        db = Database(url)
        community_ids, community_paths, _city = build_city(db, communities)
        started = time.perf_counter()
        build_people(db, people, community_ids, community_paths)
        built = time.perf_counter() - started
        log(f"{people:,} people in {len(community_ids):,} communities by COPY in {built:.0f} s")
        coordinator(db, "330100")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if db.is_postgres else "ANALYZE"))
        act = acting(db)
        with act() as (session, me):
            labs = [
                Laboratory(
                    name=f"bench lab {n + 1}",
                    jurisdiction_id=_city,
                    jpath="/330000/330100/",
                    turnaround_hours=12,
                )
                for n in range(uploaders)
            ]
            session.add_all(labs)
            session.flush()
            lab_ids = [lab.id for lab in labs]
            lab_id = lab_ids[0]
            campaign = rounds.create_campaign(
                session, me, name="全市全员核酸", areas=list(community_ids), pool_size=pool
            )
            campaign_id = campaign.id
        # 1. Open the round.
        settle(db)
        with act() as (session, me):
            open_s, opened = timed(lambda: rounds.open_round(session, me, campaign_id))
            round_id, round_start = opened.id, opened.starts_at
        log(f"round opened in {open_s:.1f} s")

        # 2. Sampling records through the scanner's code path, site queues of --ingest-batch scans.
        def scans(first: int, last: int, round_no: int, device_base: str) -> list[Scan]:
            return [
                Scan(
                    device_id=f"{device_base}-{(i // pool) // 1000:05d}",
                    device_seq=i,
                    round_id=round_no,
                    barcode=f"R{round_no}T{i // pool:08d}",
                    person_code=codes.code_for(i + 1),
                    scanned_at=round_start + dt.timedelta(seconds=int(i * 43_200 // people)),
                )
                for i in range(first, last)
            ]

        def records(first: int, last: int) -> list[scanning.SamplingRecord]:
            return [
                scanning.SamplingRecord(
                    f"site-{(i // pool) // 1000:05d}", i, codes.code_for(i + 1),
                    f"R{round_id}T{i // pool:08d}", None, None,
                    round_start + dt.timedelta(seconds=int(i * 43_200 // people)),
                )
                for i in range(first, last)
            ]  # fmt: skip

        def upload(batch: Any) -> float:
            """One site system's upload, timed with its commit."""
            started = time.perf_counter()
            with act() as (session, me):
                if args.ingest_via_bind:
                    report: Any = scanning.bind(session, me, batch, codes=codes)
                else:
                    report = scanning.ingest_records(session, me, round_id, batch, codes=codes)
                    assert report.through_bind == 0, report.through_bind
            assert report.recorded == len(batch), (report.recorded, report.refused)
            return time.perf_counter() - started

        def upload_of(first: int) -> Any:
            # The upload as the site system sends it (made before the clock starts).
            last = min(first + args.ingest_batch, people)
            return scans(first, last, round_id, "site") if args.ingest_via_bind else records(first, last)

        firsts = range(0, people, args.ingest_batch)
        settle(db)
        cpu_before = cpu_now(db)  # (one uploader: the uploads' making is counted too)
        ingest_s = 0.0
        if uploaders == 1:
            for first in firsts:
                ingest_s += upload(upload_of(first))
                last = min(first + args.ingest_batch, people)
                if not args.ingest_via_bind or (first // args.ingest_batch) % 10 == 0:
                    log(f"  bound {last:,} scans ({last / ingest_s:,.0f}/s)")
        else:
            # Several site systems uploading at once, as a city's sites do: the uploads are made first,
            # then sent by --uploaders threads, each upload its own transaction; the step is the wall time.
            from concurrent.futures import ThreadPoolExecutor

            uploads = [upload_of(first) for first in firsts]
            cpu_before = cpu_now(db)
            started = time.perf_counter()
            with ThreadPoolExecutor(uploaders) as pool_of:
                for done, _seconds in enumerate(pool_of.map(upload, uploads), 1):
                    if done % 10 == 0 or done == len(uploads):
                        bound = min(done * args.ingest_batch, people)
                        log(f"  bound {bound:,} scans ({bound / (time.perf_counter() - started):,.0f}/s)")
            ingest_s = time.perf_counter() - started
            del uploads
        # Fresh statistics, as autovacuum would take after a load this size: without them the planner
        # takes the new tables for empty ones and joins them row by row. Timed apart from the step (the
        # loader does not run it; autovacuum would, in the background) and counted in the round.
        statistics_s, _ = timed(lambda: analyze(db, "testing_tubes", "testing_tube_members"))
        note = cpu_note(db, cpu_before, ingest_s)
        log(f"sampling records: {people:,} bindings in {ingest_s:.1f} s; {note}")
        log(f"  then ANALYZE {statistics_s:.1f} s")
        now = dt.datetime.now(dt.UTC)
        member_floor = floor_copy(
            db, "testing_tube_members",
            ("tube_id", "round_id", "person_id", "jpath", "device_id", "device_seq", "scanned_at",
             "received_at"),
            (
                (i // pool + 1, round_id, i + 1, community_paths[i % len(community_paths)],
                 f"site-{(i // pool) // 1000:05d}", i, round_start, now)
                for i in range(people)
            ),
        )  # fmt: skip
        tube_floor = floor_copy(
            db, "testing_tubes",
            ("barcode", "round_id", "jpath", "kind", "pool_size", "members", "opened_at", "result_version"),
            ((f"R{round_id}T{t:08d}", round_id, community_paths[0], "pooled", pool, pool, round_start, 0)
             for t in range(tubes)),
        )  # fmt: skip
        figures["sampling_records"] = (ingest_s, member_floor[0] + tube_floor[0])
        indexed_floors["sampling_records"] = _summed(member_floor[1], tube_floor[1])

        # 3. Lab results (and the positive pools flagged with their members).
        positive = set(rng.choice(tubes, size=min(args.positive_pools, tubes), replace=False).tolist())
        tested = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
        with tempfile.TemporaryDirectory() as tmp:
            # One file per laboratory, each a run of the round's tubes (as a lab receives a set of sites'
            # boxes), loaded at once when there are several.
            share = -(-tubes // uploaders)
            paths = [Path(tmp) / f"results-{n + 1}.csv" for n in range(uploaders)]
            stamp = tested.strftime("%Y-%m-%d %H:%M:%S")
            for n, path in enumerate(paths):
                with path.open("w", encoding="utf-8") as fh:
                    fh.write("条码,结果,Ct ORF1ab,Ct N,检测时间\n")
                    for t in range(n * share, min((n + 1) * share, tubes)):
                        if t in positive:
                            fh.write(f"R{round_id}T{t:08d},阳性,31.2,30.8,{stamp}\n")
                        else:
                            fh.write(f"R{round_id}T{t:08d},阴性,,,{stamp}\n")

            def load(n: int) -> None:
                with act() as (session, me):
                    results.load_results(session, me, paths[n], laboratory_id=lab_ids[n], bus=EventBus())

            settle(db)
            cpu_before = cpu_now(db)
            if uploaders == 1:
                results_s, _loaded = timed(lambda: load(0))
            else:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(uploaders) as pool_of:
                    results_s, _loaded = timed(lambda: list(pool_of.map(load, range(uploaders))))
        analyze_s, _ = timed(lambda: analyze(db, "testing_tubes", "testing_lab_results", "testing_recalls"))
        statistics_s += analyze_s
        log(
            f"lab results: {tubes:,} tubes in {results_s:.1f} s ({len(positive):,} positive pools);"
            f" {cpu_note(db, cpu_before, results_s)}; then ANALYZE {analyze_s:.1f} s"
        )
        result_floor = floor_copy(
            db, "testing_lab_results",
            ("barcode", "laboratory_id", "version", "result", "ct_values", "tested_at", "loaded_at", "origin",
             "digest"),
            ((f"R{round_id}T{t:08d}", lab_id, 1, "negative", "{}", tested, now, "results.csv", f"{t:064x}")
             for t in range(tubes)),
        )  # fmt: skip
        recall_floor = floor_copy(
            db, "testing_recalls", ("tube_id", "person_id", "jpath", "state", "flagged_at", "deadline_at"),
            ((t + 1, t * pool + m + 1, community_paths[0], "flagged", now, now)
             for t in positive for m in range(pool)),
        )  # fmt: skip
        figures["lab_results_and_recall"] = (results_s, result_floor[0] + recall_floor[0])
        indexed_floors["lab_results_and_recall"] = _summed(result_floor[1], recall_floor[1])
        with act() as (session, _me):
            from sqlalchemy import func, select

            from fangkong.testing.models import Recall

            recalls = session.scalar(select(func.count()).select_from(Recall)) or 0
        log(f"  {recalls:,} members of positive pools flagged")

        # 4. Coverage per community, turnaround, progress.
        parts: dict[str, float] = {}

        def cover() -> tuple[Any, Any, Any]:
            with act() as (session, me):
                found = []
                for label, call in (
                    ("counts", coverage.coverage),
                    ("turnaround", coverage.turnaround),
                    ("progress", coverage.progress),
                ):
                    started = time.perf_counter()
                    value = call(session, me, round_id)
                    parts[label] = time.perf_counter() - started
                    found.append(value)
                return found[0], found[1], found[2]

        settle(db)
        coverage_s, (covered, turned, points) = timed(cover)
        coverage_floor = floor_copy_out(
            db,
            "SELECT tube_id, person_id, jpath, scanned_at FROM testing_tube_members"
            f" WHERE round_id = {round_id}",
        )
        figures["coverage"] = (coverage_s, coverage_floor)
        log(
            f"coverage: {len(covered.communities):,} communities,"
            f" sampled {covered.sampled:,} of {covered.expected:,},"
            f" {turned.resulted:,} tubes resulted, {len(points)} progress points, in {coverage_s:.1f} s"
            f" ({', '.join(f'{k} {v:.1f} s' for k, v in parts.items())})"
        )

        # The scanner in handheld-sized calls, on the next round.
        with act() as (session, me):
            rounds.close_round(session, me, round_id)
            second = rounds.open_round(session, me, campaign_id)
            second_id, round_start = second.id, second.starts_at
        # Handhelds calling at once, each call its own scans, through the service's group commit
        # (service.scanning.live: the calls waiting together are bound and committed together), in
        # threads as the served app's worker threads would call it.
        import threading

        from fangkong.testing.service.scanning.live import LiveScans

        handheld = min(args.handheld_scans, people)
        live = LiveScans(db.unit_of_work, codes)
        with act() as (_session, me):
            principal = me
        bodies = [
            scans(first, min(first + args.handheld_batch, handheld), second_id, "pda")
            for first in range(0, handheld, args.handheld_batch)
        ]

        def handheld_calls(mine: list[list[Scan]]) -> None:
            for batch in mine:
                assert live.bind(principal, batch).recorded == len(batch)

        threads = [
            threading.Thread(target=handheld_calls, args=(bodies[h::HTTP_HANDHELDS],))
            for h in range(HTTP_HANDHELDS)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        bind_s = time.perf_counter() - started
        bindings_per_s = handheld / bind_s
        log(
            f"handheld: {handheld:,} scans in {len(bodies):,} calls of {args.handheld_batch} from"
            f" {HTTP_HANDHELDS} threads, {live.groups:,} commits: {bindings_per_s:,.0f}/s"
        )
        db.dispose()
    finally:
        drop_database(name)
        log(f"dropped {name}")

    round_s = sum(v for v, _ in figures.values()) + statistics_s
    round_floor = sum(f for _, f in figures.values())
    print()
    print(
        f"mass testing on {backend}: {people:,} people, {tubes:,} tubes of {pool},"
        f" {len(community_ids):,} communities"
    )
    floor_name = "bare COPY (binary)" if not args.sqlite else "bare executemany"
    target_s = SQLITE_ROUND_TARGET_SECONDS if args.sqlite else ROUND_TARGET_SECONDS
    print(f"{'step':<40}{'fangkong':>12}{floor_name:>20}{'ratio':>8}  target")
    print(f"{'open round (expected per community)':<40}{open_s:>10.1f} s{'':>20}{'':>8}")
    for step, (value, floor) in figures.items():
        label = step.replace("_", " ")
        print(f"{label:<40}{value:>10.1f} s{floor:>18.1f} s{value / floor:>8.2f}  ≤ {STEP_RATIO_TARGET:g}×")
        indexed = indexed_floors.get(step)
        if indexed:
            aside = "  beside a COPY keeping its indexes"
            print(f"{aside:<40}{'':>12}{indexed:>18.1f} s{value / indexed:>8.2f}")
    print(f"{'planner statistics (ANALYZE)':<40}{statistics_s:>10.1f} s{'':>28}  (autovacuum's work)")
    print(
        f"{'round (the rows above)':<40}{round_s:>10.1f} s{round_floor:>18.1f} s{round_s / round_floor:>8.2f}"
        f"  < {target_s:g} s"
    )
    print(f"{'round with its opening':<40}{round_s + open_s:>10.1f} s{'':>28}  < {target_s:g} s")
    print(
        f"{'scanner, handheld calls (service)':<40}{bindings_per_s:>8,.0f} /s{'':>28}"
        f"  ≥ {BINDINGS_TARGET:,.0f}/s"
    )
    print(f"{'  machine load (1 min)':<40}{os.getloadavg()[0]:>12.1f}  ({os.cpu_count()} cores)")
    lines: list[tuple[str, float, str, str, float, float]] = [
        (f"{step}_seconds", value, "s", floor_name, floor, value / floor)
        for step, (value, floor) in figures.items()
    ]
    lines.extend(
        (f"{step}_seconds_vs_indexed_copy", figures[step][0], "s", "binary COPY keeping the same indexes",
         indexed, figures[step][0] / indexed)
        for step, indexed in indexed_floors.items()
        if indexed
    )  # fmt: skip
    lines.append(
        ("statistics_seconds", statistics_s, "s", "issue target for the whole round", target_s,
         statistics_s / target_s)
    )  # fmt: skip
    lines.append(("round_seconds", round_s, "s", floor_name, round_floor, round_s / round_floor))
    lines.append(
        (
            "round_with_opening_seconds",
            round_s + open_s,
            "s",
            "issue target",
            target_s,
            (round_s + open_s) / target_s,
        )
    )
    lines.append(
        (
            "open_round_seconds",
            open_s,
            "s",
            "issue target for the whole round",
            ROUND_TARGET_SECONDS,
            open_s / ROUND_TARGET_SECONDS,
        )
    )
    lines.append(
        (
            "bindings_per_s_service",
            bindings_per_s,
            "1/s",
            "issue target (peak)",
            BINDINGS_TARGET,
            bindings_per_s / BINDINGS_TARGET,
        )
    )
    prefix = "sqlite_" if args.sqlite else ""
    for metric, value, unit, baseline, baseline_value, ratio in lines:
        print(json.dumps({
            "bench": "mass_testing", "metric": prefix + metric, "value": round(value, 2), "unit": unit,
            "baseline": baseline, "baseline_value": round(baseline_value, 2), "ratio": round(ratio, 2),
        }))  # fmt: skip
    if not (args.sqlite or args.no_http):
        http_bindings(args)


# Handhelds sending at once to the served app, and uvicorn worker processes serving it (DESIGN.md: several
# stateless app processes over one PostgreSQL; this machine has two cores).
HTTP_HANDHELDS = 64
HTTP_WORKERS = 2


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants so far (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except (FileNotFoundError, ProcessLookupError):
        return total
    return total + sum(_cpu_seconds(child) for child in children)


def _database_cpu_seconds() -> float:
    """User + system CPU seconds so far of every PostgreSQL process on this machine (the backends that
    serve the calls, and the WAL writer and checkpointer that make their commits durable)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class Handheld:
    """One handheld's HTTP/1.1 keep-alive connection: requests one after the other, each answered before
    the next (h11, the protocol state machine httpx itself runs on, over asyncio streams). httpx's own
    connection pool costs several milliseconds of CPU a call on this machine, more than the server's
    route: the load generator would measure itself."""

    def __init__(self, host: str, port: int, headers: list[tuple[str, str]]) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.reader: Any = None
        self.writer: Any = None
        self.conn: Any = None

    async def request(self, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
        import asyncio

        import h11

        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.conn = h11.Connection(h11.CLIENT)
        elif self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        headers = [("host", self.host), ("content-length", str(len(body))), *self.headers]
        if body:
            headers.append(("content-type", "application/json"))
        data = self.conn.send(h11.Request(method=method, target=target, headers=headers))
        if body:
            data += self.conn.send(h11.Data(data=body))
        data += self.conn.send(h11.EndOfMessage())
        self.writer.write(data)
        status, parts = 0, []
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise ConnectionError("the server closed the connection")
                self.conn.receive_data(chunk)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                parts.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return status, b"".join(parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# Scans made for wrk: more than it can send in WRK_SECONDS (it starts again from the first if not).
WRK_SCANS = 100_000
WRK_SECONDS = 10
WRK_SCRIPT = Path(__file__).with_name("scanner_wrk.lua")


def wrk_calls(
    args: argparse.Namespace,
    server_pid: int,
    port: int,
    token: str,
    url: str,
    round_id: int,
    codes: Any,
    taken: str,
) -> tuple[str, int, float, float, float, float]:
    """The scanner loaded by wrk for ``WRK_SECONDS``: ``HTTP_HANDHELDS`` connections, one scan per call,
    each handheld filling its own tubes. A load generator in C costs the machine's shared cores a tenth of
    the Python client's CPU per call, so more of them go to the server. Returns the figures as ``run``
    records them, the scans stored (counted in the database afterwards) in place of the calls."""
    import re
    import resource
    import shutil
    import subprocess

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("--wrk: wrk is not installed (apt-get install wrk)")
    first = 2 * args.handheld_scans
    per_device: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bodies = Path(tmp) / "scans.jsonl"
        with bodies.open("w") as fh:
            for n in range(WRK_SCANS):
                device = n % HTTP_HANDHELDS
                k = per_device[device] = per_device.get(device, -1) + 1
                fh.write(json.dumps({
                    "device_id": f"W-{device:03d}", "device_seq": k, "round_id": round_id,
                    "barcode": f"W{device:03d}T{k // args.pool:07d}",
                    "person_code": codes.code_for(first + n + 1), "scanned_at": taken,
                }) + "\n")  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_before, database_before = _cpu_seconds(server_pid), _database_cpu_seconds()
        done = subprocess.run(
            [
                wrk, "-t", "1", "-c", str(HTTP_HANDHELDS), "-d", f"{WRK_SECONDS}s", "--latency",
                "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}", "--", str(bodies), "1", token,
            ],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        server_cpu = _cpu_seconds(server_pid) - server_before
        database_cpu = _database_cpu_seconds() - database_before
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    seconds_match = re.search(r"requests in ([0-9.]+)(m?s)", done.stdout)
    tail = re.search(r"FANGKONG failed=(\d+) wrapped=(\d+) p50_ms=([0-9.]+) p99_ms=([0-9.]+)", done.stdout)
    if seconds_match is None or tail is None:
        raise RuntimeError(f"wrk said: {done.stdout} {done.stderr}")
    seconds = float(seconds_match.group(1)) / (1000 if seconds_match.group(2) == "ms" else 1)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM testing_tube_members WHERE device_id LIKE 'W-%'")
        ).scalar_one()
    engine.dispose()
    failed, wrapped = int(tail.group(1)), int(tail.group(2))
    log(
        f"HTTP scanner, wrk: {stored:,} scans stored in {seconds:.1f} s, {stored / seconds:,.0f}/s;"
        f" latency p50 {tail.group(3)} ms, p99 {tail.group(4)} ms; {failed} calls not answered 200;"
        f" lines sent again {wrapped}; CPU wrk {client_cpu:.1f} s, server {server_cpu:.1f} s,"
        f" PostgreSQL {database_cpu:.1f} s (machine load {os.getloadavg()[0]:.1f})"
    )
    if failed:
        raise RuntimeError(f"wrk: {failed} calls were not answered 200")
    return "1 scan per call, wrk", int(stored), seconds, client_cpu, server_cpu, database_cpu


def http_bindings(args: argparse.Namespace) -> None:
    """The scanner endpoint over HTTP, against fangkong served by uvicorn in its own processes on its own
    PostgreSQL database (dropped at the end): ``--handheld-scans`` scans from ``HTTP_HANDHELDS`` handhelds
    at once, first one scan per call (``--handheld-batch``, the handheld's live path: JSON metric
    ``bindings_per_s``), then the same number again as offline queues of ``--offline-batch`` scans (a
    separate figure, ``bindings_per_s_offline_batches``). Each handheld is an HTTP/1.1 keep-alive
    connection (``Handheld``) of one asyncio client in this process; the client's and the server's CPU
    are printed with the figures (they share the machine's cores), beside the same client's calls a
    second to ``/healthz`` (the floor of any route on this machine)."""
    import asyncio
    import resource
    import signal
    import socket
    import subprocess
    import sys

    import httpx

    from fangkong.core.clock import as_local
    from fangkong.core.db import Database
    from fangkong.core.migrate import upgrade
    from fangkong.testing.rules.codes import ScanCodes
    from fangkong.testing.service import rounds

    per_run = args.handheld_scans
    hash_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    codes = ScanCodes(hash_key)
    url, name = fresh_database()
    log(f"HTTP scanner: database {name}")
    server: subprocess.Popen[bytes] | None = None
    measured: list[tuple[str, int, float, float, float, float]] = []
    floor_figures = (0.0, 0.0, 0.0)
    try:
        upgrade(url)
        db = Database(url)
        community_ids, community_paths, _city = build_city(db, max(10, 2 * per_run // 2_000))
        # Persons 1..n for the Python client's single scans, n+1..2n for its queues, 2n+1.. for wrk's calls.
        build_people(db, 2 * per_run + (WRK_SCANS if args.wrk else 0), community_ids, community_paths)
        coordinator(db, "330100")
        with acting(db)() as (session, me):
            campaign = rounds.create_campaign(
                session, me, name="全市全员核酸", areas=list(community_ids), pool_size=args.pool
            )
            round_id = rounds.open_round(session, me, campaign.id).id
        db.dispose()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        var_dir = tempfile.mkdtemp(prefix="fangkong-bench-")
        env = {
            **os.environ,
            "FANGKONG_ENV": "test",
            "FANGKONG_VAR_DIR": var_dir,
            "FANGKONG_DATABASE_URL": url,
            "FANGKONG_SECRET_KEY": secrets.token_urlsafe(32),
            "FANGKONG_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "FANGKONG_HASH_KEY": hash_key,
        }
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "fangkong.app:create_app", "--factory"),
                *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
                *("--workers", str(args.http_workers), "--no-access-log", "--timeout-keep-alive", "60"),
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240  # importing the app takes long on a loaded machine
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/auth/token", json={"username": "bench_coordinator", "password": PASSWORD}, timeout=30
        ).json()["token"]
        auth = [("authorization", f"Bearer {token}")]
        taken = as_local(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()

        def calls_of(first_person: int, batch: int, device: str) -> list[dict[str, Any]]:
            """The request bodies: one scan alone (the handheld's live call), or a queue of ``batch``."""
            bodies: list[dict[str, Any]] = []
            for first in range(first_person, first_person + per_run, batch):
                scans = [
                    {
                        "device_id": f"{device}-{(first // batch) % HTTP_HANDHELDS:03d}",
                        "device_seq": i,
                        "round_id": round_id,
                        "barcode": f"{device}{i // args.pool:08d}",
                        "person_code": codes.code_for(i + 1),
                        "scanned_at": taken,
                    }
                    for i in range(first, min(first + batch, first_person + per_run))
                ]
                bodies.append(scans[0] if batch == 1 else {"scans": scans})
            return bodies

        def run(label: str, bodies: list[dict[str, Any]]) -> None:
            recorded = 0
            resent = 0
            problems: list[str] = []

            async def handheld(mine: list[dict[str, Any]]) -> None:
                nonlocal recorded
                nonlocal resent
                device = Handheld("127.0.0.1", port, auth)
                try:
                    for body in mine:
                        payload = json.dumps(body).encode()
                        for _attempt in range(5):
                            try:
                                status, answer = await device.request("POST", "/api/testing/scans", payload)
                            except (ConnectionError, OSError):
                                resent += 1  # the connection dropped: the handheld sends again (idempotent)
                                device.close()
                                device = Handheld("127.0.0.1", port, auth)
                                continue
                            if status in (409, 503):
                                resent += 1
                                continue  # a handheld sends its queue again
                            if status != 200:
                                problems.append(f"{status} {answer[:200]!r}")
                            else:
                                recorded += json.loads(answer)["recorded"]
                            break
                finally:
                    device.close()

            async def go() -> float:
                started = time.perf_counter()
                await asyncio.gather(*(handheld(bodies[h::HTTP_HANDHELDS]) for h in range(HTTP_HANDHELDS)))
                return time.perf_counter() - started

            assert server is not None
            client_before = resource.getrusage(resource.RUSAGE_SELF)
            server_before = _cpu_seconds(server.pid)
            database_before = _database_cpu_seconds()
            seconds = asyncio.run(go())
            database_cpu = _database_cpu_seconds() - database_before
            client_after = resource.getrusage(resource.RUSAGE_SELF)
            server_cpu = _cpu_seconds(server.pid) - server_before
            client_cpu = (client_after.ru_utime - client_before.ru_utime) + (
                client_after.ru_stime - client_before.ru_stime
            )
            if problems or recorded != per_run:
                raise RuntimeError(f"HTTP scanner: {recorded:,} of {per_run:,} recorded; {problems[:3]}")
            measured.append((label, len(bodies), seconds, client_cpu, server_cpu, database_cpu))
            log(
                f"HTTP scanner, {label}: {recorded:,} scans in {len(bodies):,} calls from {HTTP_HANDHELDS}"
                f" handhelds ({args.http_workers} server processes): {seconds:.1f} s,"
                f" {recorded / seconds:,.0f}/s;"
                f" CPU client {client_cpu:.1f} s, server {server_cpu:.1f} s, PostgreSQL {database_cpu:.1f} s;"
                f" {resent} calls sent again"
                f" (machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
            )

        async def floor() -> float:
            """The same client's GETs of ``/healthz`` (no database, no auth): what this machine's HTTP
            stack does a second with nothing behind it, the ceiling of any route's calls a second."""

            async def ping(n: int) -> None:
                device = Handheld("127.0.0.1", port, auth)
                try:
                    for _ in range(n):
                        status, _answer = await device.request("GET", "/healthz")
                        assert status == 200, status
                finally:
                    device.close()

            started = time.perf_counter()
            await asyncio.gather(*(ping(per_run // HTTP_HANDHELDS) for _ in range(HTTP_HANDHELDS)))
            return time.perf_counter() - started

        pings = per_run // HTTP_HANDHELDS * HTTP_HANDHELDS
        client_before = resource.getrusage(resource.RUSAGE_SELF)
        server_before = _cpu_seconds(server.pid)
        floor_s = asyncio.run(floor())
        used = resource.getrusage(resource.RUSAGE_SELF)
        floor_figures = (
            pings / floor_s,
            1000 * (used.ru_utime + used.ru_stime - client_before.ru_utime - client_before.ru_stime) / pings,
            1000 * (_cpu_seconds(server.pid) - server_before) / pings,
        )
        log(
            f"HTTP floor: {pings:,} GET /healthz from {HTTP_HANDHELDS} connections:"
            f" {floor_figures[0]:,.0f}/s;"
            f" CPU per call client {floor_figures[1]:.2f} ms, server {floor_figures[2]:.2f} ms"
        )
        run(f"{args.handheld_batch} scan per call", calls_of(0, args.handheld_batch, "H"))
        run(f"offline queues of {args.offline_batch}", calls_of(per_run, args.offline_batch, "Q"))
        if args.wrk:
            measured.append(wrk_calls(args, server.pid, port, token, url, round_id, codes, taken))
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)
        drop_database(name)
        log(f"dropped {name}")
    print(
        f"{'HTTP floor: GET /healthz':<40}{floor_figures[0]:>8,.0f} /s{'':>20}"
        f"  (CPU per call: client {floor_figures[1]:.2f} ms, server {floor_figures[2]:.2f} ms)"
    )
    for (label, calls, seconds, client_cpu, server_cpu, database_cpu), metric in zip(
        measured, ("bindings_per_s", "bindings_per_s_offline_batches", "bindings_per_s_wrk"), strict=False
    ):
        per_s = (calls if metric == "bindings_per_s_wrk" else per_run) / seconds
        print(
            f"{'scanner over HTTP, ' + label:<40}{per_s:>8,.0f} /s{'':>20}  ≥ {BINDINGS_TARGET:,.0f}/s"
            f"  (CPU per call: client {1000 * client_cpu / calls:.2f} ms,"
            f" server {1000 * server_cpu / calls:.2f} ms, PostgreSQL {1000 * database_cpu / calls:.2f} ms)"
        )
        print(json.dumps({
            "bench": "mass_testing", "metric": metric, "value": round(per_s, 2), "unit": "1/s",
            "baseline": "target", "baseline_value": BINDINGS_TARGET,
            "ratio": round(per_s / BINDINGS_TARGET, 2), "calls": calls,
            "client_cpu_s": round(client_cpu, 2), "server_cpu_s": round(server_cpu, 2),
            "database_cpu_s": round(database_cpu, 2),
            "healthz_per_s": round(floor_figures[0], 2),
        }))  # fmt: skip


if __name__ == "__main__":
    main()
