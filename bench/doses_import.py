"""Benchmark: importing a vaccination system's export of doses, end to end, against a bare COPY.

Builds its own database (PostgreSQL by default, dropped at the end; ``--backend sqlite`` for a file) with
the demo region's jurisdictions and a registry of synthetic residents (the demo's age pyramid and real,
valid ID numbers; their ``id_hash`` is the real keyed hash, so the import finds them exactly as in
production; the other personal columns hold placeholders, written straight with COPY). It then writes a
CSV of ``--size`` doses (default 1,000,000, the issue's size) with the Chinese headers of a vaccination
system's export: per person a primary series, most with a booster, some with a second booster, dates of
2021–2022, one site per community.

fangkong's figure (``doses_import_seconds``) is the whole path an administrator runs (``fangkong
vaccination import``): read and check every row, find every person by the keyed hash of their ID number,
refuse repeated doses, write the doses in one transaction into the real table with its indexes and
constraints, commit. The baseline writes the very rows that path stored (read back before the clock
starts) into the same table with its secondary indexes, unique constraint and foreign key dropped, with
the backend's plainest fast path: binary ``COPY`` on PostgreSQL, ``executemany`` on SQLite. Target
(issue 16): 1,000,000 doses under 60 s on PostgreSQL.

After the import (and outside its figure), the bench evaluates every resident's status and refreshes the
stored coverage counts, as the nightly job does, then times the coverage page of the province through the
app (login, the HTML page with its table, trend and ranking; median of five requests after a first):
``status_evaluate_seconds``, ``coverage_refresh_seconds`` and ``coverage_page_seconds`` (issue 16: under
1 s after the import).

``--wired`` imports with the platform's event wiring (``fangkong.wiring.build_bus``), so whatever reacts
to ``DosesRecorded`` (the status evaluation) runs inside the timed transaction too; by default the bus
is empty and the figure is the import alone.

    python bench/doses_import.py [--size 1000000] [--backend postgresql|sqlite] [--seed 5] [--wired]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import create_engine, inspect, select, text

PG_ADMIN = os.environ.get("FANGKONG_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_SECONDS = 60.0
PAGE_TARGET_SECONDS = 1.0
PASSWORD = "bench-password-42"
AS_OF = dt.date(2022, 12, 1)
# Doses per person drawn from these shares: none, primary series only (2 doses), + booster, + second
# booster; about 2.5 doses per resident aged 3 or more, near China's 3.4 billion doses for 1.4 billion
# people at the end of 2022.
DOSES_CHOICES = np.array([0, 1, 2, 3, 4])
DOSES_SHARES = np.array([0.08, 0.04, 0.22, 0.58, 0.08])
PRODUCTS = (
    ("新冠病毒灭活疫苗（Vero细胞）北京生物", "灭活", "BJ"),
    ("新冠病毒灭活疫苗（Vero细胞）科兴", "灭活", "KX"),
    ("重组新冠病毒疫苗（5型腺病毒载体）克威莎", "腺病毒载体", "CS"),
    ("重组新型冠状病毒蛋白疫苗（CHO细胞）智飞", "重组蛋白", "ZF"),
)
KIND_WORDS = ("", "基础", "基础", "加强", "第二剂加强")
HEADER = ("身份证号", "姓名", "疫苗名称", "技术路线", "剂次", "接种类型", "接种日期", "接种单位", "批号")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------------ database


def _admin() -> Any:
    return create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


def fresh_database(backend: str, workdir: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'doses.db'}", None
    name = f"fangkong_bench_doses_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", name


def drop_database(name: str | None) -> None:
    if name is None:
        return
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def raw_insert(db: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Binary COPY (PostgreSQL) or executemany (SQLite) of ``rows``: the plainest fast path."""
    from fangkong.core.db import sqlite_instant
    from fangkong.core.people_import import pg_column_types

    with db.engine.begin() as conn:
        raw = conn.connection.driver_connection
        if not db.is_postgres:

            def value(v: object) -> object:
                if isinstance(v, dt.datetime):
                    return sqlite_instant(v)
                return v.isoformat() if isinstance(v, dt.date) else v

            marks = ", ".join("?" for _ in columns)
            raw.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                (tuple(value(v) for v in row) for row in rows),
            )
            return
        types = pg_column_types(conn, table, columns)
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with raw.cursor() as cur, cur.copy(statement) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)


