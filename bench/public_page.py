"""Public risk-area page and JSON feed under load: requests per second with a real load generator (wrk).

Seeds a database (a fresh SQLite file by default, or ``--database-url``, an empty database) with the
demo region's jurisdictions and ``--areas`` high and medium areas in force (Hengyang listed 2,472 on
2022-09-15) with their timeline entries, serves fangkong with uvicorn in its own processes
(``--workers``, default one per core), and drives ``GET /public/areas`` (the HTML page, Chinese),
``GET /public/areas.json`` (the whole region's feed) and one county's feed with ``wrk`` for
``--seconds`` each. Issue 14's target: at least 1,000 requests/s for the page and the feed on this
machine. wrk runs on the same machine and takes its share of the cores, so the figures are a floor.

    python bench/public_page.py [--areas 3000] [--seconds 15] [--connections 64] [--workers N]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, select

from fangkong.areas.models import AreaState, RiskArea, RiskAreaChange, RiskLevel, UnitKind
from fangkong.core import audit, clock, jurisdictions
from fangkong.core.db import Database
from fangkong.core.demo.region import demo_region_spec
from fangkong.core.migrate import upgrade
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.national import rows_of

TARGET = 1000.0  # requests/s, issue 14 ("Done when")
UNITS = (UnitKind.compound, UnitKind.building, UnitKind.village, UnitKind.unit)


def serving_app() -> FastAPI:
    """The app uvicorn serves: fangkong as it is deployed (the public routes are among its views)."""
    from fangkong.app import create_app

    return create_app()


def seed(url: str, areas: int) -> str:
    """The demo region and ``areas`` areas in force spread over its communities; returns a county code."""
    upgrade(url)
    db = Database(url)
    try:
        with db.unit_of_work() as session:
            jurisdictions.import_tree(session, audit.SYSTEM, rows_of(demo_region_spec().all_divisions()))
            nodes = {j.id: j for j in session.scalars(select(Jurisdiction))}
            communities = [j for j in nodes.values() if j.level == Level.community]

            def county_of(node: Jurisdiction) -> Jurisdiction:
                while node.level != Level.county and node.parent_id is not None:
                    node = nodes[node.parent_id]
                return node

            now = clock.utcnow()
            rows = []
            for i in range(areas):
                place = communities[i % len(communities)]
                designated = now - dt.timedelta(hours=i % 240)
                rows.append(
                    {
                        "jurisdiction_id": place.id,
                        "jpath": place.path,
                        "county_id": county_of(place).id,
                        "unit_kind": UNITS[i % len(UNITS)],
                        "name": f"{place.name}幸福小区{i // len(communities) + 1}幢",
                        "level": RiskLevel.high if i % 2 == 0 else RiskLevel.medium,
                        "state": AreaState.in_force,
                        "protocol_id": "cn-9",
                        "reason": "",
                        "proposed_at": designated,
                        "designated_at": designated,
                        "level_since": clock.local_day(designated),
                        "downgraded_from_high": False,
                    }
                )
            session.execute(insert(RiskArea), rows)
            seeded = session.execute(
                select(
                    RiskArea.id, RiskArea.county_id, RiskArea.jpath, RiskArea.level, RiskArea.designated_at
                )
            ).all()
            session.execute(
                insert(RiskAreaChange),
                [
                    {
                        "area_id": area_id,
                        "county_id": county_id,
                        "jpath": jpath,
                        "kind": "designated",
                        "to_level": level,
                        "reason": "",
                        "by": "bench",
                        "at": at,
                    }
                    for area_id, county_id, jpath, level, at in seeded
                ],
            )
            return county_of(communities[0]).code
    finally:
        db.dispose()


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@contextmanager
def served(url: str, var_dir: Path, workers: int) -> Iterator[str]:
    """fangkong under uvicorn (``workers`` processes); yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {
        **os.environ,
        "FANGKONG_ENV": "test",
        "FANGKONG_VAR_DIR": str(var_dir),
        "FANGKONG_DATABASE_URL": url,
        "FANGKONG_SECRET_KEY": secrets.token_urlsafe(32),
        "FANGKONG_ENCRYPTION_KEY": _key(),
        "FANGKONG_HASH_KEY": _key(),
    }
    command = [sys.executable, "-m", "uvicorn", "public_page:serving_app", "--factory"]
    command += ["--app-dir", str(Path(__file__).resolve().parent), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)