# ------------------------------------------------------------------------------------------ the data


def build_registry(db: Any, vault: Any, people: int, rng: np.random.Generator) -> Any:
    """The demo region's jurisdictions, ``people`` residents and an administrator of the province."""
    from fangkong.core import audit, jurisdictions, users
    from fangkong.core.demo.population import generate_population
    from fangkong.core.demo.region import demo_region_spec
    from fangkong.core.models import Jurisdiction
    from fangkong.core.national import rows_of
    from fangkong.core.people_batch import PEOPLE_COLUMNS

    spec = demo_region_spec()
    with db.unit_of_work() as session:
        jurisdictions.import_tree(session, audit.SYSTEM, rows_of(spec.all_divisions()))
        places = {j.code: (j.id, j.path) for j in session.scalars(select(Jurisdiction))}
        users.create_user(
            session, audit.SYSTEM, "/", username="bench_admin", display_name="bench",
            role="administrator", jurisdiction_code=spec.province.code, password=PASSWORD,
        )  # fmt: skip
    population = generate_population([c.code for c in spec.communities], people, rng, as_of=AS_OF)
    ids = population.id_number.tolist()
    hashes = vault.keyed_hashes_normalised(ids)
    codes = population.community_code.tolist()
    births = population.birth_date.astype("datetime64[D]").astype(object).tolist()
    sexes = population.sex.tolist()
    now = dt.datetime(2022, 12, 1, tzinfo=dt.UTC)

    def rows() -> Iterable[tuple[object, ...]]:
        for i in range(people):
            jid, jpath = places[codes[i]]
            yield (
                None, jid, jpath, b"synthetic-pii", hashes[i], None, f"{i + 1:031x}n",
                f"{ids[i][:3]}***********{ids[i][14:]}", None, "张*", "M" if sexes[i] in ("M", "男") else "F",
                births[i], now,
            )  # fmt: skip

    raw_insert(db, "people", PEOPLE_COLUMNS, rows())
    if db.is_postgres:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE people"))
    return population


def write_doses_csv(path: Path, population: Any, size: int, rng: np.random.Generator) -> int:
    """``size`` doses of the residents aged 5 or more, as a vaccination system exports them; returns
    the number of people with a dose."""
    ages = population.age
    # Five or older at the end of 2022: three or older on every day of 2021-2022 a dose can fall on.
    eligible = np.flatnonzero(ages >= 5)
    rng.shuffle(eligible)
    counts = rng.choice(DOSES_CHOICES, size=eligible.shape[0], p=DOSES_SHARES)
    ends = np.cumsum(counts)
    if ends[-1] < size:
        raise SystemExit(f"{len(population):,} people give only {ends[-1]:,} doses; raise --people")
    last = int(np.searchsorted(ends, size))
    counts = counts[: last + 1].copy()
    counts[-1] -= int(ends[last] - size)
    people = eligible[: last + 1]
    ids = population.id_number[people].tolist()
    community = population.community_code[people].tolist()
    n = int(people.shape[0])
    product: npt.NDArray[np.int64] = rng.integers(0, 2, size=(n,))  # primary series: 北京生物 or 科兴
    booster: npt.NDArray[np.int64] = rng.integers(0, 4, size=(n,))  # homologous or sequential booster
    first: npt.NDArray[np.int64] = rng.integers(0, 300, size=(n,))
    base = dt.date(2021, 3, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(HEADER) + "\n")
        lines: list[str] = []
        for p in range(people.shape[0]):
            day = base + dt.timedelta(days=int(first[p]))
            for number in range(1, int(counts[p]) + 1):
                if number == 2:
                    day += dt.timedelta(days=21 + int(first[p]) % 30)
                elif number > 2:
                    day += dt.timedelta(days=180 + int(first[p]) % 60)
                name, platform, prefix = PRODUCTS[int(product[p]) if number <= 2 else int(booster[p])]
                lot = f"{prefix}{day.year}{day.month:02d}{int(first[p]) % 7:02d}"
                lines.append(
                    f"{ids[p]},张某,{name},{platform},{number},{KIND_WORDS[number]},{day.isoformat()},"
                    f"{community[p]}社区卫生服务中心,{lot}"
                )
            if len(lines) >= 100_000:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
    return int(people.shape[0])


# ------------------------------------------------------------------------------------------ measuring


def fangkong_import(db: Any, vault: Any, data: bytes, wired: bool) -> tuple[float, Any]:
    from fangkong.core.auth import principal_for
    from fangkong.core.events import EventBus
    from fangkong.core.models import User
    from fangkong.vaccination.service.doses_import import import_doses

    bus = EventBus()
    if wired:
        from fangkong.wiring import build_bus

        bus = build_bus()
    started = time.perf_counter()
    with db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == "bench_admin"))
        principal = principal_for(session, user, "token")
        report = import_doses(session, principal, bus, vault, data, "doses.csv", dry_run=False)
    return time.perf_counter() - started, report


def after_import(db: Any, url: str, wired: bool) -> dict[str, float]:
    """The nightly evaluation and coverage refresh, then the province's coverage page (seconds)."""
    import secrets

    from fastapi.testclient import TestClient

    from fangkong.app import create_app
    from fangkong.core.config import Settings
    from fangkong.vaccination.service import coverage, status

    seconds: dict[str, float] = {}
    with clock_frozen_at_as_of():
        if not wired:
            started = time.perf_counter()
            with db.unit_of_work() as session:
                status.evaluate(session)
            seconds["status_evaluate_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        with db.unit_of_work() as session:
            coverage.refresh(session)
        seconds["coverage_refresh_seconds"] = time.perf_counter() - started
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        settings = Settings(
            env="test", var_dir=Path(tempfile.mkdtemp(prefix="fangkong-bench-")), database_url=url,
            secret_key=secrets.token_urlsafe(32), encryption_key=key, hash_key=key, sweep_seconds=0,
        )  # fmt: skip
        app = create_app(settings)
        samples: list[float] = []
        with TestClient(app) as client:
            client.get("/login")
            form = {"username": "bench_admin", "password": PASSWORD,
                    "csrf_token": client.cookies.get("fk_login_csrf", "")}  # fmt: skip
            login = client.post("/login", data=form)
            assert login.status_code in (200, 303), login.text[:300]
            for rep in range(6):
                started = time.perf_counter()
                page = client.get("/vaccination/coverage")
                elapsed = time.perf_counter() - started
                assert page.status_code == 200, page.text[:300]
                assert "data-testid" in page.text, page.text[:300]
                if rep:
                    samples.append(elapsed)
        app.state.db.dispose()
    seconds["coverage_page_seconds"] = float(np.median(samples))
    return seconds


def clock_frozen_at_as_of() -> Any:
    """The platform's clock on the day the doses were exported (the file's dates are of 2021–2022)."""
    from fangkong.core import clock

    return clock.freeze(dt.datetime.combine(AS_OF, dt.time(20, 0), tzinfo=dt.UTC), tick=dt.timedelta(0))


def bare_copy(db: Any) -> float:
    """Read the stored doses back (untimed), empty the table, drop what a bare load goes without,
    then time a bare insert of the same rows."""
    from fangkong.vaccination.service.doses_import import DOSE_COLUMNS

    with db.engine.begin() as conn:
        rows = conn.execute(
            text(f"SELECT {', '.join(DOSE_COLUMNS)} FROM vaccination_doses ORDER BY id")
        ).all()
        conn.execute(text("DELETE FROM vaccination_doses"))
        inspector = inspect(conn)
        if db.is_postgres:
            for constraint in inspector.get_unique_constraints("vaccination_doses"):
                conn.execute(text(f'ALTER TABLE vaccination_doses DROP CONSTRAINT "{constraint["name"]}"'))
            for key in inspector.get_foreign_keys("vaccination_doses"):
                conn.execute(text(f'ALTER TABLE vaccination_doses DROP CONSTRAINT "{key["name"]}"'))
        for index in inspect(conn).get_indexes("vaccination_doses"):
            conn.execute(text(f'DROP INDEX "{index["name"]}"'))
    if db.is_postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM vaccination_doses"))
    started = time.perf_counter()
    raw_insert(db, "vaccination_doses", DOSE_COLUMNS, (tuple(r) for r in rows))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="doses in the file")
    parser.add_argument("--people", type=int, default=0, help="residents (default: size / 2.2)")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--wired", action="store_true", help="import with the platform's event wiring")
    args = parser.parse_args()

    from fangkong.core.crypto import Vault
    from fangkong.core.db import Database
    from fangkong.core.migrate import upgrade

    rng = np.random.default_rng(args.seed)
    vault = Vault(*(base64.urlsafe_b64encode(os.urandom(32)).decode() for _ in range(2)))
    people = args.people or int(args.size / 2.2) + 1_000
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url, pg_name = fresh_database(args.backend, workdir)
        try:
            upgrade(url)
            db = Database(url)
            t0 = time.perf_counter()
            population = build_registry(db, vault, people, rng)
            log(f"registry of {people:,} residents built in {time.perf_counter() - t0:.1f} s")
            csv_path = workdir / "doses.csv"
            vaccinated = write_doses_csv(csv_path, population, args.size, rng)
            data = csv_path.read_bytes()
            log(f"{args.size:,} doses of {vaccinated:,} people written ({len(data) / 1e6:.0f} MB)")
            fangkong_s, report = fangkong_import(db, vault, data, args.wired)
            assert report.doses == args.size, report
            log(f"fangkong import: {fangkong_s:.1f} s")
            after = after_import(db, url, args.wired)
            log(", ".join(f"{k}: {v:.2f} s" for k, v in after.items()))
            bare_s = bare_copy(db)
            log(f"bare {'COPY' if db.is_postgres else 'executemany'}: {bare_s:.1f} s")
            db.dispose()
        finally:
            drop_database(pg_name)
    baseline = "bare binary COPY" if args.backend == "postgresql" else "bare executemany"
    ratio = fangkong_s / bare_s
    print(f"\n{'backend':<12}{'doses':>12}{'fangkong s':>13}{'doses/s':>12}{baseline + ' s':>24}{'ratio':>8}")
    print(
        f"{args.backend:<12}{args.size:>12,}{fangkong_s:>13.1f}{args.size / fangkong_s:>12,.0f}"
        f"{bare_s:>24.1f}{ratio:>8.2f}   (target: under {TARGET_SECONDS:.0f} s)"
    )
    print(
        json.dumps(
            {
                "bench": "doses_import",
                "metric": "doses_import_seconds",
                "backend": args.backend,
                "size": args.size,
                "wired": args.wired,
                "value": round(fangkong_s, 2),
                "unit": "s",
                "baseline": f"{baseline} of the stored rows into the doses table without its indexes",
                "baseline_value": round(bare_s, 2),
                "ratio": round(ratio, 2),
                "target": TARGET_SECONDS,
            }
        )
    )
    print(
        json.dumps(
            {
                "bench": "doses_import",
                "metric": "doses_import_rows_per_s",
                "backend": args.backend,
                "value": round(args.size / fangkong_s),
                "unit": "rows/s",
                "baseline": f"{baseline} of the stored rows into the doses table without its indexes",
                "baseline_value": round(args.size / bare_s),
                "ratio": round(ratio, 2),
            }
        )
    )
    for metric, value in after.items():
        line: dict[str, object] = {
            "bench": "doses_import", "metric": metric, "backend": args.backend, "size": args.size,
            "value": round(value, 3), "unit": "s",
        }  # fmt: skip
        if metric == "coverage_page_seconds":
            line["target"] = PAGE_TARGET_SECONDS
        print(json.dumps(line))


if __name__ == "__main__":
    main()