@dataclass
class Run:
    name: str
    path: str
    requests_per_s: float = 0.0
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    requests: int = 0
    bad: int = 0  # non-2xx answers, socket errors and timeouts
    body_bytes: int = 0
    sent_bytes: int = 0  # on the wire (gzipped)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def load(base: str, run: Run, seconds: float, connections: int, threads: int) -> None:
    """Drive one URL with wrk and read its summary."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--latency"]
    # The headers a phone's browser sends: Chinese, and gzip (the feed is served precompressed).
    command += ["-H", "Accept-Language: zh-CN,zh;q=0.9", "-H", "Accept-Encoding: gzip, deflate, br"]
    command += ["--timeout", "10s", base + run.path]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    run.requests_per_s = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    run.requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    run.latency_p50_ms = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    run.latency_p99_ms = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    run.bad = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)


def figure(
    metric: str, value: float, unit: str, baseline: str, baseline_value: float, **extra: object
) -> str:
    ratio = round(value / baseline_value, 3) if baseline_value else None
    return json.dumps(
        {
            "bench": "public_page",
            "metric": metric,
            "value": round(value, 3),
            "unit": unit,
            "baseline": baseline,
            "baseline_value": round(baseline_value, 3),
            "ratio": ratio,
            **extra,
        },
        ensure_ascii=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--areas", type=int, default=3000, help="high and medium areas in force")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each load run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="uvicorn worker processes")
    parser.add_argument("--database-url", default="", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'public_page.db'}"
        started = time.perf_counter()
        county = seed(url, args.areas)
        seeded_in = time.perf_counter() - started
        runs = [
            Run("page (HTML, zh)", "/public/areas"),
            Run("feed (JSON, region)", "/public/areas.json"),
            Run("feed (JSON, one county)", f"/public/areas/{county}.json"),
            Run("/healthz (no work)", "/healthz"),
        ]
        with served(url, Path(tmp), args.workers) as base:
            for run in runs:
                # Every worker builds its snapshot on its first request: warm them before measuring.
                for _ in range(8 * args.workers):
                    answer = httpx.get(base + run.path, timeout=60, headers={"Accept-Encoding": "gzip"})
                    answer.raise_for_status()
                run.body_bytes = len(answer.content)
                run.sent_bytes = int(answer.headers.get("content-length", 0))
                load(base, run, args.seconds, args.connections, args.threads)

    backend = url.split(":", 1)[0]
    print(
        f"\npublic page on {backend}: {args.areas:,} areas (seeded in {seeded_in:.1f} s), "
        f"{args.workers} uvicorn workers, wrk {args.threads} threads x {args.connections} connections, "
        f"{args.seconds:.0f} s per run\n"
    )
    print(
        f"{'route':<26}{'bytes':>10}{'gzipped':>9}{'requests':>10}{'req/s':>10}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'bad':>6}"
    )
    for run in runs:
        print(
            f"{run.name:<26}{run.body_bytes:>10,}{run.sent_bytes:>9,}{run.requests:>10,}{run.requests_per_s:>10.1f}"
            f"{run.latency_p50_ms:>9.2f}{run.latency_p99_ms:>9.2f}{run.bad:>6}"
        )
    print()
    for run in runs[:3]:
        print(
            figure(
                "requests_per_s", run.requests_per_s, "req/s", "target", TARGET,
                route=run.path, areas=args.areas, errors=run.bad,
            )
        )  # fmt: skip
    healthz = runs[3]
    print(figure("healthz_requests_per_s", healthz.requests_per_s, "req/s", "target", TARGET))


if __name__ == "__main__":
    main()
